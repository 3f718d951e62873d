/* GET /sagas (admins): the sagas of every order, newest first, from the
 * order service's view of them (orders.gateway_sagas, one query on the
 * orders schema). Search q by order id, customer e-mail (either case) or
 * trace id; filter by state (in_flight, compensating, stuck: not final and
 * no hop for stuck_after seconds, completed, cancelled), cancel reason and
 * a window on when the order started (from, to); paged. With wait and
 * version it is a feed: a long poll that answers when the page changes (a
 * listed saga moves, a new one matches, one becomes stuck;
 * gateway/longpoll.h). */
#ifndef SOUK_GATEWAY_SAGAS_H
#define SOUK_GATEWAY_SAGAS_H

#include "gateway/http.h"

#define SOUK_SAGAS_STUCK_AFTER_DEFAULT_S 30
#define SOUK_SAGAS_STUCK_AFTER_MAX_S     86400

/* The states a saga is listed in, and the reasons an order is cancelled
 * for, as the query parameters take them (NULL-terminated). */
extern const char *const souk_sagas_states[];
extern const char *const souk_sagas_cancel_reasons[];

void souk_sagas_list(souk_request *req); /* GET /sagas */

#endif
