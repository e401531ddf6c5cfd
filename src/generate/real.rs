//! The real-account shapes: the sample cluster on days shaped like a real AWS account (the
//! `real-account` scenario is one such day; the demo month ends with one).
//!
//! - A node is replaced at 11:40: its interfaces are deleted, a new node's interfaces take over
//!   its addresses (its pods come back with their addresses swapped, the old node's own address
//!   goes to a pod), and an ALB interface is replaced at 09:00. The node runs `queue-1`, a
//!   StatefulSet pod: it comes back under the same name, with a new uid, on the new node, holding
//!   the address a web-api pod held before the replacement.
//! - The network inventory is four snapshots (`pull network --every 6h`).
//! - A Classic Load Balancer sends to a NodePort on any node; kube-proxy's second hop goes on to a
//!   pod, maybe in another AZ.
//! - The database's interfaces are in the flow log only from 10:00; a node's records are skipped
//!   for ten minutes at 15:00 (SKIPDATA); the database cluster's members replicate to each other.
//! - The bucket also holds another account's VPC and another VPC of this account, both on
//!   10.0.0.0/16, and a security team's flow log over one public subnet (default format).
//!
//! Everything the truth says comes from what this module built, never from crossaz's rules.

use super::cluster::{DAY, HOUR, MINUTE, Plan};
use super::rng::Rng;
use super::world::{EniDef, EniKind, Life, NodeDef, PodDef, REGION, ServiceDef, WorkloadDef, World, ZONES, ip};
use crate::model::ip::Ip;
use crate::model::time::Ts;

/// Another account whose VPC shares the central bucket (and the CIDR).
pub const OTHER_ACCOUNT: &str = "210987654321";
pub const OTHER_ACCOUNT_FLOW_LOG: &str = "fl-0a11ce00000000000";
/// Another VPC of this account, same CIDR, delivering with `vpc-id` in its records.
pub const OTHER_VPC: &str = "vpc-0ffee0ffee0ffee01";
pub const OTHER_VPC_FLOW_LOG: &str = "fl-0ffee000000000001";
/// The security team's flow log over one public subnet, in the default format.
pub const SECURITY_FLOW_LOG: &str = "fl-05ec0000000000001";
pub const CLB_NAME: &str = "a3f0c9e1b2d4e5f6a7b8c9d0e1f2a3b4";
pub const STOREFRONT_NODE_PORT: u16 = 31080;
pub const STOREFRONT_PORT: u16 = 8081;

/// What the day's shapes are, for traffic, writers and tests.
#[derive(Clone, Debug)]
pub struct Shapes {
    pub old_node: usize,
    pub new_node: usize,
    pub churn_at: Ts,
    pub alb_old: usize,
    pub alb_new: usize,
    pub alb_replaced_at: Ts,
    pub clb: Vec<usize>,
    pub storefront: usize,
    pub storefront_service: usize,
    pub skipped: (usize, Ts, Ts),
    pub rds_logged_from: Ts,
    pub network_snapshots: Vec<Ts>,
    pub security_subnet: usize,
}

fn push(world: &mut World, e: EniDef) -> usize {
    world.enis.push(e);
    world.enis.len() - 1
}

/// Reshapes the sample world and plan: the shapes happen on the last of `days` days (the
/// database's interfaces join the flow log at 10:00 on the first).
pub fn apply(world: &mut World, plan: &mut Plan, rng: &mut Rng, start: Ts, days: u32) -> Shapes {
    let first = start;
    let start = start + Ts::from(days.max(1) - 1) * DAY;
    let churn_at = start + 11 * HOUR + 40 * MINUTE;
    add_queue_replica(world, plan, rng, 1, start - 2 * HOUR);
    let (old_node, new_node) = replace_node(world, plan, rng, 1, churn_at);
    let alb_replaced_at = start + 9 * HOUR;
    let alb_old = world.alb_game[1];
    let alb_new = {
        let mut e = world.enis[alb_old].clone();
        e.id = format!("eni-0{}", rng.hex(16));
        e.primary = ip(10, 0, 16, 27);
        e.life = Life { exists: (alb_replaced_at, Ts::MAX), ..Life::always() };
        world.enis[alb_old].life.exists.1 = alb_replaced_at;
        push(world, e)
    };
    world.alb_game.push(alb_new);
    let clb: Vec<usize> = (0..3)
        .map(|z| {
            let e = EniDef {
                id: format!("eni-0{}", rng.hex(16)),
                subnet: z,
                zone: z,
                primary: ip(10, 0, 16 * z as u8, 30),
                secondaries: vec![],
                kind: EniKind::Clb(CLB_NAME.into()),
                description: format!("ELB {CLB_NAME}"),
                interface_type: "interface",
                requester_id: Some("amazon-elb"),
                instance_id: None,
                logged: true,
                lb_full_name: None,
                life: Life::always(),
            };
            push(world, e)
        })
        .collect();
    world.clb = clb.clone();
    let (storefront, storefront_service) = add_storefront(world, plan, rng, start);
    let skip_eni = world.nodes[4].primary_eni;
    let skip_from = start + 15 * HOUR;
    world.enis[skip_eni].life.skipped.push((skip_from, skip_from + 10 * MINUTE));
    let rds_logged_from = first + 10 * HOUR;
    for &r in &world.rds {
        world.enis[r].life.logged_from = rds_logged_from;
    }
    plan.snapshot_times.extend([churn_at + 30, churn_at + 2 * MINUTE, alb_replaced_at + MINUTE]);
    plan.snapshot_times.sort_unstable();
    plan.snapshot_times.dedup();
    Shapes {
        old_node,
        new_node,
        churn_at,
        alb_old,
        alb_new,
        alb_replaced_at,
        clb,
        storefront,
        storefront_service,
        skipped: (skip_eni, skip_from, skip_from + 10 * MINUTE),
        rds_logged_from,
        network_snapshots: {
            let mut t: Vec<Ts> = std::iter::once(first).chain((0..4).map(|k| start + k * 6 * HOUR)).collect();
            t.dedup();
            t
        },
        security_subnet: 1,
    }
}

