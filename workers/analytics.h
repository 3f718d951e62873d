/* The analytics service: records every saga event it receives and keeps a
 * count per event type, from which the analytics summaries are computed. */
#ifndef SOUK_WORKERS_ANALYTICS_H
#define SOUK_WORKERS_ANALYTICS_H

#include "workers/handler.h"

/* Handles any saga event: one order_events row and one count increment. */
souk_handler_result souk_analytics_record(souk_handler_ctx *ctx);

#endif
