/* Strict parsing of outside JSON: one value, no NUL characters anywhere. */
#include "core/json.h"

#include <stdio.h>
#include <string.h>

/* A raw NUL byte, or a "\u0000" escape (a backslash that is itself escaped
 * does not start one). */
static int text_has_nul(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\0')
            return 1;
        if (text[i] != '\\' || i + 1 >= len)
            continue;
        if (text[i + 1] == 'u' && i + 5 < len && memcmp(text + i + 2, "0000", 4) == 0)
            return 1;
        i++; /* the escaped character */
    }
    return 0;
}

/* Appends "/<token>" to path (JSON Pointer escaping of '~' and '/'). */
static void pointer_push(char *path, size_t size, const char *token)
{
    size_t n = strlen(path);
    if (n + 1 < size)
        path[n++] = '/';
    for (const char *c = token; *c && n + 2 < size; c++) {
        if (*c == '~' || *c == '/') {
            path[n++] = '~';
            path[n++] = *c == '~' ? '0' : '1';
        } else {
            path[n++] = *c;
        }
    }
    path[n] = '\0';
}

/* Finds the first string value holding a NUL; writes its pointer to path
 * and returns 1, or returns 0. */
static int find_nul_string(json_object *v, char *path, size_t size)
{
    size_t mark = strlen(path);
    if (json_object_is_type(v, json_type_string))
        return strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v);
    if (json_object_is_type(v, json_type_object)) {
        json_object_object_foreach(v, key, member)
        {
            pointer_push(path, size, key);
            if (find_nul_string(member, path, size))
                return 1;
            path[mark] = '\0';
        }
    } else if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            char index[24];
            snprintf(index, sizeof index, "%zu", i);
            pointer_push(path, size, index);
            if (find_nul_string(json_object_array_get_idx(v, i), path, size))
                return 1;
            path[mark] = '\0';
        }
    }
    return 0;
}

souk_status souk_json_parse(const char *text, size_t len, json_object **out, char *err,
                            size_t errlen)
{
    *out = NULL;
    json_tokener *tok = json_tokener_new();
    json_object *doc = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    int trailing = 0;
    for (size_t i = end; jerr == json_tokener_success && i < len; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
            trailing = 1;
    if (text_has_nul(text, len)) {
        /* A raw NUL ends json-c's parse early: then only "/" can be named. */
        char path[200] = "";
        if (!doc || jerr != json_tokener_success || !find_nul_string(doc, path, sizeof path))
            snprintf(path, sizeof path, "/");
        json_object_put(doc);
        snprintf(err, errlen, "%s: must not contain NUL characters", path);
        return SOUK_ESCHEMA;
    }
    if (!doc || jerr != json_tokener_success || trailing) {
        json_object_put(doc);
        snprintf(err, errlen, "%s at offset %zu",
                 jerr == json_tokener_success ? "trailing characters"
                                              : json_tokener_error_desc(jerr),
                 end);
        return SOUK_EPARSE;
    }
    *out = doc;
    return SOUK_OK;
}
