/* Condition-variable stress with random cancellation.
 *
 * Four consumer slots each run a consumer that waits for an item (untimed,
 * or timed with a deadline longer than any check below, at random) under an
 * error-checking mutex and takes it.  Each round, main adds 1-3 items and
 * wakes the consumers with pthread_cond_signal or pthread_cond_broadcast (at
 * random), then after a random moment cancels a random consumer -- often
 * the very one the signal woke -- and joins it.  Then the other consumers
 * must take the items within 2 s: main is the only producer, so nothing
 * else would ever wake one again.  Only then does main start a new
 * consumer in the slot.  Checked:
 *   - no lost wake-up: a wake-up consumed by a consumer that was cancelled
 *     instead of taking the item leaves it there for good;
 *   - every cancelled consumer held the mutex in its cleanup handler (the
 *     error-checking unlock there would say EPERM otherwise);
 *   - counts balance: produced == consumed + items left;
 *   - no hang: every join returns (watchdog per round).
 * Prints "stress_cond: rounds=N lost=0" when all held (lost counts every
 * failed check), else exits 1.
 *
 *   usage: stress_cond [rounds] [seed]
 */
#define _GNU_SOURCE
#include "stress_common.h"

#define CONSUMERS 4

static pthread_mutex_t mutex;
static pthread_cond_t cond;
static long items, produced, consumed, timeouts;
static int not_held;

static void unlock_in_cleanup(void *arg)
{
    (void)arg;
    if (pthread_mutex_unlock(&mutex) != 0)
        __atomic_add_fetch(&not_held, 1, __ATOMIC_SEQ_CST);
}

/* One wait, untimed or (1 in 4) timed with a deadline past the 2 s check. */
static void wait_once(volatile uint64_t *rng)
{
    uint64_t r = *rng;
    int timed = rng_below(&r, 4) == 0;
    *rng = r;
    if (timed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 5; /* never what wakes it in time */
        if (pthread_cond_timedwait(&cond, &mutex, &ts) == ETIMEDOUT)
            timeouts++;
    } else {
        pthread_cond_wait(&cond, &mutex);
    }
}

static void *consumer(void *arg)
{
    /* The cleanup push is a setjmp: keep the generator out of registers. */
    volatile uint64_t rng = (uint64_t)(uintptr_t)arg;
    for (;;) {
        pthread_mutex_lock(&mutex);
        pthread_cleanup_push(unlock_in_cleanup, NULL);
        while (items == 0)
            wait_once(&rng);
        items--;
        consumed++;
        pthread_cleanup_pop(1);
    }
    return NULL;
}

/* Waits up to 2 s for the consumers to take every item; returns what is left. */
static long wait_drained(void)
{
    long left = 0;
    for (int waited = 0; waited < 2000; waited++) {
        pthread_mutex_lock(&mutex);
        left = items;
        pthread_mutex_unlock(&mutex);
        if (left == 0)
            break;
        if (waited < 100) {
            sched_yield();
        } else {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
    return left;
}

int main(int argc, char **argv)
{
    struct args a = parse_args(argc, argv);
    uint64_t rng = a.seed;
    pthread_t consumers[CONSUMERS];
    pthread_mutexattr_t ma;
    long lost = 0, stuck_rounds = 0, left_before = 0;

    watch_init("stress_cond", NULL);
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&mutex, &ma);
    pthread_cond_init(&cond, NULL);
    for (int i = 0; i < CONSUMERS; i++)
        pthread_create(&consumers[i], NULL, consumer, (void *)(uintptr_t)rng_next(&rng));

    for (long round = 0; round < a.rounds; round++) {
        int slot = (int)rng_below(&rng, CONSUMERS);
        long left;
        watch_round(round);
        pthread_mutex_lock(&mutex);
        int n = 1 + (int)rng_below(&rng, 3);
        items += n;
        produced += n;
        if (rng_below(&rng, 4) == 0)
            pthread_cond_broadcast(&cond);
        else
            pthread_cond_signal(&cond);
        pthread_mutex_unlock(&mutex);
        /* Half the rounds check the wake-up alone first (a cancel wakes its
         * target too, which could hide a lost wake-up); the others let the
         * cancel race with it. */
        if (rng_below(&rng, 2) == 0)
            left_before += wait_drained();
        random_delay(&rng);
        cancel_and_join("stress_cond", consumers[slot]);
        /* The other three must take the items: a new consumer would find
         * them without any wake-up and hide a lost one. */
        left = wait_drained() + left_before;
        left_before = 0;
        if (left != 0) {
            /* Lost: nobody will take them. Count, then wake everyone to go on. */
            stuck_rounds++;
            lost += left;
            pthread_mutex_lock(&mutex);
            pthread_cond_broadcast(&cond);
            pthread_mutex_unlock(&mutex);
            wait_drained();
        }
        pthread_create(&consumers[slot], NULL, consumer, (void *)(uintptr_t)rng_next(&rng));
    }
    watch_round(a.rounds);
    for (int i = 0; i < CONSUMERS; i++)
        cancel_and_join("stress_cond", consumers[i]);
    alarm(0);

    if (stuck_rounds != 0)
        fprintf(stderr, "stress_cond: %ld rounds left items untaken (lost wake-up)\n", stuck_rounds);
    if (not_held != 0) {
        fprintf(stderr, "stress_cond: %d cleanups ran without the mutex\n", not_held);
        lost += not_held;
    }
    if (produced != consumed + items) {
        fprintf(stderr, "stress_cond: produced %ld != consumed %ld + left %ld\n", produced, consumed, items);
        lost++;
    }
    pthread_cond_destroy(&cond);
    printf("stress_cond: produced=%ld consumed=%ld timeouts=%ld\n", produced, consumed, timeouts);
    printf("stress_cond: rounds=%ld lost=%ld\n", a.rounds, lost);
    return lost != 0;
}
