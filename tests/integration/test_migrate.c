/* souk-migrate (tools/migrate.h) against the PostgreSQL of `souk test`, on
 * a throwaway database of its own (souk_migrate_test, dropped before each
 * test) and migrations written by each test into a temporary folder, so
 * the shared souk database is never touched. The roles are the cluster's
 * (souk test made them); the runner only sets them to what they are. */
#include <criterion/criterion.h>
#include <errno.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/harness.h"
#include "tools/migrate.h"

#define TEST_DB "souk_migrate_test"

TH_REQUIRE_STACK(TH_NEEDS_STACK)

static char sql_dir[256];

static const char *conninfo(const char *database)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "host=%s port=%s dbname=%s user=postgres",
             getenv("SOUK_TEST_PG_SOCKET"), getenv("SOUK_PG_PORT"), database);
    return buf;
}

static void admin_exec(const char *sql)
{
    PGconn *db = th_pg_admin();
    cr_assert_eq(PQstatus(db), CONNECTION_OK, "%s", PQerrorMessage(db));
    PGresult *res = PQexec(db, sql);
    cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(db);
}

static void setup(void)
{
    admin_exec("DROP DATABASE IF EXISTS " TEST_DB " WITH (FORCE)");
    snprintf(sql_dir, sizeof sql_dir, "/tmp/souk-migrate-test-XXXXXX");
    cr_assert_not_null(mkdtemp(sql_dir));
}

static void teardown(void)
{
    th_kill_all();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", sql_dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(migrate, .init = setup, .fini = teardown, .timeout = 120);

/* Writes text to <sql_dir>/<rel>, making its folder. */
static void write_sql(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", sql_dir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s", path);
    *slash = '/';
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

/* Runs souk-migrate on the test database and the test's folder (or dir);
 * returns its exit status, and its output in out (static). */
static int run_migrate_in(const char *dir, const char **out)
{
    static char output[65536];
    const char *args[] = {"--admin", conninfo(TEST_DB), "--sql", dir, NULL};
    const char *env[] = {"SOUK_LOG_LEVEL=info", NULL};
    unlink(th_log_path("t-migrate"));
    pid_t pid = th_spawn(th_binary("tools/souk-migrate"), args, env, "t-migrate");
    int rc = th_wait_exit(pid, 60000);
    output[0] = '\0';
    FILE *f = fopen(th_log_path("t-migrate"), "r");
    if (f) {
        size_t n = fread(output, 1, sizeof output - 1, f);
        output[n] = '\0';
        fclose(f);
    }
    if (out)
        *out = output;
    return rc;
}

static int run_migrate(const char **out)
{
    return run_migrate_in(sql_dir, out);
}

/* One value from the test database, as text in a static buffer ("" for
 * NULL, "(none)" without a row). */
static const char *value(const char *sql)
{
    static char buf[1024];
    PGconn *db = PQconnectdb(conninfo(TEST_DB));
    cr_assert_eq(PQstatus(db), CONNECTION_OK, "%s", PQerrorMessage(db));
    PGresult *res = PQexec(db, sql);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(res));
    snprintf(buf, sizeof buf, "%s", PQntuples(res) ? PQgetvalue(res, 0, 0) : "(none)");
    PQclear(res);
    PQfinish(db);
    return buf;
}

static void test_db_exec(const char *sql)
{
    PGconn *db = PQconnectdb(conninfo(TEST_DB));
    cr_assert_eq(PQstatus(db), CONNECTION_OK, "%s", PQerrorMessage(db));
    PGresult *res = PQexec(db, sql);
    cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(db);
}

/* sha256 of text, computed here rather than by the runner under test. */
static const char *sha256_hex(const char *text)
{
    static char hex[65];
    unsigned char d[32];
    unsigned int len = 0;
    cr_assert(EVP_Digest(text, strlen(text), d, &len, EVP_sha256(), NULL) && len == 32);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return hex;
}

/* Runs the migrations, expecting them to stop with a message holding
 * needle, and the database to hold `recorded` migrations and `steps` rows
 * of orders.steps afterwards. */
