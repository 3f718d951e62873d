/* Writing JSON responses with civetweb. */
#include "gateway/http.h"

#include <string.h>

const char *souk_http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

void souk_http_send_json(struct mg_connection *conn, int status, json_object *body)
{
    size_t len = 0;
    const char *text = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\n\r\n",
              status, souk_http_reason(status), len);
    mg_write(conn, text, len);
}

void souk_http_send_error(struct mg_connection *conn, int status, const char *code,
                          const char *message, json_object *details)
{
    json_object *body = json_object_new_object();
    json_object *error = json_object_new_object();
    json_object_object_add(error, "code", json_object_new_string(code));
    json_object_object_add(error, "message", json_object_new_string(message));
    if (details)
        json_object_object_add(error, "details", details);
    json_object_object_add(body, "error", error);
    souk_http_send_json(conn, status, body);
    json_object_put(body);
}