/// The queue StatefulSet scales to two: `queue-1` starts on `node` at `at`, on an address no pod
/// of the plan has held.
fn add_queue_replica(world: &World, plan: &mut Plan, rng: &mut Rng, node: usize, at: Ts) {
    let used: std::collections::BTreeSet<Ip> = plan.pods.iter().map(|p| p.ip).collect();
    let (ip, eni) = *world.nodes[node].pool.iter().find(|(a, _)| !used.contains(a)).expect("a free address");
    let queue_0 = plan.pods.iter().find(|p| p.workload == super::cluster::W_QUEUE).expect("queue-0").clone();
    plan.pods.push(PodDef { uid: rng.uuid(), name: "queue-1".into(), node, ip, eni, start: at, ..queue_0 });
    plan.snapshot_times.push(at + MINUTE);
}

/// Replaces node `old` at `at`: new instance and interfaces in the same subnet, holding the old
/// node's addresses; its pods come back a minute later with their addresses swapped, and the old
/// node's own address goes to the first of them.
fn replace_node(world: &mut World, plan: &mut Plan, rng: &mut Rng, old: usize, at: Ts) -> (usize, usize) {
    let old_def = world.nodes[old].clone();
    let zone = old_def.zone;
    let old_enis: Vec<usize> = world.enis.iter().enumerate().filter(|(_, e)| e.kind == EniKind::Node(old)).map(|(i, _)| i).collect();
    for &e in &old_enis {
        world.enis[e].life.exists.1 = at;
    }
    world.nodes[old].alive.1 = at;
    let new = world.nodes.len();
    let instance_id = format!("i-0{}", rng.hex(16));
    let new_ip = ip(10, 0, 64 + 32 * zone as u8, 100);
    let name = format!("ip-{}.{REGION}.compute.internal", new_ip.to_string().replace('.', "-"));
    // The old interfaces' addresses, primaries included, move to the new node's two interfaces.
    let mut new_enis = Vec::new();
    let mut pool = Vec::new();
    for (k, &e) in old_enis.iter().enumerate() {
        let old_eni = world.enis[e].clone();
        let primary = ip(10, 0, 64 + 32 * zone as u8, 100 + 10 * k as u8);
        let mut secondaries = vec![old_eni.primary];
        secondaries.extend(old_eni.secondaries.iter().copied());
        let idx = push(
            world,
            EniDef {
                id: format!("eni-0{}", rng.hex(16)),
                primary,
                secondaries: secondaries.clone(),
                kind: EniKind::Node(new),
                description: if k == 0 { String::new() } else { format!("aws-K8S-{instance_id}") },
                instance_id: Some(instance_id.clone()),
                life: Life { exists: (at, Ts::MAX), ..Life::always() },
                ..old_eni
            },
        );
        pool.extend(secondaries.into_iter().map(|s| (s, idx)));
        new_enis.push(idx);
    }
    world.nodes.push(NodeDef {
        name,
        instance_id,
        zone,
        ip: new_ip,
        pool: pool.clone(),
        primary_eni: new_enis[0],
        cpu_milli: old_def.cpu_milli,
        alive: (at, Ts::MAX),
    });
    // The pods running there come back on the new node, addresses swapped between them: web-api's
    // pod first (it takes the node's old address), StatefulSet pods last (they take web-api's).
    let mut moved: Vec<usize> = plan.pods.iter().enumerate().filter(|(_, p)| p.node == old && p.alive(at) && p.ip != old_def.ip).map(|(i, _)| i).collect();
    moved.sort_by_key(|&i| (plan.pods[i].workload != super::cluster::W_WEB, plan.pods[i].owner.as_ref().is_some_and(|o| o.0 == "StatefulSet"), i));
    let old_ips: Vec<Ip> = moved.iter().map(|&i| plan.pods[i].ip).collect();
    let eni_of = |a: Ip| pool.iter().find(|(p, _)| *p == a).map(|(_, e)| *e).expect("the new interfaces hold every old address");
    for (k, &i) in moved.iter().enumerate() {
        let old_pod = plan.pods[i].clone();
        plan.pods[i].end = at;
        plan.pods[i].listed_until = at;
        let new_ip = if k == 0 { old_def.ip } else { old_ips[(k + 1) % old_ips.len()] };
        let name = match old_pod.owner.as_ref().map(|o| o.0) {
            Some("StatefulSet") => old_pod.name.clone(),
            _ => format!("{}-{}", old_pod.name.rsplit_once('-').map(|(a, _)| a).unwrap_or(&old_pod.name), rng.alnum(5)),
        };
        plan.reused_ips.push((new_ip, at + MINUTE));
        plan.pods.push(PodDef { uid: rng.uuid(), name, node: new, ip: new_ip, eni: eni_of(new_ip), start: at + MINUTE, finished: None, ..old_pod });
    }
    // hostNetwork pods (node-exporter) hold their node's address: the old one stops, a new one starts.
    let host: Vec<usize> = plan.pods.iter().enumerate().filter(|(_, p)| p.node == old && p.alive(at) && p.ip == old_def.ip).map(|(i, _)| i).collect();
    for i in host {
        let old_pod = plan.pods[i].clone();
        plan.pods[i].end = at;
        plan.pods[i].listed_until = at;
        let name = format!("{}-{}", old_pod.name.rsplit_once('-').map(|(a, _)| a).unwrap_or(&old_pod.name), rng.alnum(5));
        plan.pods.push(PodDef { uid: rng.uuid(), name, node: new, ip: new_ip, eni: new_enis[0], start: at + MINUTE, ..old_pod });
    }
    (old, new)
}

