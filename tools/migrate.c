/* The migration runner: roles and schemas, then every pending
 * sql/<schema>/NNN_name.sql in its own transaction, checked against the
 * checksums recorded in public.souk_migrations. */
#include "tools/migrate.h"

#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/db.h"
#include "core/log.h"
#include "core/mem.h"

/* pg_advisory_lock key of the runner ("soukmig"): two runners on one
 * database take turns instead of racing for the same versions. */
#define MIGRATE_LOCK_KEY  "32496501000825191"
#define INCLUDE_DEPTH_MAX 8
#define NAME_MAX_LEN      128

/* Writes one line into err. */
static void fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ file names */

int souk_migrate_version(const char *file_name)
{
    size_t len = strlen(file_name);
    if (len < 9 || strcmp(file_name + len - 4, ".sql") != 0 || file_name[3] != '_')
        return -1;
    int version = 0;
    for (int i = 0; i < 3; i++) {
        if (file_name[i] < '0' || file_name[i] > '9')
            return -1;
        version = version * 10 + (file_name[i] - '0');
    }
    return version;
}

/* ------------------------------------------------------ reading a file */

typedef struct text_buf {
    char *data;
    size_t len;
    size_t cap;
} text_buf;

static void buf_append(text_buf *b, const char *text, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        b->cap = (b->len + len + 1) * 2;
        b->data = souk_realloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, text, len);
    b->len += len;
    b->data[b->len] = '\0';
}

static char *read_whole(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    text_buf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b.data);
        return NULL;
    }
    if (!b.data)
        b.data = souk_strdup("");
    return b.data;
}

/* The argument of "\ir FILE", trimmed, without surrounding quotes. */
static char *include_argument(const char *arg, size_t len)
{
    while (len > 0 && (*arg == ' ' || *arg == '\t')) {
        arg++;
        len--;
    }
    while (len > 0 && strchr(" \t\r;", arg[len - 1]))
        len--;
    if (len >= 2 && arg[0] == '\'' && arg[len - 1] == '\'') {
        arg++;
        len -= 2;
    }
    return souk_strndup(arg, len);
}

static souk_status read_expanded(const char *path, int depth, text_buf *out, char *err,
                                 size_t errlen)
{
    if (depth > INCLUDE_DEPTH_MAX) {
        fail(err, errlen, "%s: includes nested deeper than %d", path, INCLUDE_DEPTH_MAX);
        return SOUK_EINVAL;
    }
    char *text = read_whole(path);
    if (!text) {
        fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return SOUK_EINVAL;
    }
    souk_status st = SOUK_OK;
    int line_no = 0;
    for (const char *line = text; *line && st == SOUK_OK; line_no++) {
        size_t len = strcspn(line, "\n");
        const char *next = line[len] ? line + len + 1 : line + len;
        const char *p = line;
        while (p < line + len && (*p == ' ' || *p == '\t'))
            p++;
        if (p < line + len && *p == '\\') {
            size_t word = strcspn(p + 1, " \t\r\n");
            int include = (word == 2 && strncmp(p + 1, "ir", 2) == 0) ||
                          (word == 16 && strncmp(p + 1, "include_relative", 16) == 0);
            if (!include) {
                fail(err, errlen,
                     "%s:%d: psql command \\%.*s is not supported (only \\ir FILE, to include a "
                     "file relative to this one)",
                     path, line_no + 1, (int)word, p + 1);
                st = SOUK_EINVAL;
                break;
            }
            char *arg = include_argument(p + 1 + word, (size_t)(line + len - (p + 1 + word)));
            const char *slash = strrchr(path, '/');
            char *target = arg[0] == '/' || !slash
                               ? souk_strdup(arg)
                               : souk_asprintf("%.*s/%s", (int)(slash - path), path, arg);
            st = read_expanded(target, depth + 1, out, err, errlen);
            if (out->len > 0 && out->data[out->len - 1] != '\n')
                buf_append(out, "\n", 1);
            free(target);
            free(arg);
        } else {
            buf_append(out, line, (size_t)(next - line));
        }
        line = next;
    }
    free(text);
    return st;
}

