/* Long polls: requests that hold their thread while they wait for an
 * answer to change. Every waiting request takes a slot of the wait budget
 * (gateway/waitbudget.h) first, or is refused with 429 TOO_MANY_WAITS, so
 * waiting never takes the threads ordinary requests need.
 *
 * A versioned answer (the trace of an order, the saga list) carries a
 * "version": a hash of everything else in it. Asked with wait=S and the
 * version of an earlier answer, the request reads the answer again every
 * SOUK_LONGPOLL_INTERVAL_MS (or four times as long as a read took, when
 * that is longer) until its version differs, S seconds pass or the gateway
 * stops, and then answers it. Reading again beats a NOTIFY per
 * change: PostgreSQL serializes the commits of notifying transactions, and
 * the hops these answers show are every message of every saga. The read
 * holds a database connection only while it reads. */
#ifndef SOUK_GATEWAY_LONGPOLL_H
#define SOUK_GATEWAY_LONGPOLL_H

#include <json-c/json.h>

#include "gateway/http.h"

/* The longest a versioned long poll waits. */
#define SOUK_LONGPOLL_WAIT_MAX_S 25
/* How often it reads its answer again while it waits, at most. */
#define SOUK_LONGPOLL_INTERVAL_MS 200

/* Takes a waiting slot for the caller. Returns 1, or 0 after answering 429
 * TOO_MANY_WAITS with Retry-After (the caller holds its share, or the
 * gateway's share is taken). A slot taken must be given back. */
int souk_longpoll_take(souk_request *req) __attribute__((warn_unused_result));

void souk_longpoll_give(souk_request *req);

/* Reads the answer into *out (a new object without "version"). Returns 0,
 * or -1 after answering (an error, or no such thing). */
typedef int (*souk_longpoll_read_fn)(souk_request *req, void *arg, json_object **out);

/* Answers a versioned read: reads the query parameters wait (0 to
 * SOUK_LONGPOLL_WAIT_MAX_S, default 0) and version (400 on a bad wait),
 * calls read, and with both a wait and a version reads again while the
 * answer's version equals it (above). Answers 200 with the last answer and
 * its version. watch_key, when not NULL, is an order id whose final state
 * also ends a wait between two reads (the orders_status notification). */
void souk_longpoll_serve(souk_request *req, const char *watch_key, souk_longpoll_read_fn read,
                         void *arg);

#endif
