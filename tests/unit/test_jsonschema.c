#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "core/jsonschema.h"

static const char *const events[] = {
    "CartCheckedOut",   "OrderCreated",  "StockReserved",   "StockReservationFailed",
    "PaymentSucceeded", "PaymentFailed", "ShippingCreated", "ShippingFailed",
    "PaymentRefunded",  "StockReleased", "OrderCompleted",  "OrderCancelled"};

static int check_folder(const char *event, const char *kind, int *checked)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/schemas/%s/%s", SOUK_SOURCE_DIR, event, kind);
    char name[128];
    snprintf(name, sizeof name, "events/%s", event);
    const souk_jsonschema *schema = souk_schema_get(name);
    cr_assert_not_null(schema, "no embedded schema %s", name);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int disagreements = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".json"))
            continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        json_object *doc = json_object_from_file(path);
        cr_assert_not_null(doc, "%s is not JSON", path);
        char err[256] = "";
        souk_status st = souk_jsonschema_validate(schema, doc, err, sizeof err);
        int valid = st == SOUK_OK;
        if (valid != (strcmp(kind, "valid") == 0)) {
            cr_log_error("C validator says %s for %s (%s)", valid ? "valid" : "invalid", path, err);
            disagreements++;
        }
        (*checked)++;
        json_object_put(doc);
    }
    closedir(d);
    return disagreements;
}

Test(jsonschema, agrees_with_the_sample_folders_that_ajv_checks)
{
    int checked = 0, disagreements = 0;
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        disagreements += check_folder(events[i], "valid", &checked);
        disagreements += check_folder(events[i], "invalid", &checked);
    }
    cr_assert_gt(checked, 100);
    cr_assert_eq(disagreements, 0);
}

static souk_status check(const char *schema_text, const char *doc_text, char *err, size_t errlen)
{
    char perr[128];
    souk_jsonschema *schema = souk_jsonschema_parse(schema_text, perr, sizeof perr);
    cr_assert_not_null(schema, "%s", perr);
    json_object *doc = json_tokener_parse(doc_text);
    souk_status st = souk_jsonschema_validate(schema, doc, err, errlen);
    json_object_put(doc);
    souk_jsonschema_free(schema);
    return st;
}

Test(jsonschema, failures_name_the_field_by_json_pointer)
{
    char err[256];
    const char *schema = "{\"type\":\"object\",\"properties\":{\"lines\":{\"type\":\"array\","
                         "\"items\":{\"type\":\"object\",\"properties\":{\"quantity\":"
                         "{\"type\":\"integer\",\"minimum\":1}}}}}}";
    cr_assert_eq(check(schema, "{\"lines\":[{\"quantity\":1},{\"quantity\":0}]}", err, sizeof err),
                 SOUK_ESCHEMA);
    cr_assert_str_eq(err, "/lines/1/quantity: must be >= 1");
}

Test(jsonschema, required_fields_are_reported_by_name)
{
    char err[256];
    cr_assert_eq(check("{\"type\":\"object\",\"required\":[\"email\"]}", "{}", err, sizeof err),
                 SOUK_ESCHEMA);
    cr_assert_str_eq(err, "/email: is required");
}

Test(jsonschema, local_refs_resolve)
{
    char err[256];
    const char *schema =
        "{\"$defs\":{\"money\":{\"type\":\"integer\",\"minimum\":0}},"
        "\"type\":\"object\",\"properties\":{\"price\":{\"$ref\":\"#/$defs/money\"}}}";
    cr_assert_eq(check(schema, "{\"price\":5}", err, sizeof err), SOUK_OK);
    cr_assert_eq(check(schema, "{\"price\":-5}", err, sizeof err), SOUK_ESCHEMA);
}

Test(jsonschema, lengths_count_characters_not_bytes)
{
    char err[256];
    const char *schema = "{\"type\":\"string\",\"maxLength\":3}";
    cr_assert_eq(check(schema, "\"\xc3\xa9t\xc3\xa9\"", err, sizeof err), SOUK_OK);
    cr_assert_eq(check(schema, "\"abcd\"", err, sizeof err), SOUK_ESCHEMA);
}

Test(jsonschema, keywords_outside_the_subset_are_refused_at_load)
{
    char err[128];
    souk_jsonschema *schema =
        souk_jsonschema_parse("{\"type\":\"object\",\"anyOf\":[{},{}]}", err, sizeof err);
    cr_assert_null(schema);
    cr_assert(strstr(err, "anyOf") != NULL, "%s", err);
    /* also inside what the subset walks into */
    schema =
        souk_jsonschema_parse("{\"oneOf\":[{\"required\":[\"a\"]},{\"not\":{}}]}", err, sizeof err);
    cr_assert_null(schema);
    cr_assert(strstr(err, "'not'") != NULL, "%s", err);
    schema = souk_jsonschema_parse("{\"oneOf\":[]}", err, sizeof err);
    cr_assert_null(schema, "an empty oneOf matches nothing");
}

