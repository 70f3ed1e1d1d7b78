/*
 * exiting.c -- a thread that has started to exit is never cancelled again.
 *
 *   exit-pending-cleanup-write   a cancel is pending (sent while disabled,
 *       then re-enabled); the thread calls pthread_exit(42); its cleanup
 *       handler calls write(), a cancellation point: a plain call now.
 *       expect: join=42 handler-runs=1
 *   exit-pending-tsd-write       the same with write() in a TSD destructor.
 *       expect: join=42 destructor-runs=1
 *   exit-async-cancel-in-cleanup an asynchronous-type thread calls
 *       pthread_exit(42) and is cancelled while its cleanup handler runs.
 *       expect: join=42 handler-runs=1
 *   return-async-racing-cancel   200 asynchronous-type threads return on
 *       their own while main cancels each of them at once: every join gives
 *       the thread's value or PTHREAD_CANCELED and the process lives on.
 *       expect: joined=200 other=0
 *   return-pending-tsd-write     a thread whose start routine returns with a
 *       cancel pending (disabled, then re-enabled just before the return):
 *       its TSD destructor's write() is a plain call.
 *       expect: join=7 destructor-runs=1
 *
 * Build: cc -O2 -pthread -Wall -Wextra exiting.c
 * Validated: musl 1.2.3 (musl-gcc -static) prints exactly the expected
 * lines and exits 0.
 */
#include "common.h"

static int pipefd[2];
static int runs, stage;
static pthread_key_t key;

static void write_byte(void)
{
    if (write(pipefd[1], "x", 1) != 1) { /* the pipe is big enough */ }
}

static void handler_writes(void *arg)
{
    (void)arg;
    flag_add(&runs, 1);
    write_byte();
}

static void destructor_writes(void *value)
{
    (void)value;
    flag_add(&runs, 1);
    write_byte();
}

/* Cancellation disabled until main has sent the cancel, then enabled: the
 * cancel is pending, and enabling does not act on it. */
static void cancel_pending(void)
{
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
    flag_set(&stage, 1);
    wait_flag(&stage, 2);
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
}

static void *exit_pending_cleanup(void *arg)
{
    (void)arg;
    pthread_cleanup_push(handler_writes, NULL);
    cancel_pending();
    pthread_exit((void *)42);
    pthread_cleanup_pop(0);
    return NULL;
}

static void *exit_pending_tsd(void *arg)
{
    (void)arg;
    pthread_setspecific(key, (void *)1);
    cancel_pending();
    pthread_exit((void *)42);
}

static void *return_pending_tsd(void *arg)
{
    (void)arg;
    pthread_setspecific(key, (void *)1);
    cancel_pending();
    return (void *)7;
}

/* Tells main it is in the handler, waits until main has cancelled, then
 * goes on (an asynchronous cancel would strike here if it could). */
static void handler_waits_for_cancel(void *arg)
{
    (void)arg;
    flag_add(&runs, 1);
    flag_set(&stage, 1);
    wait_flag(&stage, 2);
    for (volatile int i = 0; i < 1000000; i++)
        ;
}

static void *exit_async(void *arg)
{
    (void)arg;
    pthread_cleanup_push(handler_waits_for_cancel, NULL);
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    pthread_exit((void *)42);
    pthread_cleanup_pop(0);
    return NULL;
}

static void *return_async(void *arg)
{
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    return arg;
}

static void one(const char *name, void *(*fn)(void *), const char *expected, const char *what)
{
    pthread_t t;
    void *rv;
    char got[96];
    begin_case(name);
    flag_set(&runs, 0);
    flag_set(&stage, 0);
    t = start_thread(fn, NULL);
    wait_flag(&stage, 1);
    pthread_cancel(t);
    flag_set(&stage, 2);
    pthread_join(t, &rv);
    if (rv == PTHREAD_CANCELED)
        snprintf(got, sizeof got, "join=canceled %s=%d", what, flag_get(&runs));
    else
        snprintf(got, sizeof got, "join=%ld %s=%d", (long)rv, what, flag_get(&runs));
    report(name, expected, got);
}

int main(void)
{
    char got[64], buf[4096];
    int joined = 0, other = 0;
    test_init();
    make_pipe(pipefd);
    pthread_key_create(&key, destructor_writes);

    one("exit-pending-cleanup-write", exit_pending_cleanup, "join=42 handler-runs=1", "handler-runs");
    one("exit-pending-tsd-write", exit_pending_tsd, "join=42 destructor-runs=1", "destructor-runs");
    one("exit-async-cancel-in-cleanup", exit_async, "join=42 handler-runs=1", "handler-runs");
    one("return-pending-tsd-write", return_pending_tsd, "join=7 destructor-runs=1", "destructor-runs");

    begin_case("return-async-racing-cancel");
    for (long i = 0; i < 200; i++) {
        pthread_t t = start_thread(return_async, (void *)i);
        void *rv;
        pthread_cancel(t);
        pthread_join(t, &rv);
        if (rv == (void *)i || rv == PTHREAD_CANCELED)
            joined++;
        else
            other++;
    }
    snprintf(got, sizeof got, "joined=%d other=%d", joined, other);
    report("return-async-racing-cancel", "joined=200 other=0", got);

    set_nonblock(pipefd[0], 1);
    while (read(pipefd[0], buf, sizeof buf) > 0)
        ;
    close(pipefd[0]);
    close(pipefd[1]);
    return test_finish();
}
