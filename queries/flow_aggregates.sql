-- crossaz's pre-aggregation of VPC flow logs (docs/athena.md): one SELECT that runs unchanged on
-- Amazon Athena (Trino) and on DuckDB, over a table with AWS's Parquet column names. It keeps what
-- the attribution rules read and sums the rest; `crossaz athena sql` fills the placeholders:
--   {{table}}            the view of `crossaz athena setup` (DuckDB: a view with the same columns);
--                        its `log_file` names each row's object, and so its flow log
--   {{from}}, {{to}}     the window, Unix seconds: start >= from and start < to
--   {{listening_ports}}  every Service, target and NodePort of the window (comma-separated); a
--                        port outside it matters only by being the lower one of its record
--   {{keep_all_ports}}   1 when an EndpointSlice without ports makes every port a Service's, else 0
--   {{log_date_ranges}}  the date folders that can hold the window's records, in each layout of
--                        `crossaz athena setup` (an hour's margin each side); the partition filter
SELECT
    NULLIF(regexp_extract(log_file, '_(fl-[0-9a-f]+)_', 1), '') AS flow_log_id,
    interface_id,
    account_id,
    vpc_id,
    subnet_id,
    instance_id,
    az_id,
    flow_direction,
    action,
    log_status,
    srcaddr,
    dstaddr,
    pkt_srcaddr,
    pkt_dstaddr,
    protocol,
    pkt_src_aws_service,
    pkt_dst_aws_service,
    CASE
        WHEN srcport IS NULL THEN NULL
        WHEN {{keep_all_ports}} = 1 OR srcport IN ({{listening_ports}}) OR srcport <= dstport OR dstport IS NULL THEN srcport
        ELSE 65535
    END AS srcport,
    CASE
        WHEN dstport IS NULL THEN NULL
        WHEN {{keep_all_ports}} = 1 OR dstport IN ({{listening_ports}}) OR dstport <= srcport OR srcport IS NULL THEN dstport
        ELSE 65535
    END AS dstport,
    start - (start % 60) AS start_minute,
    min(start) AS "start",
    max("end") AS "end",
    CAST(sum(bytes) AS BIGINT) AS bytes,
    CAST(sum(packets) AS BIGINT) AS packets,
    count(*) AS records
FROM {{table}}
WHERE ({{log_date_ranges}})
    AND start >= {{from}} AND start < {{to}}
GROUP BY
    NULLIF(regexp_extract(log_file, '_(fl-[0-9a-f]+)_', 1), ''),
    interface_id, account_id, vpc_id, subnet_id, instance_id, az_id, flow_direction, action, log_status,
    srcaddr, dstaddr, pkt_srcaddr, pkt_dstaddr, protocol, pkt_src_aws_service, pkt_dst_aws_service,
    CASE
        WHEN srcport IS NULL THEN NULL
        WHEN {{keep_all_ports}} = 1 OR srcport IN ({{listening_ports}}) OR srcport <= dstport OR dstport IS NULL THEN srcport
        ELSE 65535
    END,
    CASE
        WHEN dstport IS NULL THEN NULL
        WHEN {{keep_all_ports}} = 1 OR dstport IN ({{listening_ports}}) OR dstport <= srcport OR srcport IS NULL THEN dstport
        ELSE 65535
    END,
    start - (start % 60)
