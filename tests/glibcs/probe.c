/* probe: which glibc runs this program, whether its constructors ran (the crt files are the
 * release's: 2.36's Scrt1.o leaves .init_array to libc, which 2.31's does not run), and whether
 * ptcancel is in it (tests/glibcs.rs).
 * Prints "glibc VERSION init_array ran ptcancel VERSION MODE" ("ptcancel none none" without
 * the library).
 * The static build links with -Wl,-u,ptcancel_version so the weak references resolve. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <stdio.h>

extern const char *ptcancel_version(void) __attribute__((weak));
extern const char *ptcancel_syscall_mode(void) __attribute__((weak));

typedef const char *(*getter)(void);

static const char *constructed = "skipped";

__attribute__((constructor)) static void construct(void)
{
    constructed = "ran";
}

static getter find(getter linked, const char *name)
{
    return linked ? linked : (getter)dlsym(RTLD_DEFAULT, name);
}

int main(void)
{
    getter version = find(ptcancel_version, "ptcancel_version");
    getter mode = find(ptcancel_syscall_mode, "ptcancel_syscall_mode");
    printf("glibc %s init_array %s ptcancel %s %s\n", gnu_get_libc_version(), constructed,
           version ? version() : "none", mode ? mode() : "none");
    return 0;
}
