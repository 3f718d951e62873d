/* Recursive JSON Schema subset validation over json-c documents. */
#include "core/jsonschema.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* A "pattern" compiled once when the schema is parsed (compiling it for
 * every validated string was a visible share of each consumed message),
 * keyed by the subschema object that holds it. */
struct compiled_pattern {
    json_object *owner;
    regex_t re;
};

struct souk_jsonschema {
    json_object *root;
    struct compiled_pattern *patterns;
    size_t pattern_count;
};

/* Keywords that constrain nothing (annotations) or that we implement. */
static const char *const known_keywords[] = {"$schema",
                                             "$id",
                                             "$defs",
                                             "$ref",
                                             "$comment",
                                             "title",
                                             "description",
                                             "examples",
                                             "default",
                                             "type",
                                             "properties",
                                             "required",
                                             "additionalProperties",
                                             "items",
                                             "minItems",
                                             "maxItems",
                                             "minLength",
                                             "maxLength",
                                             "minimum",
                                             "maximum",
                                             "enum",
                                             "const",
                                             "pattern",
                                             "format",
                                             "oneOf",
                                             NULL};

static int keyword_known(const char *key)
{
    for (int i = 0; known_keywords[i]; i++)
        if (strcmp(known_keywords[i], key) == 0)
            return 1;
    return 0;
}

/* Checks that every (sub)schema uses only supported keywords. */
static int check_subset(json_object *schema, char *err, size_t errlen)
{
    if (!json_object_is_type(schema, json_type_object))
        return 0;
    json_object_object_foreach(schema, key, value)
    {
        if (!keyword_known(key)) {
            snprintf(err, errlen, "unsupported schema keyword '%s'", key);
            return -1;
        }
        if (strcmp(key, "properties") == 0 || strcmp(key, "$defs") == 0) {
            json_object_object_foreach(value, name, sub)
            {
                (void)name;
                if (check_subset(sub, err, errlen) != 0)
                    return -1;
            }
        } else if (strcmp(key, "items") == 0 || strcmp(key, "additionalProperties") == 0) {
            if (check_subset(value, err, errlen) != 0)
                return -1;
        } else if (strcmp(key, "oneOf") == 0) {
            if (!json_object_is_type(value, json_type_array) ||
                json_object_array_length(value) == 0) {
                snprintf(err, errlen, "oneOf must be a non-empty array of schemas");
                return -1;
            }
            for (size_t i = 0; i < json_object_array_length(value); i++)
                if (check_subset(json_object_array_get_idx(value, i), err, errlen) != 0)
                    return -1;
        }
    }
    return 0;
}

/* Compiles the patterns of schema and its subschemas (the places
 * check_subset allows them) into out. Returns -1 when one does not compile. */
static int compile_patterns(souk_jsonschema *out, json_object *schema, char *err, size_t errlen)
{
    if (!json_object_is_type(schema, json_type_object))
        return 0;
    json_object_object_foreach(schema, key, value)
    {
        if (strcmp(key, "pattern") == 0) {
            out->patterns =
                souk_realloc(out->patterns, (out->pattern_count + 1) * sizeof *out->patterns);
            struct compiled_pattern *cp = &out->patterns[out->pattern_count];
            if (regcomp(&cp->re, json_object_get_string(value), REG_EXTENDED | REG_NOSUB) != 0) {
                snprintf(err, errlen, "schema pattern '%s' does not compile",
                         json_object_get_string(value));
                return -1;
            }
            cp->owner = schema;
            out->pattern_count++;
        } else if (strcmp(key, "properties") == 0 || strcmp(key, "$defs") == 0) {
            json_object_object_foreach(value, name, sub)
            {
                (void)name;
                if (compile_patterns(out, sub, err, errlen) != 0)
                    return -1;
            }
        } else if (strcmp(key, "items") == 0 || strcmp(key, "additionalProperties") == 0) {
            if (compile_patterns(out, value, err, errlen) != 0)
                return -1;
        } else if (strcmp(key, "oneOf") == 0) {
            for (size_t i = 0; i < json_object_array_length(value); i++)
                if (compile_patterns(out, json_object_array_get_idx(value, i), err, errlen) != 0)
                    return -1;
        }
    }
    return 0;
}

