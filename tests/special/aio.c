/* aio_suspend: a cancellation point (a thread waiting in it is cancelled and its cleanup runs);
 * it notices a completion, times out with EAGAIN, and returns 0 at once when nothing is in
 * progress. The request reads a pipe, so it stays in progress until main writes.
 * Prints one line per case; exits 0 iff all held.
 */
#define _GNU_SOURCE
#include <aio.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int fds[2], failures;
static char byte;
static struct aiocb request;
static volatile int waiting, cleaned;

static void cleanup(void *arg)
{
    (void)arg;
    cleaned = 1;
}

static void *waiter(void *arg)
{
    const struct aiocb *list[] = {&request};
    (void)arg;
    pthread_cleanup_push(cleanup, NULL);
    waiting = 1;
    aio_suspend(list, 1, NULL);
    pthread_cleanup_pop(0);
    return NULL;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void pause_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000};
    syscall(SYS_nanosleep, &ts, NULL);
}

static void report(const char *what, int ok, const char *detail)
{
    printf("%s: %s\n", what, ok ? detail : "FAILED");
    failures += !ok;
}

int main(void)
{
    alarm(20);
    if (pipe(fds))
        return 2;
    memset(&request, 0, sizeof request);
    request.aio_fildes = fds[0];
    request.aio_buf = &byte;
    request.aio_nbytes = 1;
    aio_read(&request);

    const struct aiocb *list[] = {&request}, *none[] = {NULL};
    struct timespec short_wait = {0, 50 * 1000000};
    double t0 = now();
    int r = aio_suspend(list, 1, &short_wait);
    double waited = now() - t0;
    report("timeout", r == -1 && errno == EAGAIN && waited >= 0.045 && waited < 2, "EAGAIN after ~50 ms");
    report("nothing in progress", aio_suspend(none, 1, NULL) == 0, "0 at once");

    pthread_t t;
    void *value;
    pthread_create(&t, NULL, waiter, NULL);
    while (!waiting)
        pause_ms(1);
    pause_ms(30);
    pthread_cancel(t);
    pthread_join(t, &value);
    report("cancelled while waiting", value == PTHREAD_CANCELED && cleaned, "cancelled, cleanup ran");

    /* A completion is noticed (within the documented 5 ms polling bound, plus scheduling). */
    if (write(fds[1], "x", 1) != 1)
        return 2;
    t0 = now();
    r = aio_suspend(list, 1, NULL);
    waited = now() - t0;
    report("completion", r == 0 && aio_error(&request) == 0 && aio_return(&request) == 1 && waited < 1, "noticed");
    return failures != 0;
}
