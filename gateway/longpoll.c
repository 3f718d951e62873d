/* Wait slots and versioned long polls (see longpoll.h). Between two reads
 * a request waits on the order watch, which the gateway's stop wakes, so a
 * stopping gateway answers its long polls at once. */
#include "gateway/longpoll.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/hash.h"
#include "gateway/orderwatch.h"
#include "gateway/waitbudget.h"

int souk_longpoll_take(souk_request *req)
{
    souk_wait_grant grant = souk_waitbudget_take(req->gw->waits, req->claims.sub);
    if (grant == SOUK_WAIT_GRANTED)
        return 1;
    /* A wait refused costs the caller a retry, never other clients their threads. */
    souk_http_add_header(req, "Retry-After", "1");
    if (grant == SOUK_WAIT_OVER_CUSTOMER)
        souk_http_fail(req, 429, "TOO_MANY_WAITS",
                       "you hold as many waiting requests as one customer may; retry "
                       "without wait, or when one has ended",
                       NULL);
    else
        souk_http_fail(req, 429, "TOO_MANY_WAITS",
                       "the gateway holds as many waiting requests as it may; see Retry-After",
                       NULL);
    return 0;
}

void souk_longpoll_give(souk_request *req)
{
    souk_waitbudget_give(req->gw->waits, req->claims.sub);
}

/* The version of an answer: a hash of its text, so it changes whenever
 * anything in it does. */
static void version_of(json_object *answer, char out[17])
{
    const char *text = json_object_to_json_string_ext(answer, JSON_C_TO_STRING_PLAIN);
    snprintf(out, 17, "%016" PRIx64, souk_hash_text(text));
}

void souk_longpoll_serve(souk_request *req, const char *watch_key, souk_longpoll_read_fn read,
                         void *arg)
{
    long wait_s = 0;
    if (souk_http_query_long(req, "wait", 0, 0, SOUK_LONGPOLL_WAIT_MAX_S, &wait_s) < 0)
        return;
    char want[64] = "";
    int versioned = souk_http_query_text(req, "version", want, sizeof want) && want[0];
    int waits = wait_s > 0 && versioned;
    if (waits && !souk_longpoll_take(req))
        return;
    souk_orderwatch_waiter waiter;
    if (waits)
        souk_orderwatch_join(req->gw->orders_watch, &waiter, watch_key ? watch_key : "");
    double deadline = souk_monotonic_seconds() + (double)wait_s;
    json_object *answer = NULL;
    char version[17] = "";
    double started = souk_monotonic_seconds();
    int found = read(req, arg, &answer) == 0;
    double took = souk_monotonic_seconds() - started;
    if (found)
        version_of(answer, version);
    while (found && waits && strcmp(version, want) == 0) {
        double now = souk_monotonic_seconds();
        if (now >= deadline || souk_orderwatch_stopping(req->gw->orders_watch))
            break;
        /* a read that costs the database more is made less often: a wait
         * never keeps it busy more than a fifth of the time */
        double pause = SOUK_LONGPOLL_INTERVAL_MS / 1000.0;
        if (pause < 4 * took)
            pause = 4 * took;
        double next = now + pause;
        souk_orderwatch_wait(req->gw->orders_watch, &waiter, next < deadline ? next : deadline);
        json_object_put(answer);
        answer = NULL;
        started = souk_monotonic_seconds();
        found = read(req, arg, &answer) == 0;
        took = souk_monotonic_seconds() - started;
        if (found)
            version_of(answer, version);
    }
    if (found) {
        json_object_object_add(answer, "version", json_object_new_string(version));
        souk_http_respond(req, 200, answer);
    }
    json_object_put(answer);
    if (waits) {
        souk_orderwatch_leave(req->gw->orders_watch, &waiter);
        souk_longpoll_give(req);
    }
}
