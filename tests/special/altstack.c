/* An asynchronous cancel of a thread that has a minimum-size alternate signal stack
 * (MINSIGSTKSZ): the cancel signal's handler runs on the thread's own stack, as glibc's does,
 * so the forced unwind of the cancellation has room. Prints one line; exits 0 iff cancelled.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

/* The classic MINSIGSTKSZ (glibc 2.34+ makes the macro a sysconf call with _GNU_SOURCE). */
#define ALT_SIZE 2048

static volatile int ready, cleaned;
static volatile unsigned long spins;

static void cleanup(void *arg)
{
    (void)arg;
    cleaned = 1;
}

static void *spinner(void *arg)
{
    (void)arg;
    stack_t ss = {.ss_sp = malloc(ALT_SIZE), .ss_size = ALT_SIZE, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0)
        return NULL;
    pthread_cleanup_push(cleanup, NULL);
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    ready = 1;
    for (;;)
        spins++;
    pthread_cleanup_pop(0);
    return NULL;
}

int main(void)
{
    pthread_t t;
    void *rv;
    pthread_create(&t, NULL, spinner, NULL);
    while (!ready)
        ;
    pthread_cancel(t);
    pthread_join(t, &rv);
    int ok = rv == PTHREAD_CANCELED && cleaned;
    printf("async cancel with a MINSIGSTKSZ alternate stack: %s\n", ok ? "cancelled, cleanup ran" : "NOT cancelled");
    return !ok;
}
