/* Waiters hang in a small hash table under one mutex: notifications come
 * at the rate orders change (a few per checkout), and each holds the mutex
 * only to walk one short chain. */
#include "gateway/orderwatch.h"

#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hash.h"
#include "core/mem.h"
#include "gateway/listener.h"

#define WATCH_SLOTS 256

struct souk_orderwatch {
    pthread_mutex_t lock;
    souk_orderwatch_waiter *slots[WATCH_SLOTS];
    int shutting_down;
    souk_listener *listener;
};

static unsigned slot_of(const char *id)
{
    return (unsigned)(souk_hash_text(id) % WATCH_SLOTS);
}

static void wake_all_locked(souk_orderwatch *watch)
{
    for (int i = 0; i < WATCH_SLOTS; i++)
        for (souk_orderwatch_waiter *w = watch->slots[i]; w; w = w->next) {
            w->changed = 1;
            pthread_cond_signal(&w->cond);
        }
}

static void on_order_changed(void *ctx, const char *order_id)
{
    souk_orderwatch *watch = ctx;
    pthread_mutex_lock(&watch->lock);
    for (souk_orderwatch_waiter *w = watch->slots[slot_of(order_id)]; w; w = w->next)
        if (strcmp(w->order_id, order_id) == 0) {
            w->changed = 1;
            pthread_cond_signal(&w->cond);
        }
    pthread_mutex_unlock(&watch->lock);
}

static void on_listener_connect(void *ctx)
{
    souk_orderwatch *watch = ctx;
    pthread_mutex_lock(&watch->lock);
    wake_all_locked(watch);
    pthread_mutex_unlock(&watch->lock);
}

souk_orderwatch *souk_orderwatch_new(const souk_config *cfg)
{
    souk_orderwatch *watch = souk_calloc(1, sizeof *watch);
    pthread_mutex_init(&watch->lock, NULL);
    souk_listener_callbacks callbacks = {
        .on_notify = on_order_changed, .on_connect = on_listener_connect, .ctx = watch};
    watch->listener = souk_listener_start(cfg, SOUK_SCHEMA_ORDERS, 1, "orders_status", callbacks);
    if (!watch->listener) {
        pthread_mutex_destroy(&watch->lock);
        free(watch);
        return NULL;
    }
    return watch;
}

void souk_orderwatch_shutdown(souk_orderwatch *watch)
{
    pthread_mutex_lock(&watch->lock);
    watch->shutting_down = 1;
    wake_all_locked(watch);
    pthread_mutex_unlock(&watch->lock);
}

int souk_orderwatch_stopping(souk_orderwatch *watch)
{
    pthread_mutex_lock(&watch->lock);
    int stopping = watch->shutting_down;
    pthread_mutex_unlock(&watch->lock);
    return stopping;
}

void souk_orderwatch_free(souk_orderwatch *watch)
{
    if (!watch)
        return;
    souk_listener_stop(watch->listener);
    pthread_mutex_destroy(&watch->lock);
    free(watch);
}

void souk_orderwatch_join(souk_orderwatch *watch, souk_orderwatch_waiter *waiter,
                          const char *order_id)
{
    memset(waiter, 0, sizeof *waiter);
    snprintf(waiter->order_id, sizeof waiter->order_id, "%s", order_id);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&waiter->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_lock(&watch->lock);
    souk_orderwatch_waiter **head = &watch->slots[slot_of(waiter->order_id)];
    waiter->next = *head;
    if (*head)
        (*head)->prev = waiter;
    *head = waiter;
    pthread_mutex_unlock(&watch->lock);
}

int souk_orderwatch_wait(souk_orderwatch *watch, souk_orderwatch_waiter *waiter, double deadline_s)
{
    struct timespec until;
    until.tv_sec = (time_t)floor(deadline_s);
    until.tv_nsec = (long)((deadline_s - floor(deadline_s)) * 1e9);
    pthread_mutex_lock(&watch->lock);
    int rc = 0;
    while (!waiter->changed && !watch->shutting_down && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&waiter->cond, &watch->lock, &until);
    int woken = waiter->changed && !watch->shutting_down;
    waiter->changed = 0;
    pthread_mutex_unlock(&watch->lock);
    return woken;
}

void souk_orderwatch_leave(souk_orderwatch *watch, souk_orderwatch_waiter *waiter)
{
    pthread_mutex_lock(&watch->lock);
    if (waiter->prev)
        waiter->prev->next = waiter->next;
    else
        watch->slots[slot_of(waiter->order_id)] = waiter->next;
    if (waiter->next)
        waiter->next->prev = waiter->prev;
    pthread_mutex_unlock(&watch->lock);
    pthread_cond_destroy(&waiter->cond);
}
