//! The simulated account: a VPC in ap-northeast-2 with three AZs, public and private subnets,
//! NAT gateways in two of the three AZs (the third routes to the first's), two ALBs, an NLB, an RDS Multi-AZ DB cluster, EKS control-plane and
//! VPC-endpoint interfaces, six managed nodes, and the workloads of an EKS quickstart cluster.

use super::rng::Rng;
use crate::model::ip::Ip;
use crate::model::time::Ts;

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "ap-northeast-2";
pub const VPC: &str = "vpc-0a1b2c3d4e5f67890";
pub const FLOW_LOG_ID: &str = "fl-0c0ffee1234567890";
pub const CLUSTER: &str = "demo";
/// The PostgreSQL Multi-AZ DB cluster: its writer in the first AZ, a reader in each other.
pub const DB_CLUSTER: &str = "shop-db";
pub const DB_CLASS: &str = "db.m6gd.large";
/// This account's AZ names map to AZ IDs out of order, as in many real accounts.
pub const ZONES: [(&str, &str); 3] = [("ap-northeast-2a", "apne2-az2"), ("ap-northeast-2b", "apne2-az3"), ("ap-northeast-2c", "apne2-az1")];
pub const UNUSED_ZONE: (&str, &str) = ("ap-northeast-2d", "apne2-az4");
pub const INTERNET_HOSTS: [[u8; 4]; 3] = [[203, 0, 113, 50], [198, 51, 100, 7], [192, 0, 2, 44]];

#[derive(Clone, Debug)]
pub struct SubnetDef {
    pub id: String,
    pub cidr: String,
    pub zone: usize,
    pub public: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EniKind {
    Node(usize),
    Nat(String),
    Alb(String),
    Nlb(String),
    /// A Classic Load Balancer (a `type: LoadBalancer` Service without the AWS Load Balancer Controller).
    Clb(String),
    /// A Multi-AZ DB cluster instance: (instance id, writer?).
    Rds(String, bool),
    Eks,
    Vpce(String),
}

#[derive(Clone, Debug)]
pub struct EniDef {
    pub id: String,
    pub subnet: usize,
    pub zone: usize,
    pub primary: Ip,
    pub secondaries: Vec<Ip>,
    pub kind: EniKind,
    pub description: String,
    pub interface_type: &'static str,
    pub requester_id: Option<&'static str>,
    pub instance_id: Option<String>,
    /// Whether the flow log covers this interface (tests turn some off).
    pub logged: bool,
    pub lb_full_name: Option<String>,
    /// When it existed and when the flow log covered it.
    pub life: Life,
}

/// An interface's life: created and deleted (node churn, load-balancer scaling), when the flow
/// log covered it, and windows whose records AWS skipped (SKIPDATA).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Life {
    pub exists: (Ts, Ts),
    pub logged_from: Ts,
    pub skipped: Vec<(Ts, Ts)>,
}

impl Life {
    pub fn always() -> Life {
        Life { exists: (Ts::MIN, Ts::MAX), logged_from: Ts::MIN, skipped: Vec::new() }
    }

    pub fn exists_at(&self, t: Ts) -> bool {
        self.exists.0 <= t && t < self.exists.1
    }
}

impl EniDef {
    /// Whether the flow log records this interface's traffic at `t`.
    pub fn logged_at(&self, t: Ts) -> bool {
        self.logged && self.life.exists_at(t) && t >= self.life.logged_from && !self.life.skipped.iter().any(|(a, b)| *a <= t && t < *b)
    }

    /// The entity name crossaz shows for this interface's owner.
    pub fn label(&self, world: &World) -> String {
        match &self.kind {
            EniKind::Node(n) => format!("node:{}", world.nodes[*n].name),
            EniKind::Nat(id) => format!("nat:{id}"),
            EniKind::Alb(name) | EniKind::Nlb(name) | EniKind::Clb(name) => format!("elb:{name}"),
            EniKind::Rds(id, _) => format!("rds:{id}"),
            EniKind::Eks => format!("eks:{CLUSTER}"),
            EniKind::Vpce(id) => format!("vpce:{id}"),
        }
    }

    pub fn label_kind(&self) -> &'static str {
        match &self.kind {
            EniKind::Node(_) => "node",
            EniKind::Nat(_) => "nat",
            EniKind::Alb(_) | EniKind::Nlb(_) | EniKind::Clb(_) => "elb",
            EniKind::Rds(..) => "rds",
            EniKind::Eks => "eks",
            EniKind::Vpce(_) => "vpce",
        }
    }
}

#[derive(Clone, Debug)]
pub struct NodeDef {
    pub name: String,
    pub instance_id: String,
    pub zone: usize,
    pub ip: Ip,
    /// Pod IPs of this node, with the interface that holds each.
    pub pool: Vec<(Ip, usize)>,
    pub primary_eni: usize,
    pub cpu_milli: u64,
    /// When the node (its instance) ran.
    pub alive: (Ts, Ts),
}

impl NodeDef {
    pub fn alive_at(&self, t: Ts) -> bool {
        self.alive.0 <= t && t < self.alive.1
    }
}