/// `shop/storefront`: a Deployment with a replica per AZ behind a `type: LoadBalancer` Service.
fn add_storefront(world: &World, plan: &mut Plan, rng: &mut Rng, start: Ts) -> (usize, usize) {
    let workload = plan.workloads.len();
    let w = WorkloadDef { namespace: "shop", name: "storefront", kind: "Deployment", host_network: false };
    plan.workloads.push(w.clone());
    let service = plan.services.len();
    plan.services.push(ServiceDef {
        namespace: "shop",
        name: "storefront",
        workload,
        ports: vec![("http", 80, STOREFRONT_PORT, "TCP")],
        node_port: Some(STOREFRONT_NODE_PORT),
        annotations: vec![],
        traffic_distribution: None,
        load_balancer: true,
    });
    let used: std::collections::BTreeSet<Ip> = plan.pods.iter().map(|p| p.ip).collect();
    for zone in 0..ZONES.len() {
        let node = world.nodes.iter().position(|n| n.zone == zone && n.alive.1 == Ts::MAX && n.alive.0 == Ts::MIN).expect("a node per zone all day");
        let slot = *world.nodes[node].pool.iter().find(|(a, _)| !used.contains(a)).expect("a free address");
        let pod = super::cluster::deployment_pod(&w, workload, node, slot, 0x5f0e7f2000, start - 4 * DAY, rng);
        plan.pods.push(pod);
    }
    (workload, service)
}

/// A flow of another VPC: (interface, own address, peer address, ports, bytes, egress?).
pub struct ForeignRecord {
    pub interface: String,
    pub subnet: String,
    pub instance: String,
    pub zone: usize,
    pub src: Ip,
    pub dst: Ip,
    pub ports: (u16, u16),
    pub bytes: u64,
    pub start: Ts,
    pub egress: bool,
}

/// An hour of traffic in a VPC that shares our CIDR: the same addresses as our pods and nodes,
/// on interfaces of its own. Both records of each flow, as AWS writes them.
pub fn foreign_hour(seed: u64, vpc_tag: u64, hour_start: Ts, ours: &World) -> Vec<ForeignRecord> {
    let mut rng = Rng::stream(seed ^ vpc_tag, hour_start as u64);
    // Four interfaces on addresses our nodes' pods also use.
    let hosts: Vec<(String, String, String, usize, Ip)> = (0..4)
        .map(|k| {
            let node = &ours.nodes[k % 3 * 2];
            let addr = node.pool[k].0;
            (format!("eni-0{}", rng.hex(16)), format!("subnet-0{}", rng.hex(16)), format!("i-0{}", rng.hex(16)), node.zone, addr)
        })
        .collect();
    let mut out = Vec::new();
    for _ in 0..rng.count(4_000) {
        let a = rng.below(4) as usize;
        let b = (a + 1 + rng.below(3) as usize) % 4;
        let t = hour_start + rng.below(3600 - 61) as Ts;
        let bytes = rng.log_range(10_000, 50_000_000);
        let ports = (rng.range(32768, 60999) as u16, 5432);
        for (h, egress) in [(a, true), (b, false)] {
            let (iface, subnet, instance, zone, _) = hosts[h].clone();
            out.push(ForeignRecord { interface: iface, subnet, instance, zone, src: hosts[a].4, dst: hosts[b].4, ports, bytes, start: t, egress });
        }
    }
    out
}