static void expect_stopped(const char *needle, const char *recorded, const char *steps)
{
    const char *out;
    cr_assert_eq(run_migrate(&out), 1, "%s", out);
    cr_assert(strstr(out, needle), "no '%s' in: %s", needle, out);
    cr_assert_str_eq(value("SELECT count(*) FROM public.souk_migrations"), recorded, "%s", out);
    cr_assert_str_eq(value("SELECT count(*) FROM orders.steps"), steps, "%s", out);
}

#define STEP_001 "CREATE TABLE steps (id serial PRIMARY KEY, name text NOT NULL);\n"
#define STEP(n)  "INSERT INTO steps (name) VALUES ('" n "');\n"

Test(migrate, applies_each_migration_once_in_version_order_as_the_schema_role)
{
    /* written out of order, and 010 after 002 only by number */
    write_sql("orders/010_ten.sql", STEP("010"));
    write_sql("orders/002_two.sql", STEP("002"));
    write_sql("orders/001_steps.sql", STEP_001 STEP("001"));
    write_sql("catalog/001_things.sql", "CREATE TABLE things (n int);\n");

    const char *out;
    cr_assert_eq(run_migrate(&out), 0, "%s", out);
    cr_assert_str_eq(value("SELECT string_agg(name, ',' ORDER BY id) FROM orders.steps"),
                     "001,002,010");
    cr_assert_str_eq(value("SELECT string_agg(schema_name || ':' || name, ',' "
                           "ORDER BY schema_name, version) FROM public.souk_migrations"),
                     "catalog:001_things,orders:001_steps,orders:002_two,orders:010_ten");
    /* as the schema's own role, into its schema */
    cr_assert_str_eq(value("SELECT tableowner FROM pg_tables WHERE schemaname = 'orders' AND "
                           "tablename = 'steps'"),
                     "souk_orders");
    cr_assert_str_eq(value("SELECT tableowner FROM pg_tables WHERE tablename = 'things'"),
                     "souk_catalog");
    cr_assert_str_eq(value("SELECT checksum FROM public.souk_migrations WHERE "
                           "schema_name = 'orders' AND version = 2"),
                     sha256_hex(STEP("002")));
    /* every schema of the configuration has its schema and both roles' access */
    cr_assert_str_eq(value("SELECT count(*) FROM pg_namespace WHERE nspname IN ('identity', "
                           "'catalog', 'cart', 'orders', 'inventory', 'payment', 'shipping', "
                           "'analytics', 'notification')"),
                     "9");
    cr_assert_str_eq(value("SELECT has_database_privilege('souk_orders_gateway', '" TEST_DB
                           "', 'CONNECT')::text"),
                     "true");

    /* the second run applies nothing */
    cr_assert_eq(run_migrate(&out), 0, "%s", out);
    cr_assert(strstr(out, "applied=0"), "%s", out);
    cr_assert_str_eq(value("SELECT count(*) FROM orders.steps"), "3");
    cr_assert_str_eq(value("SELECT count(*) FROM public.souk_migrations"), "4");
}

Test(migrate, a_changed_applied_file_stops_the_run_naming_it)
{
    write_sql("orders/001_steps.sql", STEP_001);
    const char *out;
    cr_assert_eq(run_migrate(&out), 0, "%s", out);

    write_sql("orders/001_steps.sql", STEP_001 "-- edited after it was applied\n");
    write_sql("orders/002_two.sql", STEP("002"));
    /* and nothing after it ran */
    expect_stopped("orders/001_steps.sql was changed after it was applied", "1", "0");
}

Test(migrate, a_failing_migration_rolls_back_alone_and_earlier_ones_stay_recorded)
{
    write_sql("orders/001_steps.sql", STEP_001 STEP("001"));
    write_sql("orders/002_broken.sql", STEP("002") "SELECT no_such_function();\n");
    write_sql("orders/003_three.sql", STEP("003"));

    /* 002's insert went with it; 001 stays */
    expect_stopped("orders/002_broken.sql failed, rolled back: function no_such_function() does "
                   "not exist (at: SELECT no_such_function();)",
                   "1", "1");
    cr_assert_str_eq(value("SELECT name FROM public.souk_migrations"), "001_steps");

    /* fixed, the next run goes on from there */
    write_sql("orders/002_broken.sql", STEP("002"));
    const char *out;
    cr_assert_eq(run_migrate(&out), 0, "%s", out);
    cr_assert_str_eq(value("SELECT string_agg(name, ',' ORDER BY id) FROM orders.steps"),
                     "001,002,003");
}

