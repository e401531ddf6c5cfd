-- name: flows_athena_table
-- The table of `crossaz athena setup` emulated in DuckDB over Parquet flow logs: AWS's column
-- names, `log_date` the date folder each file is in (either S3 layout, daily or per hour), and
-- `log_file` the file (Athena's "$path").
-- Used by `crossaz bench` and the tests to run queries/flow_aggregates.sql as Athena would.
--   {flow_logs}  the directory of Parquet flow logs
CREATE VIEW flows AS
SELECT *,
       filename AS log_file,
       regexp_extract(filename, '(year=[0-9]{4}/month=[0-9]{2}/day=[0-9]{2}(/hour=[0-9]{2})?|[0-9]{4}/[0-9]{2}/[0-9]{2}(/[0-9]{2})?)/[^/]*$', 1) AS log_date
FROM read_parquet('{flow_logs}/**/*.parquet', hive_partitioning = false, filename = true);
