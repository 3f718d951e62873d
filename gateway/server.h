/* The gateway's HTTP server: one civetweb handler that gives every request
 * an id, authenticates its bearer token, applies the rate limit, routes it
 * by method and path through the route table, and records its metrics. The
 * route table also produces GET /openapi.json. */
#ifndef SOUK_GATEWAY_SERVER_H
#define SOUK_GATEWAY_SERVER_H

#include <civetweb.h>

#include "gateway/app.h"

/* Route labels, for souk_metrics_new. */
const char *const *souk_server_route_names(int *count);

/* Installs the dispatcher on ctx; gw must outlive the server. */
void souk_server_register(struct mg_context *ctx, souk_gateway *gw);

#endif