pub struct World {
    pub subnets: Vec<SubnetDef>,
    pub enis: Vec<EniDef>,
    pub nodes: Vec<NodeDef>,
    pub nat_by_zone: Vec<usize>,
    pub alb_game: Vec<usize>,
    pub alb_shop: Vec<usize>,
    pub nlb_queue: Vec<usize>,
    /// RDS interfaces: writer first (AZ a), then the two readers.
    pub rds: Vec<usize>,
    pub eks: Vec<usize>,
    pub vpce: usize,
    /// Classic Load Balancer interfaces (the real-account day only).
    pub clb: Vec<usize>,
    /// Times a zone's private subnets routed to another zone's NAT gateway: (zone, NAT interface, from, to).
    pub nat_detours: Vec<(usize, usize, Ts, Ts)>,
}

/// Addresses of AWS services the pods reach through the NAT gateways, with the name AWS's
/// ip-ranges.json gives their ranges (and flow logs write in `pkt-dst-aws-service`).
pub const S3_HOSTS: [[u8; 4]; 2] = [[52, 219, 60, 10], [3, 5, 140, 22]];
pub const ECR_API_HOST: [u8; 4] = [52, 95, 192, 10];

impl World {
    /// The NAT gateway interface a zone's private subnets route to at `t`.
    pub fn nat_for(&self, zone: usize, t: Ts) -> usize {
        self.nat_detours.iter().find(|(z, _, a, b)| *z == zone && *a <= t && t < *b).map_or(self.nat_by_zone[zone], |d| d.1)
    }
}

pub(super) fn ip(a: u8, b: u8, c: u8, d: u8) -> Ip {
    Ip::from_v4([a, b, c, d])
}

fn private_octet(zone: usize) -> u8 {
    64 + 32 * zone as u8
}

fn public_octet(zone: usize) -> u8 {
    16 * zone as u8
}

