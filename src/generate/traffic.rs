//! Traffic of the simulated month, hour by hour: each transfer becomes the flow-log records AWS
//! would write on every logged interface it crosses, and its true bytes go to the ground truth.

use super::cluster::*;
use super::rng::Rng;
use super::world::{ECR_API_HOST, EniKind, INTERNET_HOSTS, S3_HOSTS, World, ZONES};
use crate::model::ip::Ip;
use crate::model::time::Ts;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug)]
pub struct GenRecord {
    pub eni: u32,
    pub src: Ip,
    pub dst: Ip,
    pub pkt_src: Ip,
    pub pkt_dst: Ip,
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
    pub packets: u64,
    pub bytes: u64,
    pub start: Ts,
    pub end: Ts,
    pub reject: bool,
    /// 0 OK, 1 NODATA, 2 SKIPDATA.
    pub status: u8,
    pub egress: bool,
    pub tcp_flags: u8,
    pub traffic_path: Option<u8>,
    /// `pkt-src-aws-service` / `pkt-dst-aws-service`: the AWS service of the packet's addresses.
    pub src_service: Option<&'static str>,
    pub dst_service: Option<&'static str>,
}

/// How crossaz should name one end: (kind, namespace, label).
pub type Name = (String, String, String);

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TruthKey {
    pub client: Name,
    pub server: Name,
    pub client_az_id: String,
    pub server_az_id: String,
    pub class: &'static str,
    /// For traffic between two AZs: the billing rule of the path the generator built.
    pub rule: &'static str,
}

/// Adds a conversation's (to server, to client) bytes under `names` to one truth; nothing when none.
fn add_bytes(
    map: &mut BTreeMap<TruthKey, (u64, u64)>,
    c: &Ctx<'_>,
    (client, server): (Ep, Ep),
    names: (Name, Name),
    (class, rule): (&'static str, &'static str),
    b: (u64, u64),
) {
    if b == (0, 0) {
        return;
    }
    let k = TruthKey { client: names.0, server: names.1, client_az_id: c.zone_id(client), server_az_id: c.zone_id(server), class, rule };
    let e = map.entry(k).or_default();
    e.0 += b.0;
    e.1 += b.1;
}

/// What a correct engine must report, built from the simulation rather than the records.
#[derive(Default, Debug, Clone)]
pub struct Truth {
    /// (bytes to server, bytes to client) per conversation, with pods named by workload.
    pub conversations: BTreeMap<TruthKey, (u64, u64)>,
    /// The same with pods named by their node: what flow logs without pkt-* fields allow.
    pub node_level: BTreeMap<TruthKey, (u64, u64)>,
    /// Records by what the engine must do with them.
    pub records: BTreeMap<&'static str, u64>,
    /// Billed cross-AZ bytes per UTC day (days since 1970) of each counted leg's start.
    pub daily_billed: BTreeMap<i32, u64>,
    /// Records of VPCs outside the inventory, by the name the summary gives them.
    pub other_vpcs: BTreeMap<String, u64>,
    /// What `whatif paths` acts on, as built.
    pub paths: PathTruth,
    /// Cross-AZ bytes per (day, resource as the bill names it, sent?): what the bill charges and
    /// what the flow logs hold of it.
    pub resources: BTreeMap<(i32, String, bool), ResourceTruth>,
    /// The conversations (keyed as in `conversations`) whose legs went through an interface deleted
    /// during the window (the replaced ALB interface), by interface ID: what only a network
    /// snapshot taken before the deletion can name.
    pub deleted_interfaces: BTreeMap<String, BTreeMap<TruthKey, (u64, u64)>>,
}

/// One resource's cross-AZ bytes on one day in one direction.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceTruth {
    /// Billed: every byte of a billed path, logged or not.
    pub billed: u64,
    /// Of those, the bytes of legs some flow log recorded.
    pub measured: u64,
    /// Bytes between AZs on a path AWS does not bill (an ALB and its targets), logged or not.
    pub free: u64,
    /// Of those, logged.
    pub free_measured: u64,
}

/// The network paths the generator built, for `whatif paths`' designed truth (both directions' counted bytes).
#[derive(Default, Debug, Clone)]
pub struct PathTruth {
    /// Node → pod bytes kube-proxy forwarded to another AZ behind a load balancer, by `namespace/service`.
    pub second_hops: BTreeMap<String, u64>,
    /// NLB → target bytes across zones, by (load balancer, `namespace/service`).
    pub nlb_cross_zone: BTreeMap<(String, String), u64>,
    /// Pod → NLB bytes (both ways), by (load balancer, the client's zone name).
    pub nlb_clients: BTreeMap<(String, String), u64>,
    /// Bytes through a NAT gateway's interface, by (NAT gateway, client zone name).
    pub nat: BTreeMap<(String, String), u64>,
    /// Of those, bytes to an AWS service, by (service, NAT gateway, client zone name).
    pub nat_services: BTreeMap<(String, String, String), u64>,
}

impl PathTruth {
    fn merge(&mut self, o: PathTruth) {
        fn add<K: Ord>(a: &mut BTreeMap<K, u64>, b: BTreeMap<K, u64>) {
            for (k, v) in b {
                *a.entry(k).or_default() += v;
            }
        }
        add(&mut self.second_hops, o.second_hops);
        add(&mut self.nlb_cross_zone, o.nlb_cross_zone);
        add(&mut self.nlb_clients, o.nlb_clients);
        add(&mut self.nat, o.nat);
        add(&mut self.nat_services, o.nat_services);
    }
}

