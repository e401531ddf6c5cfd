//! `crossaz generate`: a deterministic month of a multi-AZ EKS cluster in ap-northeast-2, written
//! in the formats AWS and kubectl write, with its ground truth (`truth.json`).

pub mod bill;
pub mod cluster;
pub mod rds;
pub mod real;
pub mod rng;
pub mod routing;
pub mod traffic;
pub mod world;
pub mod write;

use crate::model::time::{Ts, format_time};
use crate::pricing::{AWS_INTER_AZ, cost, round_usd};
use rayon::prelude::*;
use serde_json::{Value, json};
use std::path::Path;
use traffic::{Ctx, Truth};
pub use write::FlowFormat;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Unlogged {
    /// The RDS interfaces (a database subnet outside the flow log).
    Rds,
    /// The load balancers' interfaces.
    Elb,
    /// The NAT gateways' interfaces (a flow log on the nodes' subnets only).
    Nat,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub seed: u64,
    pub start: Ts,
    pub days: u32,
    /// Multiplies every traffic rate (1 = the compact sample month).
    pub scale: u64,
    pub format: FlowFormat,
    /// Text files start with a header line naming the fields, as AWS writes them.
    pub header: bool,
    /// Split each day's records over this many files.
    pub files_per_day: usize,
    pub unlogged: Vec<Unlogged>,
    /// The real-account day's shapes (node churn, other VPCs in the bucket, a second flow log, …).
    pub real_account: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            seed: 2026,
            start: 1_790_812_800, // 2026-10-01T00:00:00Z
            days: 31,
            scale: 1,
            format: FlowFormat::Recommended,
            header: true,
            files_per_day: 1,
            unlogged: Vec::new(),
            real_account: false,
        }
    }
}

/// The bundled demo (`fixtures/demo`): the sample month, ending with a day shaped like a real account.
pub fn demo_options() -> Options {
    Options { real_account: true, ..Options::default() }
}

#[derive(Debug, Default)]
pub struct Summary {
    pub records: u64,
    pub flow_log_files: usize,
    pub snapshots: usize,
    pub flow_log_bytes: u64,
}

fn world_and_plan(opts: &Options) -> (world::World, cluster::Plan, Option<real::Shapes>) {
    let mut rng = rng::Rng::new(opts.seed);
    let mut world = world::World::build(&mut rng);
    for u in &opts.unlogged {
        for e in &mut world.enis {
            let hit = match u {
                Unlogged::Rds => matches!(e.kind, world::EniKind::Rds(..)),
                Unlogged::Elb => matches!(e.kind, world::EniKind::Alb(_) | world::EniKind::Nlb(_)),
                Unlogged::Nat => matches!(e.kind, world::EniKind::Nat(_)),
            };
            if hit {
                e.logged = false;
            }
        }
    }
    // The second AZ's private subnets route to the first AZ's NAT gateway from the 12th to the 16th.
    if opts.days > 16 {
        let nat = world.nat_by_zone[0];
        world.nat_detours.push((1, nat, opts.start + 11 * cluster::DAY, opts.start + 16 * cluster::DAY));
    }
    // A node's records are skipped for ten minutes on the 17th (SKIPDATA).
    let skip_from = opts.start + 16 * cluster::DAY + 5 * cluster::HOUR;
    let eni = world.nodes[3].primary_eni;
    world.enis[eni].life.skipped.push((skip_from, skip_from + 10 * cluster::MINUTE));
    let mut plan = cluster::plan(&world, &mut rng, opts.start, opts.days);
    let shapes = opts.real_account.then(|| real::apply(&mut world, &mut plan, &mut rng, opts.start, opts.days));
    (world, plan, shapes)
}

/// Records of the whole window at scale 1 (to size benchmark data): generated, not written.
pub fn records_per_month_at_scale_one(opts: &Options) -> u64 {
    scale_one(opts).0
}