impl World {
    pub fn build(rng: &mut Rng) -> World {
        let mut subnets = Vec::new();
        for z in 0..3 {
            subnets.push(SubnetDef { id: format!("subnet-0pub{}{}", z, rng.hex(12)), cidr: format!("10.0.{}.0/20", public_octet(z)), zone: z, public: true });
        }
        for z in 0..3 {
            subnets.push(SubnetDef { id: format!("subnet-0prv{}{}", z, rng.hex(12)), cidr: format!("10.0.{}.0/19", private_octet(z)), zone: z, public: false });
        }
        let mut w = World {
            subnets,
            enis: Vec::new(),
            nodes: Vec::new(),
            nat_by_zone: Vec::new(),
            alb_game: Vec::new(),
            alb_shop: Vec::new(),
            nlb_queue: Vec::new(),
            rds: Vec::new(),
            eks: Vec::new(),
            vpce: 0,
            clb: Vec::new(),
            nat_detours: Vec::new(),
        };
        let add = |w: &mut World, e: EniDef| {
            w.enis.push(e);
            w.enis.len() - 1
        };
        let eni_id = |rng: &mut Rng| format!("eni-0{}", rng.hex(16));
        // Nodes: two per AZ, each with two interfaces holding pod IPs.
        for z in 0..3 {
            for j in 0..2u8 {
                let o = private_octet(z);
                let node_ip = ip(10, 0, o, 40 * j + 10);
                let instance_id = format!("i-0{}", rng.hex(16));
                let name = format!("ip-10-0-{o}-{}.{REGION}.compute.internal", 40 * j + 10);
                let n = w.nodes.len();
                let mut pool = Vec::new();
                let mut node_enis = Vec::new();
                for k in 0..2u8 {
                    let primary = ip(10, 0, o, 40 * j + 10 + 10 * k);
                    let secondaries: Vec<Ip> = (1..=9).map(|d| ip(10, 0, o, 40 * j + 10 + 10 * k + d)).collect();
                    let description = if k == 0 { String::new() } else { format!("aws-K8S-{instance_id}") };
                    let idx = add(
                        &mut w,
                        EniDef {
                            id: eni_id(rng),
                            subnet: 3 + z,
                            zone: z,
                            primary,
                            secondaries: secondaries.clone(),
                            kind: EniKind::Node(n),
                            description,
                            interface_type: "interface",
                            requester_id: None,
                            instance_id: Some(instance_id.clone()),
                            logged: true,
                            lb_full_name: None,
                            life: Life::always(),
                        },
                    );
                    pool.extend(secondaries.into_iter().map(|s| (s, idx)));
                    node_enis.push(idx);
                }
                w.nodes.push(NodeDef { name, instance_id, zone: z, ip: node_ip, pool, primary_eni: node_enis[0], cpu_milli: 1930, alive: (Ts::MIN, Ts::MAX) });
            }
        }
        // NAT gateways in the first two AZs only: the third's private subnets use the first's.
        for z in 0..2 {
            let id = format!("nat-0{}", rng.hex(16));
            let e = EniDef {
                id: eni_id(rng),
                subnet: z,
                zone: z,
                primary: ip(10, 0, public_octet(z), 10),
                secondaries: vec![],
                kind: EniKind::Nat(id.clone()),
                description: format!("Interface for NAT Gateway {id}"),
                interface_type: "nat_gateway",
                requester_id: None,
                instance_id: None,
                logged: true,
                lb_full_name: None,
                life: Life::always(),
            };
            let i = add(&mut w, e);
            w.nat_by_zone.push(i);
        }
        w.nat_by_zone.push(w.nat_by_zone[0]);
        let lbs = [
            ("k8s-game2048-ingress2-4f8e1c2b7a", "app", 20u8, true),
            ("k8s-shop-webapi-7b2d9e4f1c", "app", 21, true),
            ("k8s-shop-queue-3c5e7a9b1d", "net", 200, false),
        ];
        for (li, (name, kind, last, public)) in lbs.iter().enumerate() {
            let lb_id = rng.hex(16);
            for z in 0..3 {
                let (subnet, octet) = if *public { (z, public_octet(z)) } else { (3 + z, private_octet(z)) };
                let e = EniDef {
                    id: eni_id(rng),
                    subnet,
                    zone: z,
                    primary: ip(10, 0, octet, *last),
                    secondaries: vec![],
                    kind: if *kind == "app" { EniKind::Alb(name.to_string()) } else { EniKind::Nlb(name.to_string()) },
                    description: format!("ELB {kind}/{name}/{lb_id}"),
                    interface_type: if *kind == "app" { "interface" } else { "network_load_balancer" },
                    requester_id: Some("amazon-elb"),
                    instance_id: None,
                    logged: true,
                    lb_full_name: Some(format!("{kind}/{name}/{lb_id}")),
                    life: Life::always(),
                };
                let i = add(&mut w, e);
                match li {
                    0 => w.alb_game.push(i),
                    1 => w.alb_shop.push(i),
                    _ => w.nlb_queue.push(i),
                }
            }
        }
        for z in 0..3 {
            let e = EniDef {
                id: eni_id(rng),
                subnet: 3 + z,
                zone: z,
                primary: ip(10, 0, private_octet(z), 220),
                secondaries: vec![],
                kind: EniKind::Rds(format!("{DB_CLUSTER}-instance-{}", z + 1), z == 0),
                description: "RDSNetworkInterface".into(),
                interface_type: "interface",
                requester_id: Some("amazon-rds"),
                instance_id: None,
                logged: true,
                lb_full_name: None,
                life: Life::always(),
            };
            let i = add(&mut w, e);
            w.rds.push(i);
        }
        for z in 0..2 {
            let e = EniDef {
                id: eni_id(rng),
                subnet: 3 + z,
                zone: z,
                primary: ip(10, 0, private_octet(z), 230),
                secondaries: vec![],
                kind: EniKind::Eks,
                description: format!("Amazon EKS {CLUSTER}"),
                interface_type: "interface",
                requester_id: None,
                instance_id: None,
                logged: true,
                lb_full_name: None,
                life: Life::always(),
            };
            let i = add(&mut w, e);
            w.eks.push(i);
        }
        let vpce_id = format!("vpce-0{}", rng.hex(16));
        let e = EniDef {
            id: eni_id(rng),
            subnet: 3,
            zone: 0,
            primary: ip(10, 0, private_octet(0), 240),
            secondaries: vec![],
            kind: EniKind::Vpce(vpce_id.clone()),
            description: format!("VPC Endpoint Interface {vpce_id}"),
            interface_type: "vpc_endpoint",
            requester_id: None,
            instance_id: None,
            logged: true,
            lb_full_name: None,
            life: Life::always(),
        };
        w.vpce = add(&mut w, e);
        w
    }
}

/// A Kubernetes workload of the simulated cluster.
#[derive(Clone, Debug)]
pub struct WorkloadDef {
    pub namespace: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub host_network: bool,
}

#[derive(Clone, Debug)]
pub struct ServiceDef {
    pub namespace: &'static str,
    pub name: &'static str,
    pub workload: usize,
    /// (port name, port, target port, protocol)
    pub ports: Vec<(&'static str, u16, u16, &'static str)>,
    pub node_port: Option<u16>,
    pub annotations: Vec<(&'static str, &'static str)>,
    /// `spec.trafficDistribution`; its slices then carry own-zone hints, as the controller writes them.
    pub traffic_distribution: Option<&'static str>,
    /// `type: LoadBalancer` (a Classic Load Balancer in front of its NodePort).
    pub load_balancer: bool,
}

#[derive(Clone, Debug)]
pub struct PodDef {
    pub uid: String,
    pub name: String,
    pub workload: usize,
    /// The controller named in ownerReferences: (kind, name).
    pub owner: Option<(&'static str, String)>,
    pub template_hash: Option<String>,
    pub node: usize,
    pub ip: Ip,
    pub eni: usize,
    pub start: Ts,
    /// When it stopped holding its IP (deleted, or finished for Job pods).
    pub end: Ts,
    /// Job pods stay listed (Succeeded) until this time.
    pub listed_until: Ts,
    pub finished: Option<Ts>,
}

impl PodDef {
    pub fn alive(&self, t: Ts) -> bool {
        self.start <= t && t < self.end
    }
}
