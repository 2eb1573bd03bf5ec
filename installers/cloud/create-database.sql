-- The cloud's PostgreSQL database and its two roles (docs/deploy.md). Run once as a
-- superuser:   psql -v ON_ERROR_STOP=1 -f create-database.sql
-- then set the two passwords (\password frontdesk_owner, \password frontdesk_app).
--
-- frontdesk_owner owns the schema: `frontdesk-cloud migrate` runs as it, creates the tables
-- with FORCE ROW LEVEL SECURITY and grants row access to the app role.
-- frontdesk_app is what `frontdesk-cloud serve` connects as. It must not own the tables,
-- be a superuser or have BYPASSRLS: row-level security never applies to those, and it is
-- what keeps one studio's rows from another's.
CREATE ROLE frontdesk_owner LOGIN;
CREATE ROLE frontdesk_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
CREATE DATABASE frontdesk OWNER frontdesk_owner ENCODING 'UTF8' TEMPLATE template0;
\connect frontdesk
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT ALL ON SCHEMA public TO frontdesk_owner;
GRANT USAGE ON SCHEMA public TO frontdesk_app;
