/* The admins' dead-letter console: the operations of `souk dlq` over HTTP,
 * on the same implementation (events/dlq.h) and so with the same guarantee
 * that nothing is lost (a replay publishes, waits for the broker's confirm
 * and only then acks the dead letter).
 *   GET    /admin/dlq                               every service's DLQ depth
 *   GET    /admin/dlq/{service}                     its messages grouped by reason
 *   GET    /admin/dlq/{service}/messages            inspect (left in place)
 *   GET    /admin/dlq/{service}/messages/{id}       one message
 *   POST   /admin/dlq/{service}/messages/{id}/replay
 *   POST   /admin/dlq/{service}/replays             replay all: a job to poll
 *   GET    /admin/dlq/{service}/replays/{id}        its progress
 *   DELETE /admin/dlq/{service}/messages            purge
 * Inspecting takes the messages without acking them and puts them back in
 * their order, so inside one gateway the operations on one queue take turns
 * (a lock per service); a replay of all runs on a thread of its own and
 * holds that queue until it ends, and the other operations on that queue
 * answer 409 REPLAY_RUNNING meanwhile. Only the first SOUK_DLQ_SCAN_MAX
 * messages of a queue are inspected (replay all and purge reach every one).
 * A broker that does not answer is 503. */
#ifndef SOUK_GATEWAY_DEADLETTERS_H
#define SOUK_GATEWAY_DEADLETTERS_H

#include "core/config.h"
#include "gateway/http.h"

/* How many messages of a queue inspecting (and a replay by message id)
 * looks at. */
#define SOUK_DLQ_SCAN_MAX 1000

typedef struct souk_deadletters souk_deadletters;

/* The locks and the replay jobs of one gateway. cfg must outlive it. */
souk_deadletters *souk_deadletters_new(const souk_config *cfg);

/* Stops the running replays after the message each is at (what they did
 * not replay stays in its DLQ), waits for them, frees. Accepts NULL. */
void souk_deadletters_free(souk_deadletters *dl);

void souk_deadletters_overview(souk_request *req);      /* GET /admin/dlq */
void souk_deadletters_groups(souk_request *req);        /* GET /admin/dlq/{service} */
void souk_deadletters_list(souk_request *req);          /* GET .../messages */
void souk_deadletters_get(souk_request *req);           /* GET .../messages/{id} */
void souk_deadletters_replay_one(souk_request *req);    /* POST .../messages/{id}/replay */
void souk_deadletters_replay_all(souk_request *req);    /* POST .../replays */
void souk_deadletters_replay_status(souk_request *req); /* GET .../replays/{id} */
void souk_deadletters_purge(souk_request *req);         /* DELETE .../messages */

#endif