/// What the generator makes of `opts` at scale 1, as (records, a fingerprint of every record's
/// interface, addresses, bytes and time): benchmark data made by another generator is stale.
pub fn scale_one(opts: &Options) -> (u64, u64) {
    let (world, plan, shapes) = world_and_plan(opts);
    let ctx = Ctx { world: &world, plan: &plan, seed: opts.seed, scale: 1, real: shapes.as_ref() };
    (0..Ts::from(opts.days) * 24)
        .into_par_iter()
        .map(|h| {
            let recs = traffic::hour(&ctx, opts.start + h * cluster::HOUR).0;
            let print = recs.iter().fold(0u64, |acc, r| {
                let x =
                    (r.bytes ^ (r.start as u64).rotate_left(17) ^ u64::from(r.eni).rotate_left(41) ^ (r.pkt_dst.0 as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                acc.wrapping_add(x)
            });
            (recs.len() as u64, print)
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1.wrapping_add(b.1)))
}

pub fn generate(opts: &Options, out: &Path) -> std::io::Result<Summary> {
    let (world, plan, shapes) = world_and_plan(opts);
    let net_times = shapes.as_ref().map(|s| s.network_snapshots.clone()).unwrap_or_default();
    write::network(&world, &out.join("network"), &net_times, opts.start)?;
    let snapshots = write::snapshots(&world, &plan, &out.join("k8s"))?;
    let ctx = Ctx { world: &world, plan: &plan, seed: opts.seed, scale: opts.scale, real: shapes.as_ref() };
    let flow_dir = out.join("flow-logs");
    let per_day: Vec<std::io::Result<(u64, usize, u64, Truth)>> = (0..opts.days)
        .into_par_iter()
        .map(|d| {
            let day = opts.start + Ts::from(d) * cluster::DAY;
            let parts = opts.files_per_day.clamp(1, 24);
            let mut truth = Truth::default();
            let mut records = 0u64;
            let mut bytes = 0u64;
            let mut extra_files = 0;
            for part in 0..parts {
                let hours = (part * 24 / parts)..((part + 1) * 24 / parts);
                let mut recs = Vec::new();
                for h in hours {
                    let (r, t) = traffic::hour(&ctx, day + h as Ts * cluster::HOUR);
                    recs.extend(r);
                    truth.merge(t);
                }
                records += recs.len() as u64;
                if let Some(real) = &shapes {
                    let (n, b, f) = write::real_account_extras(&flow_dir, &world, real, opts.seed, day, part, &recs, &mut truth)?;
                    records += n;
                    bytes += b;
                    extra_files += f;
                }
                let path = match opts.format {
                    FlowFormat::Parquet => {
                        let p = flow_dir.join(write::parquet_key(day, part));
                        write::parquet_file(&p, &world, &recs)?;
                        p
                    }
                    f => {
                        let p = flow_dir.join(write::text_key(day, part));
                        write::text_file(&p, &world, &recs, f, opts.header)?;
                        p
                    }
                };
                bytes += std::fs::metadata(&path)?.len();
            }
            Ok((records, parts + extra_files, bytes, truth))
        })
        .collect();
    let mut summary = Summary { snapshots, ..Summary::default() };
    let mut truth = Truth::default();
    for r in per_day {
        let (n, files, bytes, t) = r?;
        summary.records += n;
        summary.flow_log_files += files;
        summary.flow_log_bytes += bytes;
        truth.merge(t);
    }
    write_billing(out, &truth)?;
    let bill = bill::write(out, &world, &truth)?;
    let mut doc = truth_json(opts, &plan, &truth, summary.records);
    doc["bill"] = bill;
    doc["paths"] = paths_json(&world, &plan, &truth.paths);
    let mut text = serde_json::to_vec_pretty(&doc).map_err(std::io::Error::other)?;
    text.push(b'\n');
    std::fs::write(out.join("truth.json"), text)?;
    Ok(summary)
}

/// Billed inter-AZ transfer the flow logs do not see: another VPC of the same account.
pub const UNEXPLAINED_SHARE: &str = "0.045";

/// The month as Cost Explorer bills it (`billing/cost-explorer.json`): each day's explained bytes,
/// plus a share from elsewhere, out and in at $0.01/GB, a little public-IP and NAT traffic.
fn write_billing(out: &Path, truth: &Truth) -> std::io::Result<()> {
    use rust_decimal::Decimal;
    use std::str::FromStr;
    let extra = Decimal::ONE + Decimal::from_str(UNEXPLAINED_SHARE).expect("a decimal");
    let cent = Decimal::from_str("0.01").expect("a decimal");
    let amount = |d: Decimal, unit: &str| json!({"Amount": d.round_dp(10).normalize().to_string(), "Unit": unit});
    let results: Vec<Value> = truth
        .daily_billed
        .iter()
        .map(|(day, bytes)| {
            let gb = Decimal::from(*bytes) / Decimal::from(crate::pricing::GB) * extra;
            let group = |op: &str, gb: Decimal| {
                json!({"Keys": ["APN2-DataTransfer-Regional-Bytes", op], "Metrics": {"UnblendedCost": amount(gb * cent, "USD"), "UsageQuantity": amount(gb, "GB")}})
            };
            let public = Decimal::from(day.rem_euclid(7) + 1) / Decimal::from(4);
            json!({
                "TimePeriod": {"Start": crate::model::time::format_date(crate::model::time::day_start(*day)), "End": crate::model::time::format_date(crate::model::time::day_start(*day + 1))},
                "Total": {},
                "Groups": [group("InterZone-In", gb), group("InterZone-Out", gb), group("PublicIP-Out", public),
                           json!({"Keys": ["APN2-NatGateway-Bytes", "NatGateway"], "Metrics": {"UnblendedCost": amount(Decimal::from(3) * Decimal::from_str("0.059").expect("a decimal"), "USD"), "UsageQuantity": amount(Decimal::from(3), "GB")}})],
                "Estimated": false
            })
        })
        .collect();
    let doc = json!({
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "USAGE_TYPE"}, {"Type": "DIMENSION", "Key": "OPERATION"}],
        "ResultsByTime": results,
        "DimensionValueAttributes": []
    });
    let dir = out.join("billing");
    std::fs::create_dir_all(&dir)?;
    let mut text = serde_json::to_vec_pretty(&doc).map_err(std::io::Error::other)?;
    text.push(b'\n');
    std::fs::write(dir.join("cost-explorer.json"), text)
}