souk_status souk_migrate_read(const char *path, char **text, char *err, size_t errlen)
{
    text_buf out = {0};
    souk_status st = read_expanded(path, 0, &out, err, errlen);
    if (st != SOUK_OK) {
        free(out.data);
        *text = NULL;
        return st;
    }
    *text = out.data ? out.data : souk_strdup("");
    return SOUK_OK;
}

void souk_migrate_checksum(const char *text, char hex[65])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(text, strlen(text), digest, &len, EVP_sha256(), NULL) || len != 32)
        souk_assert(!"sha256 failed");
    for (unsigned int i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    hex[64] = '\0';
}

/* ------------------------------------------------------------ the plan */

typedef struct migration {
    souk_db_schema schema;
    int version;
    char name[NAME_MAX_LEN]; /* "002_orders", as the table records it */
    char *path;
    char *text;
    char checksum[65];
    int recorded; /* in souk_migrations already */
    int adopt;    /* recorded without a checksum */
} migration;

typedef struct plan {
    migration *items;
    int count;
    int cap;
} plan;

static void plan_free(plan *p)
{
    for (int i = 0; i < p->count; i++) {
        free(p->items[i].path);
        free(p->items[i].text);
    }
    free(p->items);
}

static int by_version(const void *a, const void *b)
{
    const migration *x = a, *y = b;
    if (x->schema != y->schema)
        return x->schema < y->schema ? -1 : 1;
    return (x->version > y->version) - (x->version < y->version);
}

/* Adds the files of sql_dir/<schema>/ to p, in version order. A schema
 * without a folder has no migrations. */
static souk_status scan_schema(const char *sql_dir, souk_db_schema schema, plan *p, char *err,
                               size_t errlen)
{
    char *dir_path = souk_asprintf("%s/%s", sql_dir, souk_db_schema_name(schema));
    DIR *dir = opendir(dir_path);
    if (!dir) {
        souk_status st = SOUK_OK;
        if (errno != ENOENT) {
            fail(err, errlen, "%s: cannot open: %s", dir_path, strerror(errno));
            st = SOUK_EINVAL;
        }
        free(dir_path);
        return st;
    }
    int first = p->count;
    souk_status st = SOUK_OK;
    struct dirent *e;
    while (st == SOUK_OK && (e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 4, ".sql") != 0)
            continue;
        int version = souk_migrate_version(e->d_name);
        if (version < 0 || len - 4 >= NAME_MAX_LEN) {
            fail(err, errlen, "%s/%s: not a migration name (NNN_name.sql)", dir_path, e->d_name);
            st = SOUK_EINVAL;
            break;
        }
        if (p->count == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 32;
            p->items = souk_realloc(p->items, (size_t)p->cap * sizeof *p->items);
        }
        migration *m = &p->items[p->count++];
        memset(m, 0, sizeof *m);
        m->schema = schema;
        m->version = version;
        snprintf(m->name, sizeof m->name, "%.*s", (int)(len - 4), e->d_name);
        m->path = souk_asprintf("%s/%s", dir_path, e->d_name);
        st = souk_migrate_read(m->path, &m->text, err, errlen);
        if (st == SOUK_OK)
            souk_migrate_checksum(m->text, m->checksum);
    }
    closedir(dir);
    if (st == SOUK_OK) {
        qsort(p->items + first, (size_t)(p->count - first), sizeof *p->items, by_version);
        for (int i = first + 1; i < p->count && st == SOUK_OK; i++) {
            if (p->items[i].version == p->items[i - 1].version) {
                fail(err, errlen, "%s and %s have the same version", p->items[i - 1].path,
                     p->items[i].path);
                st = SOUK_EINVAL;
            }
        }
    }
    free(dir_path);
    return st;
}

/* -------------------------------------------------------------- database */

