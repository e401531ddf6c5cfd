//! A month-long database scenario whose answer is known by construction (`crossaz generate
//! --scenario rds`): a Multi-AZ DB instance that fails over from 2a to 2b mid-month, a Multi-AZ DB
//! cluster read through its reader endpoint, and a single-AZ instance. `rds-truth.json` states,
//! from the design alone, each client AZ's bytes, where the writer was, and every option's
//! cross-AZ bytes.

use super::cluster::deployment_pod;
use super::cluster::{DAY, HOUR};
use super::rng::Rng;
use super::routing::{End, conversation};
use super::world::{EniKind, REGION, SubnetDef, VPC, WorkloadDef, World, ZONES};
use super::write::{self, FlowFormat};
use crate::model::time::{Ts, format_date, format_time};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

pub const NAMESPACE: &str = "orders";
pub const DAYS: i64 = 31;
/// The Multi-AZ DB instance fails over at the start of this day.
pub const FAILOVER_DAY: i64 = 15;
/// Bytes per hour from each client AZ a : b : c.
pub const WEIGHT: [u64; 3] = [5, 3, 2];
const MIB: u64 = 1 << 20;

struct Db {
    id: &'static str,
    class: &'static str,
    storage_gb: u64,
    /// Zones of its interfaces: the first is the writer (a cluster's readers follow).
    zones: &'static [usize],
    kind: &'static str,
}

const DBS: [Db; 3] = [
    Db { id: "orders-db", class: "db.m6gd.large", storage_gb: 200, zones: &[0, 1], kind: "multi-az-instance" },
    Db { id: "catalog-db", class: "db.m6gd.large", storage_gb: 100, zones: &[0, 1, 2], kind: "multi-az-cluster" },
    Db { id: "audit-db", class: "db.t4g.micro", storage_gb: 20, zones: &[2], kind: "single-az" },
];

