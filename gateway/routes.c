/* The route table (see routes.h). */
#include "gateway/routes.h"

#include "gateway/accounts.h"
#include "gateway/analytics.h"
#include "gateway/cart.h"
#include "gateway/catalog.h"
#include "gateway/checkout.h"
#include "gateway/deadletters.h"
#include "gateway/health.h"
#include "gateway/notifications.h"
#include "gateway/inventory.h"
#include "gateway/openapi.h"
#include "gateway/orders.h"
#include "gateway/sagas.h"
#include "gateway/sagatrace.h"
#include "gateway/static.h"
#include "gateway/system.h"

/* Each route once, with its handler (in the module of its resource): what
 * the dispatcher enforces and what /openapi.json says both come from here. */
static const souk_route routes[] = {
    {.method = "GET",
     .pattern = "/healthz",
     .fn = souk_health_alive,
     .access = SOUK_ACCESS_PUBLIC,
     .limit = SOUK_LIMIT_NONE,
     .success = 200,
     .response = "health",
     .operation_id = "getHealth",
     .tag = "health",
     .summary = "The process is alive"},
    {.method = "GET",
     .pattern = "/readyz",
     .fn = souk_health_ready,
     .access = SOUK_ACCESS_PUBLIC,
     .limit = SOUK_LIMIT_NONE,
     .success = 200,
     .response = "readiness",
     .errors = {{503, "NOT_READY: PostgreSQL or RabbitMQ does not answer (details.postgresql "
                      "and details.rabbitmq say which)"}},
     .operation_id = "getReadiness",
     .tag = "health",
     .summary = "PostgreSQL and RabbitMQ answer (503 naming the one that does not)"},
    {.method = "GET",
     .pattern = "/metrics",
     .fn = souk_health_metrics,
     .access = SOUK_ACCESS_ADMIN_IN_PRODUCTION,
     .limit = SOUK_LIMIT_NONE,
     .success = 200,
     .media = "text/plain; version=0.0.4",
     .operation_id = "getMetrics",
     .tag = "health",
     .summary = "Prometheus metrics (with SOUK_ENV=production, for an admin token only)"},
    {.method = "GET",
     .pattern = "/openapi.json",
     .fn = souk_openapi_serve,
     .access = SOUK_ACCESS_PUBLIC,
     .success = 200,
     .response = "openapi_document",
     .operation_id = "getOpenApi",
     .tag = "docs",
     .summary = "This description"},
    {.method = "GET",
     .pattern = "/docs",
     .fn = souk_static_docs,
     .access = SOUK_ACCESS_PUBLIC,
     .success = 200,
     .media = "text/html; charset=utf-8",
     .errors = {{404, "NOT_FOUND: the browser console (web/) was not built"}},
     .operation_id = "getDocs",
     .tag = "docs",
     .summary = "Swagger UI over this description (Authorize with a bearer token, then Try it "
                "out)"},
    {.method = "POST",
     .pattern = "/auth/register",
     .fn = souk_accounts_register,
     .access = SOUK_ACCESS_PUBLIC,
     .body = "register",
     .success = 201,
     .response = "session",
     .headers = SOUK_HEADER_LOCATION,
     .errors = {{409, "EMAIL_TAKEN: an account with this email already exists"}},
     .operation_id = "register",
     .tag = "auth",
     .summary = "Create a customer account and get an access token"},
    {.method = "POST",
     .pattern = "/auth/login",
     .fn = souk_accounts_login,
     .access = SOUK_ACCESS_PUBLIC,
     .limit = SOUK_LIMIT_LOGIN,
     .body = "login",
     .success = 200,
     .response = "session",
     .errors = {{401, "INVALID_CREDENTIALS: wrong email or password"}},
     .operation_id = "login",
     .tag = "auth",
     .summary = "Get an access token"},
    {.method = "GET",
     .pattern = "/auth/me",
     .fn = souk_accounts_me,
     .access = SOUK_ACCESS_USER,
     .success = 200,
     .response = "account",
     .errors = {{401, "UNAUTHORIZED: also when the token's account no longer exists"}},
     .operation_id = "getMe",
     .tag = "auth",
     .summary = "The signed-in account"},
    {.method = "GET",
     .pattern = "/products",
     .fn = souk_catalog_list,
     .access = SOUK_ACCESS_PUBLIC, /* the storefront's visitors browse without an account */
     .success = 200,
     .response = "product_page",
     .query = SOUK_QUERY_PAGE | SOUK_QUERY_Q,
     .errors = {{400, "VALIDATION_FAILED: limit or offset is out of range"}},
     .operation_id = "listProducts",
     .tag = "catalog",
     .summary = "List products by name (limit, offset, q: name search); no token needed"},
    {.method = "POST",
     .pattern = "/products",
     .fn = souk_catalog_create,
     .access = SOUK_ACCESS_ADMIN,
     .body = "product",
     .success = 201,
     .response = "product_record",
     .headers = SOUK_HEADER_LOCATION,
     .errors = {{409, "SKU_TAKEN: another product has this sku"}},
     .operation_id = "createProduct",
     .tag = "catalog",
     .summary = "Create a product"},
    {.method = "GET",
     .pattern = "/products/:id",
     .fn = souk_catalog_get,
     .access = SOUK_ACCESS_PUBLIC,
     .success = 200,
     .response = "product_record",
     .errors = {{404, "NOT_FOUND: no such product"}},
     .operation_id = "getProduct",
     .tag = "catalog",
     .summary = "One product (served from cache); no token needed"},
    {.method = "PUT",
     .pattern = "/products/:id",
     .fn = souk_catalog_update,
     .access = SOUK_ACCESS_ADMIN,
     .body = "product",
     .success = 200,
     .response = "product_record",
     .errors = {{404, "NOT_FOUND: no such product"},
                {409, "SKU_TAKEN: another product has this sku"}},
     .operation_id = "replaceProduct",
     .tag = "catalog",
     .summary = "Replace a product"},
    {.method = "DELETE",
     .pattern = "/products/:id",
     .fn = souk_catalog_delete,
     .access = SOUK_ACCESS_ADMIN,
     .success = 204,
     .errors = {{404, "NOT_FOUND: no such product"}},
     .operation_id = "deleteProduct",
     .tag = "catalog",
     .summary = "Delete a product"},
    {.method = "GET",
     .pattern = "/inventory/:product_id",
     .fn = souk_inventory_get,
     .access = SOUK_ACCESS_PUBLIC, /* a product page shows its availability to anyone */
     .success = 200,
     .response = "stock_level",
     .errors = {{404, "NOT_FOUND: no such product"}},
     .operation_id = "getStock",
     .tag = "inventory",
     .summary = "Stock of a product: on_hand, reserved, available; no token needed"},
    {.method = "PUT",
     .pattern = "/inventory/:product_id",
     .fn = souk_inventory_set,
     .access = SOUK_ACCESS_ADMIN,
     .body = "stock",
     .success = 200,
     .response = "stock_level",
     .errors = {{404, "NOT_FOUND: no such product"},
                {409, "STOCK_CONFLICT: stock cannot go below zero or below the units "
                      "reserved for open orders"}},
     .operation_id = "setStock",
     .tag = "inventory",
     .summary = "Set (on_hand) or adjust (delta) the stock of a product"},
    {.method = "GET",
     .pattern = "/cart",
     .fn = souk_cart_get,
     .access = SOUK_ACCESS_USER,
     .success = 200,
     .response = "cart",
     .operation_id = "getCart",
     .tag = "cart",
     .summary = "My cart with catalog prices and totals"},
    {.method = "POST",
     .pattern = "/cart/items",
     .fn = souk_cart_add,
     .access = SOUK_ACCESS_USER,
     .body = "cart_item",
     .success = 200,
     .response = "cart",
     .errors = {{404, "NOT_FOUND: no such product"},
                {409, "PRODUCT_INACTIVE: the product is not for sale; QUANTITY_TOO_HIGH: the "
                      "cart would hold more than 1000 units of it"}},
     .operation_id = "addCartItem",
     .tag = "cart",
     .summary = "Add an item to my cart"},
    {.method = "PUT",
     .pattern = "/cart/items/:product_id",
     .fn = souk_cart_set,
     .access = SOUK_ACCESS_USER,
     .body = "cart_quantity",
     .success = 200,
     .response = "cart",
     .errors = {{404, "NOT_FOUND: this product is not in the cart"}},
     .operation_id = "setCartItemQuantity",
     .tag = "cart",
     .summary = "Change the quantity of an item"},
    {.method = "DELETE",
     .pattern = "/cart/items/:product_id",
     .fn = souk_cart_remove,
     .access = SOUK_ACCESS_USER,
     .success = 200,
     .response = "cart",
     .errors = {{404, "NOT_FOUND: this product is not in the cart"}},
     .operation_id = "removeCartItem",
     .tag = "cart",
     .summary = "Remove an item from my cart"},
    {.method = "POST",
     .pattern = "/cart/checkout",
     .fn = souk_checkout_cart,
     .access = SOUK_ACCESS_USER,
     .body = "checkout",
     .success = 202,
     .response = "checkout_accepted",
     .headers =
         SOUK_HEADER_IDEMPOTENCY_KEY | SOUK_HEADER_LOCATION | SOUK_HEADER_IDEMPOTENT_REPLAYED,
     .errors = {{400, "VALIDATION_FAILED: Idempotency-Key is not 1 to 200 characters"},
                {409, "CART_EMPTY: the cart is empty; PRODUCT_UNAVAILABLE: a product no longer "
                      "exists; PRODUCT_INACTIVE: a product is not for sale any more; "
                      "CURRENCY_MISMATCH: the items have different currencies; CONFLICT: a "
                      "concurrent request with the same Idempotency-Key is being handled"}},
     .operation_id = "checkOutCart",
     .tag = "checkout",
     .summary = "Check out my cart (Idempotency-Key header); 202 with the order id"},
    {.method = "POST",
     .pattern = "/orders",
     .fn = souk_checkout_order,
     .access = SOUK_ACCESS_USER,
     .body = "order",
     .success = 202,
     .response = "checkout_accepted",
     .headers =
         SOUK_HEADER_IDEMPOTENCY_KEY | SOUK_HEADER_LOCATION | SOUK_HEADER_IDEMPOTENT_REPLAYED,
     .errors = {{400, "VALIDATION_FAILED: Idempotency-Key is not 1 to 200 characters"},
                {409, "PRODUCT_UNAVAILABLE: a product does not exist; PRODUCT_INACTIVE: a "
                      "product is not for sale; CURRENCY_MISMATCH: the items have different "
                      "currencies; CONFLICT: a concurrent request with the same "
                      "Idempotency-Key is being handled"}},
     .operation_id = "placeOrder",
     .tag = "checkout",
     .summary = "Order items directly (Idempotency-Key header); 202 with the order id"},
    {.method = "GET",
     .pattern = "/orders",
     .fn = souk_orders_list,
     .access = SOUK_ACCESS_USER,
     .success = 200,
     .response = "order_page",
     .query = SOUK_QUERY_PAGE,
     .errors = {{400, "VALIDATION_FAILED: limit or offset is out of range"}},
     .operation_id = "listOrders",
     .tag = "orders",
     .summary = "My orders, newest first (limit, offset); an admin's: every order"},
    {.method = "GET",
     .pattern = "/orders/:id",
     .fn = souk_orders_get,
     .access = SOUK_ACCESS_USER,
     .success = 200,
     .response = "order_read",
     .query = SOUK_QUERY_WAIT,
     .errors = {{400, "VALIDATION_FAILED: wait is out of range"},
                {404, "NOT_FOUND: no such order (another customer's order answers the same)"},
                {429, "TOO_MANY_WAITS: the caller, or the gateway, holds as many waiting "
                      "requests as it may (Retry-After; the order can be read without wait)"}},
     .operation_id = "getOrder",
     .tag = "orders",
     .summary = "Status, cancel reason, lines, totals, payment and shipment; with wait=S (1-30), "
                "a long poll answering as soon as the order is COMPLETED or CANCELLED, or after "
                "S seconds"},
    {.method = "GET",
     .pattern = "/orders/:id/events",
     .fn = souk_orders_events,
     .access = SOUK_ACCESS_USER,
     .success = 200,
     .response = "order_timeline",
     .errors = {{404, "NOT_FOUND: no such order (another customer's order answers the same)"}},
     .operation_id = "getOrderEvents",
     .tag = "orders",
     .summary = "The order's timeline: each event, when, from which service"},
    {.method = "GET",
     .pattern = "/orders/:id/trace",
     .fn = souk_sagatrace_get,
     .access = SOUK_ACCESS_USER,
     .success = 200,
     .response = "order_trace",
     .query = SOUK_QUERY_CHANGE,
     .errors = {{400, "VALIDATION_FAILED: wait is out of range"},
                {404, "NOT_FOUND: no such order (another customer's order answers the same)"},
                {429, "TOO_MANY_WAITS: the caller, or the gateway, holds as many waiting "
                      "requests as it may (Retry-After; the trace can be read without wait)"}},
     .operation_id = "getOrderTrace",
     .tag = "orders",
     .summary = "Every hop of the order's saga in time order: each publish and each delivery "
                "with its outcome, trace and span ids, queue wait and handler time, "
                "compensations marked; with wait=S and version, a long poll answering when a "
                "hop lands or changes",
     .description =
         "A hop is a message a service published (kind publish: written to its outbox, "
         "published by the relay, confirmed by the broker; outcome pending until confirmed) or "
         "a delivery a service settled (kind consume: outcome handled, duplicate, "
         "retry_scheduled with attempt and retry_delay_ms, dead_lettered with reason, or "
         "replayed from a dead-letter queue). Compensations are the refund and the release, "
         "the deliveries that make them (payment consuming ShippingFailed or OrderCancelled, "
         "inventory consuming PaymentFailed, PaymentRefunded or OrderCancelled) and their "
         "events (PaymentRefunded, StockReleased). Each consume hop's parent_span_id is the "
         "span_id of the publish of its message; each publish's parent_span_id is the span of "
         "the delivery (or, for CartCheckedOut, the HTTP request) that caused it."},
    {.method = "GET",
     .pattern = "/sagas",
     .fn = souk_sagas_list,
     .access = SOUK_ACCESS_ADMIN,
     .success = 200,
     .response = "saga_page",
     .query = SOUK_QUERY_PAGE | SOUK_QUERY_SAGA_FILTER | SOUK_QUERY_FROM | SOUK_QUERY_TO |
              SOUK_QUERY_CHANGE,
     .errors = {{400, "VALIDATION_FAILED: limit, offset, stuck_after or wait is out of range, "
                      "state or reason is not one of its values, or from or to is not an ISO "
                      "8601 time"},
                {429, "TOO_MANY_WAITS: the caller, or the gateway, holds as many waiting "
                      "requests as it may (Retry-After; the list can be read without wait)"}},
     .operation_id = "listSagas",
     .tag = "sagas",
     .summary = "Every order's saga, newest first: search q (order id, customer e-mail or "
                "trace id), state, reason, from, to, paged; with wait=S and version, a feed "
                "answering when the page changes",
     .description =
         "A saga is compensating when a step failed (PaymentFailed, ShippingFailed, or the "
         "deadline cancelled the order) and a compensation it calls for (the release of its "
         "reservation, the refund of its charge) is not recorded yet; stuck when it is not "
         "final and the order service recorded no hop for stuck_after seconds; in_flight "
         "otherwise until it is completed or cancelled. hops and last_hop_at count what the "
         "order service recorded: the deliveries it settled and the events it published (it "
         "hears every step of its orders; GET /orders/{id}/trace has every service's)."},
    {.method = "GET",
     .pattern = "/analytics/summary",
     .fn = souk_analytics_summary,
     .access = SOUK_ACCESS_ADMIN,
     .success = 200,
     .response = "analytics_summary",
     .query = SOUK_QUERY_FROM | SOUK_QUERY_TO,
     .errors = {{400, "VALIDATION_FAILED: from or to is not an ISO 8601 time"}},
     .operation_id = "getAnalyticsSummary",
     .tag = "analytics",
     .summary = "Orders by status, cancellations by reason, revenue, top products, saga timings "
                "(from, to: ISO 8601)"},
    {.method = "GET",
     .pattern = "/notifications",
     .fn = souk_notifications_list,
     .access = SOUK_ACCESS_USER,
     .success = 200,
     .response = "notification_list",
     .query = SOUK_QUERY_PAGE,
     .errors = {{400, "VALIDATION_FAILED: limit or offset is out of range"}},
     .operation_id = "listNotifications",
     .tag = "notifications",
     .summary = "My notifications (order completed or cancelled), newest first"},
    {.method = "GET",
     .pattern = "/admin/dlq",
     .fn = souk_deadletters_overview,
     .access = SOUK_ACCESS_ADMIN,
     .success = 200,
     .response = "dlq_overview",
     .operation_id = "listDeadLetterQueues",
     .tag = "deadletters",
     .summary = "Every service's dead-letter queue: its depth, UI page and latest replay"},
    {.method = "GET",
     .pattern = "/admin/dlq/:service",
     .fn = souk_deadletters_groups,
     .access = SOUK_ACCESS_ADMIN,
     .success = 200,
     .response = "dlq_groups",
     .errors = {{404, "NOT_FOUND: no such service"},
                {409, "REPLAY_RUNNING: a replay of the queue is running (details.replay); "
                      "DLQ_BUSY: another operation on it takes long"}},
     .operation_id = "getDeadLetterGroups",
     .tag = "deadletters",
     .summary = "A dead-letter queue's messages grouped by reason (x-souk-error), left in place",
     .description = "Looks at the first 1000 messages (truncated says when there are more); "
                    "they are taken without being acknowledged and put back in their order."},
    {.method = "GET",
     .pattern = "/admin/dlq/:service/messages",
     .fn = souk_deadletters_list,
     .access = SOUK_ACCESS_ADMIN,
     .success = 200,
     .response = "dlq_message_page",
     .query = SOUK_QUERY_LIMIT | SOUK_QUERY_SCAN_OFFSET | SOUK_QUERY_REASON,
     .errors = {{400, "VALIDATION_FAILED: limit or offset is out of range"},
                {404, "NOT_FOUND: no such service"},
                {409, "REPLAY_RUNNING: a replay of the queue is running (details.replay); "
                      "DLQ_BUSY: another operation on it takes long"}},
     .operation_id = "listDeadLetters",
     .tag = "deadletters",
     .summary = "Inspect dead letters (headers, payload, ids, attempts, first failure, original "
                "exchange), oldest first, without removing them (limit, offset, reason)"},
    {.method = "DELETE",
     .pattern = "/admin/dlq/:service/messages",
     .fn = souk_deadletters_purge,
     .access = SOUK_ACCESS_ADMIN,
     .success = 200,
     .response = "dlq_purged",
     .errors = {{404, "NOT_FOUND: no such service"},
                {409, "REPLAY_RUNNING: a replay of the queue is running (details.replay); "
                      "DLQ_BUSY: another operation on it takes long"}},
     .operation_id = "purgeDeadLetters",
     .tag = "deadletters",
     .summary = "Purge a dead-letter queue: every message in it is removed"},
    {.method = "GET",
     .pattern = "/admin/dlq/:service/messages/:message_id",
     .fn = souk_deadletters_get,
     .access = SOUK_ACCESS_ADMIN,
     .success = 200,
     .response = "dead_letter",
     .errors = {{404, "NOT_FOUND: no such service, or no message of this id among the first 1000 "
                      "of the queue"},
                {409, "REPLAY_RUNNING: a replay of the queue is running (details.replay); "
                      "DLQ_BUSY: another operation on it takes long"}},
     .operation_id = "getDeadLetter",
     .tag = "deadletters",
     .summary = "One dead letter, left in place"},
    {.method = "POST",
     .pattern = "/admin/dlq/:service/messages/:message_id/replay",
     .fn = souk_deadletters_replay_one,
     .access = SOUK_ACCESS_ADMIN,
     .success = 200,
     .response = "dlq_replayed",
     .errors = {{404, "NOT_FOUND: no such service, or no message of this id among the first 1000 "
                      "of the queue"},
                {409, "UNROUTABLE: its exchange is missing or has no queue bound (it stays in "
                      "the queue); REPLAY_RUNNING: a replay of the queue is running "
                      "(details.replay); DLQ_BUSY: another operation on it takes long"}},
     .operation_id = "replayDeadLetter",
     .tag = "deadletters",
     .summary = "Replay one dead letter to its original exchange (same message id); it leaves "
                "the queue once the broker confirmed and routed the copy"},
    {.method = "POST",
     .pattern = "/admin/dlq/:service/replays",
     .fn = souk_deadletters_replay_all,
     .access = SOUK_ACCESS_ADMIN,
     .success = 202,
     .response = "dlq_replay",
     .headers = SOUK_HEADER_LOCATION,
     .errors = {{404, "NOT_FOUND: no such service"},
                {409, "REPLAY_RUNNING: a replay of the queue is running already (details.replay)"}},
     .operation_id = "startDeadLetterReplay",
     .tag = "deadletters",
     .summary = "Replay every message of a dead-letter queue: a job whose progress you poll "
                "(Location)",
     .description = "Each message is published to its original exchange with its message id, "
                    "confirmed and routed, and only then removed from the queue, as souk dlq "
                    "replay does: nothing is lost, a crash may duplicate (the inboxes absorb "
                    "it). It takes on the messages in the queue when it starts."},
    {.method = "GET",
     .pattern = "/admin/dlq/:service/replays/:id",
     .fn = souk_deadletters_replay_status,
     .access = SOUK_ACCESS_ADMIN,
     .success = 200,
     .response = "dlq_replay",
     .errors = {{404, "NOT_FOUND: no such service, or no such replay on this gateway"}},
     .operation_id = "getDeadLetterReplay",
     .tag = "deadletters",
     .summary = "A replay's progress: planned, replayed, unroutable, remaining"},
    {.method = "GET",
     .pattern = "/admin/system",
     .fn = souk_system_view,
     .access = SOUK_ACCESS_ADMIN,
     .success = 200,
     .response = "system_view",
     .query = SOUK_QUERY_WINDOW,
     .errors = {{400, "VALIDATION_FAILED: window is out of range"}},
     .operation_id = "getSystemView",
     .tag = "system",
     .summary = "Queues (depth, consumers, rates), exchanges, the choreography's edges with their "
                "rates, completed checkouts/s and saga p50/p99 (window: seconds)",
     .description = "Broker figures come from the RabbitMQ management API, each queue and "
                    "exchange with the URL of its page in the management UI; checkout figures "
                    "from the orders read model."},
    /* The browser console (static.c): its page for / and every path under
     * /shop (the console's router picks what to show; the API never uses
     * /shop), and its content-hashed files. Last, so that they shadow no
     * API route. */
    {.method = "GET",
     .pattern = "/",
     .fn = souk_static_console,
     .access = SOUK_ACCESS_PUBLIC,
     .success = 200,
     .media = "text/html; charset=utf-8",
     .console = 1,
     .operation_id = "getConsole",
     .tag = "docs",
     .summary = "The browser console: the storefront"},
    {.method = "GET",
     .pattern = "/shop",
     .fn = souk_static_console,
     .access = SOUK_ACCESS_PUBLIC,
     .success = 200,
     .media = "text/html; charset=utf-8",
     .console = 1,
     .operation_id = "getConsoleShop",
     .tag = "docs",
     .summary = "The browser console (the same page as /)"},
    {.method = "GET",
     .pattern = "/shop/*",
     .fn = souk_static_console,
     .access = SOUK_ACCESS_PUBLIC,
     .success = 200,
     .media = "text/html; charset=utf-8",
     .console = 1,
     .operation_id = "getConsolePage",
     .tag = "docs",
     .summary = "A page of the browser console (the same page as /; its router shows it)"},
    {.method = "GET",
     .pattern = "/assets/:file",
     .fn = souk_static_asset,
     .access = SOUK_ACCESS_PUBLIC,
     .success = 200,
     .console = 1,
     .errors = {{404, "NOT_FOUND: no such file"}},
     .operation_id = "getConsoleAsset",
     .tag = "docs",
     .summary = "A content-hashed file of the console or of /docs (cached for a year)"},
};

