/* /healthz (the process is alive) and /readyz (its dependencies answer). */
#ifndef SOUK_GATEWAY_HEALTH_H
#define SOUK_GATEWAY_HEALTH_H

#include <civetweb.h>

#include "core/config.h"

/* Registers both endpoints on ctx; cfg must outlive the server. */
void souk_health_register(struct mg_context *ctx, const souk_config *cfg);

#endif
