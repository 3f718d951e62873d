/* Environment-driven configuration: one table, typed validation at start. */
#include "core/config.h"

#include <amqp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"

enum var_type {
    STRING,
    ENV,
    PORT,
    PORT0,
    COUNT,
    COUNT16,
    LEVEL,
    AMQP_URL,
    QUEUE_TYPE,
    DELAYS,
    JWT_ALG,
    HTTP_URL,
    ON_OFF
};

struct var_spec {
    const char *env;
    enum var_type type;
    const char *def;
    const char *doc;
};

static const struct var_spec specs[SOUK_CFG_COUNT] = {
#define SOUK_CONFIG_SPEC(key, env, type, def, doc) {env, type, def, doc},
    SOUK_CONFIG_VARS(SOUK_CONFIG_SPEC)
#undef SOUK_CONFIG_SPEC
};

static const char *const schema_names[SOUK_SCHEMA_COUNT] = {
#define SOUK_SCHEMA_NAME(key, name) name,
    SOUK_DB_SCHEMAS(SOUK_SCHEMA_NAME)
#undef SOUK_SCHEMA_NAME
};

#define MAX_DELAYS 16

struct db_params {
    const char *keys[4];
    const char *values[4];
    char *role;
};

/* [schema][0]: as the schema's owner role; [schema][1]: as its gateway role. */

struct souk_config {
    char *service;
    char *amqp_user; /* effective, see souk_config_amqp_credentials */
    char *amqp_password;
    int amqp_from_url; /* the credentials came from SOUK_AMQP_URL */
    char *values[SOUK_CFG_COUNT];
    long numbers[SOUK_CFG_COUNT];
    long delays[MAX_DELAYS];
    int delay_count;
    struct db_params db[SOUK_SCHEMA_COUNT][2];
};

static int parse_long(const char *text, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_delays(const char *text, long *delays, int *count)
{
    int n = 0;
    const char *p = text;
    while (*p) {
        char *end = NULL;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || end == p || v <= 0 || v > 86400000 || n == MAX_DELAYS)
            return -1;
        delays[n++] = v;
        if (*end == ',')
            end++;
        else if (*end != '\0')
            return -1;
        p = end;
    }
    if (n == 0)
        return -1;
    *count = n;
    return 0;
}

static int check_typed(enum var_type type, const char *value, long *number, long *delays,
                       int *delay_count, char *why, size_t whylen)
{
    long ignored;
    long *num = number ? number : &ignored;
    switch (type) {
    case STRING: return 0;
    case ENV:
        if (strcmp(value, "development") == 0 || strcmp(value, "production") == 0)
            return 0;
        snprintf(why, whylen, "'%s' is not development or production", value);
        return -1;
    case PORT:
        if (parse_long(value, 1, 65535, num) == 0)
            return 0;
        snprintf(why, whylen, "'%s' is not a port number (1-65535)", value);
        return -1;
    case PORT0:
        if (parse_long(value, 0, 65535, num) == 0)
            return 0;
        snprintf(why, whylen, "'%s' is not a port number (0-65535)", value);
        return -1;
    case COUNT:
        if (parse_long(value, 1, 100000000, num) == 0)
            return 0;
        snprintf(why, whylen, "'%s' is not a positive count (1-100000000)", value);
        return -1;
    case COUNT16:
        if (parse_long(value, 1, 65535, num) == 0)
            return 0;
        snprintf(why, whylen, "'%s' is not a positive count of at most 65535", value);
        return -1;
    case LEVEL: {
        souk_log_level level;
        if (souk_log_parse_level(value, &level) == 0) {
            *num = level;
            return 0;
        }
        snprintf(why, whylen, "'%s' is not one of error, warn, info, debug", value);
        return -1;
    }
    case AMQP_URL: {
        struct amqp_connection_info info;
        char *copy = souk_strdup(value);
        int rc = amqp_parse_url(copy, &info);
        free(copy);
        if (rc == AMQP_STATUS_OK)
            return 0;
        snprintf(why, whylen, "'%s' is not an amqp:// URL", value);
        return -1;
    }
    case QUEUE_TYPE:
        if (strcmp(value, "classic") == 0 || strcmp(value, "quorum") == 0)
            return 0;
        snprintf(why, whylen, "'%s' is not classic or quorum", value);
        return -1;
    case ON_OFF:
        if (strcmp(value, "on") == 0 || strcmp(value, "off") == 0)
            return 0;
        snprintf(why, whylen, "'%s' is not on or off", value);
        return -1;
    case JWT_ALG:
        if (strcmp(value, "HS256") == 0 || strcmp(value, "RS256") == 0)
            return 0;
        snprintf(why, whylen, "'%s' is not HS256 or RS256", value);
        return -1;
    case HTTP_URL:
        /* empty: off */
        if (!value[0] || strncmp(value, "http://", 7) == 0 || strncmp(value, "https://", 8) == 0)
            return 0;
        snprintf(why, whylen, "'%s' is not an http:// or https:// URL", value);
        return -1;
    case DELAYS: {
        long local[MAX_DELAYS];
        int n = 0;
        if (parse_delays(value, delays ? delays : local, delay_count ? delay_count : &n) == 0)
            return 0;
        snprintf(why, whylen,
                 "'%s' is not a comma-separated list of 1-%d positive millisecond delays", value,
                 MAX_DELAYS);
        return -1;
    }
    }
    return -1;
}

