-- Runs once, when the Postgres container initialises an empty data directory (docker-entrypoint-initdb.d).
-- The tables themselves come from the TypeORM migrations (`pnpm db:migrate`, and at every service start).
-- No pgvector: vectors live in Qdrant, Postgres keeps text, metadata and visibility.

-- gen_random_uuid() is built in from PostgreSQL 13; pgcrypto keeps older servers working too.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- Timestamps are stored as timestamptz and shown in UTC.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET timezone TO %L', current_database(), 'UTC');
END
$$;
