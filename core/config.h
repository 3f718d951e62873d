/* Process configuration from environment variables, with documented
 * defaults. Every variable Souk reads is listed once, in SOUK_CONFIG_VARS;
 * README, docker-compose and a drift test are checked against that list.
 * A bad value fails souk_config_load() with a message naming the variable. */
#ifndef SOUK_CONFIG_H
#define SOUK_CONFIG_H

#include <stddef.h>

#include "core/status.h"

/* X(key, ENV_NAME, type, default, description) */
#define SOUK_CONFIG_VARS(X)                                                                        \
    X(ENV, "SOUK_ENV", ENV, "development",                                                         \
      "development or production (refuses the development secrets, guards /metrics)")              \
    X(LOG_LEVEL, "SOUK_LOG_LEVEL", LEVEL, "info", "error, warn, info or debug")                    \
    X(AMQP_URL, "SOUK_AMQP_URL", AMQP_URL, "amqp://127.0.0.1:5672/souk",                           \
      "broker URL; credentials in it override SOUK_AMQP_USER/PASSWORD")                            \
    X(AMQP_USER, "SOUK_AMQP_USER", STRING, "", "broker user (default: souk-<service>)")            \
    X(AMQP_PASSWORD, "SOUK_AMQP_PASSWORD", STRING, "",                                             \
      "broker password (default: the user name, development only)")                                \
    X(RABBIT_MGMT_URL, "SOUK_RABBIT_MGMT_URL", HTTP_URL, "http://127.0.0.1:15672",                 \
      "RabbitMQ management API the gateway's admin system view reads, as its broker user "         \
      "(tagged management)")                                                                       \
    X(RABBIT_UI_URL, "SOUK_RABBIT_UI_URL", HTTP_URL, "",                                           \
      "the RabbitMQ management UI as a browser reaches it, for the system view's links "           \
      "(empty: SOUK_RABBIT_MGMT_URL)")                                                             \
    X(PG_URL, "SOUK_PG_URL", STRING, "postgresql://127.0.0.1:25432/souk",                          \
      "PostgreSQL server and database; each service connects as its own role")                     \
    X(DB_URL_IDENTITY, "SOUK_DB_URL_IDENTITY", STRING, "", "identity schema connection string")    \
    X(DB_URL_CATALOG, "SOUK_DB_URL_CATALOG", STRING, "", "catalog schema connection string")       \
    X(DB_URL_CART, "SOUK_DB_URL_CART", STRING, "", "cart schema connection string")                \
    X(DB_URL_ORDERS, "SOUK_DB_URL_ORDERS", STRING, "", "orders schema connection string")          \
    X(DB_URL_INVENTORY, "SOUK_DB_URL_INVENTORY", STRING, "", "inventory schema connection string") \
    X(DB_URL_PAYMENT, "SOUK_DB_URL_PAYMENT", STRING, "", "payment schema connection string")       \
    X(DB_URL_SHIPPING, "SOUK_DB_URL_SHIPPING", STRING, "", "shipping schema connection string")    \
    X(DB_URL_ANALYTICS, "SOUK_DB_URL_ANALYTICS", STRING, "", "analytics schema connection string") \
    X(DB_URL_NOTIFICATION, "SOUK_DB_URL_NOTIFICATION", STRING, "",                                 \
      "notification schema connection string")                                                     \
    X(BIND_ADDRESS, "SOUK_BIND_ADDRESS", STRING, "127.0.0.1",                                      \
      "address the HTTP servers listen on (0.0.0.0 in containers)")                                \
    X(GATEWAY_PORT, "SOUK_GATEWAY_PORT", PORT, "8080", "gateway HTTP port")                        \
    X(GATEWAY_THREADS, "SOUK_GATEWAY_THREADS", COUNT, "1152",                                      \
      "gateway worker threads (one per connection from the front proxy, and so per long poll)")    \
    X(LONG_POLL_MAX, "SOUK_LONG_POLL_MAX", COUNT, "1024",                                          \
      "long polls a gateway holds at once (429 past it; kept below SOUK_GATEWAY_THREADS - 64)")    \
    X(LONG_POLL_PER_CUSTOMER, "SOUK_LONG_POLL_PER_CUSTOMER", COUNT, "64",                          \
      "long polls one customer may hold at once (429 past it)")                                    \
    X(TRUSTED_PROXIES, "SOUK_TRUSTED_PROXIES", STRING, "",                                         \
      "comma-separated peer addresses whose X-Real-IP names the client (the front proxy)")         \
    X(PSP_PORT, "SOUK_PSP_PORT", PORT, "8090", "payment provider stand-in HTTP port")              \
    X(PSP_URL, "SOUK_PSP_URL", STRING, "http://127.0.0.1:8090", "payment provider base URL")       \
    X(WORKER_CONCURRENCY, "SOUK_WORKER_CONCURRENCY", COUNT, "2",                                   \
      "consumer threads per worker process")                                                       \
    X(PREFETCH, "SOUK_PREFETCH", COUNT16, "32", "unacknowledged messages per consumer (1-65535)")  \
    X(QUEUE_TYPE, "SOUK_QUEUE_TYPE", QUEUE_TYPE, "classic", "classic or quorum")                   \
    X(RETRY_DELAYS_MS, "SOUK_RETRY_DELAYS_MS", DELAYS, "1000,5000,30000",                          \
      "delays of the retry queues, one per attempt")                                               \
    X(METRICS_PORT, "SOUK_METRICS_PORT", PORT0, "0", "worker metrics port (0: off)")               \
    X(OUTBOX_BATCH, "SOUK_OUTBOX_BATCH", COUNT, "256", "outbox rows the relay publishes at once")  \
    X(OUTBOX_POLL_MS, "SOUK_OUTBOX_POLL_MS", COUNT, "1000",                                        \
      "relay poll interval when nothing wakes it (fallback only)")                                 \
    X(OUTBOX_RETENTION_S, "SOUK_OUTBOX_RETENTION_S", COUNT, "86400",                               \
      "seconds sent outbox rows are kept before purging")                                          \
    X(JOURNAL, "SOUK_JOURNAL", ON_OFF, "on",                                                       \
      "on: every service records each delivery it settles (the trace and saga views)")             \
    X(JOURNAL_RETENTION_S, "SOUK_JOURNAL_RETENTION_S", COUNT, "86400",                             \
      "seconds journal rows are kept before purging")                                              \
    X(JWT_ALG, "SOUK_JWT_ALG", JWT_ALG, "HS256", "HS256 or RS256")                                 \
    X(JWT_SECRET, "SOUK_JWT_SECRET", STRING, "souk-development-secret-change-me-0123456789",       \
      "HS256 signing secret (at least 32 bytes)")                                                  \
    X(JWT_PRIVATE_KEY_FILE, "SOUK_JWT_PRIVATE_KEY_FILE", STRING, "", "RS256 private key (PEM)")    \
    X(JWT_PUBLIC_KEY_FILE, "SOUK_JWT_PUBLIC_KEY_FILE", STRING, "", "RS256 public key (PEM)")       \
    X(JWT_ISSUER, "SOUK_JWT_ISSUER", STRING, "souk", "iss claim issued and required")              \
    X(JWT_TTL_S, "SOUK_JWT_TTL_S", COUNT, "3600", "access token lifetime in seconds")              \
    X(PASSWORD_ITERATIONS, "SOUK_PASSWORD_ITERATIONS", COUNT, "60000",                             \
      "PBKDF2-HMAC-SHA256 iterations for new password hashes")                                     \
    X(ADMIN_EMAIL, "SOUK_ADMIN_EMAIL", STRING, "admin@souk.local", "the first admin's e-mail")     \
    X(ADMIN_PASSWORD, "SOUK_ADMIN_PASSWORD", STRING, "souk-admin-password",                        \
      "the first admin's password (created at gateway start if missing)")                          \
    X(RATE_LIMIT_RPS, "SOUK_RATE_LIMIT_RPS", COUNT, "100", "requests per second per user or IP")   \
    X(RATE_LIMIT_BURST, "SOUK_RATE_LIMIT_BURST", COUNT, "200", "token bucket size per user or IP") \
    X(LOGIN_LIMIT_PER_MIN, "SOUK_LOGIN_LIMIT_PER_MIN", COUNT, "20",                                \
      "login attempts per minute per IP (also the burst)")                                         \
    X(MAX_BODY_BYTES, "SOUK_MAX_BODY_BYTES", COUNT, "65536", "largest request body accepted")      \
    X(DB_POOL_SIZE, "SOUK_DB_POOL_SIZE", COUNT, "8", "gateway connections per schema")             \
    X(CATALOG_CACHE_TTL_MS, "SOUK_CATALOG_CACHE_TTL_MS", COUNT, "2000",                            \
      "longest a gateway serves a product after another gateway changed it")                       \
    X(SAGA_DEADLINE_S, "SOUK_SAGA_DEADLINE_S", COUNT, "120",                                       \
      "an order not final after this many seconds is cancelled (timed_out)")                       \
    X(SHIPPING_UNSERVED_COUNTRIES, "SOUK_SHIPPING_UNSERVED_COUNTRIES", STRING, "AQ",               \
      "comma-separated ISO countries shipping refuses (ShippingFailed)")                           \
    X(SMTP_URL, "SOUK_SMTP_URL", STRING, "",                                                       \
      "smtp://host:port for customer e-mail; unset: notifications are only logged")                \
    X(SMTP_FROM, "SOUK_SMTP_FROM", STRING, "souk@localhost", "sender of customer e-mail")          \
    X(OTLP_URL, "SOUK_OTLP_URL", HTTP_URL, "",                                                     \
      "OpenTelemetry collector (http://host:4318) that every process sends its spans to as "       \
      "OTLP/HTTP JSON; unset: spans are not exported")                                             \
    X(FAULT_KILL_AFTER_COMMIT, "SOUK_FAULT_KILL_AFTER_COMMIT", STRING, "",                         \
      "test hook: a worker SIGKILLs itself after committing a message of this order id")           \
    X(FAULT_RETRY_ORDER, "SOUK_FAULT_RETRY_ORDER", STRING, "",                                     \
      "test hook: a worker's handler answers RETRY for messages of this order id")                 \
    X(FAULT_HANDLER_DELAY_MS, "SOUK_FAULT_HANDLER_DELAY_MS", STRING, "",                           \
      "test hook: a worker sleeps this long inside each message's transaction")                    \
    X(FAULT_DLQ_KILL_AFTER_PUBLISH, "SOUK_FAULT_DLQ_KILL_AFTER_PUBLISH", STRING, "",               \
      "test hook: a DLQ replay (souk-dlq, or the gateway's) SIGKILLs its process after a "         \
      "replayed message is confirmed, before it leaves the DLQ (any value)")

