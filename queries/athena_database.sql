-- crossaz's Athena database (`crossaz athena setup`; docs/athena.md). Placeholder:
--   {{database}}  the database name
CREATE DATABASE IF NOT EXISTS {{database}}