int souk_config_check_value(souk_config_key key, const char *value, char *why, size_t whylen)
{
    if ((unsigned)key >= SOUK_CFG_COUNT || !value)
        return -1;
    return check_typed(specs[key].type, value, NULL, NULL, NULL, why, whylen);
}

/* amqp_parse_url fills in guest/guest when the URL names no user; only
 * credentials written in the URL win over SOUK_AMQP_USER/PASSWORD. */
static void resolve_amqp_credentials(souk_config *cfg)
{
    const char *raw = cfg->values[SOUK_CFG_AMQP_URL];
    cfg->amqp_from_url = strchr(raw, '@') != NULL;
    if (cfg->amqp_from_url) {
        struct amqp_connection_info info;
        char *copy = souk_strdup(raw);
        if (amqp_parse_url(copy, &info) == AMQP_STATUS_OK) {
            cfg->amqp_user = souk_strdup(info.user);
            cfg->amqp_password = souk_strdup(info.password);
        }
        free(copy);
    }
    if (!cfg->amqp_user) {
        cfg->amqp_from_url = 0;
        cfg->amqp_user = souk_strdup(cfg->values[SOUK_CFG_AMQP_USER]);
        cfg->amqp_password = souk_strdup(cfg->values[SOUK_CFG_AMQP_PASSWORD]);
    }
}

souk_status souk_config_load(souk_config **out, const char *service, char *err, size_t errlen)
{
    souk_config *cfg = souk_calloc(1, sizeof *cfg);
    cfg->service = souk_strdup(service ? service : "souk");
    for (int k = 0; k < SOUK_CFG_COUNT; k++) {
        const char *env = getenv(specs[k].env);
        const char *value = env ? env : specs[k].def;
        char why[256];
        if (check_typed(specs[k].type, value, &cfg->numbers[k], cfg->delays, &cfg->delay_count, why,
                        sizeof why) != 0) {
            snprintf(err, errlen, "%s: %s", specs[k].env, why);
            souk_config_free(cfg);
            return SOUK_ECONFIG;
        }
        cfg->values[k] = souk_strdup(value);
    }
    if (cfg->values[SOUK_CFG_AMQP_USER][0] == '\0') {
        free(cfg->values[SOUK_CFG_AMQP_USER]);
        cfg->values[SOUK_CFG_AMQP_USER] = souk_asprintf("souk-%s", cfg->service);
    }
    if (cfg->values[SOUK_CFG_AMQP_PASSWORD][0] == '\0') {
        free(cfg->values[SOUK_CFG_AMQP_PASSWORD]);
        cfg->values[SOUK_CFG_AMQP_PASSWORD] = souk_strdup(cfg->values[SOUK_CFG_AMQP_USER]);
    }
    resolve_amqp_credentials(cfg);
    for (int s = 0; s < SOUK_SCHEMA_COUNT; s++) {
        for (int gw = 0; gw < 2; gw++) {
            struct db_params *p = &cfg->db[s][gw];
            const char *own = cfg->values[SOUK_CFG_DB_URL_IDENTITY + s];
            p->keys[0] = "dbname";
            p->values[0] = own[0] ? own : cfg->values[SOUK_CFG_PG_URL];
            if (own[0] && !gw)
                continue; /* the schema's own URL carries its owner's credentials */
            p->role = souk_asprintf("souk_%s%s", schema_names[s], gw ? "_gateway" : "");
            p->keys[1] = "user";
            p->values[1] = p->role;
            p->keys[2] = "password";
            p->values[2] = p->role;
        }
    }
    if (souk_config_check_production(cfg, err, errlen) != SOUK_OK) {
        souk_config_free(cfg);
        return SOUK_ECONFIG;
    }
    *out = cfg;
    return SOUK_OK;
}

