/* core/json: outside JSON is one value, and a NUL is refused, not cut. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/json.h"

static souk_status parse(const char *text, json_object **out, char *err, size_t errlen)
{
    return souk_json_parse(text, strlen(text), out, err, errlen);
}

Test(json, parses_one_value_with_trailing_whitespace)
{
    json_object *doc = NULL;
    char err[256];
    cr_assert_eq(parse("{\"a\": [1, \"x\"]} \r\n", &doc, err, sizeof err), SOUK_OK, "%s", err);
    cr_assert_eq(
        json_object_get_int(json_object_array_get_idx(json_object_object_get(doc, "a"), 0)), 1);
    json_object_put(doc);
}

Test(json, refuses_trailing_text_and_broken_json_as_parse_errors)
{
    json_object *doc = NULL;
    char err[256];
    cr_assert_eq(parse("{\"a\":1} x", &doc, err, sizeof err), SOUK_EPARSE);
    cr_assert(strstr(err, "trailing") != NULL, "%s", err);
    cr_assert_null(doc);
    cr_assert_eq(parse("{\"a\":", &doc, err, sizeof err), SOUK_EPARSE);
    cr_assert_null(doc);
}

Test(json, refuses_a_nul_in_a_string_naming_where)
{
    json_object *doc = NULL;
    char err[256];
    cr_assert_eq(parse("{\"name\":\"a\\u0000b\"}", &doc, err, sizeof err), SOUK_ESCHEMA);
    cr_assert_str_eq(err, "/name: must not contain NUL characters");
    cr_assert_null(doc);
    cr_assert_eq(
        parse("{\"lines\":[{\"sku\":\"ok\"},{\"sku\":\"\\u0000\"}]}", &doc, err, sizeof err),
        SOUK_ESCHEMA);
    cr_assert_str_eq(err, "/lines/1/sku: must not contain NUL characters");
}

Test(json, refuses_a_nul_in_a_member_name_and_a_raw_nul_byte)
{
    json_object *doc = NULL;
    char err[256];
    /* json-c would keep the member as "na" */
    cr_assert_eq(parse("{\"na\\u0000me\":\"x\"}", &doc, err, sizeof err), SOUK_ESCHEMA);
    cr_assert_str_eq(err, "/: must not contain NUL characters");
    const char raw[] = "{\"name\":\"a\0b\"}";
    cr_assert_eq(souk_json_parse(raw, sizeof raw - 1, &doc, err, sizeof err), SOUK_ESCHEMA);
    cr_assert_null(doc);
}

Test(json, an_escaped_backslash_before_u0000_is_no_nul)
{
    json_object *doc = NULL;
    char err[256];
    cr_assert_eq(parse("{\"path\":\"C:\\\\u0000\"}", &doc, err, sizeof err), SOUK_OK, "%s", err);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(doc, "path")), "C:\\u0000");
    json_object_put(doc);
}
