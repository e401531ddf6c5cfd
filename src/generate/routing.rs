//! A one-day routing scenario whose answer is known by construction (`crossaz generate
//! --scenario routing`): Services with chosen replica placements, a `frontend` client in every
//! zone sending a skewed share of requests, and kube-proxy's uniform spread today. `routing-truth.json`
//! states, from the design alone, what each routing mode leaves crossing zones.

use super::cluster::{DAY, HOUR, deployment_pod};
use super::rng::Rng;
use super::traffic::GenRecord;
use super::world::{ServiceDef, WorkloadDef, World, ZONES};
use super::write::{self, FlowFormat};
use crate::model::ip::Ip;
use crate::model::time::{Ts, format_time};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

pub const NAMESPACE: &str = "store";
/// Requests per client zone a : b : c (a skewed cluster: most users land in zone a).
pub const CLIENT_WEIGHT: [u64; 3] = [6, 3, 1];
const REQUEST: u64 = 64 << 20;
const RESPONSE_FACTOR: u64 = 3;

/// What a mode leaves crossing zones for one client zone, by design.
#[derive(Clone, Copy)]
enum Crosses {
    /// Every byte stays in the client's zone.
    Nothing,
    /// Every byte crosses.
    All,
    /// kube-proxy's endpoint set does not change: the measured bytes stay.
    AsToday,
}

struct Design {
    name: &'static str,
    /// Zone of each replica.
    replicas: &'static [usize],
    /// Served to the NLB (not steerable) rather than to `frontend`.
    behind_nlb: bool,
    auto: Result<[usize; 3], &'static str>,
    auto_crosses: [Crosses; 3],
    prefer_close_crosses: [Crosses; 3],
    /// Where the smallest fix adds replicas, for refused hints.
    fix: Option<&'static str>,
    /// `trafficDistribution` already set: clients keep to their zone today.
    active: Option<&'static str>,
}

const fn designs() -> [Design; 6] {
    use Crosses::*;
    [
        // 3 per zone, equal CPU: hints stay in-zone.
        Design {
            name: "checkout",
            replicas: &[0, 0, 0, 1, 1, 1, 2, 2, 2],
            behind_nlb: false,
            auto: Ok([3, 3, 3]),
            auto_crosses: [Nothing; 3],
            prefer_close_crosses: [Nothing; 3],
            fix: None,
            active: None,
        },
        // 2 in a, 1 in b, none in c: Auto hints one a-replica for c; PreferClose sends c cluster-wide.
        Design {
            name: "cart",
            replicas: &[0, 0, 1],
            behind_nlb: false,
            auto: Ok([1, 1, 1]),
            auto_crosses: [Nothing, Nothing, All],
            prefer_close_crosses: [Nothing, Nothing, AsToday],
            fix: None,
            active: None,
        },
        // 2 replicas, 3 zones: Auto refused.
        Design {
            name: "ledger",
            replicas: &[0, 1],
            behind_nlb: false,
            auto: Err("insufficient-endpoints"),
            auto_crosses: [AsToday; 3],
            prefer_close_crosses: [Nothing, Nothing, AsToday],
            fix: Some("1 in ap-northeast-2c"),
            active: None,
        },
        // 5 replicas, 3 equal zones: the minimum of 2 per zone needs 6.
        Design {
            name: "search",
            replicas: &[0, 0, 1, 1, 2],
            behind_nlb: false,
            auto: Err("overload-threshold"),
            auto_crosses: [AsToday; 3],
            prefer_close_crosses: [Nothing; 3],
            fix: Some("1 in ap-northeast-2c"),
            active: None,
        },
        // Behind an NLB in IP mode: routing modes cannot steer it.
        Design {
            name: "gateway",
            replicas: &[0, 1, 2],
            behind_nlb: true,
            auto: Ok([1, 1, 1]),
            auto_crosses: [AsToday; 3],
            prefer_close_crosses: [AsToday; 3],
            fix: None,
            active: None,
        },
        // PreferClose already on, a replica per zone: every client keeps to its zone; nothing left to save.
        Design {
            name: "catalog",
            replicas: &[0, 1, 2],
            behind_nlb: false,
            auto: Ok([1, 1, 1]),
            auto_crosses: [AsToday; 3],
            prefer_close_crosses: [AsToday; 3],
            fix: None,
            active: Some("PreferClose"),
        },
    ]
}

