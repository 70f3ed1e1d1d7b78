/* glibc's own cancellable syscalls inside stdio, the cases only ptcancel has.
 *
 *   stdio masked        PTHREAD_CANCEL_MASKED (musl's): a thread blocked in fgets() on an
 *                       empty pipe, and one in fprintf() + fflush() on a full pipe, is
 *                       cancelled. The internal syscall fails as ptcancel's own points do:
 *                       fgets returns NULL / fflush EOF, errno is ECANCELED, the stream's
 *                       error flag is set, the state is now DISABLE, the stream still works.
 *   stdio unrecognised  run with PTCANCEL_TEST_GLIBC_LAYOUT=unknown (test builds only): the
 *                       library must not recognise glibc's window, so the cancel leaves the
 *                       thread blocked in fgets; once main writes a line, fgets returns it and
 *                       the cancel acts at the next cancellation point (pthread_testcancel).
 *
 * Prints one line per case; exits 0 iff every case did what is said above.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "blocked.h"

#ifndef PTHREAD_CANCEL_MASKED
#define PTHREAD_CANCEL_MASKED 2
#endif

static int fds[2];
static FILE *stream;
static volatile int tid, finished, returned;
static volatile int got_null, got_errno, got_error_flag, state_after;

static void pause_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000};
    syscall(SYS_nanosleep, &ts, NULL);
}

static void *masked_reader(void *arg)
{
    char buf[64];
    int old;
    (void)arg;
    pthread_setcancelstate(PTHREAD_CANCEL_MASKED, NULL);
    tid = syscall(SYS_gettid);
    errno = 0;
    got_null = fgets(buf, sizeof buf, stream) == NULL;
    got_errno = errno;
    got_error_flag = ferror(stream) != 0;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    state_after = old;
    finished = 1;
    return NULL;
}

static void *masked_writer(void *arg)
{
    int old;
    (void)arg;
    pthread_setcancelstate(PTHREAD_CANCEL_MASKED, NULL);
    tid = syscall(SYS_gettid);
    errno = 0;
    got_null = fprintf(stream, "hello\n") < 0 || fflush(stream) == EOF;
    got_errno = errno;
    got_error_flag = ferror(stream) != 0;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    state_after = old;
    finished = 1;
    return NULL;
}

static const char *state_name(int s)
{
    return s == PTHREAD_CANCEL_DISABLE ? "DISABLE"
           : s == PTHREAD_CANCEL_MASKED ? "MASKED"
           : s == PTHREAD_CANCEL_ENABLE ? "ENABLE"
                                         : "?";
}

/* One MASKED case: `thread` blocks on `stream`; returns 1 if all went as expected. */
static int masked_case(const char *name, void *(*thread)(void *), int writing)
{
    pthread_t t;
    void *value;
    tid = finished = 0;
    pthread_create(&t, NULL, thread, NULL);
    wait_blocked_tid(&tid);
    pthread_cancel(t);
    pthread_join(t, &value);
    clearerr(stream);
    /* Still usable: its lock is free. */
    int unlocked = ftrylockfile(stream) == 0;
    if (unlocked)
        funlockfile(stream);
    int ok = finished && value != PTHREAD_CANCELED && got_null && got_errno == ECANCELED &&
             got_error_flag && state_after == PTHREAD_CANCEL_DISABLE && unlocked;
    printf("%s masked: %s, errno %s, error flag %d, state after %s, stream %s\n", name,
           got_null ? (writing ? "EOF" : "NULL") : "a result", strerror(got_errno),
           got_error_flag, state_name(state_after), unlocked ? "unlocked" : "LOCKED");
    return ok;
}

static int masked(void)
{
    int ok;
    pipe(fds);
    stream = fdopen(fds[0], "r");
    ok = masked_case("fgets", masked_reader, 0);
    fclose(stream);
    close(fds[1]);

    pipe(fds);
    stream = fdopen(fds[1], "w");
    fcntl(fds[1], F_SETFL, O_NONBLOCK); /* fill the pipe */
    while (write(fds[1], "xxxxxxxxxxxxxxxx", 16) > 0)
        ;
    fcntl(fds[1], F_SETFL, 0);
    ok &= masked_case("fprintf+fflush", masked_writer, 1);
    fcntl(fds[1], F_SETFL, O_NONBLOCK); /* fclose's flush must not block */
    fclose(stream);
    close(fds[0]);
    return ok;
}

static void *plain_reader(void *arg)
{
    char buf[64];
    (void)arg;
    tid = syscall(SYS_gettid);
    returned = fgets(buf, sizeof buf, stream) != NULL;
    pthread_testcancel(); /* the pending cancel acts here */
    returned = -1;        /* not reached */
    return NULL;
}

static int unrecognised(void)
{
    pthread_t t;
    void *value;
    pipe(fds);
    stream = fdopen(fds[0], "r");
    pthread_create(&t, NULL, plain_reader, NULL);
    wait_blocked_tid(&tid);
    pthread_cancel(t);
    pause_ms(100);
    int still = returned == 0 && thread_state_of(tid) == 'S';
    write(fds[1], "line\n", 5);
    pthread_join(t, &value);
    int ok = still && returned == 1 && value == PTHREAD_CANCELED;
    printf("unrecognised layout: still blocked after cancel: %s, fgets returned %s, then %s\n",
           still ? "yes" : "no", returned == 1 ? "the line" : "nothing",
           value == PTHREAD_CANCELED ? "cancelled at the next point" : "not cancelled");
    return ok;
}

int main(int argc, char **argv)
{
    alarm(20);
    if (argc > 1 && strcmp(argv[1], "masked") == 0)
        return masked() ? 0 : 1;
    if (argc > 1 && strcmp(argv[1], "unrecognised") == 0)
        return unrecognised() ? 0 : 1;
    fprintf(stderr, "usage: stdio masked|unrecognised\n");
    return 2;
}