static const souk_route_tag tags[] = {
    {"health", "Probes for load balancers and Prometheus (not rate limited)"},
    {"docs", "This description, Swagger UI over it, and the browser console"},
    {"auth", "Accounts and bearer tokens (JWT)"},
    {"catalog", "Products: anyone may read them (rate limited per address); admins create, "
                "replace and delete them"},
    {"inventory", "Stock of each product: anyone may read it; admins set or adjust it"},
    {"cart", "The signed-in customer's cart"},
    {"checkout", "Starting an order's saga, from the cart or directly (idempotent on "
                 "Idempotency-Key)"},
    {"orders", "Orders as the saga moves them, their timelines, and a long poll"},
    {"sagas", "Every order's saga for operators: its state, and a feed of changes (admins)"},
    {"analytics", "How the shop and the saga are doing (admins)"},
    {"notifications", "What the customer was told about their orders"},
    {"deadletters", "Dead-letter queues per service: inspect, replay and purge, as souk dlq does "
                    "(admins)"},
    {"system", "Queues, exchanges, the choreography's message rates and checkout throughput, for "
               "watching a load test (admins)"},
};

const souk_route_tag *souk_route_tags(int *count)
{
    *count = (int)(sizeof tags / sizeof tags[0]);
    return tags;
}
const souk_route *souk_routes(int *count)
{
    *count = (int)(sizeof routes / sizeof routes[0]);
    return routes;
}

souk_access souk_route_access(const souk_route *r, const souk_config *cfg)
{
    if (r->access == SOUK_ACCESS_ADMIN_IN_PRODUCTION)
        return souk_config_is_production(cfg) ? SOUK_ACCESS_ADMIN : SOUK_ACCESS_PUBLIC;
    return r->access;
}
