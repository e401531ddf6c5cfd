-- The partition projection of every flow-log table (`crossaz athena setup`): the table
-- properties that map `log_account`, `log_region` and `log_date` to the bucket's prefixes, filled in
-- athena_table_parquet.sql and athena_table_text.sql at `{{projection}}`. Placeholders:
--   {{location_template}}     the object prefix of one account, region and date (one per layout)
--   {{accounts}}, {{regions}} the accounts and regions that deliver to the bucket (comma-separated)
--   {{date_format}}           the layout's date folders as a Java date format (daily or per hour)
--   {{date_range}}            the first date folder, then NOW
--   {{interval_unit}}         DAYS or HOURS
    'projection.enabled' = 'true',
    'projection.log_account.type' = 'enum',
    'projection.log_account.values' = '{{accounts}}',
    'projection.log_region.type' = 'enum',
    'projection.log_region.values' = '{{regions}}',
    'projection.log_date.type' = 'date',
    'projection.log_date.format' = '{{date_format}}',
    'projection.log_date.range' = '{{date_range}}',
    'projection.log_date.interval' = '1',
    'projection.log_date.interval.unit' = '{{interval_unit}}',
    'storage.location.template' = '{{location_template}}'