/* Runs a command; on failure writes "what: the server's message" to err. */
static souk_status run(PGconn *db, PGresult *res, const char *what, char *err, size_t errlen)
{
    souk_status st = souk_db_result_status(db, res);
    if (res && PQresultStatus(res) == PGRES_EMPTY_QUERY)
        st = SOUK_OK; /* a migration of comments only */
    if (st != SOUK_OK) {
        const char *why = res ? PQresultErrorMessage(res) : PQerrorMessage(db);
        fail(err, errlen, "%s: %.*s", what, (int)strcspn(why, "\n"), why);
    }
    PQclear(res);
    return st;
}

static souk_status exec_sql(PGconn *db, const char *sql, char *err, size_t errlen)
{
    return run(db, PQexec(db, sql), sql, err, errlen);
}

static souk_status exec_params(PGconn *db, const char *sql, int count, const char *const *params,
                               char *err, size_t errlen)
{
    return run(db, PQexecParams(db, sql, count, NULL, params, NULL, NULL, 0), sql, err, errlen);
}

/* A DDL command built from fmt, whose %s are filled with the identifiers
 * given, quoted by libpq (DDL takes no parameters). */
static souk_status exec_ddl(PGconn *db, char *err, size_t errlen, const char *fmt, const char *a,
                            const char *b)
{
    char *qa = PQescapeIdentifier(db, a, strlen(a));
    char *qb = b ? PQescapeIdentifier(db, b, strlen(b)) : NULL;
    souk_assert(qa && (qb || !b));
    char *sql = souk_asprintf(fmt, qa, qb ? qb : "");
    souk_status st = exec_sql(db, sql, err, errlen);
    free(sql);
    PQfreemem(qa);
    PQfreemem(qb);
    return st;
}

/* ALTER ROLE ... PASSWORD takes a literal: the development password is the
 * role's own name (README, "Production settings"). */
static souk_status role_password(PGconn *db, const char *role, int limit, char *err, size_t errlen)
{
    char *ident = PQescapeIdentifier(db, role, strlen(role));
    char *literal = PQescapeLiteral(db, role, strlen(role));
    souk_assert(ident && literal);
    char *sql =
        souk_asprintf("ALTER ROLE %s PASSWORD %s CONNECTION LIMIT %d", ident, literal, limit);
    souk_status st = exec_sql(db, sql, err, errlen);
    free(sql);
    PQfreemem(ident);
    PQfreemem(literal);
    return st;
}

static souk_status ensure_role(PGconn *db, const char *database, const char *role,
                               const char *schema, int limit, char *err, size_t errlen)
{
    const char *params[] = {role};
    PGresult *res = PQexecParams(db, "SELECT 1 FROM pg_roles WHERE rolname = $1", 1, NULL, params,
                                 NULL, NULL, 0);
    int exists = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    souk_status st = run(db, res, "looking up a role", err, errlen);
    if (st == SOUK_OK && !exists)
        st = exec_ddl(db, err, errlen, "CREATE ROLE %s LOGIN", role, NULL);
    if (st == SOUK_OK)
        st = role_password(db, role, limit, err, errlen);
    if (st == SOUK_OK)
        st = exec_ddl(db, err, errlen, "GRANT CONNECT ON DATABASE %s TO %s", database, role);
    if (st == SOUK_OK)
        st = exec_ddl(db, err, errlen, "ALTER ROLE %s SET search_path TO %s", role, schema);
    return st;
}

/* The database-wide part and, per schema, its two roles and the schema
 * owned by the first. Everything here is idempotent. */
