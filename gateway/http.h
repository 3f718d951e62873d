/* JSON responses and the gateway's error contract:
 *   {"error": {"code": "...", "message": "...", "details": ...}, "request_id": "..."} */
#ifndef SOUK_GATEWAY_HTTP_H
#define SOUK_GATEWAY_HTTP_H

#include <civetweb.h>
#include <json-c/json.h>

/* Sends body (owned by the caller) as application/json with status. */
void souk_http_send_json(struct mg_connection *conn, int status, json_object *body);

/* Sends the error contract. details may be NULL; it is consumed. */
void souk_http_send_error(struct mg_connection *conn, int status, const char *code,
                          const char *message, json_object *details);

/* Reason phrase for a status code ("Not Found"). */
const char *souk_http_reason(int status);

#endif
