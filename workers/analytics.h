/* The analytics service: records every saga event it receives, from which
 * the analytics summaries are computed. */
#ifndef SOUK_WORKERS_ANALYTICS_H
#define SOUK_WORKERS_ANALYTICS_H

#include "workers/handler.h"

/* Handles any saga event: one order_events row. */
souk_handler_result souk_analytics_record(souk_handler_ctx *ctx);

#endif
