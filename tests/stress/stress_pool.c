/* A thread pool shut down by cancellation, `rounds` times over.
 *
 * Each cycle starts four workers that take jobs from a queue guarded by a
 * mutex and a condvar (idle workers wait in pthread_cond_wait, as real
 * pools do), queues a random number of jobs, waits a random moment, then
 * shuts the pool down the common way: pthread_cancel + pthread_join of
 * every worker.  A worker's cleanup handler unlocks the mutex, so it must
 * hold it there.  Checked: no cycle hangs (watchdog), every worker ends by
 * cancellation holding the mutex in its cleanup handler, and the jobs done
 * plus the jobs left equal the jobs queued.
 * Prints "stress_pool: rounds=N lost=0" when all held, else exits 1.
 *
 *   usage: stress_pool [rounds] [seed]      (the test passes 1000)
 */
#define _GNU_SOURCE
#include "stress_common.h"

#define WORKERS 4

static pthread_mutex_t mutex;
static pthread_cond_t cond;
static long queued, done;
static int not_held;

static void unlock_in_cleanup(void *arg)
{
    (void)arg;
    if (pthread_mutex_unlock(&mutex) != 0)
        __atomic_add_fetch(&not_held, 1, __ATOMIC_SEQ_CST);
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mutex);
    pthread_cleanup_push(unlock_in_cleanup, NULL);
    for (;;) {
        while (queued == 0)
            pthread_cond_wait(&cond, &mutex);
        queued--;
        done++;
    }
    pthread_cleanup_pop(1);
    return NULL;
}

int main(int argc, char **argv)
{
    struct args a = parse_args(argc, argv);
    uint64_t rng = a.seed;
    pthread_mutexattr_t ma;
    long total = 0, lost = 0;

    watch_init("stress_pool", NULL);
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&mutex, &ma);
    for (long round = 0; round < a.rounds; round++) {
        pthread_t workers[WORKERS];
        unsigned jobs = rng_below(&rng, 8);
        watch_round(round);
        pthread_cond_init(&cond, NULL);
        for (int i = 0; i < WORKERS; i++)
            if (pthread_create(&workers[i], NULL, worker, NULL) != 0)
                die("stress_pool", "pthread_create");
        for (unsigned j = 0; j < jobs; j++) {
            pthread_mutex_lock(&mutex);
            queued++;
            total++;
            if (rng_below(&rng, 4) == 0)
                pthread_cond_broadcast(&cond);
            else
                pthread_cond_signal(&cond);
            pthread_mutex_unlock(&mutex);
        }
        random_delay(&rng);
        for (int i = 0; i < WORKERS; i++)
            cancel_and_join("stress_pool", workers[i]);
        pthread_cond_destroy(&cond);
    }
    alarm(0);
    if (not_held) {
        fprintf(stderr, "stress_pool: %d cleanups ran without the mutex\n", not_held);
        lost += not_held;
    }
    if (done + queued != total) {
        fprintf(stderr, "stress_pool: done %ld + left %ld != queued %ld\n", done, queued, total);
        lost++;
    }
    printf("stress_pool: jobs=%ld done=%ld\n", total, done);
    printf("stress_pool: rounds=%ld lost=%ld\n", a.rounds, lost);
    return lost != 0;
}