static souk_status setup_database(PGconn *db, const char *database, char *err, size_t errlen)
{
    souk_status st = exec_sql(db, "REVOKE ALL ON SCHEMA public FROM PUBLIC", err, errlen);
    if (st == SOUK_OK)
        st = exec_ddl(db, err, errlen, "REVOKE ALL ON DATABASE %s FROM PUBLIC", database, NULL);
    /* the earlier shell runner created the table without checksum */
    if (st == SOUK_OK)
        st = exec_sql(db,
                      "CREATE TABLE IF NOT EXISTS public.souk_migrations ("
                      " schema_name text NOT NULL, version int NOT NULL, name text NOT NULL,"
                      " applied_at timestamptz NOT NULL DEFAULT now(),"
                      " PRIMARY KEY (schema_name, version))",
                      err, errlen);
    if (st == SOUK_OK)
        st = exec_sql(db,
                      "ALTER TABLE public.souk_migrations ADD COLUMN IF NOT EXISTS checksum text",
                      err, errlen);
    for (int s = 0; s < SOUK_SCHEMA_COUNT && st == SOUK_OK; s++) {
        const char *schema = souk_db_schema_name((souk_db_schema)s);
        char role[64], gateway[80];
        snprintf(role, sizeof role, "souk_%s", schema);
        snprintf(gateway, sizeof gateway, "%s_gateway", role);
        st = ensure_role(db, database, role, schema, 200, err, errlen);
        if (st == SOUK_OK)
            st = exec_ddl(db, err, errlen, "CREATE SCHEMA IF NOT EXISTS %s AUTHORIZATION %s",
                          schema, role);
        if (st == SOUK_OK)
            st = ensure_role(db, database, gateway, schema, 100, err, errlen);
    }
    return st;
}

static migration *find(plan *p, souk_db_schema schema, int version)
{
    for (int i = 0; i < p->count; i++)
        if (p->items[i].schema == schema && p->items[i].version == version)
            return &p->items[i];
    return NULL;
}

/* Marks what is recorded, and stops at a recorded migration whose file
 * changed: nothing is applied then. */
static souk_status check_recorded(PGconn *db, plan *p, char *err, size_t errlen)
{
    PGresult *res = PQexec(db, "SELECT schema_name, version, name, checksum "
                               "FROM public.souk_migrations ORDER BY schema_name, version");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return run(db, res, "reading public.souk_migrations", err, errlen);
    souk_status st = SOUK_OK;
    for (int r = 0; r < PQntuples(res) && st == SOUK_OK; r++) {
        const char *schema_name = PQgetvalue(res, r, 0);
        int version = (int)strtol(PQgetvalue(res, r, 1), NULL, 10);
        const char *name = PQgetvalue(res, r, 2);
        int schema = -1;
        for (int s = 0; s < SOUK_SCHEMA_COUNT; s++)
            if (strcmp(souk_db_schema_name((souk_db_schema)s), schema_name) == 0)
                schema = s;
        migration *m = schema < 0 ? NULL : find(p, (souk_db_schema)schema, version);
        if (!m) {
            SOUK_LOG(SOUK_LOG_WARN,
                     "recorded migration has no file schema=%s migration=%s (left as it is)",
                     schema_name, name);
            continue;
        }
        m->recorded = 1;
        if (strcmp(m->name, name) != 0) {
            fail(err, errlen,
                 "%s: version %d of %s was applied as %s; a recorded migration keeps its name",
                 m->path, version, schema_name, name);
            st = SOUK_ECONFLICT;
        } else if (PQgetisnull(res, r, 3)) {
            m->adopt = 1;
        } else if (strcmp(PQgetvalue(res, r, 3), m->checksum) != 0) {
            fail(err, errlen,
                 "%s was changed after it was applied (recorded sha256 %.12s, the file's now "
                 "%.12s): put the change in a new migration and restore this file",
                 m->path, PQgetvalue(res, r, 3), m->checksum);
            st = SOUK_ECONFLICT;
        }
    }
    PQclear(res);
    return st;
}

/* Rows of the earlier runner get the checksum of their file as it is now:
 * the best evidence there is of what was applied. */
static souk_status adopt_checksums(PGconn *db, plan *p, int *adopted, char *err, size_t errlen)
{
    for (int i = 0; i < p->count; i++) {
        migration *m = &p->items[i];
        if (!m->adopt)
            continue;
        char version[16];
        snprintf(version, sizeof version, "%d", m->version);
        const char *params[] = {souk_db_schema_name(m->schema), version, m->checksum};
        souk_status st = exec_params(db,
                                     "UPDATE public.souk_migrations SET checksum = $3 WHERE "
                                     "schema_name = $1 AND version = $2::int AND checksum IS NULL",
                                     3, params, err, errlen);
        if (st != SOUK_OK)
            return st;
        SOUK_LOG(SOUK_LOG_INFO,
                 "recorded the checksum of a migration applied before checksums were kept "
                 "schema=%s migration=%s sha256=%s",
                 params[0], m->name, m->checksum);
        (*adopted)++;
    }
    return SOUK_OK;
}

