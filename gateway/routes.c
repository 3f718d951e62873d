/* The route table (see routes.h). */
#include "gateway/routes.h"

#include "gateway/accounts.h"
#include "gateway/analytics.h"
#include "gateway/cart.h"
#include "gateway/catalog.h"
#include "gateway/checkout.h"
#include "gateway/health.h"
#include "gateway/inventory.h"
#include "gateway/openapi.h"
#include "gateway/orders.h"

static const souk_route routes[] = {
    {"GET", "/healthz", souk_health_alive, SOUK_ACCESS_PUBLIC, SOUK_LIMIT_NONE, NULL,
     "The process is alive"},
    {"GET", "/readyz", souk_health_ready, SOUK_ACCESS_PUBLIC, SOUK_LIMIT_NONE, NULL,
     "PostgreSQL and RabbitMQ answer (503 naming the one that does not)"},
    {"GET", "/metrics", souk_health_metrics, SOUK_ACCESS_ADMIN_IN_PRODUCTION, SOUK_LIMIT_NONE, NULL,
     "Prometheus metrics (with SOUK_ENV=production, for an admin token only)"},
    {"GET", "/openapi.json", souk_openapi_serve, SOUK_ACCESS_PUBLIC, SOUK_LIMIT_API, NULL,
     "This description"},
    {"GET", "/docs", souk_openapi_docs, SOUK_ACCESS_PUBLIC, SOUK_LIMIT_API, NULL,
     "Human-readable API documentation"},
    {"POST", "/auth/register", souk_accounts_register, SOUK_ACCESS_PUBLIC, SOUK_LIMIT_API,
     "register", "Create a customer account and get an access token"},
    {"POST", "/auth/login", souk_accounts_login, SOUK_ACCESS_PUBLIC, SOUK_LIMIT_LOGIN, "login",
     "Get an access token"},
    {"GET", "/auth/me", souk_accounts_me, SOUK_ACCESS_USER, SOUK_LIMIT_API, NULL,
     "The signed-in account"},
    {"GET", "/products", souk_catalog_list, SOUK_ACCESS_USER, SOUK_LIMIT_API, NULL,
     "List products (limit, offset, q: name search)"},
    {"POST", "/products", souk_catalog_create, SOUK_ACCESS_ADMIN, SOUK_LIMIT_API, "product",
     "Create a product"},
    {"GET", "/products/:id", souk_catalog_get, SOUK_ACCESS_USER, SOUK_LIMIT_API, NULL,
     "One product (served from cache)"},
    {"PUT", "/products/:id", souk_catalog_update, SOUK_ACCESS_ADMIN, SOUK_LIMIT_API, "product",
     "Replace a product"},
    {"DELETE", "/products/:id", souk_catalog_delete, SOUK_ACCESS_ADMIN, SOUK_LIMIT_API, NULL,
     "Delete a product"},
    {"GET", "/inventory/:product_id", souk_inventory_get, SOUK_ACCESS_USER, SOUK_LIMIT_API, NULL,
     "Stock of a product: on_hand, reserved, available"},
    {"PUT", "/inventory/:product_id", souk_inventory_set, SOUK_ACCESS_ADMIN, SOUK_LIMIT_API,
     "stock", "Set (on_hand) or adjust (delta) the stock of a product"},
    {"GET", "/cart", souk_cart_get, SOUK_ACCESS_USER, SOUK_LIMIT_API, NULL,
     "My cart with catalog prices and totals"},
    {"POST", "/cart/items", souk_cart_add, SOUK_ACCESS_USER, SOUK_LIMIT_API, "cart_item",
     "Add an item to my cart"},
    {"PUT", "/cart/items/:product_id", souk_cart_set, SOUK_ACCESS_USER, SOUK_LIMIT_API,
     "cart_quantity", "Change the quantity of an item"},
    {"DELETE", "/cart/items/:product_id", souk_cart_remove, SOUK_ACCESS_USER, SOUK_LIMIT_API, NULL,
     "Remove an item from my cart"},
    {"POST", "/cart/checkout", souk_checkout_cart, SOUK_ACCESS_USER, SOUK_LIMIT_API, "checkout",
     "Check out my cart (Idempotency-Key header); 202 with the order id"},
    {"POST", "/orders", souk_checkout_order, SOUK_ACCESS_USER, SOUK_LIMIT_API, "order",
     "Order items directly (Idempotency-Key header); 202 with the order id"},
    {"GET", "/orders", souk_orders_list, SOUK_ACCESS_USER, SOUK_LIMIT_API, NULL,
     "My orders, newest first (limit, offset)"},
    {"GET", "/orders/:id", souk_orders_get, SOUK_ACCESS_USER, SOUK_LIMIT_API, NULL,
     "Status, cancel reason, lines, totals, payment and shipment; with wait=S (1-30), a long "
     "poll answering as soon as the order is COMPLETED or CANCELLED, or after S seconds"},
    {"GET", "/orders/:id/events", souk_orders_events, SOUK_ACCESS_USER, SOUK_LIMIT_API, NULL,
     "The order's timeline: each event, when, from which service"},
    {"GET", "/analytics/summary", souk_analytics_summary, SOUK_ACCESS_ADMIN, SOUK_LIMIT_API, NULL,
     "Orders by status, cancellations by reason, revenue, top products, saga timings "
     "(from, to: ISO 8601)"},
    {"GET", "/notifications", souk_notifications_list, SOUK_ACCESS_USER, SOUK_LIMIT_API, NULL,
     "My notifications (order completed or cancelled), newest first"},
};
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
