/* Waiting-request budget: a global count and a count per customer, in a
 * small open-addressing table keyed by customer id. Only the start and the
 * end of a wait take the lock, so its cost is nothing next to the wait. */
#include "gateway/waitbudget.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/mem.h"

#define CUSTOMER_ID_CAP 64

struct holder {
    char customer[CUSTOMER_ID_CAP]; /* "" for a free entry */
    int count;
};

struct souk_waitbudget {
    pthread_mutex_t lock;
    int total;
    int per_customer;
    int in_use;
    /* at most total customers wait at once; twice that keeps probes short */
    size_t slots;
    struct holder *holders;
};

souk_waitbudget *souk_waitbudget_new(int total, int per_customer)
{
    souk_waitbudget *b = souk_calloc(1, sizeof *b);
    pthread_mutex_init(&b->lock, NULL);
    b->total = total;
    b->per_customer = per_customer;
    b->slots = 16;
    while (b->slots < (size_t)total * 2)
        b->slots *= 2;
    b->holders = souk_calloc(b->slots, sizeof *b->holders);
    return b;
}

void souk_waitbudget_free(souk_waitbudget *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->lock);
    free(b->holders);
    free(b);
}

/* The entry of customer, or the free entry where it belongs. Entries are
 * removed by backward-shift deletion, so a probe can stop at a free one. */
static size_t find(const souk_waitbudget *b, const char *customer)
{
    size_t i = souk_hash_text(customer) & (b->slots - 1);
    while (b->holders[i].customer[0] && strcmp(b->holders[i].customer, customer) != 0)
        i = (i + 1) & (b->slots - 1);
    return i;
}

static void remove_at(souk_waitbudget *b, size_t hole)
{
    b->holders[hole].customer[0] = '\0';
    for (size_t i = (hole + 1) & (b->slots - 1); b->holders[i].customer[0];
         i = (i + 1) & (b->slots - 1)) {
        size_t home = souk_hash_text(b->holders[i].customer) & (b->slots - 1);
        /* moves back an entry whose home is not between the hole and it */
        if (((i - home) & (b->slots - 1)) >= ((i - hole) & (b->slots - 1))) {
            b->holders[hole] = b->holders[i];
            b->holders[i].customer[0] = '\0';
            hole = i;
        }
    }
}

/* customer as kept in the table (ids longer than an entry are cut there). */
static void key_of(const char *customer, char key[CUSTOMER_ID_CAP])
{
    size_t n = strlen(customer);
    if (n >= CUSTOMER_ID_CAP)
        n = CUSTOMER_ID_CAP - 1;
    memcpy(key, customer, n);
    key[n] = '\0';
}

souk_wait_grant souk_waitbudget_take(souk_waitbudget *b, const char *id)
{
    char customer[CUSTOMER_ID_CAP];
    key_of(id, customer);
    souk_wait_grant grant = SOUK_WAIT_GRANTED;
    pthread_mutex_lock(&b->lock);
    size_t i = find(b, customer);
    if (b->in_use >= b->total) {
        grant = SOUK_WAIT_OVER_GLOBAL;
    } else if (b->holders[i].customer[0] && b->holders[i].count >= b->per_customer) {
        grant = SOUK_WAIT_OVER_CUSTOMER;
    } else {
        if (!b->holders[i].customer[0]) {
            memcpy(b->holders[i].customer, customer, sizeof customer);
            b->holders[i].count = 0;
        }
        b->holders[i].count++;
        b->in_use++;
    }
    pthread_mutex_unlock(&b->lock);
    return grant;
}

void souk_waitbudget_give(souk_waitbudget *b, const char *id)
{
    char customer[CUSTOMER_ID_CAP];
    key_of(id, customer);
    pthread_mutex_lock(&b->lock);
    size_t i = find(b, customer);
    if (b->holders[i].customer[0]) {
        b->in_use--;
        if (--b->holders[i].count == 0)
            remove_at(b, i);
    }
    pthread_mutex_unlock(&b->lock);
}

int souk_waitbudget_in_use(souk_waitbudget *b)
{
    pthread_mutex_lock(&b->lock);
    int n = b->in_use;
    pthread_mutex_unlock(&b->lock);
    return n;
}