/* The line of text holding the 1-based character position PostgreSQL
 * reported, for the error message. */
static void error_line(const char *text, const char *position, char *out, size_t cap)
{
    out[0] = '\0';
    long pos = position ? strtol(position, NULL, 10) : 0;
    if (pos <= 0 || (size_t)pos > strlen(text))
        return;
    const char *at = text + pos - 1;
    const char *start = at;
    while (start > text && start[-1] != '\n')
        start--;
    snprintf(out, cap, " (at: %.*s)", (int)strcspn(start, "\n"), start);
}

static souk_status apply(PGconn *db, const migration *m, char *err, size_t errlen)
{
    const char *schema = souk_db_schema_name(m->schema);
    char role[64];
    snprintf(role, sizeof role, "souk_%s", schema);
    SOUK_LOG(SOUK_LOG_INFO, "migrating schema=%s migration=%s", schema, m->name);
    souk_status st = exec_sql(db, "BEGIN", err, errlen);
    if (st == SOUK_OK)
        st = exec_ddl(db, err, errlen, "SET LOCAL ROLE %s", role, NULL);
    if (st == SOUK_OK)
        st = exec_ddl(db, err, errlen, "SET LOCAL search_path TO %s", schema, NULL);
    if (st == SOUK_OK) {
        PGresult *res = PQexec(db, m->text);
        st = souk_db_result_status(db, res);
        if (res && PQresultStatus(res) == PGRES_EMPTY_QUERY)
            st = SOUK_OK;
        if (st != SOUK_OK) {
            const char *why = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
            char where[256];
            error_line(m->text, res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL,
                       where, sizeof where);
            fail(err, errlen, "%s failed, rolled back: %s%s", m->path,
                 why ? why : PQerrorMessage(db), where);
        }
        PQclear(res);
    }
    if (st == SOUK_OK)
        st = exec_sql(db, "RESET ROLE", err, errlen);
    if (st == SOUK_OK) {
        char version[16];
        snprintf(version, sizeof version, "%d", m->version);
        const char *params[] = {schema, version, m->name, m->checksum};
        st =
            exec_params(db,
                        "INSERT INTO public.souk_migrations (schema_name, version, name, checksum) "
                        "VALUES ($1, $2::int, $3, $4)",
                        4, params, err, errlen);
    }
    if (st == SOUK_OK)
        st = exec_sql(db, "COMMIT", err, errlen);
    if (st != SOUK_OK && PQtransactionStatus(db) != PQTRANS_IDLE) {
        PGresult *res = PQexec(db, "ROLLBACK");
        PQclear(res);
    }
    return st;
}

/* ------------------------------------------------------------- connecting */

/* The database named by conninfo, "souk" when it names none. */
static char *database_of(const char *conninfo)
{
    char *why = NULL;
    PQconninfoOption *options = PQconninfoParse(conninfo, &why);
    PQfreemem(why);
    char *name = NULL;
    for (PQconninfoOption *o = options; o && o->keyword; o++)
        if (strcmp(o->keyword, "dbname") == 0 && o->val && o->val[0])
            name = souk_strdup(o->val);
    PQconninfoFree(options);
    return name ? name : souk_strdup("souk");
}

/* conninfo's server and user, on database (NULL: conninfo's own). */
static PGconn *connect_to(const char *conninfo, const char *database)
{
    const char *keys[] = {"dbname", "application_name", "dbname", NULL};
    const char *values[] = {conninfo, "souk-migrate", database, NULL};
    if (!database)
        keys[2] = NULL;
    return PQconnectdbParams(keys, values, 1);
}