pub fn generate(out: &Path, seed: u64, start: Ts) -> std::io::Result<u64> {
    let mut rng = Rng::new(seed);
    let world = World::build(&mut rng);
    let designs = designs();
    let mut workloads = vec![WorkloadDef { namespace: NAMESPACE, name: "frontend", kind: "Deployment", host_network: false }];
    let mut services = Vec::new();
    for (i, d) in designs.iter().enumerate() {
        workloads.push(WorkloadDef { namespace: NAMESPACE, name: d.name, kind: "Deployment", host_network: false });
        services.push(ServiceDef {
            namespace: NAMESPACE,
            name: d.name,
            workload: i + 1,
            ports: vec![("http", 8080, 8080 + i as u16, "TCP")],
            node_port: None,
            annotations: vec![],
            traffic_distribution: d.active,
            load_balancer: false,
        });
    }
    // Pods: replicas alternate between a zone's two nodes; IPs come from the nodes' pools.
    let mut next_ip = vec![0usize; world.nodes.len()];
    let mut pods = Vec::new();
    let mut place = |workload: usize, zone: usize, k: usize, rng: &mut Rng| {
        let node = world.nodes.iter().enumerate().filter(|(_, n)| n.zone == zone).map(|(i, _)| i).nth(k % 2).expect("two nodes per zone");
        let (ip, eni) = world.nodes[node].pool[next_ip[node]];
        next_ip[node] += 1;
        pods.push(deployment_pod(&workloads[workload], workload, node, (ip, eni), 0x5f6c7d8e00, start, rng));
        pods.len() - 1
    };
    let clients: Vec<usize> = (0..3).map(|z| place(0, z, 0, &mut rng)).collect();
    let mut endpoints: Vec<Vec<usize>> = Vec::new();
    for (i, d) in designs.iter().enumerate() {
        let mut per_zone = [0usize; 3];
        endpoints.push(
            d.replicas
                .iter()
                .map(|z| {
                    per_zone[*z] += 1;
                    place(i + 1, *z, per_zone[*z] - 1, &mut rng)
                })
                .collect(),
        );
    }
    let plan = super::cluster::Plan { workloads, services, pods, snapshot_times: vec![start], reused_ips: vec![] };
    write::network(&world, &out.join("network"), &[], start)?;
    write::snapshots(&world, &plan, &out.join("k8s"))?;

    // Today: every client zone spreads its requests evenly over every replica, every hour of the day.
    let mut records = Vec::new();
    let mut measured: BTreeMap<&str, [(u64, u64); 3]> = BTreeMap::new();
    let zone_of_pod = |p: usize| world.nodes[plan.pods[p].node].zone;
    for h in 0..24 {
        let t0 = start + h * HOUR + 60;
        for (s, d) in designs.iter().enumerate() {
            let port = plan.services[s].ports[0].2;
            for (z, client) in clients.iter().enumerate() {
                for (k, &ep) in endpoints[s].iter().enumerate() {
                    if d.active.is_some() && zone_of_pod(ep) != z {
                        continue; // kube-proxy keeps these clients in their zone
                    }
                    let req = REQUEST * CLIENT_WEIGHT[z];
                    let resp = req * RESPONSE_FACTOR;
                    let t = t0 + (s * 40 + z * 10 + k) as Ts;
                    let sport = 40_000 + (s * 100 + z * 20 + k) as u16;
                    let from = if d.behind_nlb { End::Eni(world.nlb_queue[z]) } else { End::Pod(*client) };
                    conversation(&world, &plan, &mut records, from, End::Pod(ep), (sport, port), (req, resp), t);
                    let m = &mut measured.entry(d.name).or_insert([(0, 0); 3])[z];
                    m.0 += req + resp;
                    if zone_of_pod(ep) != z {
                        m.1 += req + resp;
                    }
                }
            }
        }
    }
    records.sort_by_key(|r| r.start);
    write::text_file(&out.join("flow-logs").join(write::text_key(start, 0)), &world, &records, FlowFormat::Recommended, true)?;

    let zone = |z: usize| ZONES[z].0;
    let mut truth = serde_json::Map::new();
    for d in &designs {
        let m = measured[d.name];
        let project = |crosses: &[Crosses; 3]| -> u64 {
            (0..3)
                .map(|z| match crosses[z] {
                    Crosses::Nothing => 0,
                    Crosses::All => m[z].0,
                    Crosses::AsToday => m[z].1,
                })
                .sum()
        };
        let (steerable, nlb) =
            if d.behind_nlb { (BTreeMap::new(), m.iter().map(|v| v.1).sum::<u64>()) } else { ((0..3).map(|z| (zone(z), m[z].0)).collect(), 0) };
        let mut ready: BTreeMap<&str, u64> = BTreeMap::new();
        for z in d.replicas {
            *ready.entry(zone(*z)).or_default() += 1;
        }
        truth.insert(
            format!("{NAMESPACE}/{}", d.name),
            json!({
                "ready_endpoints_by_zone": ready,
                "client_bytes_by_zone": steerable,
                "unsteerable_cross_az_bytes": nlb,
                "today_cross_az_bytes": m.iter().map(|v| v.1).sum::<u64>(),
                "auto": match d.auto {
                    Ok(h) => json!({"hints_applied": true, "reason": null, "hints_by_zone": (0..3).map(|z| (zone(z), h[z])).collect::<BTreeMap<_, _>>()}),
                    Err(r) => json!({"hints_applied": false, "reason": r, "hints_by_zone": {}}),
                },
                "auto_projected_cross_az_bytes": project(&d.auto_crosses),
                "prefer_close_projected_cross_az_bytes": project(&d.prefer_close_crosses),
                "prefer_close_fallback_zones": if d.behind_nlb { vec![] } else { (0..3).filter(|z| !d.replicas.contains(z)).map(zone).collect::<Vec<_>>() },
                "auto_fix": d.fix,
                "active_mode": d.active.unwrap_or("none"),
            }),
        );
    }
    let doc = json!({
        "schema": "crossaz-routing-truth-1",
        "window": {"from": format_time(start), "to": format_time(start + DAY), "hours": 24},
        "client_weight_by_zone": (0..3).map(|z| (zone(z), CLIENT_WEIGHT[z])).collect::<BTreeMap<_, _>>(),
        "services": truth,
    });
    let mut text = serde_json::to_vec_pretty(&doc).map_err(std::io::Error::other)?;
    text.push(b'\n');
    std::fs::write(out.join("routing-truth.json"), text)?;
    Ok(records.len() as u64)
}

