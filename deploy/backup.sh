#!/usr/bin/env bash
# Back up the gateway store: a custom-format pg_dump of its schema (tables, audit chain,
# usage, keys' hashes, alembic version), written atomically, with the audit chain head
# taken just before it (`daulat audit anchor --json`, beside the dump as .anchor.json, so a
# restore can be checked against it); old dumps pruned.
#
#   DAULAT_STORE_URL=postgresql://daulat@db.internal:5432/daulat DAULAT_STORE_SCHEMA=daulat \
#   BACKUP_DIR=/var/backups/daulat deploy/backup.sh
#
# The password comes from libpq's own PGPASSWORD (or ~/.pgpass), TLS from the URL's
# sslmode/sslrootcert (or PGSSLMODE/PGSSLROOTCERT). Restore: docs/operations.md.
set -euo pipefail
: "${DAULAT_STORE_URL:?set DAULAT_STORE_URL (postgresql://USER@HOST:PORT/DB)}"
: "${DAULAT_STORE_SCHEMA:?set DAULAT_STORE_SCHEMA (the PostgreSQL schema of the store)}"
BACKUP_DIR=${BACKUP_DIR:-/var/backups/daulat}
KEEP_DAYS=${KEEP_DAYS:-14}
DAULAT=${DAULAT:-/opt/daulat/venv/bin/daulat}

mkdir -p "$BACKUP_DIR"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$BACKUP_DIR/daulat-$stamp.dump"
"$DAULAT" audit anchor --json --store "$DAULAT_STORE_URL" --schema "$DAULAT_STORE_SCHEMA" \
  > "$out.anchor.json"
pg_dump --format=custom --schema="$DAULAT_STORE_SCHEMA" --file="$out.part" "$DAULAT_STORE_URL"
mv "$out.part" "$out"
find "$BACKUP_DIR" -maxdepth 1 -name 'daulat-*.dump*' -mtime +"$KEEP_DAYS" -delete
echo "$out"