typedef enum souk_config_key {
#define SOUK_CONFIG_KEY(key, env, type, def, doc) SOUK_CFG_##key,
    SOUK_CONFIG_VARS(SOUK_CONFIG_KEY)
#undef SOUK_CONFIG_KEY
        SOUK_CFG_COUNT
} souk_config_key;

/* The service schemas of ARCHITECTURE.md, in migration order. */
#define SOUK_DB_SCHEMAS(X)                                                                         \
    X(IDENTITY, "identity")                                                                        \
    X(CATALOG, "catalog")                                                                          \
    X(CART, "cart")                                                                                \
    X(ORDERS, "orders")                                                                            \
    X(INVENTORY, "inventory")                                                                      \
    X(PAYMENT, "payment")                                                                          \
    X(SHIPPING, "shipping")                                                                        \
    X(ANALYTICS, "analytics")                                                                      \
    X(NOTIFICATION, "notification")

typedef enum souk_db_schema {
#define SOUK_SCHEMA_ENUM(key, name) SOUK_SCHEMA_##key,
    SOUK_DB_SCHEMAS(SOUK_SCHEMA_ENUM)
#undef SOUK_SCHEMA_ENUM
        SOUK_SCHEMA_COUNT
} souk_db_schema;

typedef struct souk_config souk_config;

