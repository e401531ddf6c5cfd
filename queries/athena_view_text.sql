-- The view over a plain-text flow-log table with the Parquet table's columns
-- (`crossaz athena setup --format text`): fields the format lacks are NULL, so the
-- pre-aggregation runs unchanged over either. Placeholders:
--   {{database}}, {{view}}, {{table}}   the view, and the text table under it
--   {{columns}}                         every Parquet column, from the table or as a typed NULL
CREATE OR REPLACE VIEW {{database}}.{{view}} AS
SELECT
{{columns}},
    log_account,
    log_region,
    log_date
FROM {{database}}.{{table}}
