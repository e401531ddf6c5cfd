-- name: flows_text
-- The `flows` view over gzip text flow logs with a header line, in the recommended format.
CREATE VIEW flows AS
SELECT "interface-id" AS interface_id, srcaddr, dstaddr, srcport, dstport, protocol, bytes, "start", "end",
       "action" AS action, "log-status" AS log_status, "pkt-srcaddr" AS pkt_srcaddr, "pkt-dstaddr" AS pkt_dstaddr,
       "az-id" AS az_id, "flow-direction" AS flow_direction
FROM read_csv('{flow_logs}/**/*.log.gz', delim = ' ', header = true, quote = '', escape = '', nullstr = '-',
    columns = {'version': 'INTEGER', 'account-id': 'VARCHAR', 'interface-id': 'VARCHAR', 'srcaddr': 'VARCHAR', 'dstaddr': 'VARCHAR',
               'srcport': 'INTEGER', 'dstport': 'INTEGER', 'protocol': 'INTEGER', 'packets': 'BIGINT', 'bytes': 'BIGINT',
               'start': 'BIGINT', 'end': 'BIGINT', 'action': 'VARCHAR', 'log-status': 'VARCHAR', 'vpc-id': 'VARCHAR',
               'subnet-id': 'VARCHAR', 'instance-id': 'VARCHAR', 'tcp-flags': 'INTEGER', 'type': 'VARCHAR',
               'pkt-srcaddr': 'VARCHAR', 'pkt-dstaddr': 'VARCHAR', 'region': 'VARCHAR', 'az-id': 'VARCHAR',
               'flow-direction': 'VARCHAR', 'traffic-path': 'INTEGER'});
