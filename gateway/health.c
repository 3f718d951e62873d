/* Liveness, readiness and metrics endpoints. Readiness opens a fresh
 * connection to each dependency, so it reports what a new request would
 * meet. */
#include "gateway/health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/db.h"
#include "core/log.h"
#include "events/amqp.h"

/* The gateway owns these schemas; all must answer for it to be ready. */
static const souk_db_schema gateway_schemas[] = {SOUK_SCHEMA_IDENTITY, SOUK_SCHEMA_CATALOG,
                                                 SOUK_SCHEMA_CART};

void souk_health_alive(souk_request *req)
{
    json_object *body = json_object_new_object();
    json_object_object_add(body, "status", json_object_new_string("alive"));
    souk_http_respond(req, 200, body);
    json_object_put(body);
}

void souk_health_ready(souk_request *req)
{
    const souk_config *cfg = req->gw->cfg;
    souk_status db = SOUK_OK;
    for (size_t i = 0; i < sizeof gateway_schemas / sizeof gateway_schemas[0] && db == SOUK_OK; i++)
        db = souk_db_ping(cfg, gateway_schemas[i]);
    souk_status mq = souk_amqp_ping(cfg, 2000);

    json_object *checks = json_object_new_object();
    json_object_object_add(checks, "postgresql",
                           json_object_new_string(db == SOUK_OK ? "ok" : souk_strerror(db)));
    json_object_object_add(checks, "rabbitmq",
                           json_object_new_string(mq == SOUK_OK ? "ok" : souk_strerror(mq)));
    if (db == SOUK_OK && mq == SOUK_OK) {
        json_object *body = json_object_new_object();
        json_object_object_add(body, "status", json_object_new_string("ready"));
        json_object_object_add(body, "checks", checks);
        souk_http_respond(req, 200, body);
        json_object_put(body);
        return;
    }
    char message[128];
    snprintf(message, sizeof message, "not ready: %s%s%s unreachable",
             db != SOUK_OK ? "postgresql" : "", db != SOUK_OK && mq != SOUK_OK ? " and " : "",
             mq != SOUK_OK ? "rabbitmq" : "");
    SOUK_LOG(SOUK_LOG_WARN, "%s", message);
    souk_http_fail(req, 503, "NOT_READY", message, checks);
}

void souk_health_metrics(souk_request *req)
{
    char *text = souk_metrics_render(req->gw->metrics);
    souk_http_send(req, 200, "text/plain; version=0.0.4", text, strlen(text));
    free(text);
}
