/* Parsing JSON text that comes from outside (HTTP bodies, event payloads,
 * the payment provider's requests): the whole text must be one JSON value,
 * and no string or member name may hold a NUL character. json-c keeps a
 * "\u0000" inside a string but every C string and PostgreSQL text parameter
 * would end there, and it cuts member names at it, so such text is refused
 * instead of being cut silently. */
#ifndef SOUK_JSON_H
#define SOUK_JSON_H

#include <json-c/json.h>
#include <stddef.h>

#include "core/status.h"

/* Parses the len bytes at text (trailing whitespace allowed). Returns
 * SOUK_OK with a new *out (caller puts it); SOUK_EPARSE when the text is not
 * one JSON value, with a reason in err; SOUK_ESCHEMA when it holds a NUL
 * character, with err as "<json pointer>: must not contain NUL characters"
 * (the pointer names the first such string, or "/" for a member name). */
souk_status souk_json_parse(const char *text, size_t len, json_object **out, char *err,
                            size_t errlen) __attribute__((warn_unused_result));

#endif
