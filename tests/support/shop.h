/* Helpers for end-to-end tests through the running gateway of the e2e
 * fixture: JSON requests, accounts, products with stock, orders followed to
 * their final state, and the saga invariants every test must leave true. */
#ifndef SOUK_TESTS_SHOP_H
#define SOUK_TESTS_SHOP_H

#include <json-c/json.h>
#include <pthread.h>
#include <sys/types.h>

/* A JSON request to the gateway. body may be NULL; token may be NULL.
 * Returns the status; *out (when not NULL) gets the parsed answer (or NULL). */
long ts_call(const char *method, const char *path, const char *token, const char *body,
             json_object **out);

/* The same with extra header lines ("Name: value", NULL-terminated). */
long ts_call_h(const char *method, const char *path, const char *token, const char *body,
               const char *const *headers, json_object **out);

/* The same to the gateway at base ("http://host:port"), e.g. one a test
 * started itself. */
long ts_call_at(const char *base, const char *method, const char *path, const char *token,
                const char *body, const char *const *headers, json_object **out);

/* A request through the front with traceparent and tracestate (either may
 * be NULL); returns the status and the answer's traceparent in tp ("" when
 * it has none). */
long ts_call_traced(const char *method, const char *path, const char *token, const char *body,
                    const char *traceparent, const char *tracestate, char tp[64],
                    json_object **out);

/* A GET through the front (or base), timed, that may run on a thread of its own (a
 * long poll the test acts beside): set path and token, then call
 * ts_get_timed, or ts_get_start and later ts_get_join. Afterwards status,
 * the answer (the caller puts it) and the seconds it took are set. */
typedef struct ts_timed_get {
    char path[600];
    const char *token;
    const char *base; /* a gateway ("http://host:port"), or NULL: the stack's front */
    long status;
    double seconds;
    json_object *answer;
    pthread_t thread;
} ts_timed_get;

void ts_get_timed(ts_timed_get *get);
void ts_get_start(ts_timed_get *get);
void ts_get_join(ts_timed_get *get);

/* Ends an order no saga moves (ts_open_order) as its deadline would:
 * CANCELLED with reason, so that the invariants' books close. */
void ts_close_order(const char *order_id, const char *reason);

/* The admin's token (static buffer). */
const char *ts_admin(void);

/* Registers a new customer; writes its token (and id when not NULL). */
void ts_customer(char *token, size_t cap, char *id_out);

/* Inserts an order of customer_id (a UUID) straight into the orders schema,
 * PENDING, with no saga behind it, its deadline deadline_s seconds from now
 * (negative: already overdue; the order service's sweep then cancels it)
 * and customer_email (may be NULL); writes its id. Tests that need an order
 * that waits use it; a deadline within the invariants' 30 s wait lets the
 * books of later tests close. */
void ts_open_order(const char *customer_id, int deadline_s, const char *email, char id[37]);

/* Creates a product priced price_minor EUR with on_hand units; writes its id. */
void ts_product(long long price_minor, int on_hand, char id[37]);

/* Places an order of items (a JSON array of {product_id, quantity}) and
 * returns its id; fails the test unless it is accepted. */
void ts_order_items(const char *token, const char *items, const char *country, const char *card,
                    char order_id[37]);

/* Orders quantity of product for the customer (POST /orders); writes the
 * order id. country is the shipping country ("MA"), token the card token. */
void ts_order(const char *token, const char *product, int quantity, const char *country,
              const char *card, char order_id[37]);

/* Orders one unit of product like ts_order, continuing the trace of
 * traceparent; answer_tp gets the answer's traceparent (the gateway's span
 * of the request). */
void ts_order_traced(const char *token, const char *product, const char *country, const char *card,
                     const char *traceparent, char answer_tp[64], char order_id[37]);

/* Polls the order until COMPLETED or CANCELLED (at most timeout_ms); writes
 * the final status and reason ("" when none). Returns 1 when final. */
int ts_wait_final(const char *token, const char *order_id, int timeout_ms, char status[32],
                  char reason[32]);

/* on_hand, reserved, sold of a product (through the API). */
void ts_stock(const char *product, long long *on_hand, long long *reserved, long long *sold);

/* The same, once sold reaches sold_want (inventory sells when it handles
 * OrderCompleted, a moment after the order shows COMPLETED); the last
 * reading after 10 s otherwise. */
void ts_stock_sold(const char *product, long long sold_want, long long *on_hand,
                   long long *reserved, long long *sold);

/* Asserts the invariants of the whole database once every order is final:
 *   on_hand + sold = stock received, for every product;
 *   reserved = the sum of open reservations, for every product;
 *   captured - refunded = the sum of COMPLETED order totals;
 *   every order is final (waits up to 30 s for orders in flight);
 *   every DLQ is empty except those named in allowed_dlq (comma list or NULL). */
void ts_assert_invariants(const char *allowed_dlq);

/* Starts another souk-gateway on the stack, on a free port, with the extra
 * "NAME=value" settings of env (NULL-terminated; may be NULL), its output
 * in the log log_name; waits for its /healthz and writes its base URL
 * ("http://127.0.0.1:<port>") into base. It is killed at the test's end. */
void ts_spawn_gateway(const char *const *env, const char *log_name, char base[64]);

/* Watches a server start (pid) through url: every answer until url is 200
 * must be a 503 with Retry-After, or no answer yet; never the 404 of a
 * server listening before its routes exist. Kills pid at the end. Returns
 * the answers seen; round names the start in failure messages. */
int ts_watch_start(pid_t pid, const char *url, int round);

#endif
