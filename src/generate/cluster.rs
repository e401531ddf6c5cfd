//! The simulated cluster over the month: pods come and go (rollouts, scaling, a daily CronJob),
//! taking pod IPs from their node's pool most-recently-freed first, so IPs get reused within hours.

use super::rng::Rng;
use super::world::{PodDef, ServiceDef, WorkloadDef, World};
use crate::model::ip::Ip;
use crate::model::time::Ts;

pub const W_GAME: usize = 0;
pub const W_WEB: usize = 1;
pub const W_CACHE: usize = 2;
pub const W_QUEUE: usize = 3;
pub const W_WORKER: usize = 4;
pub const W_REPORT: usize = 5;
pub const W_PROM: usize = 6;
pub const W_NODE_EXPORTER: usize = 7;
pub const W_COREDNS: usize = 8;

/// The `team` label the generator puts on a workload's pods and on its Services (for chargeback);
/// kube-system's workloads have none, as in many clusters.
pub fn team(namespace: &str, name: &str) -> Option<&'static str> {
    match (namespace, name) {
        ("game-2048", _) => Some("games"),
        ("shop", "report-generator") => Some("analytics"),
        ("shop", _) => Some("checkout"),
        ("monitoring", _) => Some("platform"),
        _ => None,
    }
}

pub fn workloads() -> Vec<WorkloadDef> {
    let w = |namespace, name, kind| WorkloadDef { namespace, name, kind, host_network: false };
    vec![
        w("game-2048", "deployment-2048", "Deployment"),
        w("shop", "web-api", "Deployment"),
        w("shop", "cache", "StatefulSet"),
        w("shop", "queue", "StatefulSet"),
        w("shop", "queue-worker", "Deployment"),
        w("shop", "report-generator", "CronJob"),
        w("monitoring", "prometheus", "Deployment"),
        WorkloadDef { namespace: "monitoring", name: "node-exporter", kind: "DaemonSet", host_network: true },
        w("kube-system", "coredns", "Deployment"),
    ]
}

pub const S_GAME: usize = 0;
pub const S_WEB: usize = 1;
pub const S_WEB_METRICS: usize = 2;
pub const S_CACHE: usize = 3;
pub const S_QUEUE: usize = 4;
pub const S_NODE_EXPORTER: usize = 5;
pub const S_DNS: usize = 6;

pub fn services() -> Vec<ServiceDef> {
    vec![
        ServiceDef {
            namespace: "game-2048",
            name: "service-2048",
            workload: W_GAME,
            ports: vec![("http", 80, 80, "TCP")],
            node_port: Some(30080),
            annotations: vec![],
            traffic_distribution: None,
            load_balancer: false,
        },
        ServiceDef {
            namespace: "shop",
            name: "web-api",
            workload: W_WEB,
            ports: vec![("http", 8080, 8080, "TCP")],
            node_port: None,
            annotations: vec![("service.kubernetes.io/topology-mode", "Auto")],
            traffic_distribution: None,
            load_balancer: false,
        },
        ServiceDef {
            namespace: "shop",
            name: "web-api-metrics",
            workload: W_WEB,
            ports: vec![("metrics", 9090, 9090, "TCP")],
            node_port: None,
            annotations: vec![],
            traffic_distribution: None,
            load_balancer: false,
        },
        ServiceDef {
            namespace: "shop",
            name: "cache",
            workload: W_CACHE,
            ports: vec![("redis", 6379, 6379, "TCP")],
            node_port: None,
            annotations: vec![],
            traffic_distribution: None,
            load_balancer: false,
        },
        ServiceDef {
            namespace: "shop",
            name: "queue",
            workload: W_QUEUE,
            ports: vec![("amqp", 5672, 5672, "TCP")],
            node_port: None,
            annotations: vec![],
            traffic_distribution: None,
            load_balancer: false,
        },
        ServiceDef {
            namespace: "monitoring",
            name: "node-exporter",
            workload: W_NODE_EXPORTER,
            ports: vec![("metrics", 9100, 9100, "TCP")],
            node_port: None,
            annotations: vec![],
            traffic_distribution: None,
            load_balancer: false,
        },
        ServiceDef {
            namespace: "kube-system",
            name: "kube-dns",
            workload: W_COREDNS,
            ports: vec![("dns", 53, 53, "UDP"), ("dns-tcp", 53, 53, "TCP")],
            node_port: None,
            annotations: vec![],
            traffic_distribution: None,
            load_balancer: false,
        },
    ]
}

