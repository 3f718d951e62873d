/* Setup of a souk-load run through the public API (see load_setup.h). */
#include "bench/load_setup.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"

static char *json_text(json_object *doc)
{
    char *s = souk_strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
    json_object_put(doc);
    return s;
}

/* A string member of a JSON body as a new string, or NULL. */
static char *member(const char *body, const char *name)
{
    json_object *doc = body ? json_tokener_parse(body) : NULL;
    const char *v = json_object_get_string(json_object_object_get(doc, name));
    char *copy = v ? souk_strdup(v) : NULL;
    json_object_put(doc);
    return copy;
}

static void make_run_id(struct load_world *w)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long x = (unsigned long long)ts.tv_sec * 1000003ULL ^
                           (unsigned long long)ts.tv_nsec ^ ((unsigned long long)getpid() << 20);
    snprintf(w->run_id, sizeof w->run_id, "%012llx", x & 0xffffffffffffULL);
}

static int admin_login(const struct load_opts *o, load_http *h, struct load_world *w)
{
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "email", json_object_new_string(o->admin_email));
    json_object_object_add(doc, "password", json_object_new_string(o->admin_password));
    char *body = json_text(doc);
    load_request rq = {.method = "POST", .path = "/auth/login", .body = body};
    long status = 0;
    char *answer = NULL;
    load_http_batch(h, &rq, 1, &status, &answer);
    free(body);
    if (status == 200)
        w->admin_token = member(answer, "access_token");
    if (!w->admin_token)
        fprintf(stderr, "souk-load: admin login as %s failed (HTTP %ld): %s\n", o->admin_email,
                status, answer ? answer : "no answer");
    free(answer);
    return w->admin_token ? 0 : -1;
}

/* Runs n requests; each must answer want. Frees the bodies of rqs. On
 * success stores answers[i] (caller frees) when answers is not NULL. */
static int run_all(load_http *h, load_request *rqs, int n, long want, const char *what,
                   char **answers)
{
    long *status = souk_calloc((size_t)n, sizeof *status);
    char **bodies = souk_calloc((size_t)n, sizeof *bodies);
    load_http_batch(h, rqs, n, status, bodies);
    int failed = 0;
    for (int i = 0; i < n; i++) {
        if (status[i] != want && !failed) {
            fprintf(stderr, "souk-load: %s failed (HTTP %ld): %s\n", what, status[i],
                    bodies[i] ? bodies[i] : "no answer");
            failed = 1;
        }
        if (answers)
            answers[i] = bodies[i];
        else
            free(bodies[i]);
        free((char *)rqs[i].body);
        free((char *)rqs[i].path);
    }
    free(bodies);
    free(status);
    return failed ? -1 : 0;
}

static int create_products(load_http *h, struct load_world *w)
{
    int n = w->product_count;
    load_request *rqs = souk_calloc((size_t)n, sizeof *rqs);
    char **answers = souk_calloc((size_t)n, sizeof *answers);
    for (int i = 0; i < n; i++) {
        json_object *doc = json_object_new_object();
        char sku[64], name[64];
        if (i == n - 1) {
            snprintf(sku, sizeof sku, "LOAD-%s-NOSTOCK", w->run_id);
            snprintf(name, sizeof name, "Load test product without stock");
        } else {
            snprintf(sku, sizeof sku, "LOAD-%s-%d", w->run_id, i);
            snprintf(name, sizeof name, "Load test product %d", i);
        }
        json_object_object_add(doc, "sku", json_object_new_string(sku));
        json_object_object_add(doc, "name", json_object_new_string(name));
        json_object_object_add(doc, "price_minor", json_object_new_int64(199 + 100LL * (i % 50)));
        json_object_object_add(doc, "currency", json_object_new_string("EUR"));
        rqs[i] = (load_request){.method = "POST",
                                .path = souk_strdup("/products"),
                                .token = w->admin_token,
                                .body = json_text(doc)};
    }
    int rc = run_all(h, rqs, n, 201, "creating a product", answers);
    for (int i = 0; i < n; i++) {
        char *id = member(answers[i], "id");
        if (id && strlen(id) == 36)
            memcpy(w->products[i].id, id, 37);
        else
            rc = -1;
        free(id);
        free(answers[i]);
    }
    free(answers);
    free(rqs);
    return rc;
}