fn conversations_json(map: &std::collections::BTreeMap<traffic::TruthKey, (u64, u64)>) -> Vec<Value> {
    map.iter()
        .map(|(k, (to_s, to_c))| {
            json!({
                "client_kind": k.client.0, "client_namespace": k.client.1, "client": k.client.2,
                "server_kind": k.server.0, "server_namespace": k.server.1, "server": k.server.2,
                "client_az_id": k.client_az_id, "server_az_id": k.server_az_id, "class": k.class,
                "pricing_rule": (!k.rule.is_empty()).then_some(k.rule),
                "free_reason": (k.class == "cross-az-free").then_some(k.rule),
                "bytes_to_server": to_s, "bytes_to_client": to_c
            })
        })
        .collect()
}

/// The network paths as built: what `whatif paths` must find (docs/paths.md).
fn paths_json(world: &world::World, plan: &cluster::Plan, p: &traffic::PathTruth) -> Value {
    // Zones of the queue's pods in the last snapshot: where the NLB's targets are.
    let last = plan.snapshot_times.last().copied().unwrap_or(0);
    let queue_zones: std::collections::BTreeMap<&str, u64> =
        plan.pods.iter().filter(|p| p.workload == cluster::W_QUEUE && p.alive(last)).fold(Default::default(), |mut m, p| {
            *m.entry(world::ZONES[world.nodes[p.node].zone].0).or_default() += 1;
            m
        });
    let nat_zone = |id: &str| {
        world.enis.iter().find_map(|e| match &e.kind {
            world::EniKind::Nat(n) if n == id => Some(world::ZONES[e.zone].0),
            _ => None,
        })
    };
    json!({
        "nat_gateways": world.enis.iter().filter_map(|e| match &e.kind { world::EniKind::Nat(id) => Some(json!({"id": id, "zone": world::ZONES[e.zone].0})), _ => None }).collect::<Vec<_>>(),
        "nat_detours": world.nat_detours.iter().map(|(z, nat, from, to)| json!({"zone": world::ZONES[*z].0, "nat_interface": world.enis[*nat].id, "from": format_time(*from), "to": format_time(*to)})).collect::<Vec<_>>(),
        "lb_second_hops": p.second_hops,
        "nlb_cross_zone": p.nlb_cross_zone.iter().map(|((lb, svc), b)| json!({"load_balancer": lb, "service": svc, "bytes": b})).collect::<Vec<_>>(),
        "nlb_clients": p.nlb_clients.iter().map(|((lb, zone), b)| json!({"load_balancer": lb, "client_az": zone, "bytes": b})).collect::<Vec<_>>(),
        "nlb_zones": world::ZONES.iter().map(|z| z.0).collect::<Vec<_>>(),
        "queue_pods_by_zone_at_last_snapshot": queue_zones,
        "nat": p.nat.iter().map(|((nat, zone), b)| json!({"nat": nat, "nat_az": nat_zone(nat), "client_az": zone, "bytes": b})).collect::<Vec<_>>(),
        "nat_services": p.nat_services.iter().map(|((svc, nat, zone), b)| json!({"service": svc, "nat": nat, "nat_az": nat_zone(nat), "client_az": zone, "bytes": b})).collect::<Vec<_>>(),
    })
}