/// A snapshot-relevant change: pod created (snapshots follow creations so every pod is seen).
pub struct Plan {
    pub workloads: Vec<WorkloadDef>,
    pub services: Vec<ServiceDef>,
    pub pods: Vec<PodDef>,
    pub snapshot_times: Vec<Ts>,
    /// IPs held by pods of two different workloads during the month, with the time of the switch.
    pub reused_ips: Vec<(Ip, Ts)>,
}

struct Planner<'w> {
    world: &'w World,
    free: Vec<Vec<(Ip, usize)>>,
    pods: Vec<PodDef>,
    rng: Rng,
    hashes: Vec<String>,
}

impl Planner<'_> {
    fn create(&mut self, workload: usize, node: usize, at: Ts, name_hint: Option<String>) -> usize {
        let (ip, eni) = self.free[node].pop().expect("the node's IP pool is large enough");
        let wl = workloads();
        let w = &wl[workload];
        let (owner, hash, name) = match w.kind {
            "Deployment" => {
                let hash = self.hashes[workload].clone();
                let rs = format!("{}-{hash}", w.name);
                (Some(("ReplicaSet", rs.clone())), Some(hash), format!("{rs}-{}", self.rng.alnum(5)))
            }
            "StatefulSet" => (Some(("StatefulSet", w.name.to_string())), None, name_hint.unwrap_or_else(|| format!("{}-0", w.name))),
            "CronJob" => {
                let job = format!("{}-{}", w.name, at / 60);
                (Some(("Job", job.clone())), None, format!("{job}-{}", self.rng.alnum(5)))
            }
            _ => (Some(("DaemonSet", w.name.to_string())), None, format!("{}-{}", w.name, self.rng.alnum(5))),
        };
        self.pods.push(PodDef {
            uid: self.rng.uuid(),
            name,
            workload,
            owner,
            template_hash: hash,
            node,
            ip,
            eni,
            start: at,
            end: Ts::MAX,
            listed_until: Ts::MAX,
            finished: None,
        });
        self.pods.len() - 1
    }

    fn delete(&mut self, pod: usize, at: Ts) {
        let p = &mut self.pods[pod];
        p.end = at;
        p.listed_until = at;
        self.free[p.node].push((p.ip, p.eni));
    }

    fn finish_job(&mut self, pod: usize, at: Ts, listed_for: Ts) {
        let p = &mut self.pods[pod];
        p.end = at;
        p.finished = Some(at);
        p.listed_until = at + listed_for;
        self.free[p.node].push((p.ip, p.eni));
    }

    fn node_in(&self, zone: usize, j: usize) -> usize {
        self.world.nodes.iter().enumerate().filter(|(_, n)| n.zone == zone).nth(j % 2).map(|(i, _)| i).unwrap_or(0)
    }
}

pub const DAY: Ts = 86_400;
pub const HOUR: Ts = 3_600;
pub const MINUTE: Ts = 60;