#[derive(Clone, Copy)]
pub(super) enum End {
    Pod(usize),
    Eni(usize),
}

/// A request and its response, each recorded as egress at the sender's interface and ingress at
/// the receiver's (pod addresses in pkt-srcaddr/pkt-dstaddr, interface addresses in srcaddr/dstaddr).
#[allow(clippy::too_many_arguments)]
pub(super) fn conversation(
    world: &World,
    plan: &super::cluster::Plan,
    out: &mut Vec<GenRecord>,
    client: End,
    server: End,
    ports: (u16, u16),
    bytes: (u64, u64),
    t: Ts,
) {
    let ip = |e: End| match e {
        End::Pod(p) => plan.pods[p].ip,
        End::Eni(i) => world.enis[i].primary,
    };
    let eni = |e: End| match e {
        End::Pod(p) => plan.pods[p].eni,
        End::Eni(i) => i,
    };
    let mut leg = |from: End, to: End, sport: u16, dport: u16, n: u64, t: Ts| {
        for egress in [true, false] {
            let at = if egress { eni(from) } else { eni(to) };
            let primary: Ip = world.enis[at].primary;
            let (src, dst) = if egress { (primary, ip(to)) } else { (ip(from), primary) };
            out.push(GenRecord {
                eni: at as u32,
                src,
                dst,
                pkt_src: ip(from),
                pkt_dst: ip(to),
                sport,
                dport,
                proto: 6,
                packets: n / 1400 + 1,
                bytes: n,
                start: t,
                end: t + 30,
                reject: false,
                status: 0,
                egress,
                tcp_flags: 3,
                traffic_path: egress.then_some(1),
                src_service: None,
                dst_service: None,
            });
        }
    };
    leg(client, server, ports.0, ports.1, bytes.0, t);
    leg(server, client, ports.1, ports.0, bytes.1, t + 1);
}
