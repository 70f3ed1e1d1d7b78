/* Comparing ptcancel's functions with glibc's own: glibc's are looked up inside libc.so.6
 * itself, which works both under LD_PRELOAD and with libptcancel.a linked into the program.
 * A program calls open_glibc() first and exits with `failures != 0`. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *libc_handle;
static int failures;

static inline void open_glibc(void)
{
    libc_handle = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    if (!libc_handle)
        _exit(2);
}

static inline void *glibc_fn(const char *name)
{
    void *fn = dlsym(libc_handle, name);
    if (!fn) {
        fprintf(stderr, "no %s in libc.so.6\n", name);
        _exit(2);
    }
    return fn;
}

/* Report (result, errno) of ours against glibc's; errno counts only when the result is -1. */
static inline void same(const char *what, long ours, int ours_errno, long theirs, int theirs_errno)
{
    int ok = ours == theirs && (ours != -1 || ours_errno == theirs_errno);
    printf("%s: %ld %s%s\n", what, ours, ours == -1 ? strerrorname_np(ours_errno) : "",
           ok ? "" : " MISMATCH");
    if (!ok) {
        fprintf(stderr, "FAIL %s: ours %ld/%d glibc %ld/%d\n", what, ours, ours_errno, theirs, theirs_errno);
        failures++;
    }
}

static inline void check(const char *what, int ok)
{
    printf("%s: %s\n", what, ok ? "same" : "DIFFERENT");
    if (!ok) {
        fprintf(stderr, "FAIL %s\n", what);
        failures++;
    }
}

/* Call `ours` (the program's binding) and glibc's function `glibc_name` with the same
 * arguments. They reach glibc's unprototyped: cast 64-bit ones, e.g. (off_t)-1. */
#define COMPARE_AS(what, ours, glibc_name, type, ...)                      \
    do {                                                                   \
        type (*theirs)() = (type(*)())glibc_fn(glibc_name);                \
        errno = 0;                                                         \
        long r1 = ours(__VA_ARGS__);                                       \
        int e1 = errno;                                                    \
        errno = 0;                                                         \
        long r2 = theirs(__VA_ARGS__);                                     \
        int e2 = errno;                                                    \
        same(what, r1, e1, r2, e2);                                        \
    } while (0)

#define COMPARE(what, name, type, ...) COMPARE_AS(what, name, #name, type, __VA_ARGS__)