fn truth_json(opts: &Options, plan: &cluster::Plan, truth: &Truth, records: u64) -> Value {
    let mut by_class: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for (k, (a, b)) in &truth.conversations {
        *by_class.entry(k.class).or_default() += a + b;
    }
    let billed = by_class.get("cross-az-billed").copied().unwrap_or(0);
    let mut recs = serde_json::Map::new();
    recs.insert("total".into(), json!(records));
    for (k, v) in &truth.records {
        recs.insert((*k).into(), json!(v));
    }
    json!({
        "schema": "crossaz-truth-1",
        "scenario": {
            "seed": opts.seed, "days": opts.days, "scale": opts.scale, "format": format!("{:?}", opts.format).to_lowercase(),
            "header": opts.header, "files_per_day": opts.files_per_day,
            "unlogged": opts.unlogged.iter().map(|u| format!("{u:?}").to_lowercase()).collect::<Vec<_>>()
        },
        "window": {"from": format_time(opts.start), "to": format_time(opts.start + Ts::from(opts.days) * cluster::DAY)},
        "records": Value::Object(recs),
        "bytes": by_class,
        "cross_az_cost_usd": round_usd(cost(billed, AWS_INTER_AZ.both_sides())).to_string(),
        "billing": {
            "unexplained_share": UNEXPLAINED_SHARE,
            "daily_billed_bytes": truth.daily_billed.iter().map(|(d, b)| (crate::model::time::format_date(crate::model::time::day_start(*d)), *b)).collect::<std::collections::BTreeMap<_, _>>()
        },
        "other_vpcs": truth.other_vpcs,
        "teams": {
            "workloads": plan.workloads.iter().filter_map(|w| cluster::team(w.namespace, w.name).map(|t| (format!("{}/{}", w.namespace, w.name), t))).collect::<std::collections::BTreeMap<_, _>>(),
            "services": plan.services.iter().filter_map(|s| { let w = &plan.workloads[s.workload]; cluster::team(w.namespace, w.name).map(|t| (format!("{}/{}", s.namespace, s.name), t)) }).collect::<std::collections::BTreeMap<_, _>>(),
        },
        "reused_ips": plan.reused_ips.iter().map(|(ip, t)| json!({"ip": ip.to_string(), "at": format_time(*t)})).collect::<Vec<_>>(),
        "conversations": conversations_json(&truth.conversations),
        "node_level_conversations": conversations_json(&truth.node_level),
        "deleted_interfaces": truth.deleted_interfaces.iter().map(|(id, c)| (id.clone(), Value::Array(conversations_json(c)))).collect::<serde_json::Map<_, _>>(),
    })
}
