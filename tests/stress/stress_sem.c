/* Semaphore stress with random cancellation.
 *
 * A poster thread calls sem_post on one semaphore; four waiter slots each
 * run a waiter that takes tokens with sem_wait, sem_timedwait (short
 * deadline) or sem_trywait, at random, and counts every token it got.  Main
 * cancels a random waiter at a random moment, joins it and starts a new
 * one, `rounds` times.  A token is counted before the waiter reaches its
 * next cancellation point, so the books must balance exactly:
 *     posts == tokens taken + the semaphore's final value
 * (a cancelled waiter that took a token and lost it, or one that withdrew
 * badly, breaks it).  At the end all waiters are cancelled while blocked;
 * then every token still in the semaphore must be takeable with
 * sem_trywait, and on glibc the semaphore's waiter count must be back to
 * zero (a cancelled waiter that stayed registered would leave it raised).
 * Prints "stress_sem: rounds=N lost=0" when all held, else exits 1.
 *
 *   usage: stress_sem [rounds] [seed]
 */
#define _GNU_SOURCE
#include "stress_common.h"
#include <semaphore.h>

#define WAITERS 4

static sem_t sem;
static long taken, posts, timeouts;
static int stop;

static void *waiter(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg;
    for (;;) {
        int r;
        switch (rng_below(&rng, 4)) {
        case 0: {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 200000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            r = sem_timedwait(&sem, &ts);
            if (r != 0 && errno == ETIMEDOUT)
                __atomic_add_fetch(&timeouts, 1, __ATOMIC_SEQ_CST);
            break;
        }
        case 1:
            r = sem_trywait(&sem);
            if (r != 0)
                pthread_testcancel();
            break;
        default:
            r = sem_wait(&sem);
        }
        if (r == 0)
            __atomic_add_fetch(&taken, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static void *poster(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg;
    while (!__atomic_load_n(&stop, __ATOMIC_SEQ_CST)) {
        sem_post(&sem);
        __atomic_add_fetch(&posts, 1, __ATOMIC_SEQ_CST);
        spin_ns(rng_below(&rng, 30000), rng_below(&rng, 2));
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct args a = parse_args(argc, argv);
    uint64_t rng = a.seed;
    pthread_t waiters[WAITERS], post;
    long lost = 0, rest = 0;
    int value = -1;

    watch_init("stress_sem", NULL);
    sem_init(&sem, 0, 0);
    for (int i = 0; i < WAITERS; i++)
        pthread_create(&waiters[i], NULL, waiter, (void *)(uintptr_t)rng_next(&rng));
    pthread_create(&post, NULL, poster, (void *)(uintptr_t)rng_next(&rng));

    for (long round = 0; round < a.rounds; round++) {
        int slot = (int)rng_below(&rng, WAITERS);
        watch_round(round);
        random_delay(&rng);
        cancel_and_join("stress_sem", waiters[slot]);
        pthread_create(&waiters[slot], NULL, waiter, (void *)(uintptr_t)rng_next(&rng));
    }
    watch_round(a.rounds);
    __atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(post, NULL);
    for (int i = 0; i < WAITERS; i++)
        cancel_and_join("stress_sem", waiters[i]);
    alarm(0);

    sem_getvalue(&sem, &value);
    while (sem_trywait(&sem) == 0)
        rest++;
    if (posts != taken + value || rest != value) {
        fprintf(stderr, "stress_sem: posts %ld != taken %ld + value %d (takeable %ld)\n", posts,
                taken, value, rest);
        lost += labs(posts - taken - rest) + (rest != value);
    }
#if defined(__GLIBC__) && defined(__x86_64__)
    {
        /* glibc's x86_64 sem_t: the high half of the first word counts waiters. */
        uint64_t data;
        memcpy(&data, &sem, sizeof data);
        if (data >> 32) {
            fprintf(stderr, "stress_sem: %u waiters still registered\n", (unsigned)(data >> 32));
            lost += (long)(data >> 32);
        }
    }
#elif defined(__GLIBC__) && defined(__i386__)
    {
        /* glibc's i386 sem_t: nwaiters is the fourth word. */
        unsigned nwaiters;
        memcpy(&nwaiters, (char *)&sem + 12, sizeof nwaiters);
        if (nwaiters) {
            fprintf(stderr, "stress_sem: %u waiters still registered\n", nwaiters);
            lost += nwaiters;
        }
    }
#endif
    sem_destroy(&sem);
    printf("stress_sem: posts=%ld taken=%ld timeouts=%ld\n", posts, taken, timeouts);
    printf("stress_sem: rounds=%ld lost=%ld\n", a.rounds, lost);
    return lost != 0;
}