static int set_stock(const struct load_opts *o, load_http *h, struct load_world *w)
{
    int n = w->product_count;
    load_request *rqs = souk_calloc((size_t)n, sizeof *rqs);
    for (int i = 0; i < n; i++) {
        w->products[i].initial = i == n - 1 ? 0 : o->stock;
        json_object *doc = json_object_new_object();
        json_object_object_add(doc, "on_hand", json_object_new_int64(w->products[i].initial));
        rqs[i] = (load_request){.method = "PUT",
                                .path = souk_asprintf("/inventory/%s", w->products[i].id),
                                .token = w->admin_token,
                                .body = json_text(doc)};
    }
    int rc = run_all(h, rqs, n, 200, "setting stock", NULL);
    free(rqs);
    return rc;
}

static int register_customers(load_http *h, struct load_world *w)
{
    int n = w->customer_count;
    load_request *rqs = souk_calloc((size_t)n, sizeof *rqs);
    char **answers = souk_calloc((size_t)n, sizeof *answers);
    for (int i = 0; i < n; i++) {
        json_object *doc = json_object_new_object();
        char email[96], password[64], name[64];
        snprintf(email, sizeof email, "load-%s-%d@souk-load.example", w->run_id, i);
        snprintf(password, sizeof password, "load-password-%s", w->run_id);
        snprintf(name, sizeof name, "Load customer %d", i);
        json_object_object_add(doc, "email", json_object_new_string(email));
        json_object_object_add(doc, "password", json_object_new_string(password));
        json_object_object_add(doc, "name", json_object_new_string(name));
        rqs[i] = (load_request){
            .method = "POST", .path = souk_strdup("/auth/register"), .body = json_text(doc)};
    }
    int rc = run_all(h, rqs, n, 201, "registering a customer", answers);
    for (int i = 0; i < n; i++) {
        w->tokens[i] = member(answers[i], "access_token");
        if (!w->tokens[i])
            rc = -1;
        free(answers[i]);
    }
    free(answers);
    free(rqs);
    return rc;
}

int load_setup(const struct load_opts *o, load_http *h, struct load_world *w)
{
    memset(w, 0, sizeof *w);
    make_run_id(w);
    w->customer_count = o->customers;
    w->tokens = souk_calloc((size_t)o->customers, sizeof *w->tokens);
    w->product_count = o->products + 1;
    w->products = souk_calloc((size_t)w->product_count, sizeof *w->products);
    if (admin_login(o, h, w) != 0 || create_products(h, w) != 0 || set_stock(o, h, w) != 0 ||
        register_customers(h, w) != 0)
        return -1;
    return 0;
}

int load_setup_read_stock(load_http *h, const struct load_world *w, long long on_hand[],
                          long long reserved[], long long sold[])
{
    int n = w->product_count;
    load_request *rqs = souk_calloc((size_t)n, sizeof *rqs);
    for (int i = 0; i < n; i++)
        rqs[i] = (load_request){.method = "GET",
                                .path = souk_asprintf("/inventory/%s", w->products[i].id),
                                .token = w->admin_token};
    char **answers = souk_calloc((size_t)n, sizeof *answers);
    int rc = run_all(h, rqs, n, 200, "reading stock", answers);
    for (int i = 0; i < n; i++) {
        json_object *doc = answers[i] ? json_tokener_parse(answers[i]) : NULL;
        on_hand[i] = json_object_get_int64(json_object_object_get(doc, "on_hand"));
        reserved[i] = json_object_get_int64(json_object_object_get(doc, "reserved"));
        sold[i] = json_object_get_int64(json_object_object_get(doc, "sold"));
        if (!doc)
            rc = -1;
        json_object_put(doc);
        free(answers[i]);
    }
    free(answers);
    free(rqs);
    return rc;
}

void load_world_free(struct load_world *w)
{
    for (int i = 0; w->tokens && i < w->customer_count; i++)
        free(w->tokens[i]);
    free(w->tokens);
    free(w->products);
    free(w->admin_token);
    memset(w, 0, sizeof *w);
}
