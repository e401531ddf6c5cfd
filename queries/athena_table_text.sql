-- The flow-log table over plain-text flow logs (`crossaz athena setup --format text`;
-- docs/athena.md): the space-separated fields of the flow log's format, in its order, after the
-- header line; `-` reads as NULL. The view of athena_view.sql gives it AWS's Parquet names.
-- `crossaz athena setup` fills the placeholders:
--   {{database}}, {{table}}   where the table goes (the view's name with `_text`)
--   {{columns}}               the format's fields with underscores, typed as in the Parquet table
--   {{location}}, {{projection}}  as in athena_table_parquet.sql
CREATE EXTERNAL TABLE IF NOT EXISTS {{database}}.{{table}} (
{{columns}}
)
PARTITIONED BY (log_account string, log_region string, log_date string)
ROW FORMAT DELIMITED FIELDS TERMINATED BY ' ' NULL DEFINED AS '-'
LOCATION '{{location}}'
TBLPROPERTIES (
    'skip.header.line.count' = '1',
{{projection}}
)
