/*
 * A small work pool for the GEMM and the packers: the caller and up to threads-1 persistent
 * workers take item indices from one atomic counter. Unlike an OpenMP fork/join, the caller
 * never waits for a worker to *arrive*, only for items a worker has already claimed: on a
 * machine shared with other work, a worker the OS has not scheduled yet simply misses the
 * job, and the call costs at most what the caller alone would take (with OpenMP's join,
 * 2-thread calls waited 4-16 ms for a descheduled thread, many times the work itself).
 *
 * Which thread runs an item never changes what the item computes, so results stay
 * deterministic. Jobs are reference counted, so a worker that wakes late can still look at
 * a finished job safely; it only reads the item function and context for items it claimed,
 * which the caller waits for.
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "bgemm_internal.h"

#define MAX_WORKERS 255
/* pause iterations (~0.1 ms) a worker polls for the next job before sleeping: catches
 * back-to-back calls without a futex wake-up, short enough not to crowd other threads */
#define SPIN_WAIT 4000

typedef struct job {
  bw_item_fn fn;
  void *ctx;
  int nitems, max_workers;
  int next, done, refs, joined; /* atomics */
} job;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static job *current;                /* under mu */
static unsigned long generation;    /* written under mu, polled atomically */
static int nworkers;                /* under mu */

static void release(job *j) {
  if (__atomic_sub_fetch(&j->refs, 1, __ATOMIC_ACQ_REL) == 0) free(j);
}

static void run_items(job *j) {
  for (;;) {
    int i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
    if (i >= j->nitems) break;
    j->fn(j->ctx, i);
    __atomic_fetch_add(&j->done, 1, __ATOMIC_RELEASE);
  }
}

static void *worker(void *arg) {
  (void)arg;
  unsigned long seen = 0;
  for (;;) {
    for (int s = 0; s < SPIN_WAIT && __atomic_load_n(&generation, __ATOMIC_ACQUIRE) == seen; s++) _mm_pause();
    pthread_mutex_lock(&mu);
    while (generation == seen) pthread_cond_wait(&cv, &mu);
    seen = generation;
    job *j = current;
    if (j && j->joined < j->max_workers) {
      j->joined++;
      __atomic_add_fetch(&j->refs, 1, __ATOMIC_RELAXED);
    } else {
      j = NULL;
    }
    pthread_mutex_unlock(&mu);
    if (j) {
      run_items(j);
      release(j);
    }
  }
  return NULL;
}

/* Start workers up to `want` (under mu); fewer if the system refuses threads. */
static void grow(int want) {
  if (want > MAX_WORKERS) want = MAX_WORKERS;
  while (nworkers < want) {
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &at, worker, NULL);
    pthread_attr_destroy(&at);
    if (rc != 0) break;
    nworkers++;
  }
}

void bw_parallel_items(int threads, int nitems, bw_item_fn fn, void *ctx) {
  if (nitems <= 0) return;
  if (threads > nitems) threads = nitems;
  job *j = threads > 1 ? malloc(sizeof(job)) : NULL;
  if (!j) { /* one thread (or no memory for a job): just run everything here */
    for (int i = 0; i < nitems; i++) fn(ctx, i);
    return;
  }
  *j = (job){.fn = fn, .ctx = ctx, .nitems = nitems, .max_workers = threads - 1, .refs = 1};
  pthread_mutex_lock(&mu);
  grow(threads - 1);
  current = j;
  generation++;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);

  run_items(j);
  /* wait only for items other threads claimed; yield so a descheduled one can finish */
  for (int s = 0; __atomic_load_n(&j->done, __ATOMIC_ACQUIRE) < nitems; s++) {
    if (s < 2000) _mm_pause();
    else sched_yield();
  }
  pthread_mutex_lock(&mu);
  if (current == j) current = NULL;
  pthread_mutex_unlock(&mu);
  release(j);
}
