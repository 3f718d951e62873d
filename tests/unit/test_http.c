/* Building the gateway's answers (gateway/http.h): the head every answer
 * carries, head and body composed for one write when they fit, HEAD
 * answers without their body, and added headers that never break the
 * head. Sending over civetweb runs in the e2e tests. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/http.h"

#define BODY "{\"ok\":true}"

static souk_http_answer answer_of(const char *body, size_t len, const char *extra)
{
    return (souk_http_answer){.status = 200,
                              .content_type = "application/json",
                              .request_id = "req-42",
                              .extra_headers = extra,
                              .body = body,
                              .len = len};
}

Test(http, the_head_names_status_type_length_and_request_id_then_the_body_follows)
{
    char out[1024];
    size_t left = 99;
    souk_http_answer a = answer_of(BODY, strlen(BODY), "");
    size_t n = souk_http_compose(out, sizeof out, &a, &left);
    const char *want = "HTTP/1.1 200 OK\r\n"
                       "Content-Type: application/json\r\n"
                       "Content-Length: 11\r\n"
                       "X-Request-Id: req-42\r\n"
                       "Cache-Control: no-store\r\n"
                       "\r\n" BODY;
    cr_assert_eq(n, strlen(want));
    cr_assert(memcmp(out, want, n) == 0, "%.*s", (int)n, out);
    cr_assert_eq(left, 0);
}

Test(http, added_headers_come_after_the_fixed_ones_and_before_the_blank_line)
{
    char out[1024];
    size_t left;
    souk_http_answer a = answer_of("", 0, "Location: /orders/1\r\nRetry-After: 1\r\n");
    a.status = 202;
    size_t n = souk_http_compose(out, sizeof out, &a, &left);
    out[n] = '\0';
    cr_assert(strncmp(out, "HTTP/1.1 202 Accepted\r\n", 23) == 0, "%s", out);
    const char *tail = "Cache-Control: no-store\r\nLocation: /orders/1\r\nRetry-After: 1\r\n\r\n";
    cr_assert_str_eq(out + n - strlen(tail), tail);
    cr_assert(strstr(out, "Content-Length: 0\r\n"), "%s", out);
}

Test(http, a_body_that_fills_the_buffer_exactly_still_leaves_with_its_head)
{
    char probe[256];
    size_t left;
    souk_http_answer empty = answer_of("", 0, "");
    empty.len = 1000; /* same digits as below, so the same head length */
    size_t head = souk_http_compose(probe, sizeof probe, &empty, &left);
    cr_assert_eq(left, 1000, "a body larger than the buffer is left to write");

    char body[1000];
    memset(body, 'x', sizeof body);
    char *out = malloc(head + sizeof body);
    souk_http_answer a = answer_of(body, sizeof body, "");
    size_t n = souk_http_compose(out, head + sizeof body, &a, &left);
    cr_assert_eq(n, head + sizeof body);
    cr_assert_eq(left, 0);
    cr_assert(memcmp(out + head, body, sizeof body) == 0);
    free(out);
}

Test(http, a_body_too_big_for_the_buffer_is_written_after_its_head)
{
    enum { BIG = 20000 };
    char *body = malloc(BIG);
    memset(body, 'y', BIG);
    char out[16384];
    size_t left;
    souk_http_answer a = answer_of(body, BIG, "");
    size_t n = souk_http_compose(out, sizeof out, &a, &left);
    cr_assert_eq(left, BIG);
    cr_assert(n < 200);
    cr_assert(memcmp(out + n - 4, "\r\n\r\n", 4) == 0, "the buffer holds the head alone");
    out[n] = '\0';
    cr_assert(strstr(out, "Content-Length: 20000\r\n"), "%s", out);
    free(body);
}

Test(http, a_head_request_gets_the_length_but_not_the_body)
{
    char out[1024];
    size_t left = 99;
    souk_http_answer a = answer_of(BODY, strlen(BODY), "");
    a.head_only = 1;
    size_t n = souk_http_compose(out, sizeof out, &a, &left);
    out[n] = '\0';
    cr_assert(strstr(out, "Content-Length: 11\r\n"), "%s", out);
    cr_assert_str_eq(out + n - 4, "\r\n\r\n");
    cr_assert_eq(left, 0);
}

Test(http, an_answer_a_client_may_keep_names_its_own_cache_control)
{
    char out[1024];
    size_t left;
    souk_http_answer a = answer_of("x", 1, "ETag: \"1\"\r\n");
    a.cache_control = "public, max-age=31536000, immutable";
    size_t n = souk_http_compose(out, sizeof out, &a, &left);
    out[n] = '\0';
    cr_assert(strstr(out, "\r\nCache-Control: public, max-age=31536000, immutable\r\nETag"), "%s",
              out);
    cr_assert_null(strstr(out, "no-store"), "%s", out);
}

Test(http, every_status_the_gateway_answers_has_its_reason_phrase)
{
    const int statuses[] = {200, 201, 202, 204, 304, 400, 401, 403,
                            404, 405, 409, 413, 415, 429, 500, 503};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        cr_assert_str_neq(souk_http_reason(statuses[i]), "Unknown", "%d", statuses[i]);
    cr_assert_str_eq(souk_http_reason(429), "Too Many Requests");
}

Test(http, a_header_that_does_not_fit_is_left_out_whole_not_cut)
{
    souk_request req;
    memset(&req, 0, sizeof req);
    snprintf(req.request_id, sizeof req.request_id, "req-7");
    char value[sizeof req.extra_headers];
    memset(value, 'v', 450);
    value[450] = '\0';
    souk_http_add_header(&req, "X-First", value);
    souk_http_add_header(&req, "WWW-Authenticate",
                         "Bearer error=\"invalid_token\", "
                         "error_description=\"the token expired\"");
    souk_http_add_header(&req, "Retry-After", "1");
    /* every line complete: what did not fit is absent, what fits is whole */
    size_t len = strlen(req.extra_headers);
    cr_assert(len >= 2 && strcmp(req.extra_headers + len - 2, "\r\n") == 0, "%s",
              req.extra_headers);
    cr_assert_null(strstr(req.extra_headers, "WWW-Authenticate"), "%s", req.extra_headers);
    cr_assert(strstr(req.extra_headers, "\r\nRetry-After: 1\r\n"), "%s", req.extra_headers);
}