void souk_config_free(souk_config *cfg)
{
    if (!cfg)
        return;
    for (int k = 0; k < SOUK_CFG_COUNT; k++)
        free(cfg->values[k]);
    for (int s = 0; s < SOUK_SCHEMA_COUNT; s++) {
        free(cfg->db[s][0].role);
        free(cfg->db[s][1].role);
    }
    free(cfg->amqp_user);
    free(cfg->amqp_password);
    free(cfg->service);
    free(cfg);
}

const char *souk_config_str(const souk_config *cfg, souk_config_key key)
{
    souk_assert((unsigned)key < SOUK_CFG_COUNT);
    return cfg->values[key];
}

long souk_config_int(const souk_config *cfg, souk_config_key key)
{
    souk_assert((unsigned)key < SOUK_CFG_COUNT);
    return cfg->numbers[key];
}

int souk_config_retry_delays(const souk_config *cfg, long *delays_ms, int cap)
{
    int n = cfg->delay_count < cap ? cfg->delay_count : cap;
    for (int i = 0; i < n; i++)
        delays_ms[i] = cfg->delays[i];
    return cfg->delay_count;
}

const char *souk_config_service(const souk_config *cfg)
{
    return cfg->service;
}

int souk_config_is_production(const souk_config *cfg)
{
    return strcmp(cfg->values[SOUK_CFG_ENV], "production") == 0;
}

void souk_config_amqp_credentials(const souk_config *cfg, const char **user, const char **password)
{
    *user = cfg->amqp_user;
    *password = cfg->amqp_password;
}

/* Appends "NAME (why)" to the list in err. */
static void refuse(char *err, size_t errlen, size_t *len, const char *name, const char *why)
{
    if (*len >= errlen)
        return;
    int n = snprintf(err + *len, errlen - *len, "%s%s (%s)", *len ? "; " : "", name, why);
    *len += n > 0 ? (size_t)n : 0;
}

static int is_default(const souk_config *cfg, souk_config_key key)
{
    return strcmp(cfg->values[key], specs[key].def) == 0;
}

souk_status souk_config_check_production(const souk_config *cfg, char *err, size_t errlen)
{
    if (!souk_config_is_production(cfg))
        return SOUK_OK;
    const char *prefix = "SOUK_ENV=production refuses development defaults: ";
    char list[400] = "";
    size_t len = 0;
    /* Only the gateway signs tokens and creates the first admin. */
    int gateway = strcmp(cfg->service, "gateway") == 0;
    /* souk-psp, the payment provider stand-in, talks to no broker. */
    int broker = strcmp(cfg->service, "psp") != 0;
    if (gateway && strcmp(cfg->values[SOUK_CFG_JWT_ALG], "HS256") == 0 &&
        is_default(cfg, SOUK_CFG_JWT_SECRET))
        refuse(list, sizeof list, &len, "SOUK_JWT_SECRET", "the development signing secret");
    if (gateway && is_default(cfg, SOUK_CFG_ADMIN_PASSWORD))
        refuse(list, sizeof list, &len, "SOUK_ADMIN_PASSWORD", "the development admin password");
    if (broker) {
        const char *user = cfg->amqp_user, *password = cfg->amqp_password;
        const char *name = cfg->amqp_from_url ? "SOUK_AMQP_URL" : "SOUK_AMQP_PASSWORD";
        /* unset, SOUK_AMQP_PASSWORD is the user name, as the development
         * broker users of scripts/stack.sh and definitions.json have it */
        if (!password[0] || strcmp(password, user) == 0 || strcmp(password, "guest") == 0)
            refuse(list, sizeof list, &len, name,
                   "the broker password is empty, guest or the user name");
    }
    if (len == 0)
        return SOUK_OK;
    snprintf(err, errlen, "%s%s; set real values", prefix, list);
    return SOUK_ECONFIG;
}

const char *souk_db_schema_name(souk_db_schema schema)
{
    souk_assert((unsigned)schema < SOUK_SCHEMA_COUNT);
    return schema_names[schema];
}

void souk_config_db_params(const souk_config *cfg, souk_db_schema schema, int as_gateway,
                           const char *const **keys, const char *const **values)
{
    souk_assert((unsigned)schema < SOUK_SCHEMA_COUNT);
    *keys = cfg->db[schema][as_gateway ? 1 : 0].keys;
    *values = cfg->db[schema][as_gateway ? 1 : 0].values;
}

const char *souk_config_env_name(souk_config_key key)
{
    souk_assert((unsigned)key < SOUK_CFG_COUNT);
    return specs[key].env;
}

const char *souk_config_default(souk_config_key key)
{
    souk_assert((unsigned)key < SOUK_CFG_COUNT);
    return specs[key].def;
}

const char *souk_config_doc(souk_config_key key)
{
    souk_assert((unsigned)key < SOUK_CFG_COUNT);
    return specs[key].doc;
}