Test(migrate, rows_of_the_earlier_runner_get_their_files_checksums_and_are_then_enforced)
{
    write_sql("orders/001_steps.sql", STEP_001 STEP("001"));
    const char *out;
    cr_assert_eq(run_migrate(&out), 0, "%s", out);
    /* the table as scripts/stack.sh created it: no checksum column */
    test_db_exec("ALTER TABLE public.souk_migrations DROP COLUMN checksum");

    write_sql("orders/002_two.sql", STEP("002"));
    cr_assert_eq(run_migrate(&out), 0, "%s", out);
    cr_assert(strstr(out, "recorded the checksum of a migration applied before checksums were "
                          "kept schema=orders migration=001_steps"),
              "%s", out);
    cr_assert_str_eq(value("SELECT string_agg(name, ',' ORDER BY id) FROM orders.steps"),
                     "001,002");
    cr_assert_str_eq(value("SELECT checksum FROM public.souk_migrations WHERE version = 1"),
                     sha256_hex(STEP_001 STEP("001")));

    write_sql("orders/001_steps.sql", STEP_001 STEP("001") STEP("again"));
    expect_stopped("orders/001_steps.sql was changed after it was applied", "2", "2");
}

Test(migrate, an_included_file_is_part_of_the_checksum)
{
    write_sql("common/steps.sql", STEP_001);
    write_sql("orders/001_steps.sql", "-- shared\n\\ir ../common/steps.sql\n" STEP("001"));
    const char *out;
    cr_assert_eq(run_migrate(&out), 0, "%s", out);
    cr_assert_str_eq(value("SELECT string_agg(name, ',' ORDER BY id) FROM orders.steps"), "001");
    cr_assert_str_eq(value("SELECT checksum FROM public.souk_migrations WHERE version = 1"),
                     sha256_hex("-- shared\n" STEP_001 STEP("001")));

    write_sql("common/steps.sql", STEP_001 "CREATE INDEX ON steps (name);\n");
    expect_stopped("orders/001_steps.sql was changed after it was applied", "1", "1");
}

Test(migrate, a_malformed_folder_applies_nothing)
{
    write_sql("orders/001_steps.sql", STEP_001);
    const char *out;
    cr_assert_eq(run_migrate(&out), 0, "%s", out);

    write_sql("orders/002_set.sql", "\\set x 1\n");
    write_sql("orders/003_three.sql", STEP("003"));
    expect_stopped("orders/002_set.sql:1: psql command \\set is not supported", "1", "0");

    char path[512];
    snprintf(path, sizeof path, "%s/orders/002_set.sql", sql_dir);
    cr_assert_eq(unlink(path), 0);
    write_sql("orders/003_other.sql", STEP("other"));
    expect_stopped("have the same version", "1", "0");
}

Test(migrate, a_migrations_folder_that_does_not_exist_is_an_error_not_nothing_to_do)
{
    const char *out;
    cr_assert_eq(run_migrate_in("/nonexistent/sql", &out), 1, "%s", out);
    cr_assert(strstr(out, "/nonexistent/sql: cannot open the migrations folder"), "%s", out);
}

Test(migrate, the_project_migrations_apply_to_an_empty_database_once)
{
    const char *out;
    cr_assert_eq(run_migrate_in(SOUK_SOURCE_DIR "/sql", &out), 0, "%s", out);
    cr_assert_str_eq(value("SELECT count(DISTINCT schema_name)::text FROM public.souk_migrations"),
                     "9");
    cr_assert_eq(run_migrate_in(SOUK_SOURCE_DIR "/sql", &out), 0, "%s", out);
    cr_assert(strstr(out, "applied=0"), "%s", out);
}

Test(migrate, file_names_give_the_version)
{
    cr_assert_eq(souk_migrate_version("001_accounts.sql"), 1);
    cr_assert_eq(souk_migrate_version("120_x.sql"), 120);
    cr_assert_eq(souk_migrate_version("01_x.sql"), -1);
    cr_assert_eq(souk_migrate_version("001_.sql"), -1);
    cr_assert_eq(souk_migrate_version("001_x.sql.orig"), -1);
    cr_assert_eq(souk_migrate_version("abc_x.sql"), -1);
}
