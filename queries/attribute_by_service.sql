-- name: attribute_by_service
-- The same attribution as `crossaz attribute --by service`, in SQL (DuckDB), for the benchmark.
-- inputs:  flows (a view over the flow-log files, text or Parquet, with AWS's field names in
--          underscore form), and the lookup tables `crossaz bench` exports from the network
--          inventory and the Kubernetes timeline into {lookup}: owners.csv (who held each address
--          from_ts..to_ts), services.csv (which Service an address served on a port), enis.csv,
--          eni_ips.csv.
-- output:  server (namespace/name), cross_az_bytes: billed cross-AZ bytes of every conversation
--          each server served, both directions, each flow once.
-- limits:  addresses on no interface of the inventory count as external here (crossaz names them
--          `unattributed` by subnet); the benchmark data has none.
WITH
owners AS (SELECT * FROM read_csv('{lookup}/owners.csv', header = true,
    columns = {'ip': 'VARCHAR', 'from_ts': 'BIGINT', 'to_ts': 'BIGINT', 'entity': 'VARCHAR', 'zone': 'VARCHAR', 'site': 'VARCHAR', 'free_client': 'BOOLEAN', 'free_any': 'BOOLEAN'})),
services AS (SELECT * FROM read_csv('{lookup}/services.csv', header = true,
    columns = {'ip': 'VARCHAR', 'from_ts': 'BIGINT', 'to_ts': 'BIGINT', 'port': 'INTEGER', 'proto': 'INTEGER', 'service': 'VARCHAR'})),
enis AS (SELECT * FROM read_csv('{lookup}/enis.csv', header = true,
    columns = {'eni_id': 'VARCHAR', 'zone': 'VARCHAR', 'intermediary': 'BOOLEAN', 'entity': 'VARCHAR'})),
eni_ips AS (SELECT * FROM read_csv('{lookup}/eni_ips.csv', header = true, columns = {'ip': 'VARCHAR', 'eni_id': 'VARCHAR'})),
-- Interfaces the flow log covered, by day (any record, NODATA included).
logged AS (SELECT DISTINCT interface_id, "start" // 86400 AS day FROM flows WHERE interface_id IS NOT NULL),
rec AS (
    SELECT interface_id, az_id, bytes, srcport, dstport, protocol, flow_direction, "start",
        "start" // 86400 AS day,
        coalesce(pkt_srcaddr, srcaddr) AS psrc,
        coalesce(pkt_dstaddr, dstaddr) AS pdst,
        CASE WHEN flow_direction = 'egress' THEN coalesce(pkt_srcaddr, srcaddr) ELSE coalesce(pkt_dstaddr, dstaddr) END AS local_ip,
        CASE WHEN flow_direction = 'egress' THEN coalesce(pkt_dstaddr, dstaddr) ELSE coalesce(pkt_srcaddr, srcaddr) END AS remote_ip,
        CASE WHEN flow_direction = 'egress' THEN dstaddr ELSE srcaddr END AS hop_remote
    FROM flows
    WHERE log_status = 'OK' AND action = 'ACCEPT' AND bytes IS NOT NULL AND flow_direction IS NOT NULL
),
ends AS (
    SELECT r.*,
        coalesce(e.intermediary, false) AS intermediary,
        CASE WHEN e.intermediary THEN e.entity ELSE coalesce(lo.entity, '/external') END AS l_entity,
        coalesce(r.az_id, CASE WHEN e.intermediary THEN e.zone ELSE lo.zone END) AS l_zone,
        CASE WHEN e.intermediary THEN false ELSE coalesce(lo.free_client, false) END AS l_free_client,
        CASE WHEN e.intermediary THEN false ELSE coalesce(lo.free_any, false) END AS l_free_any,
        coalesce(ro.entity, '/external') AS r_entity,
        ro.zone AS r_zone,
        coalesce(ro.free_client, false) AS r_free_client,
        coalesce(ro.free_any, false) AS r_free_any,
        coalesce(ro.site, 'external') = 'external' AS r_external,
        lg.interface_id IS NOT NULL AS sender_logged
    FROM rec r
    LEFT JOIN enis e ON e.eni_id = r.interface_id
    LEFT JOIN owners lo ON lo.ip = r.local_ip AND r."start" >= lo.from_ts AND r."start" < lo.to_ts
    LEFT JOIN owners ro ON ro.ip = r.remote_ip AND r."start" >= ro.from_ts AND r."start" < ro.to_ts
    LEFT JOIN eni_ips se ON se.ip = r.hop_remote
    LEFT JOIN logged lg ON lg.interface_id = se.eni_id AND lg.day = r.day
),
-- Each flow once: the sender's egress record, or the receiver's ingress record when the sender's
-- interface was not logged that day; NAT/transit gateways' own internet legs are left out.
counted AS (
    SELECT *,
        CASE WHEN flow_direction = 'egress' THEN l_entity ELSE r_entity END AS s_entity,
        CASE WHEN flow_direction = 'egress' THEN l_free_client ELSE r_free_client END AS s_free_client,
        CASE WHEN flow_direction = 'egress' THEN r_entity ELSE l_entity END AS d_entity,
        CASE WHEN flow_direction = 'egress' THEN r_free_client ELSE l_free_client END AS d_free_client,
        l_free_any OR r_free_any AS free_any
    FROM ends
    WHERE NOT (intermediary AND r_external)
      AND (flow_direction = 'egress' OR r_external OR intermediary OR NOT sender_logged)
),
served AS (
    SELECT c.*, rs.service AS d_service, ss.service AS s_service
    FROM counted c
    LEFT JOIN services rs ON rs.ip = c.pdst AND rs.port = c.dstport AND rs.proto = coalesce(c.protocol, 6)
        AND c."start" >= rs.from_ts AND c."start" < rs.to_ts
    LEFT JOIN services ss ON ss.ip = c.psrc AND ss.port = c.srcport AND ss.proto = coalesce(c.protocol, 6)
        AND c."start" >= ss.from_ts AND c."start" < ss.to_ts
),
classified AS (
    SELECT bytes,
        CASE WHEN d_service IS NOT NULL THEN d_service
             WHEN s_service IS NOT NULL THEN s_service
             WHEN srcport IS NULL OR dstport IS NULL OR dstport <= srcport THEN d_entity
             ELSE s_entity END AS server,
        free_any OR CASE WHEN d_service IS NOT NULL THEN s_free_client
             WHEN s_service IS NOT NULL THEN d_free_client
             WHEN srcport IS NULL OR dstport IS NULL OR dstport <= srcport THEN s_free_client
             ELSE d_free_client END AS free_path,
        r_external, l_zone, r_zone
    FROM served
)
SELECT server, sum(bytes)::UBIGINT AS cross_az_bytes
FROM classified
WHERE NOT r_external AND l_zone IS NOT NULL AND r_zone IS NOT NULL AND l_zone <> r_zone AND NOT free_path
GROUP BY server
ORDER BY server;