pub fn generate(out: &Path, seed: u64, start: Ts) -> std::io::Result<u64> {
    let mut rng = Rng::new(seed);
    let mut world = World::build(&mut rng);
    // Interfaces: the sample world's three RDS interfaces become catalog-db's; the other databases
    // get subnets of their own in every AZ (their DB subnet groups), as RDS interfaces are matched
    // to instances by subnet group and AZ.
    let mut enis: BTreeMap<(&str, usize), usize> = BTreeMap::new();
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (d, db) in DBS.iter().enumerate() {
        if db.id != "catalog-db" {
            for z in 0..3 {
                world.subnets.push(SubnetDef {
                    id: format!("subnet-0db{d}{z}{}", rng.hex(10)),
                    cidr: format!("10.0.{}.0/24", 160 + 8 * d + z),
                    zone: z,
                    public: false,
                });
                groups.entry(db.id).or_default().push(world.subnets.len() - 1);
            }
        }
        for (k, &z) in db.zones.iter().enumerate() {
            let name = if db.kind == "multi-az-cluster" { format!("{}-instance-{}", db.id, k + 1) } else { db.id.to_string() };
            let i = if db.id == "catalog-db" {
                world.rds[z]
            } else {
                let mut e = world.enis[world.rds[z]].clone();
                e.id = format!("eni-0d{}", rng.hex(15));
                e.subnet = groups[db.id][z];
                e.primary = crate::model::ip::Ip::from_v4([10, 0, (160 + 8 * d + z) as u8, 10]);
                world.enis.push(e);
                world.enis.len() - 1
            };
            world.enis[i].kind = EniKind::Rds(name, k == 0);
            enis.insert((db.id, z), i);
        }
    }
    let workloads = vec![
        WorkloadDef { namespace: NAMESPACE, name: "api", kind: "Deployment", host_network: false },
        WorkloadDef { namespace: NAMESPACE, name: "auditor", kind: "Deployment", host_network: false },
    ];
    let mut pods = Vec::new();
    let mut place = |workload: usize, zone: usize, rng: &mut Rng| {
        let node = world.nodes.iter().position(|n| n.zone == zone).expect("a node per zone");
        pods.push(deployment_pod(&workloads[workload], workload, node, world.nodes[node].pool[workload], 0x6a7b8c9d00, start, rng));
        pods.len() - 1
    };
    let api: Vec<usize> = (0..3).map(|z| place(0, z, &mut rng)).collect();
    let auditor: Vec<usize> = (0..2).map(|z| place(1, z, &mut rng)).collect();
    let plan = super::cluster::Plan { workloads, services: vec![], pods, snapshot_times: vec![start], reused_ips: vec![] };
    write::network(&world, &out.join("network"), &[], start)?;
    write::snapshots(&world, &plan, &out.join("k8s"))?;
    write_databases(&world, &groups, &out.join("network"))?;

    // Bytes by design, per DB: (client zone, server zone, role) → bytes; per day, writer bytes by zone.
    let mut measured: BTreeMap<&str, BTreeMap<(usize, usize, &str), u64>> = BTreeMap::new();
    let mut writer_days: BTreeMap<&str, BTreeMap<String, BTreeMap<&str, u64>>> = BTreeMap::new();
    let mut records = Vec::new();
    let mut sport = 30_000u16;
    let mut talk = |records: &mut Vec<_>, db: &'static str, role: &'static str, client: usize, cz: usize, sz: usize, req: u64, resp: u64, t: Ts| {
        sport = if sport == 60_000 { 30_000 } else { sport + 1 };
        conversation(&world, &plan, records, End::Pod(client), End::Eni(enis[&(db, sz)]), (sport, 5432), (req, resp), t);
        *measured.entry(db).or_default().entry((cz, sz, role)).or_default() += req + resp;
        if role == "writer" {
            *writer_days.entry(db).or_default().entry(format_date(t)).or_default().entry(ZONES[sz].0).or_default() += req + resp;
        }
    };
    for h in 0..DAYS * 24 {
        let t = start + h * HOUR + 120;
        for z in 0..3 {
            let w = WEIGHT[z];
            // orders-db: every query to the writer; from 16 October the writer is the former standby in 2b.
            let writer = if h >= FAILOVER_DAY * 24 { 1 } else { 0 };
            talk(&mut records, "orders-db", "writer", api[z], z, writer, 4 * MIB * w, 12 * MIB * w, t + z as Ts);
            // catalog-db: writes to the writer in 2a, reads spread evenly over the readers in 2b and 2c.
            talk(&mut records, "catalog-db", "writer", api[z], z, 0, 2 * MIB * w, 2 * MIB * w, t + 10 + z as Ts);
            for r in [1, 2] {
                talk(&mut records, "catalog-db", "reader", api[z], z, r, MIB * w, 15 * MIB * w, t + 20 + (z * 2 + r) as Ts);
            }
        }
        for (z, &p) in auditor.iter().enumerate() {
            talk(&mut records, "audit-db", "writer", p, z, 2, 16 * MIB, MIB, t + 40 + z as Ts);
        }
    }
    records.sort_by_key(|r| r.start);
    for d in 0..DAYS {
        let day: Vec<_> = records.iter().filter(|r| r.start >= start + d * DAY && r.start < start + (d + 1) * DAY).cloned().collect();
        write::text_file(&out.join("flow-logs").join(write::text_key(start + d * DAY, 0)), &world, &day, FlowFormat::Recommended, true)?;
    }

    let mut dbs = serde_json::Map::new();
    for db in &DBS {
        let m = &measured[db.id];
        let zone = |z: usize| ZONES[z].0;
        let by = |role: Option<&str>| -> BTreeMap<&str, u64> {
            let mut out = BTreeMap::new();
            for ((cz, _, r), b) in m {
                if role.is_none_or(|x| x == *r) {
                    *out.entry(zone(*cz)).or_default() += b;
                }
            }
            out
        };
        let total = by(None);
        let cross: u64 = m.iter().filter(|((cz, sz, _), _)| cz != sz).map(|(_, b)| b).sum();
        // Reads and writes per client zone: a cluster's are measured, an instance's split 50/50.
        let split: Vec<(usize, u64, u64)> = (0..3)
            .filter(|z| total.contains_key(zone(*z)))
            .map(|z| {
                let t = total[zone(z)];
                if db.kind == "multi-az-cluster" {
                    let reads = by(Some("reader")).get(zone(z)).copied().unwrap_or(0);
                    (z, reads, t - reads)
                } else {
                    (z, t / 2, t - t / 2)
                }
            })
            .collect();
        let single = |a: usize| -> u64 { split.iter().filter(|s| s.0 != a).map(|s| s.1 + s.2).sum() };
        let cluster = |a: usize, zone_local: bool| -> u64 {
            let readers: Vec<usize> = (0..3).filter(|z| *z != a).collect();
            split
                .iter()
                .map(|&(z, reads, writes)| {
                    let w = if z != a { writes } else { 0 };
                    let r = if zone_local { 0 } else { reads * readers.iter().filter(|x| **x != z).count() as u64 / 2 };
                    w + r
                })
                .sum()
        };
        let mut options = Vec::new();
        for a in 0..3 {
            options.push(json!({"option": "single-az", "writer_az": zone(a), "reads": null, "cross_az_bytes": single(a)}));
            options.push(json!({"option": "multi-az-instance", "writer_az": zone(a), "reads": null, "cross_az_bytes": single(a),
                "after_failover_cross_az_bytes": (0..3).filter(|b| *b != a).map(single).max()}));
            if db.class != "db.t4g.micro" {
                for zl in [false, true] {
                    options.push(json!({"option": "multi-az-cluster", "writer_az": zone(a), "reads": if zl { "zone-local" } else { "reader-endpoint" },
                        "cross_az_bytes": cluster(a, zl), "after_failover_cross_az_bytes": (0..3).filter(|b| *b != a).map(|b| cluster(b, zl)).max()}));
                }
            }
        }
        let timeline = writer_days.get(db.id).cloned().unwrap_or_default();
        dbs.insert(
            db.id.into(),
            json!({
                "current_option": db.kind,
                "current_writer_az": zone(if db.id == "orders-db" { 1 } else { db.zones[0] }),
                "class": db.class,
                "storage_gb": db.storage_gb,
                "client_bytes_by_az": total,
                "writer_bytes_by_az": by(Some("writer")),
                "reader_bytes_by_az": by(Some("reader")),
                "today_cross_az_bytes": cross,
                "writer_timeline": timeline,
                "failovers": if db.id == "orders-db" { json!([{"date": format_date(start + FAILOVER_DAY * DAY), "from_az": zone(0), "to_az": zone(1)}]) } else { json!([]) },
                "options": options,
            }),
        );
    }
    let doc = json!({
        "schema": "crossaz-rds-truth-1",
        "window": {"from": format_time(start), "to": format_time(start + DAYS * DAY), "hours": DAYS * 24},
        "databases": dbs,
    });
    let mut text = serde_json::to_vec_pretty(&doc).map_err(std::io::Error::other)?;
    text.push(b'\n');
    std::fs::write(out.join("rds-truth.json"), text)?;
    Ok(records.len() as u64)
}