/* Reads every variable from the environment (getenv). On success *out owns a
 * new config (free with souk_config_free). On a bad value returns
 * SOUK_ECONFIG and writes "SOUK_X: why" into err. service names the process
 * ("gateway", "order", ...) and picks the default broker user. With
 * SOUK_ENV=production it also fails as souk_config_check_production does, so
 * every process that loads its configuration refuses the development
 * secrets. */
souk_status souk_config_load(souk_config **out, const char *service, char *err, size_t errlen)
    __attribute__((warn_unused_result));

void souk_config_free(souk_config *cfg);

/* The effective text of a variable (default applied); never NULL. */
const char *souk_config_str(const souk_config *cfg, souk_config_key key);

/* The value of a numeric variable (PORT, PORT0, COUNT). */
long souk_config_int(const souk_config *cfg, souk_config_key key);

/* Retry delays in milliseconds; returns their count, at most cap written. */
int souk_config_retry_delays(const souk_config *cfg, long *delays_ms, int cap);

const char *souk_config_service(const souk_config *cfg);

/* True when SOUK_ENV is production. */
int souk_config_is_production(const souk_config *cfg);

/* The broker credentials the process logs in with, owned by cfg: those of
 * SOUK_AMQP_URL when it carries any, else SOUK_AMQP_USER (default
 * souk-<service>) and SOUK_AMQP_PASSWORD (default: the user name). */
void souk_config_amqp_credentials(const souk_config *cfg, const char **user, const char **password);

/* In production (SOUK_ENV=production), refuses what would run with the
 * development defaults of the settings the process uses: the gateway's
 * HS256 SOUK_JWT_SECRET and SOUK_ADMIN_PASSWORD, and, for every process but
 * souk-psp (which uses neither broker nor secrets), broker credentials
 * whose password is empty, "guest" or the user name (the development
 * users' passwords). Returns SOUK_OK, or SOUK_ECONFIG with one line in err
 * naming every such setting. Outside production, SOUK_OK. */
souk_status souk_config_check_production(const souk_config *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Name of a schema ("orders"). */
const char *souk_db_schema_name(souk_db_schema schema);

/* Connection keywords for a schema, for PQconnectdbParams with expand_dbname:
 * either the schema's own URL, or SOUK_PG_URL as role souk_<schema>. With
 * as_gateway, as role souk_<schema>_gateway on the same server: the role
 * that sees only what the schema grants the gateway. The arrays are owned
 * by cfg and NULL-terminated. */
void souk_config_db_params(const souk_config *cfg, souk_db_schema schema, int as_gateway,
                           const char *const **keys, const char *const **values);

/* The environment variable names, for listing and drift tests. */
const char *souk_config_env_name(souk_config_key key);
const char *souk_config_default(souk_config_key key);
const char *souk_config_doc(souk_config_key key);

/* Parses a value of the given variable's type, for tests. Returns 0 if valid,
 * else -1 with a reason in why. */
int souk_config_check_value(souk_config_key key, const char *value, char *why, size_t whylen);

#endif