/* The stock body's rule: exactly one of on_hand and delta. */
static const char exactly_one_schema[] =
    "{\"type\":\"object\",\"properties\":{\"on_hand\":{\"type\":\"integer\"},"
    "\"delta\":{\"type\":\"integer\"}},"
    "\"oneOf\":[{\"required\":[\"on_hand\"]},{\"required\":[\"delta\"]}]}";

Test(jsonschema, one_of_takes_exactly_one_alternative)
{
    char err[256];
    cr_assert_eq(check(exactly_one_schema, "{\"on_hand\":3}", err, sizeof err), SOUK_OK, "%s", err);
    cr_assert_eq(check(exactly_one_schema, "{\"delta\":-2}", err, sizeof err), SOUK_OK, "%s", err);
    cr_assert_eq(check(exactly_one_schema, "{\"on_hand\":3,\"delta\":1}", err, sizeof err),
                 SOUK_ESCHEMA);
    cr_assert_str_eq(err, "/: must match exactly one of 2 alternatives (oneOf), not 2");
}

Test(jsonschema, one_of_with_no_match_names_the_first_alternatives_failure)
{
    char err[256];
    cr_assert_eq(check(exactly_one_schema, "{}", err, sizeof err), SOUK_ESCHEMA);
    cr_assert_str_eq(err, "/on_hand: is required");
    /* the other keywords still apply beside it */
    cr_assert_eq(check(exactly_one_schema, "{\"on_hand\":\"3\"}", err, sizeof err), SOUK_ESCHEMA);
    cr_assert_str_eq(err, "/on_hand: must be of type integer");
}

Test(jsonschema, one_of_alternatives_may_be_types_and_hold_patterns)
{
    char err[256];
    const char *schema =
        "{\"type\":\"object\",\"properties\":{\"ref\":{\"oneOf\":["
        "{\"type\":\"string\",\"pattern\":\"^ch_[0-9]+$\"},{\"type\":\"null\"}]}}}";
    cr_assert_eq(check(schema, "{\"ref\":\"ch_12\"}", err, sizeof err), SOUK_OK, "%s", err);
    cr_assert_eq(check(schema, "{\"ref\":null}", err, sizeof err), SOUK_OK, "%s", err);
    cr_assert_eq(check(schema, "{\"ref\":\"x\"}", err, sizeof err), SOUK_ESCHEMA);
    cr_assert_str_eq(err, "/ref: must match ^ch_[0-9]+$");
}

Test(jsonschema, every_embedded_schema_loads)
{
    /* souk_schema_get parses every embedded schema at once, and stops the
     * process on one outside the subset */
    const char *names[] = {"http/stock", "http/responses/order_read", "http/responses/error"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cr_assert_not_null(souk_schema_get(names[i]), "%s", names[i]);
}

Test(jsonschema, patterns_match_wherever_they_sit)
{
    char err[256];
    const char *schema =
        "{\"$defs\":{\"sku\":{\"type\":\"string\",\"pattern\":\"^[A-Z]+-[0-9]+$\"}},"
        "\"type\":\"object\",\"properties\":{"
        "\"code\":{\"type\":\"string\",\"pattern\":\"^[a-z]{3}$\"},"
        "\"skus\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/sku\"}}},"
        "\"additionalProperties\":{\"type\":\"string\",\"pattern\":\"^x\"}}";
    cr_assert_eq(
        check(schema, "{\"code\":\"abc\",\"skus\":[\"TEA-1\"],\"more\":\"xy\"}", err, sizeof err),
        SOUK_OK, "%s", err);
    cr_assert_eq(check(schema, "{\"code\":\"abcd\"}", err, sizeof err), SOUK_ESCHEMA);
    cr_assert_str_eq(err, "/code: must match ^[a-z]{3}$");
    cr_assert_eq(check(schema, "{\"skus\":[\"TEA-1\",\"tea\"]}", err, sizeof err), SOUK_ESCHEMA);
    cr_assert_str_eq(err, "/skus/1: must match ^[A-Z]+-[0-9]+$");
    cr_assert_eq(check(schema, "{\"more\":\"y\"}", err, sizeof err), SOUK_ESCHEMA);
    cr_assert_str_eq(err, "/more: must match ^x");
}

Test(jsonschema, a_pattern_that_does_not_compile_is_refused_at_load)
{
    char err[128];
    souk_jsonschema *schema = souk_jsonschema_parse(
        "{\"type\":\"object\",\"properties\":{\"a\":{\"pattern\":\"([\"}}}", err, sizeof err);
    cr_assert_null(schema);
    cr_assert(strstr(err, "does not compile") != NULL, "%s", err);
}

Test(jsonschema, unknown_embedded_schema_is_null)
{
    cr_assert_null(souk_schema_get("events/Nope"));
    cr_assert_not_null(souk_schema_get("events/OrderCancelled"));
}
