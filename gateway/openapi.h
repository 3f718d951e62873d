/* The gateway's OpenAPI 3.1 description, generated from the route table so
 * that it describes what the dispatcher enforces (/docs, Swagger UI over it,
 * is one of the console's files: static.c). */
#ifndef SOUK_GATEWAY_OPENAPI_H
#define SOUK_GATEWAY_OPENAPI_H

#include <json-c/json.h>

#include "core/config.h"
#include "gateway/http.h"

/* The document for the gateway as configured by cfg (in production /metrics
 * needs an admin token). Returns a new object; the caller puts it. */
json_object *souk_openapi_document(const souk_config *cfg);

void souk_openapi_serve(souk_request *req); /* GET /openapi.json */

#endif
