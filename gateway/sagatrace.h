/* GET /orders/{id}/trace: every hop of one order's saga, in time order.
 * A hop is a message a service published (its outbox row: written,
 * published by the relay, confirmed by the broker) or a delivery a service
 * settled (its journal row: delivered, handled, committed, with its
 * outcome: handled, duplicate, retry_scheduled, dead_lettered, replayed),
 * with its trace and span ids, queue wait and handler time, and whether it
 * is a compensation (events/topology.h says which are). Each schema's hops
 * are read through that schema's gateway role with one query, as each
 * schema may live on its own server: never a join across schemas. A
 * customer sees the traces of their own orders, an admin every trace;
 * another's order answers 404, as for GET /orders/{id}. With wait and
 * version it is a long poll that answers when a hop lands or changes
 * (gateway/longpoll.h). */
#ifndef SOUK_GATEWAY_SAGATRACE_H
#define SOUK_GATEWAY_SAGATRACE_H

#include "gateway/http.h"

void souk_sagatrace_get(souk_request *req); /* GET /orders/{id}/trace */

#endif