pub fn plan(world: &World, rng: &mut Rng, start: Ts, days: u32) -> Plan {
    let mut p = Planner {
        world,
        free: world.nodes.iter().map(|n| n.pool.iter().rev().copied().collect()).collect(),
        pods: Vec::new(),
        rng: Rng::new(rng.next_u64()),
        hashes: (0..9).map(|_| rng.alnum(10)).collect(),
    };
    let before = start - 5 * DAY;
    let mut slots: Vec<Vec<usize>> = vec![Vec::new(); 9];
    let replicas = [(W_GAME, 3, 0), (W_WEB, 6, 0), (W_WORKER, 4, 1), (W_COREDNS, 2, 0)];
    for (w, n, offset) in replicas {
        for i in 0..n {
            let node = p.node_in((i + offset) % 3, i / 3);
            let pod = p.create(w, node, before + (w * 60 + i) as Ts, None);
            slots[w].push(pod);
        }
    }
    // The cache StatefulSet: one replica per zone (cache-0 restarts during the month).
    for (i, zone) in [1, 2, 0].into_iter().enumerate() {
        let node = p.node_in(zone, 0);
        slots[W_CACHE].push(p.create(W_CACHE, node, before + 1000 + i as Ts, Some(format!("cache-{i}"))));
    }
    let queue_node = p.node_in(2, 1);
    slots[W_QUEUE].push(p.create(W_QUEUE, queue_node, before + 1100, Some("queue-0".into())));
    let prom_node = p.node_in(0, 1);
    slots[W_PROM].push(p.create(W_PROM, prom_node, before + 1200, None));
    // node-exporter runs on the host network: its pods' IP is their node's.
    for (n, node) in world.nodes.iter().enumerate() {
        let uid = p.rng.uuid();
        let name = format!("node-exporter-{}", p.rng.alnum(5));
        p.pods.push(PodDef {
            uid,
            name,
            workload: W_NODE_EXPORTER,
            owner: Some(("DaemonSet", "node-exporter".into())),
            template_hash: None,
            node: n,
            ip: node.ip,
            eni: node.primary_eni,
            start: before + 1300,
            end: Ts::MAX,
            listed_until: Ts::MAX,
            finished: None,
        });
    }

    let mut snapshot_times: Vec<Ts> = (0..=days).map(|d| start + Ts::from(d) * DAY).collect();
    let mut reused_ips = Vec::new();
    for d in 0..Ts::from(days) {
        let day = start + d * DAY;
        // (time, action) for the day, applied in time order.
        let mut events: Vec<(Ts, u8)> = vec![(day + 2 * HOUR, 0), (day + 2 * HOUR + 30 * MINUTE, 1)];
        match d {
            9 => events.push((day + 9 * HOUR, 2)),
            11 => events.extend([(day + 3 * HOUR, 3), (day + 5 * HOUR, 4)]),
            14 => events.push((day + 12 * HOUR, 5)),
            19 => events.push((day + 14 * HOUR, 6)),
            24 => events.push((day + 16 * HOUR, 7)),
            _ => {}
        }
        events.sort();
        for (at, action) in events {
            match action {
                0 => {
                    let node = p.node_in((d as usize) % 3, 0);
                    let pod = p.create(W_REPORT, node, at, None);
                    slots[W_REPORT].push(pod);
                    snapshot_times.push(at + MINUTE);
                }
                1 => {
                    let pod = *slots[W_REPORT].last().expect("a job is running");
                    p.finish_job(pod, at, 3 * DAY);
                }
                2 | 6 => {
                    // Rolling update: a new ReplicaSet; each new pod starts, then an old one stops.
                    let w = if action == 2 { W_WEB } else { W_WORKER };
                    p.hashes[w] = p.rng.alnum(10);
                    for i in 0..slots[w].len() {
                        let t = at + (i as Ts) * 4 * MINUTE;
                        let old = slots[w][i];
                        let node = p.pods[old].node;
                        let new = p.create(w, node, t, None);
                        snapshot_times.push(t + MINUTE);
                        p.delete(old, t + 2 * MINUTE);
                        slots[w][i] = new;
                    }
                }
                3 => {
                    // web-api scales 6 → 5: its last pod goes away…
                    let pod = slots[W_WEB].pop().expect("web-api has pods");
                    p.delete(pod, at);
                    snapshot_times.push(at + MINUTE);
                }
                4 => {
                    // …and two hours later queue-worker scales 4 → 5 on the same node, taking that IP.
                    let freed = p.pods.iter().rev().find(|q| q.workload == W_WEB && q.end <= at).map(|q| (q.node, q.ip, q.end)).expect("a web-api pod stopped");
                    let pod = p.create(W_WORKER, freed.0, at, None);
                    if p.pods[pod].ip == freed.1 {
                        reused_ips.push((freed.1, at));
                    }
                    slots[W_WORKER].push(pod);
                    snapshot_times.push(at + MINUTE);
                }
                5 => {
                    let node = p.node_in(0, 1);
                    let pod = p.create(W_GAME, node, at, None);
                    slots[W_GAME].push(pod);
                    snapshot_times.push(at + MINUTE);
                }
                _ => {
                    // The cache pod restarts: same name, new uid.
                    let old = slots[W_CACHE][0];
                    let node = p.pods[old].node;
                    p.delete(old, at);
                    let new = p.create(W_CACHE, node, at + 20, Some("cache-0".into()));
                    slots[W_CACHE][0] = new;
                    snapshot_times.push(at + 20 + MINUTE);
                }
            }
        }
    }
    snapshot_times.sort_unstable();
    snapshot_times.dedup();
    Plan { workloads: workloads(), services: services(), pods: p.pods, snapshot_times, reused_ips }
}

/// A Deployment's pod on `node`, running from the day before `start` on.
pub(super) fn deployment_pod(w: &WorkloadDef, workload: usize, node: usize, (ip, eni): (Ip, usize), hash_base: u64, start: Ts, rng: &mut Rng) -> PodDef {
    let hash = format!("{:x}", hash_base + workload as u64);
    PodDef {
        uid: rng.uuid(),
        name: format!("{}-{hash}-{}", w.name, rng.alnum(5)),
        workload,
        owner: Some(("ReplicaSet", format!("{}-{hash}", w.name))),
        template_hash: Some(hash),
        node,
        ip,
        eni,
        start: start - DAY,
        end: Ts::MAX,
        listed_until: Ts::MAX,
        finished: None,
    }
}
