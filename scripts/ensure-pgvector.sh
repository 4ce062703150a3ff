#!/usr/bin/env bash
# The adoption tests build pgvector-era databases with the real extension: install pgvector 0.8.6 into the
# local PostgreSQL (from ../shared/pgvector, about 10 s, idempotent) when the server does not offer it yet.
set -euo pipefail
cd "$(dirname "$0")/.."
url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
admin="${url%/*}/postgres"
if psql "$admin" -tAc "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'" 2>/dev/null | grep -q 1; then
  exit 0
fi
if [ ! -x ../shared/pgvector/install ] && [ ! -f ../shared/pgvector/install ]; then
  echo "pgvector is not installed in PostgreSQL and ../shared/pgvector/install is missing: the adoption tests will fail" >&2
  exit 0
fi
echo "installing pgvector into the local PostgreSQL (../shared/pgvector/install)" >&2
bash ../shared/pgvector/install >&2
