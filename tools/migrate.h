/* The migration runner behind `souk up`, `souk test` and the compose job
 * `migrate` (souk-migrate). On one database, as a superuser:
 *   - one role souk_<schema> per schema of core/config's table, owning its
 *     schema, and one souk_<schema>_gateway that can use only what the
 *     schema's migrations grant it;
 *   - every sql/<schema>/NNN_name.sql applied once, in order (schemas in
 *     the table's order, files by version), each in its own transaction as
 *     the schema's role, and recorded in public.souk_migrations with the
 *     sha256 of its text (with its \ir includes expanded);
 *   - before anything is applied, every recorded migration is checked
 *     against its file: one whose text changed stops the run, naming it.
 * Rows recorded by the earlier shell runner have no checksum: the first
 * run records their files' current checksums (and logs that it did).
 * Runners on one database take turns (an advisory lock). */
#ifndef SOUK_TOOLS_MIGRATE_H
#define SOUK_TOOLS_MIGRATE_H

#include <stddef.h>

#include "core/status.h"

typedef struct souk_migrate_options {
    /* libpq connection string or URL of a superuser; its database is the
     * one migrated (created when missing), "souk" when it names none */
    const char *admin_conninfo;
    const char *sql_dir; /* the folder holding <schema>/NNN_name.sql */
} souk_migrate_options;

typedef struct souk_migrate_report {
    int applied; /* migrations applied by this run */
    int adopted; /* recorded without a checksum, now given their file's */
} souk_migrate_report;

/* Sets up the roles and schemas and applies what is pending. Returns
 * SOUK_OK; SOUK_ECONFLICT when a recorded migration's file changed (or was
 * renamed); SOUK_EINVAL for a missing or malformed sql/ folder (two files
 * of one version, an unknown psql command, a missing include); SOUK_EDB when a
 * migration failed (its transaction rolled back, the ones before it stay
 * recorded); SOUK_EDB_UNAVAILABLE when the server cannot be reached. err
 * receives one line naming the file and the reason. report may be NULL. */
souk_status souk_migrate_run(const souk_migrate_options *options, souk_migrate_report *report,
                             char *err, size_t errlen) __attribute__((warn_unused_result));

/* The version of a migration file name "NNN_name.sql" (three digits, a
 * name, .sql), or -1 for any other name. */
int souk_migrate_version(const char *file_name);

/* Reads the migration at path with every "\ir FILE" (or
 * "\include_relative FILE") line replaced by FILE's text, FILE relative to
 * the including file, as psql does. Returns SOUK_OK with a new text in
 * *text (the caller frees); SOUK_EINVAL with err naming the file and line
 * for any other psql command, an include nested too deep or a file that
 * cannot be read. */
souk_status souk_migrate_read(const char *path, char **text, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The lowercase hex sha256 of text, as recorded. */
void souk_migrate_checksum(const char *text, char hex[65]);

#endif
