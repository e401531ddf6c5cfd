-- The view the pre-aggregation reads (`crossaz athena setup`), over the table of either file
-- format: every Parquet column (fields a text format lacks as typed NULLs), the partitions, and
-- `log_file`, the object each row came from (Athena's hidden "$path"), which names its flow log.
-- Placeholders:
--   {{database}}, {{view}}, {{table}}   the view, and the table under it
--   {{columns}}                         every Parquet column, from the table or as a typed NULL
CREATE OR REPLACE VIEW {{database}}.{{view}} AS
SELECT
{{columns}},
    log_account,
    log_region,
    log_date,
    "$path" AS log_file
FROM {{database}}.{{table}}