impl Truth {
    pub fn merge(&mut self, o: Truth) {
        for (k, v) in o.conversations {
            let e = self.conversations.entry(k).or_default();
            e.0 += v.0;
            e.1 += v.1;
        }
        for (k, v) in o.node_level {
            let e = self.node_level.entry(k).or_default();
            e.0 += v.0;
            e.1 += v.1;
        }
        for (k, v) in o.records {
            *self.records.entry(k).or_default() += v;
        }
        for (k, v) in o.daily_billed {
            *self.daily_billed.entry(k).or_default() += v;
        }
        for (k, v) in o.other_vpcs {
            *self.other_vpcs.entry(k).or_default() += v;
        }
        self.paths.merge(o.paths);
        for (k, v) in o.resources {
            let e = self.resources.entry(k).or_default();
            e.billed += v.billed;
            e.measured += v.measured;
            e.free += v.free;
            e.free_measured += v.free_measured;
        }
        for (id, convs) in o.deleted_interfaces {
            let m = self.deleted_interfaces.entry(id).or_default();
            for (k, v) in convs {
                let e = m.entry(k).or_default();
                e.0 += v.0;
                e.1 += v.1;
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ep {
    Pod(usize),
    Node(usize),
    Eni(usize),
    Internet(Ip),
}

pub struct Ctx<'a> {
    pub world: &'a World,
    pub plan: &'a Plan,
    pub seed: u64,
    /// Multiplies every traffic rate.
    pub scale: u64,
    /// The real-account day's shapes, when generating it.
    pub real: Option<&'a super::real::Shapes>,
}

struct Hour<'a, 'c> {
    c: &'c Ctx<'a>,
    rng: Rng,
    records: Vec<GenRecord>,
    truth: Truth,
    /// While set, conversations also go to `truth.deleted_interfaces` under this interface ID.
    through_deleted: Option<String>,
}

const TCP: u8 = 6;
/// Each simulated transfer stands for this many times its sampled bytes (a busy mid-size cluster).
const BYTE_SCALE: u64 = 32;
const UDP: u8 = 17;

impl Ctx<'_> {
    fn ip(&self, e: Ep) -> Ip {
        match e {
            Ep::Pod(p) => self.plan.pods[p].ip,
            Ep::Node(n) => self.world.nodes[n].ip,
            Ep::Eni(i) => self.world.enis[i].primary,
            Ep::Internet(ip) => ip,
        }
    }

    fn eni(&self, e: Ep) -> Option<usize> {
        match e {
            Ep::Pod(p) => Some(self.plan.pods[p].eni),
            Ep::Node(n) => Some(self.world.nodes[n].primary_eni),
            Ep::Eni(i) => Some(i),
            Ep::Internet(_) => None,
        }
    }

    fn node(&self, e: Ep) -> Option<usize> {
        match e {
            Ep::Pod(p) => Some(self.plan.pods[p].node),
            Ep::Node(n) => Some(n),
            _ => None,
        }
    }

    /// The resource the bill charges for an end's transfer, as CUR names it: a node's instance ID,
    /// else the ARN of the NAT gateway, load balancer, database or cluster.
    pub fn billed_resource(&self, e: Ep) -> Option<String> {
        let eni = &self.world.enis[self.eni(e)?];
        let arn = |service: &str, resource: String| format!("arn:aws:{service}:{}:{}:{resource}", super::world::REGION, super::world::ACCOUNT);
        Some(match &eni.kind {
            EniKind::Node(_) => eni.instance_id.clone()?,
            EniKind::Nat(id) => arn("ec2", format!("natgateway/{id}")),
            EniKind::Alb(_) | EniKind::Nlb(_) | EniKind::Clb(_) => {
                arn("elasticloadbalancing", format!("loadbalancer/{}", eni.description.strip_prefix("ELB ").unwrap_or(&eni.description)))
            }
            EniKind::Rds(id, _) => arn("rds", format!("db:{id}")),
            EniKind::Eks => arn("eks", format!("cluster/{}", super::world::CLUSTER)),
            EniKind::Vpce(id) => id.clone(),
        })
    }

    fn zone_id(&self, e: Ep) -> String {
        match self.eni(e) {
            Some(i) => ZONES[self.world.enis[i].zone].1.to_string(),
            None => String::new(),
        }
    }

    fn node_name(&self, n: usize) -> Name {
        ("node".into(), String::new(), format!("node:{}", self.world.nodes[n].name))
    }

    /// The name crossaz gives an end; `node_level` names pods by their node.
    fn name(&self, e: Ep, node_level: bool) -> Name {
        match e {
            Ep::Pod(p) => {
                let pod = &self.plan.pods[p];
                if node_level {
                    return self.node_name(pod.node);
                }
                let w = &self.plan.workloads[pod.workload];
                (w.kind.to_ascii_lowercase(), w.namespace.to_string(), w.name.to_string())
            }
            Ep::Node(n) => self.node_name(n),
            Ep::Eni(i) => {
                let eni = &self.world.enis[i];
                (eni.label_kind().into(), String::new(), eni.label(self.world))
            }
            Ep::Internet(_) => ("external".into(), String::new(), "external".into()),
        }
    }

    fn service_name(&self, s: usize) -> Name {
        let svc = &self.plan.services[s];
        ("service".into(), svc.namespace.to_string(), svc.name.to_string())
    }

    /// Live pods of a workload for a whole one-minute window starting at `t`.
    fn live(&self, workload: usize, t: Ts) -> Vec<usize> {
        self.plan.pods.iter().enumerate().filter(|(_, p)| p.workload == workload && p.start <= t && t + MINUTE <= p.end).map(|(i, _)| i).collect()
    }
}

impl Hour<'_, '_> {
    fn pick(&mut self, list: &[usize]) -> Option<usize> {
        (!list.is_empty()).then(|| list[self.rng.below(list.len() as u64) as usize])
    }

    /// A node that runs at `t` (nodes are replaced on the real-account day).
    fn alive_node(&mut self, t: Ts) -> usize {
        let alive: Vec<usize> = self.c.world.nodes.iter().enumerate().filter(|(_, n)| n.alive_at(t)).map(|(i, _)| i).collect();
        alive[self.rng.below(alive.len() as u64) as usize]
    }

    fn ephemeral(&mut self) -> u16 {
        self.rng.range(32768, 60999) as u16
    }

    fn count(&mut self, what: &'static str, n: u64) {
        *self.truth.records.entry(what).or_default() += n;
    }

    #[allow(clippy::too_many_arguments)]
    fn record(&mut self, eni: usize, egress: bool, from: Ep, to: Ep, ports: (u16, u16), proto: u8, bytes: u64, t: Ts) {
        let c = self.c;
        let e = &c.world.enis[eni];
        let (src, dst) = if egress { (e.primary, c.ip(to)) } else { (c.ip(from), e.primary) };
        let flags = if proto == TCP { [2u8, 18, 3, 19, 1, 0][self.rng.below(6) as usize] } else { 0 };
        let path = if !egress {
            None
        } else if matches!(to, Ep::Internet(_)) {
            Some(if matches!(e.kind, EniKind::Node(_)) { 1 } else { 8 })
        } else {
            Some(1)
        };
        let mut r = self.mk(eni, egress, src, dst, c.ip(from), c.ip(to), ports, bytes, t);
        r.proto = proto;
        r.tcp_flags = flags;
        r.traffic_path = path;
        self.records.push(r);
    }

    /// One direction of a conversation: the sender's egress record and the receiver's ingress
    /// record, each written only if its interface is logged. Returns whether the bytes are counted.
    fn leg(&mut self, from: Ep, to: Ep, ports: (u16, u16), proto: u8, bytes: u64, t: Ts) -> bool {
        let c = self.c;
        let logged = |e: Option<usize>| e.filter(|i| c.world.enis[*i].logged_at(t));
        let (s, r) = (logged(c.eni(from)), logged(c.eni(to)));
        if let Some(s) = s {
            self.record(s, true, from, to, ports, proto, bytes, t);
            self.count("counted", 1);
        }
        if let Some(r) = r {
            self.record(r, false, from, to, ports, proto, bytes, t);
            self.count(if s.is_some() { "duplicate" } else { "counted" }, 1);
        }
        s.is_some() || r.is_some()
    }

    /// How AWS bills the path between two ends the generator built: (class, rule). The generator
    /// knows what each end is; this is that knowledge written down, not crossaz's table.
    fn billing(&self, client: Ep, server: Ep) -> (&'static str, &'static str) {
        let c = self.c;
        if matches!(client, Ep::Internet(_)) || matches!(server, Ep::Internet(_)) {
            return ("internet-other", "");
        }
        let zone = |e: Ep| c.eni(e).map(|i| c.world.enis[i].zone);
        if zone(client) == zone(server) {
            return ("same-az", "");
        }
        let kind = |e: Ep| match e {
            Ep::Eni(i) => Some(&c.world.enis[i].kind),
            _ => None,
        };
        let (ck, sk) = (kind(client), kind(server));
        let either = |f: &dyn Fn(&EniKind) -> bool| ck.is_some_and(f) || sk.is_some_and(f);
        let free = match (ck, sk) {
            (Some(EniKind::Alb(_)), _) => Some("alb-to-target"),
            (Some(EniKind::Clb(_)), _) => Some("clb-to-instance"),
            _ if either(&|k| matches!(k, EniKind::Vpce(_))) => Some("privatelink-interface-endpoint"),
            (Some(EniKind::Rds(..)), Some(EniKind::Rds(..))) => Some("rds-multi-az-replication"),
            _ => None,
        };
        if let Some(rule) = free {
            return ("cross-az-free", rule);
        }
        let rule = if either(&|k| matches!(k, EniKind::Nlb(_))) {
            "nlb"
        } else if either(&|k| matches!(k, EniKind::Nat(_))) {
            "nat-gateway"
        } else if either(&|k| matches!(k, EniKind::Rds(..))) {
            "rds-clients"
        } else if either(&|k| matches!(k, EniKind::Eks)) {
            "eks-control-plane"
        } else {
            "default"
        };
        ("cross-az-billed", rule)
    }

    /// A leg's bytes on the sender's and receiver's billed resources (`counted`: some flow log
    /// recorded it); nothing for paths inside one AZ or to the internet.
    fn add_resource_truth(&mut self, (client, server): (Ep, Ep), from: Ep, to: Ep, bytes: u64, counted: bool, t: Ts) {
        let (class, _) = self.billing(client, server);
        if bytes == 0 || !matches!(class, "cross-az-billed" | "cross-az-free") {
            return;
        }
        let day = crate::model::time::day_of(t);
        for (end, out) in [(from, true), (to, false)] {
            let Some(id) = self.c.billed_resource(end) else { continue };
            let e = self.truth.resources.entry((day, id, out)).or_default();
            if class == "cross-az-billed" {
                e.billed += bytes;
                e.measured += if counted { bytes } else { 0 };
            } else {
                e.free += bytes;
                e.free_measured += if counted { bytes } else { 0 };
            }
        }
    }

    /// Adds a conversation's counted bytes; the request leg started at `t`, the response at `t + 1`.
    /// `bytes` (to server, to client) for the exact truth, `node_bytes` of them under `node_names`
    /// for the per-node truth.
    #[allow(clippy::too_many_arguments)]
    fn add_truth(&mut self, client: Ep, server: Ep, names: (Name, Name), node_names: (Name, Name), bytes: (u64, u64), node_bytes: (u64, u64), t: Ts) {
        if bytes == (0, 0) {
            return; // Neither side logged: flow logs cannot know.
        }
        let c = self.c;
        let (class, rule) = self.billing(client, server);
        if class == "cross-az-billed" {
            *self.truth.daily_billed.entry(crate::model::time::day_of(t)).or_default() += bytes.0;
            *self.truth.daily_billed.entry(crate::model::time::day_of(t + 1)).or_default() += bytes.1;
        }
        if let Some(id) = &self.through_deleted {
            add_bytes(self.truth.deleted_interfaces.entry(id.clone()).or_default(), c, (client, server), names.clone(), (class, rule), bytes);
        }
        for (map, names, b) in [(&mut self.truth.conversations, names, bytes), (&mut self.truth.node_level, node_names, node_bytes)] {
            add_bytes(map, c, (client, server), names, (class, rule), b);
        }
    }

    /// A request and its response between a client and a server end. `service` names what the
    /// server side backs (None: the end itself). Without pkt-* fields every pod and node is named
    /// by its node.
    #[allow(clippy::too_many_arguments)]
    fn conv(&mut self, client: Ep, server: Ep, service: Option<usize>, port: u16, proto: u8, req: u64, resp: u64, t: Ts) -> (u64, u64) {
        let cport = self.ephemeral();
        self.conv_from(client, server, service, cport, port, proto, req, resp, t)
    }

    /// A conversation whose client uses port `cport`; returns the bytes counted each way.
    #[allow(clippy::too_many_arguments)]
    fn conv_from(&mut self, client: Ep, server: Ep, service: Option<usize>, cport: u16, port: u16, proto: u8, req: u64, resp: u64, t: Ts) -> (u64, u64) {
        let c = self.c;
        if let (Some(a), Some(b)) = (c.node(client), c.node(server))
            && a == b
        {
            return (0, 0); // Traffic inside one node never reaches the VPC.
        }
        let (req, resp) = (req * BYTE_SCALE, resp * BYTE_SCALE);
        let up = self.leg(client, server, (cport, port), proto, req, t);
        let down = self.leg(server, client, (port, cport), proto, resp, t + 1);
        self.add_resource_truth((client, server), client, server, req, up, t);
        self.add_resource_truth((client, server), server, client, resp, down, t + 1);
        let server_name = match service {
            Some(s) => c.service_name(s),
            None => c.name(server, false),
        };
        let names = (c.name(client, false), server_name.clone());
        // Without pkt-* fields a record knows its own side by its interface only, the other side
        // exactly: an end is named exactly when the other end's interface is logged (its record
        // knows this one's address), else by its node. (Per leg: logging can start in between.)
        let logged = |e: Ep, at: Ts| c.eni(e).is_some_and(|i| c.world.enis[i].logged_at(at));
        let node_names = |at: Ts| {
            let cn = if logged(server, at) { c.name(client, false) } else { c.name(client, true) };
            let sn = if logged(client, at) { server_name.clone() } else { c.name(server, true) };
            (cn, sn)
        };
        let (up_bytes, down_bytes) = (if up { req } else { 0 }, if down { resp } else { 0 });
        self.add_truth(client, server, names, node_names(t), (up_bytes, down_bytes), (up_bytes, 0), t);
        self.add_truth_node_level(client, server, node_names(t + 1), (0, down_bytes));
        (up_bytes, down_bytes)
    }

    fn zone(&self, e: Ep) -> Option<usize> {
        self.c.eni(e).map(|i| self.c.world.enis[i].zone)
    }

    fn service_key(&self, s: usize) -> String {
        let svc = &self.c.plan.services[s];
        format!("{}/{}", svc.namespace, svc.name)
    }

    /// kube-proxy's second hop from the node a load balancer picked to a pod of the Service.
    #[allow(clippy::too_many_arguments)]
    fn second_hop(&mut self, node: usize, target: usize, service: usize, port: u16, req: u64, resp: u64, t: Ts) {
        let (up, down) = self.conv(Ep::Node(node), Ep::Pod(target), Some(service), port, TCP, req, resp, t);
        if self.zone(Ep::Node(node)) != self.zone(Ep::Pod(target)) {
            let key = self.service_key(service);
            *self.truth.paths.second_hops.entry(key).or_default() += up + down;
        }
    }

    /// The second leg's bytes, for the per-node truth only (the exact truth took both legs).
    fn add_truth_node_level(&mut self, client: Ep, server: Ep, names: (Name, Name), bytes: (u64, u64)) {
        let billing = self.billing(client, server);
        add_bytes(&mut self.truth.node_level, self.c, (client, server), names, billing, bytes);
    }

    /// A node's (SNATed) traffic to an internet host (or an AWS service, `service`) through the
    /// NAT gateway its zone routes to, as the AWS user guide shows it: records on the node's
    /// interface and on the NAT gateway's.
    fn via_nat(&mut self, node: usize, host: Ip, service: Option<&'static str>, req: u64, resp: u64, t: Ts) {
        let c = self.c;
        let (req, resp) = (req * BYTE_SCALE, resp * BYTE_SCALE);
        let zone = c.world.nodes[node].zone;
        let nat = c.world.nat_for(zone, t);
        let (n, g, h) = (Ep::Node(node), Ep::Eni(nat), Ep::Internet(host));
        let cport = self.ephemeral();
        let node_eni = c.world.nodes[node].primary_eni;
        let nat_ip = c.world.enis[nat].primary;
        let start = self.records.len();
        let (node_logged, nat_logged) = (c.world.enis[node_eni].logged_at(t), c.world.enis[nat].logged_at(t));
        if node_logged {
            // R1: node egress to the host; R6: node ingress from the host (the internet leg, seen by the node).
            self.record(node_eni, true, n, h, (cport, 443), TCP, req, t);
            self.record(node_eni, false, h, n, (443, cport), TCP, resp, t + 1);
            self.count("counted", 2);
        }
        if nat_logged {
            // R2: NAT ingress from the node, addressed to the host; R5: NAT egress to the node, from the host.
            let mut r2 = self.mk(nat, false, c.ip(n), nat_ip, c.ip(n), host, (cport, 443), req, t);
            r2.traffic_path = None;
            self.records.push(r2);
            let r5 = self.mk(nat, true, nat_ip, c.ip(n), host, c.ip(n), (443, cport), resp, t + 1);
            self.records.push(r5);
            // R3, R4: the NAT gateway's own internet leg.
            let mut r3 = self.mk(nat, true, nat_ip, host, nat_ip, host, (cport, 443), req, t);
            r3.traffic_path = Some(8);
            self.records.push(r3);
            let r4 = self.mk(nat, false, host, nat_ip, host, nat_ip, (443, cport), resp, t + 1);
            self.records.push(r4);
            self.count("counted", 2);
            self.count("gateway-internet-leg", 2);
        }
        for r in &mut self.records[start..] {
            if r.dst == host || r.pkt_dst == host {
                r.dst_service = service;
            }
            if r.src == host || r.pkt_src == host {
                r.src_service = service;
            }
        }
        self.add_resource_truth((n, g), n, g, req, nat_logged, t);
        self.add_resource_truth((n, g), g, n, resp, nat_logged, t + 1);
        if nat_logged {
            let names = (c.name(n, false), c.name(g, false));
            self.add_truth(n, g, names.clone(), names, (req, resp), (req, resp), t);
            let nat_id = match &c.world.enis[nat].kind {
                EniKind::Nat(id) => id.clone(),
                _ => String::new(),
            };
            let zone_name = ZONES[zone].0.to_string();
            *self.truth.paths.nat.entry((nat_id.clone(), zone_name.clone())).or_default() += req + resp;
            if let Some(s) = service {
                *self.truth.paths.nat_services.entry((s.to_string(), nat_id, zone_name)).or_default() += req + resp;
            }
        }
        if !node_logged {
            return;
        }
        let names = (c.name(n, false), c.name(h, false));
        let class = "internet-other";
        for map in [&mut self.truth.conversations, &mut self.truth.node_level] {
            let k = TruthKey { client: names.0.clone(), server: names.1.clone(), client_az_id: c.zone_id(n), server_az_id: String::new(), class, rule: "" };
            let e = map.entry(k).or_default();
            e.0 += req;
            e.1 += resp;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn mk(&mut self, eni: usize, egress: bool, src: Ip, dst: Ip, pkt_src: Ip, pkt_dst: Ip, ports: (u16, u16), bytes: u64, t: Ts) -> GenRecord {
        GenRecord {
            eni: eni as u32,
            src,
            dst,
            pkt_src,
            pkt_dst,
            sport: ports.0,
            dport: ports.1,
            proto: TCP,
            packets: bytes / 1400 + 1,
            bytes,
            start: t,
            end: t + self.rng.range(1, 59) as Ts,
            reject: false,
            status: 0,
            egress,
            tcp_flags: 3,
            traffic_path: egress.then_some(1),
            src_service: None,
            dst_service: None,
        }
    }

    /// The ID of a load balancer interface deleted during the window (replaced), else None.
    fn deleted(&self, eni: usize) -> Option<String> {
        let e = &self.c.world.enis[eni];
        (e.life.exists.1 != Ts::MAX).then(|| e.id.clone())
    }

    /// Internet client → ALB interface (random AZ) → a target pod of `service` (any AZ).
    fn via_alb(&mut self, albs: &[usize], service: usize, req: u64, resp: u64, t: Ts) {
        let c = self.c;
        let targets = c.live(c.plan.services[service].workload, t);
        let Some(target) = self.pick(&targets) else {
            return;
        };
        let albs: Vec<usize> = albs.iter().copied().filter(|&a| c.world.enis[a].life.exists_at(t)).collect();
        let alb = albs[self.rng.below(albs.len() as u64) as usize];
        let host = Ip::from_v4([198, 18, self.rng.below(256) as u8, self.rng.range(1, 254) as u8]);
        self.through_deleted = self.deleted(alb);
        self.conv(Ep::Internet(host), Ep::Eni(alb), None, 443, TCP, req / 2 + 100, resp + 500, t);
        // Load balancers pick source ports from the whole range, often below the target's port.
        let lb_port = self.rng.range(1024, 65535) as u16;
        self.conv_from(Ep::Eni(alb), Ep::Pod(target), Some(service), lb_port, c.plan.services[service].ports[0].2, TCP, req, resp, t);
        self.through_deleted = None;
    }

    /// Internet client → an ALB in instance mode (`target-type: instance`) → the Service's NodePort
    /// on any node → kube-proxy's second hop to a pod, maybe in another AZ.
    fn via_alb_instance(&mut self, albs: &[usize], service: usize, req: u64, resp: u64, t: Ts) {
        let c = self.c;
        let svc = &c.plan.services[service];
        let (Some(node_port), target_port) = (svc.node_port, svc.ports[0].2) else { return };
        let targets = c.live(svc.workload, t);
        let Some(target) = self.pick(&targets) else { return };
        let albs: Vec<usize> = albs.iter().copied().filter(|&a| c.world.enis[a].life.exists_at(t)).collect();
        let alb = albs[self.rng.below(albs.len() as u64) as usize];
        let node = self.alive_node(t);
        let host = Ip::from_v4([198, 18, self.rng.below(256) as u8, self.rng.range(1, 254) as u8]);
        self.through_deleted = self.deleted(alb);
        self.conv(Ep::Internet(host), Ep::Eni(alb), None, 443, TCP, req / 2 + 100, resp + 500, t);
        let lb_port = self.rng.range(1024, 65535) as u16;
        self.conv_from(Ep::Eni(alb), Ep::Node(node), Some(service), lb_port, node_port, TCP, req, resp, t);
        self.through_deleted = None;
        self.second_hop(node, target, service, target_port, req, resp, t);
    }

    /// Internet client → a Classic Load Balancer node → a NodePort on any node → kube-proxy's
    /// second hop to a pod of the Service, maybe in another AZ (SNAT to the node's address).
    fn via_clb(&mut self, t: Ts) {
        let c = self.c;
        let Some(real) = c.real else { return };
        let pods = c.live(real.storefront, t);
        let Some(target) = self.pick(&pods) else { return };
        let clb = c.world.clb[self.rng.below(c.world.clb.len() as u64) as usize];
        let node = self.alive_node(t);
        let host = Ip::from_v4([198, 18, self.rng.below(256) as u8, self.rng.range(1, 254) as u8]);
        let (req, resp) = (self.rng.log_range(2_000, 50_000), self.rng.log_range(50_000, 2_000_000));
        self.conv(Ep::Internet(host), Ep::Eni(clb), None, 80, TCP, req, resp, t);
        let lb_port = self.rng.range(1024, 65535) as u16;
        let svc = real.storefront_service;
        self.conv_from(Ep::Eni(clb), Ep::Node(node), Some(svc), lb_port, super::real::STOREFRONT_NODE_PORT, TCP, req, resp, t);
        self.second_hop(node, target, svc, super::real::STOREFRONT_PORT, req, resp, t);
    }

    fn run(&mut self, hour_start: Ts) {
        let c = self.c;
        let scale = c.scale;
        let rates: [(u8, u64); 15] = [
            (0, 1500),
            (1, 2000),
            (2, 2500),
            (3, 800),
            (4, 1000),
            (5, 700),
            (6, 800),
            (7, 600),
            (8, 1500),
            (9, 700),
            (10, 700),
            (11, 500),
            (12, 700),
            (13, 200),
            (14, 1000),
        ];
        // The real-account day adds a Classic Load Balancer's traffic and database replication.
        let extra: &[(u8, u64)] = if c.real.is_some() { &[(15, 700), (16, 300)] } else { &[] };
        // Then S3 traffic and ECR image pulls through the NAT gateways.
        for &(kind, rate) in rates.iter().chain(extra).chain(&[(17, 800), (18, 300)]) {
            let n = self.rng.count(rate * scale);
            for _ in 0..n {
                let t = hour_start + self.rng.below(3600 - 61) as Ts;
                self.transfer(kind, t);
            }
        }
        let day_offset = hour_start.rem_euclid(DAY);
        if day_offset == 2 * HOUR {
            for _ in 0..8 * scale {
                let t = hour_start + self.rng.below(30 * 60 - 61) as Ts;
                if let Some(job) = self.pick(&c.live(W_REPORT, t)) {
                    let reader = c.world.rds[1 + self.rng.below(2) as usize];
                    let (req, resp) = (self.rng.log_range(100_000, 1_000_000), self.rng.log_range(200_000_000, 2_000_000_000));
                    self.conv(Ep::Pod(job), Ep::Eni(reader), None, 5432, TCP, req, resp, t);
                }
            }
        }
        // Housekeeping records: NODATA on idle interfaces, a rejected scan.
        if day_offset == 4 * HOUR || (c.real.is_some() && day_offset == 16 * HOUR) {
            // Idle logged interfaces report NODATA: the quiet endpoint, and the nodes' second interfaces.
            let idle = std::iter::once(c.world.vpce)
                .chain(c.world.enis.iter().enumerate().filter(|(_, e)| !e.description.is_empty() && matches!(e.kind, EniKind::Node(_))).map(|(i, _)| i))
                .filter(|&i| c.world.enis[i].logged_at(hour_start));
            for v in idle.collect::<Vec<_>>() {
                let vip = c.world.enis[v].primary;
                let mut r = self.mk(v, false, vip, vip, vip, vip, (0, 0), 0, hour_start);
                r.status = 1;
                self.records.push(r);
                self.count("no-data", 1);
            }
            let alb = c.world.alb_game[0];
            if c.world.enis[alb].logged {
                let ip = c.world.enis[alb].primary;
                let scanner = Ip::from_v4(INTERNET_HOSTS[1]);
                let mut r = self.mk(alb, false, scanner, ip, scanner, ip, (51234, 22), 60, hour_start + 17);
                r.reject = true;
                r.tcp_flags = 2;
                self.records.push(r);
                self.count("rejected", 1);
            }
        }
        // Windows whose records AWS skipped: one SKIPDATA record each, where the records would be.
        for (i, e) in c.world.enis.iter().enumerate() {
            for &(from, to) in &e.life.skipped {
                if from >= hour_start && from < hour_start + HOUR && e.logged && e.life.exists_at(from) {
                    let ip = e.primary;
                    let mut r = self.mk(i, true, ip, ip, ip, ip, (0, 0), 0, from);
                    r.end = to - 1;
                    r.status = 2;
                    self.records.push(r);
                    self.count("skip-data", 1);
                }
            }
        }
    }

    fn transfer(&mut self, kind: u8, t: Ts) {
        let c = self.c;
        let w = c.world;
        let svc_pod = |h: &mut Self, s: usize| {
            let list = c.live(c.plan.services[s].workload, t);
            h.pick(&list)
        };
        let client_pod = |h: &mut Self, wl: usize| {
            let list = c.live(wl, t);
            h.pick(&list)
        };
        match kind {
            0 => {
                let (req, resp) = (self.rng.log_range(2_000, 20_000), self.rng.log_range(50_000, 5_000_000));
                // The 2048 game's Ingress uses `target-type: instance`: the ALB sends to NodePorts.
                self.via_alb_instance(&w.alb_game.clone(), S_GAME, req, resp, t);
            }
            1 => {
                let (req, resp) = (self.rng.log_range(5_000, 500_000), self.rng.log_range(100_000, 20_000_000));
                self.via_alb(&w.alb_shop.clone(), S_WEB, req, resp, t);
            }
            2 | 6 | 9 => {
                let (client_w, svc, port, req, resp) = match kind {
                    2 => (W_WEB, S_CACHE, 6379, self.rng.log_range(5_000_000, 200_000_000), self.rng.log_range(50_000_000, 3_000_000_000)),
                    6 => (W_WORKER, S_QUEUE, 5672, self.rng.log_range(10_000, 100_000), self.rng.log_range(5_000_000, 100_000_000)),
                    _ => (W_PROM, S_WEB_METRICS, 9090, self.rng.log_range(300, 1_000), self.rng.log_range(50_000, 2_000_000)),
                };
                if let (Some(cp), Some(sp)) = (client_pod(self, client_w), svc_pod(self, svc)) {
                    self.conv(Ep::Pod(cp), Ep::Pod(sp), Some(svc), port, TCP, req, resp, t);
                }
            }
            3 | 4 | 7 => {
                let client_w = if kind == 7 { W_WORKER } else { W_WEB };
                let rds = if kind == 4 { w.rds[1 + self.rng.below(2) as usize] } else { w.rds[0] };
                let (req, resp) = if kind == 4 {
                    (self.rng.log_range(100_000, 2_000_000), self.rng.log_range(20_000_000, 500_000_000))
                } else {
                    (self.rng.log_range(2_000_000, 80_000_000), self.rng.log_range(200_000, 4_000_000))
                };
                if let Some(cp) = client_pod(self, client_w) {
                    self.conv(Ep::Pod(cp), Ep::Eni(rds), None, 5432, TCP, req, resp, t);
                }
            }
            5 => {
                // web-api publishes through the internal NLB (cross-zone on) to the queue.
                let nlb = w.nlb_queue[self.rng.below(3) as usize];
                let (req, resp) = (self.rng.log_range(2_000_000, 60_000_000), self.rng.log_range(10_000, 100_000));
                if let (Some(cp), Some(sp)) = (client_pod(self, W_WEB), svc_pod(self, S_QUEUE)) {
                    let lb = match &w.enis[nlb].kind {
                        EniKind::Nlb(name) => name.clone(),
                        _ => String::new(),
                    };
                    let (cu, cd) = self.conv(Ep::Pod(cp), Ep::Eni(nlb), None, 5672, TCP, req, resp, t);
                    let client_zone = ZONES[self.zone(Ep::Pod(cp)).unwrap_or(0)].0.to_string();
                    *self.truth.paths.nlb_clients.entry((lb.clone(), client_zone)).or_default() += cu + cd;
                    let (up, down) = self.conv(Ep::Eni(nlb), Ep::Pod(sp), Some(S_QUEUE), 5672, TCP, req, resp, t);
                    if self.zone(Ep::Eni(nlb)) != self.zone(Ep::Pod(sp)) {
                        *self.truth.paths.nlb_cross_zone.entry((lb, self.service_key(S_QUEUE))).or_default() += up + down;
                    }
                }
            }
            8 => {
                let client_w = [W_WEB, W_WORKER, W_GAME][self.rng.below(3) as usize];
                let (req, resp) = (self.rng.log_range(100, 2_000), self.rng.log_range(200, 4_000));
                if let (Some(cp), Some(sp)) = (client_pod(self, client_w), svc_pod(self, S_DNS)) {
                    self.conv(Ep::Pod(cp), Ep::Pod(sp), Some(S_DNS), 53, UDP, req, resp, t);
                }
            }
            10 => {
                let node = self.alive_node(t);
                let (req, resp) = (self.rng.log_range(300, 1_000), self.rng.log_range(50_000, 500_000));
                if let Some(cp) = client_pod(self, W_PROM) {
                    self.conv(Ep::Pod(cp), Ep::Node(node), Some(S_NODE_EXPORTER), 9100, TCP, req, resp, t);
                }
            }
            11 => {
                let (req, resp) = (self.rng.log_range(300, 1_000), self.rng.log_range(20_000, 300_000));
                if let (Some(cp), Some(sp)) = (client_pod(self, W_PROM), client_pod(self, W_WORKER)) {
                    self.conv(Ep::Pod(cp), Ep::Pod(sp), None, 9100, TCP, req, resp, t);
                }
            }
            12 => {
                let node = self.alive_node(t);
                let eks = w.eks[self.rng.below(2) as usize];
                let (req, resp) = (self.rng.log_range(100_000, 4_000_000), self.rng.log_range(500_000, 20_000_000));
                self.conv(Ep::Node(node), Ep::Eni(eks), None, 443, TCP, req, resp, t);
            }
            13 => {
                let node = self.alive_node(t);
                let (req, resp) = (self.rng.log_range(10_000, 200_000), self.rng.log_range(20_000_000, 600_000_000));
                self.conv(Ep::Node(node), Ep::Eni(w.vpce), None, 443, TCP, req, resp, t);
            }
            15 => self.via_clb(t),
            17 => {
                // queue-worker reads and writes objects in S3 (same region) through the NAT gateway.
                if let Some(cp) = client_pod(self, W_WORKER) {
                    let node = c.plan.pods[cp].node;
                    let host = Ip::from_v4(S3_HOSTS[self.rng.below(S3_HOSTS.len() as u64) as usize]);
                    let (req, resp) = (self.rng.log_range(2_000_000, 120_000_000), self.rng.log_range(4_000_000, 400_000_000));
                    self.via_nat(node, host, Some("S3"), req, resp, t);
                }
            }
            18 => {
                // A node pulls an image from ECR: the registry API (in the AMAZON ranges), then the layers from S3.
                let node = self.alive_node(t);
                let (req, resp) = (self.rng.log_range(2_000, 20_000), self.rng.log_range(5_000, 80_000));
                self.via_nat(node, Ip::from_v4(ECR_API_HOST), Some("AMAZON"), req, resp, t);
                let (req, resp) = (self.rng.log_range(5_000, 50_000), self.rng.log_range(2_000_000, 60_000_000));
                self.via_nat(node, Ip::from_v4(S3_HOSTS[0]), Some("S3"), req, resp, t);
            }
            16 => {
                // The database cluster's readers stream the writer's changes (free: replication).
                let reader = w.rds[1 + self.rng.below(2) as usize];
                let (req, resp) = (self.rng.log_range(10_000, 100_000), self.rng.log_range(5_000_000, 100_000_000));
                self.conv(Ep::Eni(reader), Ep::Eni(w.rds[0]), None, 5432, TCP, req, resp, t);
            }
            _ => {
                if let Some(cp) = client_pod(self, W_WEB) {
                    let node = c.plan.pods[cp].node;
                    let host = Ip::from_v4(INTERNET_HOSTS[self.rng.below(INTERNET_HOSTS.len() as u64) as usize]);
                    let (req, resp) = (self.rng.log_range(500_000, 40_000_000), self.rng.log_range(40_000_000, 1_200_000_000));
                    self.via_nat(node, host, None, req, resp, t);
                }
            }
        }
    }
}

/// Generates one hour: its records and its truth.
pub fn hour(c: &Ctx<'_>, hour_start: Ts) -> (Vec<GenRecord>, Truth) {
    let mut h = Hour { c, rng: Rng::stream(c.seed, hour_start as u64), records: Vec::new(), truth: Truth::default(), through_deleted: None };
    h.run(hour_start);
    (h.records, h.truth)
}