souk_jsonschema *souk_jsonschema_parse(const char *text, char *err, size_t errlen)
{
    enum json_tokener_error jerr;
    json_object *root = json_tokener_parse_verbose(text, &jerr);
    if (!root || !json_object_is_type(root, json_type_object)) {
        snprintf(err, errlen, "schema is not a JSON object: %s",
                 root ? "wrong type" : json_tokener_error_desc(jerr));
        json_object_put(root);
        return NULL;
    }
    if (check_subset(root, err, errlen) != 0) {
        json_object_put(root);
        return NULL;
    }
    souk_jsonschema *schema = souk_calloc(1, sizeof *schema);
    schema->root = root;
    if (compile_patterns(schema, root, err, errlen) != 0) {
        souk_jsonschema_free(schema);
        return NULL;
    }
    return schema;
}

void souk_jsonschema_free(souk_jsonschema *schema)
{
    if (!schema)
        return;
    for (size_t i = 0; i < schema->pattern_count; i++)
        regfree(&schema->patterns[i].re);
    free(schema->patterns);
    json_object_put(schema->root);
    free(schema);
}

struct walk {
    const souk_jsonschema *schema;
    json_object *root;
    char *err;
    size_t errlen;
    char path[512];
};

static int fail(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct walk *w, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(w->err, w->errlen, "%s: %s", w->path[0] ? w->path : "/", why);
    return -1;
}

static const char *type_of(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return "null";
    case json_type_boolean: return "boolean";
    case json_type_int: return "integer";
    case json_type_double: {
        double d = json_object_get_double(v);
        return (isfinite(d) && floor(d) == d) ? "integer" : "number";
    }
    case json_type_string: return "string";
    case json_type_array: return "array";
    case json_type_object: return "object";
    }
    return "unknown";
}

static int type_matches(const char *want, json_object *v)
{
    const char *have = type_of(v);
    if (strcmp(want, have) == 0)
        return 1;
    return strcmp(want, "number") == 0 && strcmp(have, "integer") == 0;
}

