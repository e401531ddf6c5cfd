-- The flow-log table over Parquet flow logs (`crossaz athena setup --format parquet`;
-- docs/athena.md). Columns are AWS's Parquet names, matched by name: a field the flow log's
-- format lacks reads as NULL. The view of athena_view.sql over it is what the query reads. Partition projection finds the objects, so no crawler or
-- MSCK REPAIR is needed. `crossaz athena setup` fills the placeholders from the bucket's layout:
--   {{database}}, {{table}}   where the table goes (the view's name with `_parquet`)
--   {{location}}              s3://bucket/prefix/AWSLogs/
--   {{projection}}            the partition projection of athena_projection.sql
CREATE EXTERNAL TABLE IF NOT EXISTS {{database}}.{{table}} (
    version int,
    account_id string,
    interface_id string,
    srcaddr string,
    dstaddr string,
    srcport int,
    dstport int,
    protocol bigint,
    packets bigint,
    bytes bigint,
    `start` bigint,
    `end` bigint,
    action string,
    log_status string,
    vpc_id string,
    subnet_id string,
    instance_id string,
    tcp_flags int,
    type string,
    pkt_srcaddr string,
    pkt_dstaddr string,
    region string,
    az_id string,
    sublocation_type string,
    sublocation_id string,
    pkt_src_aws_service string,
    pkt_dst_aws_service string,
    flow_direction string,
    traffic_path int
)
PARTITIONED BY (log_account string, log_region string, log_date string)
STORED AS PARQUET
LOCATION '{{location}}'
TBLPROPERTIES (
{{projection}}
)
