/* The start gate of a civetweb server: civetweb listens from mg_start on,
 * but a server's routes exist only once they are registered; until then
 * civetweb itself would answer 404, which tells a client retrying through a
 * restart that its request can never succeed (the payment worker
 * dead-letters a provider's 404). Installed as begin_request, the gate
 * answers 503 with Retry-After until souk_startgate_open. One gate per
 * process (the gateway, souk-psp). */
#ifndef SOUK_STARTGATE_H
#define SOUK_STARTGATE_H

#include <civetweb.h>

/* civetweb's begin_request callback: 0 (handle) once open, else answers
 * 503 and returns it. */
int souk_startgate_begin_request(struct mg_connection *conn);

/* Lets requests through to the registered routes. */
void souk_startgate_open(void);

#endif