static size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int is_uuid(const char *s)
{
    if (strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

static pthread_once_t date_time_once = PTHREAD_ONCE_INIT;
static regex_t date_time_re;
static int date_time_compiled;

static void compile_date_time(void)
{
    date_time_compiled =
        regcomp(&date_time_re,
                "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?"
                "([Zz]|[+-][0-9]{2}:[0-9]{2})$",
                REG_EXTENDED | REG_NOSUB) == 0;
}

static int format_ok(const char *format, const char *s)
{
    if (strcmp(format, "uuid") == 0)
        return is_uuid(s);
    if (strcmp(format, "email") == 0) {
        const char *at = strchr(s, '@');
        return at && at != s && strchr(at + 1, '.') && !strchr(at + 1, '@') &&
               at[strlen(at) - 1] != '.' && !strpbrk(s, " \t\r\n");
    }
    if (strcmp(format, "date-time") == 0) {
        pthread_once(&date_time_once, compile_date_time);
        return date_time_compiled && regexec(&date_time_re, s, 0, NULL, 0) == 0;
    }
    return 1; /* unknown formats are annotations, as in JSON Schema */
}

static int json_equal(json_object *a, json_object *b)
{
    return json_object_equal(a, b);
}

static json_object *resolve_ref(struct walk *w, const char *ref)
{
    const char *prefix = "#/$defs/";
    if (strncmp(ref, prefix, strlen(prefix)) != 0)
        return NULL;
    json_object *defs = NULL, *target = NULL;
    if (json_object_object_get_ex(w->root, "$defs", &defs) &&
        json_object_object_get_ex(defs, ref + strlen(prefix), &target))
        return target;
    return NULL;
}

static int validate_node(struct walk *w, json_object *schema, json_object *v);

static int push_path(struct walk *w, const char *segment, size_t *saved)
{
    *saved = strlen(w->path);
    size_t room = sizeof w->path - *saved;
    int n = snprintf(w->path + *saved, room, "/%s", segment);
    return n > 0 && (size_t)n < room ? 0 : -1;
}

static int validate_object(struct walk *w, json_object *schema, json_object *v)
{
    json_object *required = NULL, *props = NULL, *additional = NULL;
    json_object_object_get_ex(schema, "properties", &props);
    if (json_object_object_get_ex(schema, "required", &required)) {
        for (size_t i = 0; i < json_object_array_length(required); i++) {
            const char *name = json_object_get_string(json_object_array_get_idx(required, i));
            if (!json_object_object_get_ex(v, name, NULL)) {
                size_t saved;
                push_path(w, name, &saved);
                return fail(w, "is required");
            }
        }
    }
    json_object_object_get_ex(schema, "additionalProperties", &additional);
    json_object_object_foreach(v, key, value)
    {
        json_object *sub = NULL;
        size_t saved;
        push_path(w, key, &saved);
        if (props && json_object_object_get_ex(props, key, &sub)) {
            if (validate_node(w, sub, value) != 0)
                return -1;
        } else if (additional) {
            if (json_object_is_type(additional, json_type_boolean)) {
                if (!json_object_get_boolean(additional))
                    return fail(w, "is not an allowed field");
            } else if (validate_node(w, additional, value) != 0) {
                return -1;
            }
        }
        w->path[saved] = '\0';
    }
    return 0;
}

static int validate_array(struct walk *w, json_object *schema, json_object *v)
{
    json_object *k = NULL;
    long long len = (long long)json_object_array_length(v);
    if (json_object_object_get_ex(schema, "minItems", &k) && len < json_object_get_int64(k))
        return fail(w, "must have at least %lld items", (long long)json_object_get_int64(k));
    if (json_object_object_get_ex(schema, "maxItems", &k) && len > json_object_get_int64(k))
        return fail(w, "must have at most %lld items", (long long)json_object_get_int64(k));
    if (json_object_object_get_ex(schema, "items", &k)) {
        for (long long i = 0; i < len; i++) {
            char index[32];
            size_t saved;
            snprintf(index, sizeof index, "%lld", i);
            push_path(w, index, &saved);
            if (validate_node(w, k, json_object_array_get_idx(v, (size_t)i)) != 0)
                return -1;
            w->path[saved] = '\0';
        }
    }
    return 0;
}

static int validate_string(struct walk *w, json_object *schema, json_object *v)
{
    json_object *k = NULL;
    const char *s = json_object_get_string(v);
    long long len = (long long)utf8_length(s);
    if (json_object_object_get_ex(schema, "minLength", &k) && len < json_object_get_int64(k))
        return fail(w, "must be at least %lld characters", (long long)json_object_get_int64(k));
    if (json_object_object_get_ex(schema, "maxLength", &k) && len > json_object_get_int64(k))
        return fail(w, "must be at most %lld characters", (long long)json_object_get_int64(k));
    if (json_object_object_get_ex(schema, "pattern", &k)) {
        const regex_t *re = NULL;
        for (size_t i = 0; i < w->schema->pattern_count && !re; i++)
            if (w->schema->patterns[i].owner == schema)
                re = &w->schema->patterns[i].re;
        if (!re)
            return fail(w, "schema pattern '%s' is not where patterns may be",
                        json_object_get_string(k));
        if (regexec(re, s, 0, NULL, 0) != 0)
            return fail(w, "must match %s", json_object_get_string(k));
    }
    if (json_object_object_get_ex(schema, "format", &k) && !format_ok(json_object_get_string(k), s))
        return fail(w, "must be a valid %s", json_object_get_string(k));
    return 0;
}

static int validate_number(struct walk *w, json_object *schema, json_object *v)
{
    json_object *k = NULL;
    double d = json_object_get_double(v);
    if (json_object_object_get_ex(schema, "minimum", &k) && d < json_object_get_double(k))
        return fail(w, "must be >= %g", json_object_get_double(k));
    if (json_object_object_get_ex(schema, "maximum", &k) && d > json_object_get_double(k))
        return fail(w, "must be <= %g", json_object_get_double(k));
    return 0;
}

/* Exactly one of the alternatives must hold. When none does, the first
 * alternative's failure is the answer (for {"oneOf": [{"required": ["a"]},
 * {"required": ["b"]}]} and {}, "/a: is required"); when several do, the
 * failure is at v itself. */
static int validate_one_of(struct walk *w, json_object *alternatives, json_object *v)
{
    size_t count = json_object_array_length(alternatives);
    int matched = 0;
    char first[sizeof w->path + 300] = "";
    for (size_t i = 0; i < count; i++) {
        char why[sizeof first];
        struct walk alt = *w;
        alt.err = why;
        alt.errlen = sizeof why;
        if (validate_node(&alt, json_object_array_get_idx(alternatives, i), v) == 0)
            matched++;
        else if (!first[0])
            memcpy(first, why, sizeof why);
    }
    if (matched == 1)
        return 0;
    if (matched == 0) {
        snprintf(w->err, w->errlen, "%s", first);
        return -1;
    }
    return fail(w, "must match exactly one of %zu alternatives (oneOf), not %d", count, matched);
}

static int validate_node(struct walk *w, json_object *schema, json_object *v)
{
    if (json_object_is_type(schema, json_type_boolean))
        return json_object_get_boolean(schema) ? 0 : fail(w, "is not allowed");
    json_object *k = NULL;
    if (json_object_object_get_ex(schema, "$ref", &k)) {
        json_object *target = resolve_ref(w, json_object_get_string(k));
        if (!target)
            return fail(w, "unresolvable $ref %s", json_object_get_string(k));
        if (validate_node(w, target, v) != 0)
            return -1;
    }
    if (json_object_object_get_ex(schema, "type", &k)) {
        int ok = 0;
        if (json_object_is_type(k, json_type_array)) {
            for (size_t i = 0; i < json_object_array_length(k) && !ok; i++)
                ok = type_matches(json_object_get_string(json_object_array_get_idx(k, i)), v);
        } else {
            ok = type_matches(json_object_get_string(k), v);
        }
        if (!ok)
            return fail(w, "must be of type %s",
                        json_object_is_type(k, json_type_array)
                            ? json_object_to_json_string_ext(k, JSON_C_TO_STRING_PLAIN)
                            : json_object_get_string(k));
    }
    if (json_object_object_get_ex(schema, "enum", &k)) {
        int found = 0;
        for (size_t i = 0; i < json_object_array_length(k) && !found; i++)
            found = json_equal(json_object_array_get_idx(k, i), v);
        if (!found)
            return fail(w, "must be one of %s",
                        json_object_to_json_string_ext(k, JSON_C_TO_STRING_PLAIN));
    }
    if (json_object_object_get_ex(schema, "const", &k) && !json_equal(k, v))
        return fail(w, "must equal %s", json_object_to_json_string_ext(k, 0));
    if (json_object_object_get_ex(schema, "oneOf", &k) && validate_one_of(w, k, v) != 0)
        return -1;
    const char *type = type_of(v);
    if (strcmp(type, "object") == 0)
        return validate_object(w, schema, v);
    if (strcmp(type, "array") == 0)
        return validate_array(w, schema, v);
    if (strcmp(type, "string") == 0)
        return validate_string(w, schema, v);
    if (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0)
        return validate_number(w, schema, v);
    return 0;
}

souk_status souk_jsonschema_validate(const souk_jsonschema *schema, json_object *doc, char *err,
                                     size_t errlen)
{
    struct walk w = {.schema = schema, .root = schema->root, .err = err, .errlen = errlen};
    w.path[0] = '\0';
    return validate_node(&w, schema->root, doc) == 0 ? SOUK_OK : SOUK_ESCHEMA;
}

/* Generated at build time from schemas/ (see core/CMakeLists.txt). */
struct souk_embedded_schema {
    const char *name;
    const char *text;
};
extern const struct souk_embedded_schema souk_embedded_schemas[];
extern const size_t souk_embedded_schema_count;

static souk_jsonschema **parsed;
static pthread_once_t parse_once = PTHREAD_ONCE_INIT;

static void parse_all(void)
{
    parsed = souk_calloc(souk_embedded_schema_count + 1, sizeof *parsed);
    for (size_t i = 0; i < souk_embedded_schema_count; i++) {
        char err[256];
        parsed[i] = souk_jsonschema_parse(souk_embedded_schemas[i].text, err, sizeof err);
        if (!parsed[i]) {
            fprintf(stderr, "level=fatal msg=\"embedded schema %s: %s\"\n",
                    souk_embedded_schemas[i].name, err);
            abort();
        }
    }
}

const souk_jsonschema *souk_schema_get(const char *name)
{
    pthread_once(&parse_once, parse_all);
    for (size_t i = 0; i < souk_embedded_schema_count; i++)
        if (strcmp(souk_embedded_schemas[i].name, name) == 0)
            return parsed[i];
    return NULL;
}

const char *souk_schema_text(const char *name)
{
    for (size_t i = 0; i < souk_embedded_schema_count; i++)
        if (strcmp(souk_embedded_schemas[i].name, name) == 0)
            return souk_embedded_schemas[i].text;
    return NULL;
}
