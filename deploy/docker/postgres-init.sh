#!/usr/bin/env bash
# PostgreSQL's first start (docker-entrypoint-initdb.d): one role and one database per service.
# Services never read each other's tables, so each role owns only its own database.
# KINERJA_DB_PASSWORD (compose sets it) is the development password of every role.
set -euo pipefail
password="${KINERJA_DB_PASSWORD:?set KINERJA_DB_PASSWORD}"
for svc in kehadiran tugas penilaian notifikasi; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
       -v svc="$svc" -v pw="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'svc', :'pw')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'svc') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'svc', :'svc')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'svc') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'svc') \gexec
SQL
done