/* A connection to the database to migrate, created first when missing. */
static PGconn *open_database(const char *conninfo, const char *database, souk_status *status,
                             char *err, size_t errlen)
{
    PGconn *db = connect_to(conninfo, database);
    if (db && PQstatus(db) == CONNECTION_OK) {
        *status = SOUK_OK;
        return db;
    }
    char first[512];
    const char *why = db ? PQerrorMessage(db) : "out of memory";
    snprintf(first, sizeof first, "%.*s", (int)strcspn(why, "\n"), why);
    PQfinish(db);
    /* the server may answer, without that database yet */
    PGconn *admin = connect_to(conninfo, "postgres");
    if (!admin || PQstatus(admin) != CONNECTION_OK) {
        PQfinish(admin);
        fail(err, errlen, "cannot connect to PostgreSQL: %s", first);
        *status = SOUK_EDB_UNAVAILABLE;
        return NULL;
    }
    const char *params[] = {database};
    PGresult *res = PQexecParams(admin, "SELECT 1 FROM pg_database WHERE datname = $1", 1, NULL,
                                 params, NULL, NULL, 0);
    int exists = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    *status = run(admin, res, "looking up the database", err, errlen);
    if (*status == SOUK_OK && !exists) {
        SOUK_LOG(SOUK_LOG_INFO, "creating database name=%s", database);
        *status = exec_ddl(admin, err, errlen, "CREATE DATABASE %s", database, NULL);
    }
    PQfinish(admin);
    if (*status != SOUK_OK)
        return NULL;
    if (exists) {
        fail(err, errlen, "cannot connect to database %s: %s", database, first);
        *status = SOUK_EDB_UNAVAILABLE;
        return NULL;
    }
    db = connect_to(conninfo, database);
    if (!db || PQstatus(db) != CONNECTION_OK) {
        why = db ? PQerrorMessage(db) : "out of memory";
        fail(err, errlen, "cannot connect to database %s: %.*s", database, (int)strcspn(why, "\n"),
             why);
        PQfinish(db);
        *status = SOUK_EDB_UNAVAILABLE;
        return NULL;
    }
    *status = SOUK_OK;
    return db;
}

/* ------------------------------------------------------------------ run */

souk_status souk_migrate_run(const souk_migrate_options *options, souk_migrate_report *report,
                             char *err, size_t errlen)
{
    souk_migrate_report local = {0};
    if (!report)
        report = &local;
    memset(report, 0, sizeof *report);
    err[0] = '\0';
    plan p = {0};
    souk_status st = SOUK_OK;
    /* a mistyped folder must not read as "nothing to apply" */
    DIR *top = opendir(options->sql_dir);
    if (!top) {
        fail(err, errlen, "%s: cannot open the migrations folder: %s", options->sql_dir,
             strerror(errno));
        return SOUK_EINVAL;
    }
    closedir(top);
    for (int s = 0; s < SOUK_SCHEMA_COUNT && st == SOUK_OK; s++)
        st = scan_schema(options->sql_dir, (souk_db_schema)s, &p, err, errlen);
    if (st != SOUK_OK) {
        plan_free(&p);
        return st;
    }
    char *database = database_of(options->admin_conninfo);
    PGconn *db = open_database(options->admin_conninfo, database, &st, err, errlen);
    if (db)
        st = exec_sql(db, "SET client_min_messages TO warning", err, errlen);
    if (st == SOUK_OK)
        st = exec_sql(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err, errlen);
    if (st == SOUK_OK)
        st = setup_database(db, database, err, errlen);
    if (st == SOUK_OK)
        st = check_recorded(db, &p, err, errlen);
    if (st == SOUK_OK)
        st = adopt_checksums(db, &p, &report->adopted, err, errlen);
    for (int i = 0; i < p.count && st == SOUK_OK; i++) {
        if (p.items[i].recorded)
            continue;
        st = apply(db, &p.items[i], err, errlen);
        if (st == SOUK_OK)
            report->applied++;
    }
    /* a failed migration is the migration's error, not a retryable one */
    if (st == SOUK_EDB_UNAVAILABLE && db && PQstatus(db) == CONNECTION_OK)
        st = SOUK_EDB;
    PQfinish(db); /* the advisory lock goes with the session */
    free(database);
    plan_free(&p);
    return st;
}
