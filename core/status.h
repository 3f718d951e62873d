/* One vocabulary of outcomes for every Souk module. Library errors (libpq,
 * rabbitmq-c, errno, libcurl) are translated into these codes where the
 * library is called, so callers never inspect foreign error types. */
#ifndef SOUK_STATUS_H
#define SOUK_STATUS_H

#define SOUK_STATUS_MAP(X)                                                                         \
    X(OK, "success")                                                                               \
    X(EINVAL, "invalid argument")                                                                  \
    X(ECONFIG, "invalid configuration")                                                            \
    X(ENOTFOUND, "not found")                                                                      \
    X(ECONFLICT, "conflict")                                                                       \
    X(EDB, "database error")                                                                       \
    X(EDB_UNAVAILABLE, "database unavailable")                                                     \
    X(EAMQP, "broker error")                                                                       \
    X(EAMQP_UNAVAILABLE, "broker unavailable")                                                     \
    X(ETIMEOUT, "timed out")                                                                       \
    X(EIO, "input/output error")                                                                   \
    X(EPARSE, "malformed input")                                                                   \
    X(ESCHEMA, "schema validation failed")                                                         \
    X(EAUTH, "authentication failed")                                                              \
    X(EFORBIDDEN, "forbidden")                                                                     \
    X(ETOOBIG, "too big")                                                                          \
    X(ESTOPPED, "stopped")                                                                         \
    X(EUNKNOWN_SERVICE, "unknown service")

typedef enum souk_status {
#define SOUK_STATUS_ENUM(name, text) SOUK_##name,
    SOUK_STATUS_MAP(SOUK_STATUS_ENUM)
#undef SOUK_STATUS_ENUM
        SOUK_STATUS_COUNT
} souk_status;

/* Returns a static, human readable text for status; never NULL. */
const char *souk_strerror(souk_status status);

/* Returns the symbolic name ("EDB") of status; never NULL. */
const char *souk_status_name(souk_status status);

#endif
