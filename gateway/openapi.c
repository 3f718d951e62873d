/* /openapi.json, generated from the route table (routes.c) and the
 * embedded schemas, and /docs, a page that renders it. */
#include "gateway/openapi.h"

#include <stdio.h>
#include <string.h>

#include "core/jsonschema.h"
#include "gateway/routes.h"

static json_object *error_schema(void)
{
    return json_tokener_parse(
        "{\"type\":\"object\",\"required\":[\"error\",\"request_id\"],\"properties\":{"
        "\"error\":{\"type\":\"object\",\"required\":[\"code\",\"message\"],\"properties\":{"
        "\"code\":{\"type\":\"string\"},\"message\":{\"type\":\"string\"},\"details\":{}}},"
        "\"request_id\":{\"type\":\"string\"}}}");
}

json_object *souk_openapi_document(const souk_config *cfg)
{
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "openapi", json_object_new_string("3.1.0"));
    json_object *info = json_object_new_object();
    json_object_object_add(info, "title", json_object_new_string("Souk gateway"));
    json_object_object_add(info, "version", json_object_new_string("1.0.0"));
    json_object_object_add(info, "description",
                           json_object_new_string("Carts, checkouts and orders of Souk. Errors "
                                                  "are JSON: {error: {code, message, details?}, "
                                                  "request_id}."));
    json_object_object_add(doc, "info", info);
    json_object *components = json_object_new_object();
    json_object *schemas = json_object_new_object();
    json_object_object_add(schemas, "Error", error_schema());
    json_object *security_schemes = json_object_new_object();
    json_object_object_add(security_schemes, "bearer",
                           json_tokener_parse("{\"type\":\"http\",\"scheme\":\"bearer\","
                                              "\"bearerFormat\":\"JWT\"}"));
    json_object_object_add(components, "securitySchemes", security_schemes);
    json_object *paths = json_object_new_object();
    int count = 0;
    const souk_route *routes = souk_routes(&count);
    for (int i = 0; i < count; i++) {
        const souk_route *r = &routes[i];
        char path[128];
        size_t n = 0;
        for (const char *p = r->pattern; *p && n < sizeof path - 2;) {
            if (*p == ':') {
                path[n++] = '{';
                p++;
                while (*p && *p != '/' && n < sizeof path - 2)
                    path[n++] = *p++;
                path[n++] = '}';
            } else {
                path[n++] = *p++;
            }
        }
        path[n] = '\0';
        json_object *item = NULL;
        if (!json_object_object_get_ex(paths, path, &item)) {
            item = json_object_new_object();
            json_object_object_add(paths, path, item);
        }
        json_object *op = json_object_new_object();
        json_object_object_add(op, "summary", json_object_new_string(r->summary));
        souk_access access = souk_route_access(r, cfg);
        if (access != SOUK_ACCESS_PUBLIC) {
            json_object_object_add(op, "security", json_tokener_parse("[{\"bearer\":[]}]"));
            if (access == SOUK_ACCESS_ADMIN)
                json_object_object_add(op, "x-souk-role", json_object_new_string("admin"));
        }
        if (strchr(r->pattern, ':')) {
            json_object *params = json_object_new_array();
            for (const char *p = strchr(r->pattern, ':'); p; p = strchr(p + 1, ':')) {
                json_object *param = json_object_new_object();
                size_t len = strcspn(p + 1, "/");
                json_object_object_add(param, "name", json_object_new_string_len(p + 1, (int)len));
                json_object_object_add(param, "in", json_object_new_string("path"));
                json_object_object_add(param, "required", json_object_new_boolean(1));
                json_object_object_add(param, "schema",
                                       json_tokener_parse("{\"type\":\"string\"}"));
                json_object_array_add(params, param);
            }
            json_object_object_add(op, "parameters", params);
        }
        if (r->body) {
            char name[96];
            snprintf(name, sizeof name, "http/%s", r->body);
            if (!json_object_object_get_ex(schemas, r->body, NULL)) {
                /* the embedded schema is the single source of the body's shape */
                json_object *body_schema = json_tokener_parse(souk_schema_text(name));
                json_object_object_del(body_schema, "$schema");
                json_object_object_del(body_schema, "$id");
                json_object_object_add(schemas, r->body, body_schema);
            }
            json_object *schema = json_object_new_object();
            char ref[160];
            snprintf(ref, sizeof ref, "#/components/schemas/%s", r->body);
            json_object_object_add(schema, "$ref", json_object_new_string(ref));
            json_object *content = json_object_new_object();
            json_object *media = json_object_new_object();
            json_object_object_add(media, "schema", schema);
            json_object_object_add(content, "application/json", media);
            json_object *rb = json_object_new_object();
            json_object_object_add(rb, "required", json_object_new_boolean(1));
            json_object_object_add(rb, "content", content);
            json_object_object_add(op, "requestBody", rb);
        }
        json_object *responses = json_object_new_object();
        json_object_object_add(responses, "default",
                               json_tokener_parse("{\"description\":\"An error\",\"content\":{"
                                                  "\"application/json\":{\"schema\":{\"$ref\":"
                                                  "\"#/components/schemas/Error\"}}}}"));
        json_object_object_add(responses, "2XX",
                               json_tokener_parse("{\"description\":\"Success\"}"));
        json_object_object_add(op, "responses", responses);
        char method[16];
        snprintf(method, sizeof method, "%s", r->method);
        for (char *m = method; *m; m++)
            *m = (char)(*m - 'A' + 'a');
        json_object_object_add(item, method, op);
    }
    json_object_object_add(doc, "paths", paths);
    json_object_object_add(components, "schemas", schemas);
    json_object_object_add(doc, "components", components);
    return doc;
}

void souk_openapi_serve(souk_request *req)
{
    json_object *doc = souk_openapi_document(req->gw->cfg);
    souk_http_respond(req, 200, doc);
    json_object_put(doc);
}

static const char docs_page[] =
    "<!doctype html><html><head><meta charset=utf-8><title>Souk API</title><style>"
    "body{font-family:sans-serif;max-width:60em;margin:2em auto}code{background:#eee}"
    ".m{display:inline-block;width:5em;font-weight:bold}</style></head><body>"
    "<h1>Souk gateway API</h1><p>Rendered from <a href=/openapi.json>/openapi.json</a>. "
    "Errors are <code>{\"error\":{\"code\",\"message\",\"details\"},\"request_id\"}</code>.</p>"
    "<div id=api>loading...</div><script>"
    "fetch('/openapi.json').then(r=>r.json()).then(d=>{let h='';"
    "for(const[p,ops]of Object.entries(d.paths))for(const[m,o]of Object.entries(ops)){"
    "h+='<p><span class=m>'+m.toUpperCase()+'</span><code>'+p+'</code> '+o.summary+"
    "(o.security?' <i>(token'+(o['x-souk-role']?', admin':'')+')</i>':'')+"
    "(o.requestBody?'<br><small>body: '+o.requestBody.content['application/json'].schema.$ref"
    ".split('/').pop()+'</small>':'')+'</p>'}"
    "document.getElementById('api').innerHTML=h})</script></body></html>";

void souk_openapi_docs(souk_request *req)
{
    souk_http_send(req, 200, "text/html; charset=utf-8", docs_page, sizeof docs_page - 1);
}
