/* The journal (see journal.h). */
#include "events/journal.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/db.h"
#include "core/mem.h"

/* One statement for any number of hops: they travel as one JSON array, so
 * the statement is prepared once and its text never varies with n. */
static const char insert_sql[] =
    "INSERT INTO journal (order_id, message_id, causation_id, event_type, queue, exchange, "
    "outcome, attempt, retry_delay_ms, reason, replayed, trace_id, span_id, parent_span_id, "
    "published_at, delivered_at, handler_started_at, handler_ended_at) "
    "SELECT h.o, h.m, h.c, h.e, $1, h.x, h.r, h.a, h.d, h.why, h.rp, h.t, h.s, h.p, "
    "to_timestamp(h.pub / 1e6), to_timestamp(h.dl / 1e6), to_timestamp(h.hs / 1e6), "
    "to_timestamp(h.he / 1e6) "
    "FROM json_to_recordset($2::json) AS h(o text, m uuid, c text, e text, x text, r text, "
    "a int, d bigint, why text, rp int, t text, s text, p text, pub bigint, dl bigint, "
    "hs bigint, he bigint)";

const char *souk_journal_outcome_name(souk_hop_outcome outcome)
{
    static const char *const names[] = {[SOUK_HOP_HANDLED] = "handled",
                                        [SOUK_HOP_DUPLICATE] = "duplicate",
                                        [SOUK_HOP_RETRY_SCHEDULED] = "retry_scheduled",
                                        [SOUK_HOP_DEAD_LETTERED] = "dead_lettered",
                                        [SOUK_HOP_REPLAYED] = "replayed"};
    return (unsigned)outcome < sizeof names / sizeof names[0] ? names[outcome] : "handled";
}

int souk_journal_enabled(const souk_config *cfg)
{
    return strcmp(souk_config_str(cfg, SOUK_CFG_JOURNAL), "off") != 0;
}

static void add_text(json_object *row, const char *key, const char *value)
{
    json_object_object_add(row, key, value && value[0] ? json_object_new_string(value) : NULL);
}

static void add_time(json_object *row, const char *key, int64_t us)
{
    json_object_object_add(row, key, us > 0 ? json_object_new_int64(us) : NULL);
}

/* The statement's parameter for n hops: a JSON array (the caller frees it). */
static char *rows_json(const souk_journal_hop *hops, int n)
{
    json_object *rows = json_object_new_array_ext(n);
    for (int i = 0; i < n; i++) {
        const souk_journal_hop *h = &hops[i];
        const souk_envelope *m = h->msg;
        json_object *row = json_object_new_object();
        json_object_object_add(row, "o", json_object_new_string(m->correlation_id));
        json_object_object_add(row, "m", json_object_new_string(m->message_id));
        add_text(row, "c", m->causation_id);
        json_object_object_add(row, "e", json_object_new_string(m->type));
        json_object_object_add(row, "x", json_object_new_string(m->original_exchange));
        json_object_object_add(row, "r",
                               json_object_new_string(souk_journal_outcome_name(h->outcome)));
        json_object_object_add(row, "a", json_object_new_int(h->attempt));
        json_object_object_add(
            row, "d", h->retry_delay_ms >= 0 ? json_object_new_int64(h->retry_delay_ms) : NULL);
        add_text(row, "why", h->reason);
        json_object_object_add(row, "rp", json_object_new_int(m->replayed));
        char trace_id[33] = "", span_id[17] = "";
        if (h->span) {
            souk_trace_hex(h->span->trace_id, sizeof h->span->trace_id, trace_id);
            souk_trace_hex(h->span->span_id, sizeof h->span->span_id, span_id);
        }
        add_text(row, "t", trace_id);
        add_text(row, "s", span_id);
        souk_trace_ctx parent;
        char parent_id[17] = "";
        if (souk_trace_parse(m->traceparent, NULL, &parent) == 0)
            souk_trace_hex(parent.span_id, sizeof parent.span_id, parent_id);
        add_text(row, "p", parent_id);
        add_time(row, "pub", m->published_at_us);
        add_time(row, "dl", h->delivered_us);
        add_time(row, "hs", h->handler_started_us);
        add_time(row, "he", h->handler_ended_us);
        json_object_array_add(rows, row);
    }
    char *text = souk_strdup(json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PLAIN));
    json_object_put(rows);
    return text;
}

souk_status souk_journal_record(souk_tx *tx, const char *queue, const souk_journal_hop *hops, int n)
{
    if (n <= 0)
        return souk_tx_status(tx);
    char *rows = rows_json(hops, n);
    const char *params[2] = {queue, rows};
    PGresult *res = souk_tx_exec(tx, insert_sql, 2, params);
    free(rows);
    PQclear(res);
    return souk_tx_status(tx);
}

souk_status souk_journal_record_settled(PGconn *db, const char *queue, const souk_journal_hop *hops,
                                        int n)
{
    if (n <= 0)
        return SOUK_OK;
    char *rows = rows_json(hops, n);
    const char *params[2] = {queue, rows};
    PGresult *res = souk_db_exec_prepared(db, insert_sql, 2, params);
    free(rows);
    souk_status st = souk_db_result_status(db, res);
    PQclear(res);
    return st;
}

souk_status souk_journal_purge(PGconn *db, long retention_s, long *deleted)
{
    char seconds[32];
    snprintf(seconds, sizeof seconds, "%ld", retention_s);
    const char *params[1] = {seconds};
    PGresult *res = souk_db_exec_prepared(
        db, "DELETE FROM journal WHERE committed_at < now() - make_interval(secs => $1::int)", 1,
        params);
    souk_status st = souk_db_result_status(db, res);
    if (deleted)
        *deleted = st == SOUK_OK ? strtol(PQcmdTuples(res), NULL, 10) : 0;
    PQclear(res);
    return st;
}
