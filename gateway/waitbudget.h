/* The budget of requests that wait (the long poll of GET /orders/{id}, and
 * live streams next). civetweb holds a thread for as long as a request
 * runs, so waiting requests get at most a fixed share of the threads, and
 * one customer at most a fixed share of that: whatever customers wait on,
 * the other threads stay free for ordinary requests. */
#ifndef SOUK_GATEWAY_WAITBUDGET_H
#define SOUK_GATEWAY_WAITBUDGET_H

typedef struct souk_waitbudget souk_waitbudget;

typedef enum souk_wait_grant {
    SOUK_WAIT_GRANTED,
    SOUK_WAIT_OVER_GLOBAL,   /* every waiting slot of the process is taken */
    SOUK_WAIT_OVER_CUSTOMER, /* this customer holds its share */
} souk_wait_grant;

/* A budget of total waiting requests, at most per_customer of them for one
 * customer. Caller frees. */
souk_waitbudget *souk_waitbudget_new(int total, int per_customer)
    __attribute__((warn_unused_result));

void souk_waitbudget_free(souk_waitbudget *budget);

/* Takes a slot for customer (a non-empty id). A granted slot must be given
 * back with souk_waitbudget_give and the same customer. */
souk_wait_grant souk_waitbudget_take(souk_waitbudget *budget, const char *customer);

void souk_waitbudget_give(souk_waitbudget *budget, const char *customer);

/* Slots in use now (for /metrics and tests). */
int souk_waitbudget_in_use(souk_waitbudget *budget);

#endif
