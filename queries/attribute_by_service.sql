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
--          `unattributed` by subnet); the benchmark data has none. An interface's addresses
--          (eni_ips.csv) are those of the inventory, without time: right while no address that
--          a SKIPDATA interface held moves to another.
WITH
owners AS (SELECT * FROM read_csv('{lookup}/owners.csv', header = true,
    columns = {'ip': 'VARCHAR', 'from_ts': 'BIGINT', 'to_ts': 'BIGINT', 'entity': 'VARCHAR', 'zone': 'VARCHAR', 'site': 'VARCHAR', 'free_client': 'BOOLEAN', 'free_any': 'BOOLEAN'})),
services AS (SELECT * FROM read_csv('{lookup}/services.csv', header = true,
    columns = {'ip': 'VARCHAR', 'from_ts': 'BIGINT', 'to_ts': 'BIGINT', 'port': 'INTEGER', 'proto': 'INTEGER', 'service': 'VARCHAR'})),
enis AS (SELECT * FROM read_csv('{lookup}/enis.csv', header = true,
    columns = {'eni_id': 'VARCHAR', 'zone': 'VARCHAR', 'intermediary': 'BOOLEAN', 'entity': 'VARCHAR'})),
eni_ips AS (SELECT * FROM read_csv('{lookup}/eni_ips.csv', header = true, columns = {'ip': 'VARCHAR', 'eni_id': 'VARCHAR'})),
-- Addresses logged sending, minute by minute: each accepted egress record of an interface that is
-- not a gateway marks srcaddr and pkt-srcaddr from its start to its end (at most 20 minutes).
sent AS (
    SELECT f.srcaddr AS ip, f.pkt_srcaddr AS pkt_ip, f."start" // 60 AS m0,
        least(greatest(coalesce(f."end", f."start"), f."start") // 60, f."start" // 60 + 20) AS m1
    FROM flows f LEFT JOIN enis e ON e.eni_id = f.interface_id
    WHERE f.flow_direction = 'egress' AND f.log_status = 'OK' AND f.action = 'ACCEPT'
      AND f.bytes IS NOT NULL AND NOT coalesce(e.intermediary, false)
),
sending AS (
    SELECT DISTINCT ip, unnest(range(m0, m1 + 1)) AS m FROM (
        SELECT ip, m0, m1 FROM sent WHERE ip IS NOT NULL
        UNION ALL SELECT pkt_ip, m0, m1 FROM sent WHERE pkt_ip IS NOT NULL AND pkt_ip <> ip)
),
-- SKIPDATA windows, by the addresses of the interface that reported them.
lossy AS (
    SELECT ei.ip, k."start" AS s, greatest(coalesce(k."end", k."start"), k."start") AS e
    FROM flows k JOIN eni_ips ei ON ei.eni_id = k.interface_id
    WHERE k.log_status = 'SKIPDATA' AND k."start" IS NOT NULL
),
rec AS (
    SELECT interface_id, az_id, bytes, srcport, dstport, protocol, flow_direction, "start",
        coalesce(pkt_srcaddr, srcaddr) AS psrc,
        coalesce(pkt_dstaddr, dstaddr) AS pdst,
        CASE WHEN flow_direction = 'egress' THEN coalesce(pkt_srcaddr, srcaddr) ELSE coalesce(pkt_dstaddr, dstaddr) END AS local_ip,
        CASE WHEN flow_direction = 'egress' THEN coalesce(pkt_dstaddr, dstaddr) ELSE coalesce(pkt_srcaddr, srcaddr) END AS remote_ip,
        CASE WHEN flow_direction = 'egress' THEN dstaddr ELSE srcaddr END AS hop_remote,
        "start" // 60 AS minute
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
        -- The sender was logged sending within a minute, and its records there are complete.
        (n0.ip IS NOT NULL OR n1.ip IS NOT NULL OR n2.ip IS NOT NULL)
            AND NOT EXISTS (SELECT 1 FROM lossy l WHERE l.ip = r.hop_remote AND l.s <= r.minute * 60 + 59 AND r.minute * 60 <= l.e)
            AS sender_logged
    FROM rec r
    LEFT JOIN enis e ON e.eni_id = r.interface_id
    LEFT JOIN owners lo ON lo.ip = r.local_ip AND r."start" >= lo.from_ts AND r."start" < lo.to_ts
    LEFT JOIN owners ro ON ro.ip = r.remote_ip AND r."start" >= ro.from_ts AND r."start" < ro.to_ts
    LEFT JOIN sending n0 ON n0.ip = r.hop_remote AND n0.m = r.minute - 1
    LEFT JOIN sending n1 ON n1.ip = r.hop_remote AND n1.m = r.minute
    LEFT JOIN sending n2 ON n2.ip = r.hop_remote AND n2.m = r.minute + 1
),
-- Each flow once: the sender's egress record, or the receiver's ingress record when the sender
-- was not logged at that minute; NAT/transit gateways' own internet legs are left out.
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
