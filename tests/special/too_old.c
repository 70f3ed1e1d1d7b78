/* Run on a glibc older than 2.31 (simulated in test builds with PTCANCEL_TEST_GLIBC_VERSION):
 * the preloaded library refuses with one line on stderr and the program runs with glibc's
 * own cancellation. Prints whether ptcancel is in the process (its ptcancel_version symbol)
 * and whether a thread blocked in read() is cancelled, with its cleanup handler run, and
 * whether main saw its arguments unchanged. Exits 0 iff the cancel worked.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "blocked.h"

static int fds[2];
static volatile int tid, cleaned;

static void mark(void *arg)
{
    (void)arg;
    cleaned = 1;
}

static void *reader(void *arg)
{
    char c;
    (void)arg;
    pthread_cleanup_push(mark, NULL);
    tid = syscall(SYS_gettid);
    if (read(fds[0], &c, 1) < 0)
        perror("read");
    pthread_cleanup_pop(0);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t;
    void *value;
    alarm(20);
    if (pipe(fds) != 0)
        return 2;
    pthread_create(&t, NULL, reader, NULL);
    wait_blocked_tid(&tid);
    pthread_cancel(t);
    pthread_join(t, &value);
    int ok = value == PTHREAD_CANCELED && cleaned;
    printf("ptcancel in the process: %s; blocked read cancelled: %s; args: %d%s%s\n",
           dlsym(RTLD_DEFAULT, "ptcancel_version") ? "yes" : "no", ok ? "yes" : "no", argc,
           argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
    return ok ? 0 : 1;
}
