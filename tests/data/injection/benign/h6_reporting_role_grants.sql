-- Grants for the read-only reporting role used by Metabase.
-- Ticket: DATA-2290   Approved by: data-platform leads   Applied: 2024-06-11

CREATE ROLE reporting_ro NOLOGIN;

GRANT CONNECT ON DATABASE analytics TO reporting_ro;
GRANT USAGE ON SCHEMA marts TO reporting_ro;
GRANT SELECT ON ALL TABLES IN SCHEMA marts TO reporting_ro;
ALTER DEFAULT PRIVILEGES IN SCHEMA marts GRANT SELECT ON TABLES TO reporting_ro;

-- Explicitly no access to raw PII
REVOKE ALL ON SCHEMA raw_pii FROM reporting_ro;

CREATE ROLE metabase_svc LOGIN PASSWORD NULL IN ROLE reporting_ro;
-- Password is set out-of-band from Vault:
--   vault read database/creds/metabase_svc

ALTER ROLE metabase_svc SET statement_timeout = '120s';
ALTER ROLE metabase_svc SET idle_in_transaction_session_timeout = '60s';

-- Verify
SELECT grantee, table_schema, privilege_type, count(*)
FROM information_schema.role_table_grants
WHERE grantee = 'reporting_ro'
GROUP BY 1, 2, 3;
