-- name: flows_parquet
-- The `flows` view over Parquet flow logs as AWS delivers them (underscore column names).
CREATE VIEW flows AS
SELECT interface_id, srcaddr, dstaddr, srcport, dstport, protocol, bytes, "start", "end", action, log_status,
       pkt_srcaddr, pkt_dstaddr, az_id, flow_direction
FROM read_parquet('{flow_logs}/**/*.parquet');