/// `aws rds describe-db-instances` / `describe-db-clusters` for the scenario's databases, as they
/// read after the failover (orders-db's primary in 2b, its standby in 2a).
fn write_databases(world: &World, groups: &BTreeMap<&str, Vec<usize>>, dir: &Path) -> std::io::Result<()> {
    let subnet = |i: usize| json!({"SubnetIdentifier": world.subnets[i].id, "SubnetAvailabilityZone": {"Name": ZONES[world.subnets[i].zone].0}, "SubnetStatus": "Active"});
    // catalog-db uses the cluster's private subnets (the sample world's first three private ones).
    let private: Vec<usize> = (0..world.subnets.len()).filter(|&i| !world.subnets[i].public).take(3).collect();
    let instance = |id: &str, db: &Db, az: usize, multi: bool, secondary: Option<usize>, cluster: Option<&str>| {
        let subnets: Vec<Value> = groups.get(db.id).unwrap_or(&private).iter().map(|&i| subnet(i)).collect();
        let mut v = json!({
            "DBInstanceIdentifier": id, "DBInstanceClass": db.class, "Engine": "postgres", "EngineVersion": "16.4", "DBInstanceStatus": "available",
            "Endpoint": {"Address": format!("{id}.c9akciq32.{REGION}.rds.amazonaws.com"), "Port": 5432},
            "AllocatedStorage": db.storage_gb, "StorageType": "gp3", "AvailabilityZone": ZONES[az].0, "MultiAZ": multi,
            "DBSubnetGroup": {"DBSubnetGroupName": format!("{}-subnets", db.id), "VpcId": VPC, "Subnets": subnets}
        });
        if let Some(s) = secondary {
            v["SecondaryAvailabilityZone"] = json!(ZONES[s].0);
        }
        if let Some(c) = cluster {
            v["DBClusterIdentifier"] = json!(c);
        }
        v
    };
    let catalog = &DBS[1];
    let mut instances = vec![instance("orders-db", &DBS[0], 1, true, Some(0), None)];
    let mut members = Vec::new();
    for (k, &z) in catalog.zones.iter().enumerate() {
        let id = format!("{}-instance-{}", catalog.id, k + 1);
        instances.push(instance(&id, catalog, z, true, None, Some(catalog.id)));
        members.push(json!({"DBInstanceIdentifier": id, "IsClusterWriter": k == 0, "PromotionTier": 1}));
    }
    instances.push(instance("audit-db", &DBS[2], 2, false, None, None));
    let cluster = json!({
        "DBClusterIdentifier": catalog.id, "Engine": "postgres", "EngineVersion": "16.4", "DBClusterInstanceClass": catalog.class,
        "AllocatedStorage": catalog.storage_gb, "StorageType": "gp3", "MultiAZ": true,
        "AvailabilityZones": ZONES.iter().map(|z| z.0).collect::<Vec<_>>(),
        "Endpoint": format!("{}.cluster-c9akciq32.{REGION}.rds.amazonaws.com", catalog.id),
        "ReaderEndpoint": format!("{}.cluster-ro-c9akciq32.{REGION}.rds.amazonaws.com", catalog.id),
        "DBClusterMembers": members
    });
    let write = |name: &str, v: Value| -> std::io::Result<()> {
        let mut text = serde_json::to_vec_pretty(&v).map_err(std::io::Error::other)?;
        text.push(b'\n');
        std::fs::write(dir.join(name), text)
    };
    write("rds-db-instances.json", json!({ "DBInstances": instances }))?;
    write("rds-db-clusters.json", json!({ "DBClusters": [cluster] }))
}
