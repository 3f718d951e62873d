#!/usr/bin/env bash
# The one-shot `migrate` job of docker-compose.yml: prepares PostgreSQL and
# RabbitMQ for the Souk processes, then exits 0.
#
# PostgreSQL: it runs pg_setup from scripts/stack.sh itself (the database,
# one role souk_<schema> and one souk_<schema>_gateway per schema, and each
# schema's sql/<schema>/NNN_*.sql applied once, in order, as the schema's
# role, recorded in public.souk_migrations), so `souk up`, `souk test` and
# the containers share one setup and one copy of every migration. Only the
# way psql reaches the server differs: TCP to the host and port of
# SOUK_PG_URL as the superuser of PGUSER/PGPASSWORD instead of a local
# socket.
#
# RabbitMQ: the vhost, the users and their permissions come from
# docker/rabbitmq/definitions.json at broker boot; this job declares the
# topology (exchanges, queues, retry queues, DLQs) with the admin
# credentials given in SOUK_AMQP_USER/SOUK_AMQP_PASSWORD.
set -euo pipefail

SOUK_ROOT="${SOUK_ROOT:-/opt/souk}"
# shellcheck source=../scripts/stack.sh
source "$SOUK_ROOT/scripts/stack.sh"

# postgresql://[user[:password]@]host[:port][/database][?options]
pg_url="${SOUK_PG_URL:?SOUK_PG_URL is not set}"
pg_hostport="${pg_url#*://}"
pg_hostport="${pg_hostport%%/*}"
pg_hostport="${pg_hostport%%\?*}"
pg_hostport="${pg_hostport##*@}"
MIGRATE_PG_HOST="${pg_hostport%%:*}"
MIGRATE_PG_PORT=5432
[[ "$pg_hostport" == *:* ]] && MIGRATE_PG_PORT="${pg_hostport##*:}"
[[ -n "$MIGRATE_PG_HOST" ]] || die "no host in SOUK_PG_URL ($pg_url)"
export PGUSER="${PGUSER:-postgres}"

# Replaces stack.sh's pg_psql (socket of the local server) for pg_setup.
pg_psql() {
    psql -X -q -v ON_ERROR_STOP=1 -h "$MIGRATE_PG_HOST" -p "$MIGRATE_PG_PORT" "$@"
}

attempt=0
until pg_psql -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; do
    attempt=$((attempt + 1))
    [[ $attempt -lt 60 ]] || die "PostgreSQL at $MIGRATE_PG_HOST:$MIGRATE_PG_PORT does not answer"
    sleep 1
done
log "PostgreSQL at $MIGRATE_PG_HOST:$MIGRATE_PG_PORT: roles, schemas and migrations"
pg_setup

# The broker reports healthy a little before its listeners accept every
# user; retry the declaration for a while.
log "RabbitMQ: declaring the topology as ${SOUK_AMQP_USER:-?}"
attempt=0
until souk-worker --declare-topology; do
    attempt=$((attempt + 1))
    [[ $attempt -lt 30 ]] || die "declaring the topology failed"
    sleep 2
done
log "migrate: done"
