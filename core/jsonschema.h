/* A JSON Schema (draft 2020-12) validator for the subset Souk's schemas use:
 * type, properties, required, additionalProperties, items, minItems,
 * maxItems, minLength, maxLength, minimum, maximum, enum, const, oneOf,
 * pattern (POSIX extended), format (uuid, email, date-time) and local $ref
 * ("#/$defs/..."; a $ref to another file, as the HTTP response schemas in
 * schemas/http/responses/ use, is resolved by the OpenAPI generator, and
 * fails validation here). A schema using any other validation keyword is
 * refused when loaded, so the subset can never silently pass what a full
 * validator would reject. The schemas themselves are compiled into the binary from
 * schemas/ (see souk_schema_get). */
#ifndef SOUK_JSONSCHEMA_H
#define SOUK_JSONSCHEMA_H

#include <json-c/json.h>
#include <stddef.h>

#include "core/status.h"

typedef struct souk_jsonschema souk_jsonschema;

/* Parses a schema from text. Returns NULL with a reason in err when the text
 * is not JSON or uses a keyword outside the subset. Caller frees. */
souk_jsonschema *souk_jsonschema_parse(const char *text, char *err, size_t errlen)
    __attribute__((warn_unused_result));

void souk_jsonschema_free(souk_jsonschema *schema);

/* Validates doc. Returns SOUK_OK, or SOUK_ESCHEMA with the first failure in
 * err as "<path>: <why>", the path in JSON Pointer form ("/lines/0/quantity",
 * "/" for the document itself). */
souk_status souk_jsonschema_validate(const souk_jsonschema *schema, json_object *doc, char *err,
                                     size_t errlen);

/* The embedded schema "events/OrderCreated" or "http/register"; NULL when
 * there is none. Parsed once, shared, never freed; thread-safe. */
const souk_jsonschema *souk_schema_get(const char *name);

/* The text of the embedded schema name, or NULL. */
const char *souk_schema_text(const char *name);

#endif
