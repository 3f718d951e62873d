/* libFuzzer target for the parsers of outside input: a request body (or an
 * event payload) goes through the JSON parser the gateway and the workers
 * use, then through every embedded JSON Schema check. Build with
 * -DSOUK_FUZZ=ON and clang; run ./build-fuzz/fuzz/fuzz_body fuzz/corpus/http_body. */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "core/jsonschema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const schemas[] = {"http/register",         "http/login",
                                      "http/product",          "http/stock",
                                      "http/cart_item",        "http/cart_quantity",
                                      "http/checkout",         "http/order",
                                      "events/CartCheckedOut", "events/OrderCreated",
                                      "events/OrderCancelled", "events/PaymentSucceeded"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    json_tokener *tok = json_tokener_new();
    json_object *doc = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    json_tokener_free(tok);
    if (!doc)
        return 0;
    for (size_t i = 0; i < sizeof schemas / sizeof schemas[0]; i++) {
        char err[300];
        (void)souk_jsonschema_validate(souk_schema_get(schemas[i]), doc, err, sizeof err);
    }
    json_object_put(doc);
    return 0;
}
