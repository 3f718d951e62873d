/* souk-migrate: the database setup behind `souk up`, `souk test` and the
 * compose job `migrate` (tools/migrate.h says what it does).
 *   souk-migrate [--admin CONNINFO] [--sql DIR] [--wait SECONDS] [--declare-topology]
 * Exit status: 0 done, 1 a migration or the server failed (the message
 * names the file), 2 bad usage or configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "events/topology.h"
#include "tools/migrate.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: souk-migrate [--admin CONNINFO] [--sql DIR] [--wait SECONDS] "
            "[--declare-topology]\n"
            "  --admin             a superuser's libpq connection string or URL (default: "
            "SOUK_PG_URL,\n"
            "                      with libpq's PGUSER/PGPASSWORD); its database is migrated, and\n"
            "                      created when missing\n"
            "  --sql               the migrations, <DIR>/<schema>/NNN_name.sql (default: %s/sql)\n"
            "  --wait              keep trying a server that does not answer yet for this long\n"
            "  --declare-topology  then declare every exchange and queue (SOUK_AMQP_USER must be\n"
            "                      a broker administrator)\n",
            SOUK_SOURCE_DIR);
}

static long seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec;
}

static int migrate(const souk_migrate_options *options, long deadline)
{
    char err[1024];
    souk_migrate_report report;
    souk_status st;
    while ((st = souk_migrate_run(options, &report, err, sizeof err)) == SOUK_EDB_UNAVAILABLE &&
           seconds_now() < deadline) {
        SOUK_LOG(SOUK_LOG_WARN, "PostgreSQL does not answer yet, retrying error=\"%s\"", err);
        sleep(1);
    }
    if (st != SOUK_OK) {
        fprintf(stderr, "souk-migrate: error: %s\n", err);
        return 1;
    }
    SOUK_LOG(SOUK_LOG_INFO, "migrations done applied=%d checksums_recorded=%d", report.applied,
             report.adopted);
    return 0;
}

/* The broker reports healthy a little before its listeners accept every
 * user: retried until the deadline. */
static int declare_topology(const souk_config *cfg, long deadline)
{
    souk_status st;
    while ((st = souk_topology_declare_all(cfg, 5000)) != SOUK_OK && seconds_now() < deadline) {
        SOUK_LOG(SOUK_LOG_WARN, "declaring the topology failed, retrying error=\"%s\"",
                 souk_strerror(st));
        sleep(2);
    }
    if (st != SOUK_OK) {
        fprintf(stderr, "souk-migrate: error: declaring the topology failed: %s\n",
                souk_strerror(st));
        return 1;
    }
    SOUK_LOG(SOUK_LOG_INFO, "topology declared");
    return 0;
}

int main(int argc, char **argv)
{
    const char *admin = NULL;
    const char *sql_dir = SOUK_SOURCE_DIR "/sql";
    long wait_s = 0;
    int topology = 0;
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--admin") == 0 && value) {
            admin = value;
            i++;
        } else if (strcmp(argv[i], "--sql") == 0 && value) {
            sql_dir = value;
            i++;
        } else if (strcmp(argv[i], "--wait") == 0 && value) {
            char *end;
            wait_s = strtol(value, &end, 10);
            if (!*value || *end || wait_s < 0 || wait_s > 3600) {
                fprintf(stderr, "souk-migrate: --wait takes 0-3600 seconds, not '%s'\n", value);
                return 2;
            }
            i++;
        } else if (strcmp(argv[i], "--declare-topology") == 0) {
            topology = 1;
        } else {
            usage(stderr);
            return 2;
        }
    }
    souk_config *cfg = NULL;
    char err[512];
    if (souk_config_load(&cfg, "admin", err, sizeof err) != SOUK_OK) {
        fprintf(stderr, "souk-migrate: configuration error: %s\n", err);
        return 2;
    }
    souk_log_set_service("migrate");
    souk_log_threshold = (souk_log_level)souk_config_int(cfg, SOUK_CFG_LOG_LEVEL);
    souk_migrate_options options = {
        .admin_conninfo = admin ? admin : souk_config_str(cfg, SOUK_CFG_PG_URL),
        .sql_dir = sql_dir,
    };
    long deadline = seconds_now() + wait_s;
    int rc = migrate(&options, deadline);
    if (rc == 0 && topology)
        rc = declare_topology(cfg, deadline);
    souk_config_free(cfg);
    return rc;
}
