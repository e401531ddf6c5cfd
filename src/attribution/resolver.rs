//! Names the owner of an address at a moment: a pod's workload, a node, an AWS-managed peer,
//! `unattributed` (inside the VPC, owner unknown) or `external`; and which billing rule applies
//! between two ends.

use crate::model::entity::{Entities, Entity, EntityId, EntityKind};
use crate::model::inventory::{ANY_VPC, EniIdx, EniOwner, Inventory, LbKind, NO_ZONE, VpcIdx, ZoneIdx, owner_entity};
use crate::model::ip::Ip;
use crate::model::k8s::Proto;
use crate::model::time::Ts;
use crate::model::timeline::{PodIdx, Timeline};
use crate::pricing::transfer::{Peer, RuleIdx, Rules};
use rustc_hash::FxHashMap;
use std::sync::{Mutex, MutexGuard};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Site {
    Pod(PodIdx),
    Node,
    /// An AWS-managed peer or a non-Kubernetes instance.
    Peer,
    Unattributed(Unattributed),
    External,
}

/// Why an address inside the VPC has no owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unattributed {
    /// A secondary IP of a node with no known pod holding it at that time.
    PodUnknown,
    /// In a known subnet but on no interface of the inventory at that time.
    NoInterface,
    /// A private address, and no network inventory to say whose.
    NoInventory,
}

impl Unattributed {
    pub const ALL: [Unattributed; 3] = [Unattributed::PodUnknown, Unattributed::NoInterface, Unattributed::NoInventory];

    /// Stable name, kept as the entity's name (reports show every reason as `unattributed`).
    pub fn code(self) -> &'static str {
        match self {
            Unattributed::PodUnknown => "pod-unknown",
            Unattributed::NoInterface => "no-interface",
            Unattributed::NoInventory => "no-inventory",
        }
    }

    pub fn from_code(code: &str) -> Option<Unattributed> {
        Unattributed::ALL.into_iter().find(|u| u.code() == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Unattributed::PodUnknown => "pod IP with no known pod at that time",
            Unattributed::NoInterface => "address on no interface of the network inventory at that time",
            Unattributed::NoInventory => "private address, no network inventory (pass `--network`)",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct End {
    pub entity: EntityId,
    pub zone: ZoneIdx,
    pub site: Site,
}

/// What a record says about the interface that recorded it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Recorder<'r> {
    pub interface_id: Option<&'r str>,
    pub eni: Option<EniIdx>,
    pub instance_id: Option<&'r str>,
    /// From the record's `az-id` or `subnet-id`.
    pub zone: Option<ZoneIdx>,
}

pub struct Resolver<'a> {
    pub inv: &'a Inventory,
    pub timeline: &'a Timeline,
    pub rules: &'a Rules,
    /// The VPC the cluster's nodes are in: pods and nodes are only looked for there.
    cluster_vpc: VpcIdx,
    /// The inventory's VPCs and subnets: records of others are not analysed.
    pub vpcs: rustc_hash::FxHashSet<String>,
    pub subnet_ids: rustc_hash::FxHashSet<String>,
    /// Every entity; interfaces missing from the inventory are added during the pass.
    entities: Mutex<Entities>,
    /// Per entity known before the pass: what it is for billing, and the resource it belongs to.
    peers: Vec<Peer>,
    groups: Vec<Option<u32>>,
    /// Node entities and what their pods listen on (for records without pkt-* fields).
    node_names: FxHashMap<EntityId, String>,
    pod_workload: Vec<EntityId>,
    pod_node: Vec<Option<EntityId>>,
    pod_zone: Vec<ZoneIdx>,
    service_entity: Vec<EntityId>,
    eni_entity: Vec<EntityId>,
    /// Interfaces of Kubernetes nodes: their secondary IPs are pod IPs.
    eni_node: Vec<bool>,
    node_entity: FxHashMap<String, EntityId>,
    node_zone: FxHashMap<String, ZoneIdx>,
    pub external: EntityId,
    /// One entity per reason, all shown as `unattributed`.
    unattributed: [EntityId; 3],
    /// Zones learnt from records' `az-id` that the inventory did not list.
    extra_zones: Mutex<Vec<String>>,
    /// AWS's address ranges: the service behind an address a NAT gateway forwards to.
    pub aws_ranges: Option<&'a crate::model::aws_ranges::AwsRanges>,
    /// The resource the bill charges for an interface's transfer (its instance, NAT gateway, load
    /// balancer, database, …), per interface, per node entity and per pod (its node's instance).
    eni_resource: Vec<EntityId>,
    node_resource: FxHashMap<EntityId, EntityId>,
    pod_resource: Vec<EntityId>,
}

/// No billed resource known for an end.
pub const NO_RESOURCE: EntityId = EntityId::MAX;

fn peer_of_owner(owner: &EniOwner) -> Peer {
    match owner {
        EniOwner::Instance { .. } | EniOwner::Branch => Peer::Compute,
        EniOwner::NatGateway { .. } => Peer::Nat,
        EniOwner::LoadBalancer { kind: LbKind::Application, .. } => Peer::Alb,
        EniOwner::LoadBalancer { kind: LbKind::Classic, .. } => Peer::Clb,
        EniOwner::LoadBalancer { kind: LbKind::Network, .. } => Peer::Nlb,
        EniOwner::LoadBalancer { kind: LbKind::Gateway, .. } => Peer::Gwlb,
        EniOwner::Rds { .. } => Peer::Rds,
        EniOwner::VpcEndpoint { .. } => Peer::Vpce,
        EniOwner::EksControlPlane { .. } => Peer::Eks,
        EniOwner::Lambda { .. } => Peer::Lambda,
        EniOwner::TransitGateway { .. } => Peer::Tgw,
        EniOwner::ElastiCache { .. } => Peer::Elasticache,
        EniOwner::Efs { .. } => Peer::Efs,
        EniOwner::OpenSearch { .. } => Peer::Opensearch,
        EniOwner::Msk { .. } => Peer::Msk,
        EniOwner::ClientVpn { .. } => Peer::ClientVpn,
        EniOwner::Other => Peer::Eni,
    }
}

impl<'a> Resolver<'a> {
    pub fn new(inv: &'a Inventory, timeline: &'a Timeline, rules: &'a Rules) -> Resolver<'a> {
        let mut entities = Entities::default();
        let external = entities.intern(Entity::new(EntityKind::External, "", ""));
        let unattributed = Unattributed::ALL.map(|u| entities.intern(Entity::new(EntityKind::Unattributed, "", u.code())));
        let mut node_entity = FxHashMap::default();
        let mut node_zone = FxHashMap::default();
        let mut node_names = FxHashMap::default();
        for (name, node) in &timeline.nodes {
            let id = entities.intern(Entity::new(EntityKind::Node, "", name));
            node_entity.insert(name.clone(), id);
            node_names.insert(id, name.clone());
            let zone = node.zone_id().and_then(|id| inv.zone_by_id(id)).or_else(|| node.zone_name().and_then(|n| inv.zone_by_name(n))).unwrap_or(NO_ZONE);
            node_zone.insert(name.clone(), zone);
        }
        let mut eni_entity = Vec::with_capacity(inv.enis.len());
        let mut eni_node = Vec::with_capacity(inv.enis.len());
        let mut eni_resource = Vec::with_capacity(inv.enis.len());
        let mut peer_by_entity: FxHashMap<EntityId, Peer> = FxHashMap::default();
        let mut group_by_entity: FxHashMap<EntityId, u32> = FxHashMap::default();
        // Interfaces of one database (a Multi-AZ instance's standby, a cluster's members) share a group.
        let mut group_names: FxHashMap<String, u32> = FxHashMap::default();
        let mut group_of = |name: String| {
            let n = group_names.len() as u32;
            *group_names.entry(name).or_insert(n)
        };
        // The cluster's VPC: that of the interfaces whose instance is a node (else whose address is a node's).
        let by_instance = |eni: &crate::model::inventory::Eni| match &eni.owner {
            EniOwner::Instance { instance_id } => timeline.node_by_instance(instance_id).map(str::to_string),
            _ => None,
        };
        let cluster_vpc = inv
            .enis
            .iter()
            .find(|e| by_instance(e).is_some())
            .or_else(|| inv.enis.iter().find(|e| e.primary_ip.is_some_and(|ip| timeline.node_by_ip(ip).is_some())))
            .map(|e| e.vpc_idx)
            .unwrap_or(ANY_VPC);
        let in_cluster = |v: VpcIdx| v == ANY_VPC || cluster_vpc == ANY_VPC || v == cluster_vpc;
        for eni in &inv.enis {
            let node =
                by_instance(eni).or_else(|| eni.primary_ip.filter(|_| in_cluster(eni.vpc_idx)).and_then(|ip| timeline.node_by_ip(ip)).map(str::to_string));
            let id = match &node {
                Some(n) => *node_entity.entry(n.clone()).or_insert_with(|| entities.intern(Entity::new(EntityKind::Node, "", n))),
                None => entities.intern(owner_entity(eni)),
            };
            if node.is_none() {
                peer_by_entity.insert(id, peer_of_owner(&eni.owner));
                let group = match &eni.owner {
                    EniOwner::Rds { name, .. } if !name.is_empty() => {
                        let cluster = inv.databases.iter().find(|d| &d.id == name).and_then(|d| d.cluster.clone());
                        Some(group_of(format!("rds:{}", cluster.unwrap_or_else(|| name.clone()))))
                    }
                    EniOwner::Msk { cluster } => Some(group_of(format!("msk:{cluster}"))),
                    _ => None,
                };
                if let Some(g) = group {
                    group_by_entity.insert(id, g);
                }
            }
            eni_entity.push(id);
            eni_node.push(node.is_some());
            eni_resource.push(entities.intern(owner_entity(eni)));
        }
        // A node's instance, from the Node's providerID (nodes whose interfaces are gone) or its interfaces.
        let mut node_resource: FxHashMap<EntityId, EntityId> = FxHashMap::default();
        for (name, node) in &timeline.nodes {
            if let Some(i) = &node.instance_id {
                node_resource.insert(node_entity[name], entities.intern(Entity::new(EntityKind::Ec2, "", i)));
            }
        }
        for (i, eni) in inv.enis.iter().enumerate() {
            if eni_node[i] && matches!(eni.owner, EniOwner::Instance { .. }) {
                node_resource.entry(eni_entity[i]).or_insert(eni_resource[i]);
            }
        }
        let service_entity = timeline.services.iter().map(|(ns, n)| entities.intern(Entity::new(EntityKind::Service, ns, n))).collect();
        let mut pod_workload = Vec::with_capacity(timeline.pods.len());
        let mut pod_node = Vec::with_capacity(timeline.pods.len());
        let mut pod_zone = Vec::with_capacity(timeline.pods.len());
        let mut pod_resource = Vec::with_capacity(timeline.pods.len());
        for p in &timeline.pods {
            pod_workload.push(entities.intern(p.workload.clone()));
            let node = p.node.as_ref();
            let node_id = node.and_then(|n| node_entity.get(n).copied());
            pod_node.push(node_id);
            pod_resource.push(node_id.and_then(|n| node_resource.get(&n).copied()).unwrap_or(NO_RESOURCE));
            pod_zone.push(node.and_then(|n| node_zone.get(n).copied()).unwrap_or(NO_ZONE));
        }
        let n = entities.len();
        let mut peers = vec![Peer::Compute; n];
        let mut groups = vec![None; n];
        for (id, p) in peer_by_entity {
            peers[id as usize] = p;
        }
        for (id, g) in group_by_entity {
            groups[id as usize] = Some(g);
        }
        peers[external as usize] = Peer::External;
        for u in unattributed {
            peers[u as usize] = Peer::Unattributed;
        }
        Resolver {
            aws_ranges: None,
            inv,
            timeline,
            rules,
            cluster_vpc,
            vpcs: inv.vpcs().into_iter().map(str::to_string).collect(),
            subnet_ids: inv.subnets.iter().map(|s| s.id.clone()).collect(),
            entities: Mutex::new(entities),
            peers,
            groups,
            node_names,
            pod_workload,
            pod_node,
            pod_zone,
            service_entity,
            eni_entity,
            eni_node,
            node_entity,
            node_zone,
            external,
            unattributed,
            extra_zones: Mutex::new(Vec::new()),
            eni_resource,
            node_resource,
            pod_resource,
        }
    }

    /// The resource the bill charges for an end's transfer at `t`: a pod's node's instance, a
    /// node's instance, else the owner of the interface holding `ip` ([`NO_RESOURCE`] if none).
    pub fn billed_resource(&self, end: &End, ip: Ip, t: Ts, vpc: VpcIdx) -> EntityId {
        let by_interface = || self.inv.eni_of_ip_at(ip, t, vpc).map(|e| self.eni_resource[e as usize]);
        let found = match end.site {
            Site::Pod(p) => Some(self.pod_resource[p as usize]).filter(|r| *r != NO_RESOURCE).or_else(by_interface),
            Site::Node => self.node_resource.get(&end.entity).copied().or_else(by_interface),
            Site::External => None,
            // A peer's entity is its interface's owner: the resource itself (NAT gateway records
            // carry the endpoints' addresses, not the gateway's).
            Site::Peer => Some(end.entity),
            Site::Unattributed(_) => by_interface(),
        };
        found.unwrap_or(NO_RESOURCE)
    }

    /// Every entity, for naming them after the pass.
    pub fn entities(&self) -> MutexGuard<'_, Entities> {
        self.entities.lock().expect("the entity table is never poisoned")
    }

    pub fn entity(&self, id: EntityId) -> Entity {
        self.entities().get(id).clone()
    }

    /// The entity standing for an interface the inventory does not list (added on first sight).
    pub fn unknown_interface(&self, interface_id: &str) -> EntityId {
        self.entities().intern(Entity::new(EntityKind::Eni, "", interface_id))
    }

    /// A stand-in entity for an address on no interface of the inventory, named after the pass.
    pub fn placeholder(&self, ip: Ip) -> EntityId {
        self.entities().intern(Entity::new(EntityKind::Unattributed, "", format!("addr:{ip}")))
    }

    /// The entity of addresses on no interface of the inventory.
    pub fn no_interface(&self) -> EntityId {
        self.unattributed[1]
    }

    /// An AZ by its ID, registering AZ IDs the inventory did not list.
    pub fn zone_by_id(&self, id: &str) -> ZoneIdx {
        if let Some(z) = self.inv.zone_by_id(id) {
            return z;
        }
        let mut extra = self.extra_zones.lock().expect("never poisoned");
        let i = match extra.iter().position(|z| z == id) {
            Some(i) => i,
            None => {
                extra.push(id.to_string());
                extra.len() - 1
            }
        };
        (self.inv.zones.len() + i) as ZoneIdx
    }

    pub fn zone_label(&self, z: ZoneIdx) -> (String, String) {
        match self.inv.zone(z) {
            Some(zone) => (zone.id.clone(), zone.name.clone().unwrap_or_default()),
            None => {
                let extra = self.extra_zones.lock().expect("never poisoned");
                let id = usize::from(z).checked_sub(self.inv.zones.len()).and_then(|i| extra.get(i).cloned()).unwrap_or_default();
                (id, String::new())
            }
        }
    }

    /// How reports show a zone: its name, else its ID (zones learnt from records have only an ID).
    pub fn zone_name(&self, z: ZoneIdx) -> String {
        let (id, name) = self.zone_label(z);
        if name.is_empty() { id } else { name }
    }

    /// Zones seen in the records that the inventory did not list.
    pub fn extra_zone_ids(&self) -> Vec<String> {
        self.extra_zones.lock().expect("never poisoned").clone()
    }

    fn peer(&self, e: EntityId) -> Peer {
        self.peers.get(e as usize).copied().unwrap_or(Peer::Eni)
    }

    fn group(&self, e: EntityId) -> Option<u32> {
        self.groups.get(e as usize).copied().flatten()
    }

    /// The billing rule between two ends in different AZs.
    pub fn rule(&self, client: EntityId, server: EntityId) -> RuleIdx {
        let same = match (self.group(client), self.group(server)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        };
        self.rules.lookup(self.peer(client), self.peer(server), same)
    }

    /// Whether an entity's cross-AZ traffic with pods is free when it is the client, and when it is
    /// either end (for the benchmark's SQL, which applies the same rules).
    pub fn free_with_compute(&self, e: EntityId) -> (bool, bool) {
        let as_client = self.rules.is_free(self.rules.lookup(self.peer(e), Peer::Compute, false));
        let as_server = self.rules.is_free(self.rules.lookup(Peer::Compute, self.peer(e), false));
        (as_client, as_client && as_server)
    }

    /// Whether Kubernetes' pods and nodes can be in VPC `vpc` (the cluster's, or unknown).
    fn in_cluster(&self, vpc: VpcIdx) -> bool {
        vpc == ANY_VPC || self.cluster_vpc == ANY_VPC || vpc == self.cluster_vpc
    }

    fn pod_at(&self, ip: Ip, t: Ts, vpc: VpcIdx) -> Option<PodIdx> {
        if self.in_cluster(vpc) { self.timeline.pod_at(ip, t) } else { None }
    }

    fn node_at(&self, ip: Ip, t: Ts, vpc: VpcIdx) -> Option<&str> {
        if self.in_cluster(vpc) { self.timeline.node_by_ip_at(ip, t) } else { None }
    }

    /// Who held `ip` at `t` in VPC `vpc`, seen from elsewhere. With `node_level`, pods are named
    /// by their node (flow logs without pkt-* fields).
    pub fn resolve(&self, ip: Ip, t: Ts, vpc: VpcIdx, node_level: bool) -> End {
        match self.pod_at(ip, t, vpc) {
            Some(pod) => self.pod_end(ip, pod, vpc, node_level),
            None => self.resolve_static(ip, t, vpc, node_level),
        }
    }

    /// The end for a pod holding `ip`: its zone is its address's subnet's, else its node's.
    pub fn pod_end(&self, ip: Ip, pod: PodIdx, vpc: VpcIdx, node_level: bool) -> End {
        let zone = Some(self.inv.zone_of_ip(ip, vpc)).filter(|z| *z != NO_ZONE).unwrap_or(self.pod_zone[pod as usize]);
        if node_level && let Some(n) = self.pod_node[pod as usize] {
            return End { entity: n, zone, site: Site::Node };
        }
        End { entity: self.pod_workload[pod as usize], zone, site: Site::Pod(pod) }
    }

    /// Who holds `ip` at `t` when no pod does: an interface's owner, a node, `unattributed` or `external`.
    pub fn resolve_static(&self, ip: Ip, t: Ts, vpc: VpcIdx, node_level: bool) -> End {
        let subnet_zone = self.inv.zone_of_ip(ip, vpc);
        if let Some(e) = self.inv.eni_of_ip_at(ip, t, vpc) {
            let zone = if subnet_zone != NO_ZONE { subnet_zone } else { self.inv.eni(e).zone };
            return self.interface_holder(e, ip, t, vpc, node_level, zone);
        }
        if let Some(node) = self.node_at(ip, t, vpc) {
            let zone = if subnet_zone != NO_ZONE { subnet_zone } else { self.node_zone.get(node).copied().unwrap_or(NO_ZONE) };
            return End { entity: self.node_entity[node], zone, site: Site::Node };
        }
        if subnet_zone != NO_ZONE || self.inv.subnet_in(ip, vpc).is_some() {
            return End { entity: self.unattributed[1], zone: subnet_zone, site: Site::Unattributed(Unattributed::NoInterface) };
        }
        if !self.inv.has_network() && is_private(ip) {
            return End { entity: self.unattributed[2], zone: NO_ZONE, site: Site::Unattributed(Unattributed::NoInventory) };
        }
        End { entity: self.external, zone: NO_ZONE, site: Site::External }
    }

    /// Who holds `ip` on interface `e` at `t` when no pod does: its owner; for a node's interface,
    /// the node (its own address, or any with `node_level`), else a pod crossaz does not know.
    fn interface_holder(&self, e: EniIdx, ip: Ip, t: Ts, vpc: VpcIdx, node_level: bool, zone: ZoneIdx) -> End {
        let i = e as usize;
        if !self.eni_node[i] {
            return End { entity: self.eni_entity[i], zone, site: Site::Peer };
        }
        if node_level || self.inv.eni(e).primary_ip == Some(ip) || self.node_at(ip, t, vpc).is_some() {
            End { entity: self.eni_entity[i], zone, site: Site::Node }
        } else {
            End { entity: self.unattributed[0], zone, site: Site::Unattributed(Unattributed::PodUnknown) }
        }
    }

    /// The recording side of a record: the pod at `ip` if one held it, else whoever the record's
    /// interface belongs to. The record's own `az-id`/`subnet-id` give the zone.
    pub fn local(&self, ip: Ip, t: Ts, vpc: VpcIdx, node_level: bool, rec: &Recorder<'_>, cache: &mut FxHashMap<String, EntityId>) -> End {
        let mut end = match (self.pod_at(ip, t, vpc), rec.eni) {
            (Some(pod), _) => self.pod_end(ip, pod, vpc, node_level),
            (None, Some(e)) => self.interface_holder(e, ip, t, vpc, node_level, self.inv.eni(e).zone),
            (None, None) => {
                let node = rec.instance_id.and_then(|i| self.timeline.node_by_instance(i)).or_else(|| self.node_at(ip, t, vpc));
                match node {
                    Some(n) => End { entity: self.node_entity[n], zone: self.node_zone.get(n).copied().unwrap_or(NO_ZONE), site: Site::Node },
                    None => match rec.interface_id {
                        Some(id) => {
                            let entity = match cache.get(id) {
                                Some(&e) => e,
                                None => {
                                    let e = self.unknown_interface(id);
                                    cache.insert(id.to_string(), e);
                                    e
                                }
                            };
                            End { entity, zone: self.inv.zone_of_ip(ip, vpc), site: Site::Peer }
                        }
                        None => self.resolve_static(ip, t, vpc, node_level),
                    },
                }
            }
        };
        if let Some(z) = rec.zone {
            end.zone = z;
        } else if end.zone == NO_ZONE {
            end.zone = self.inv.zone_of_ip(ip, vpc);
        }
        end
    }

    /// The end standing for an interface itself (NAT or transit gateway forwarding traffic).
    pub fn interface_end(&self, eni: EniIdx) -> End {
        End { entity: self.eni_entity[eni as usize], zone: self.inv.eni(eni).zone, site: Site::Peer }
    }

    /// The Service an end serves on `port`, if it backs one.
    pub fn service_of(&self, end: &End, ip: Ip, port: Option<u16>, proto: Proto) -> Option<EntityId> {
        let tl = self.timeline;
        let svc = match end.site {
            Site::Pod(p) => tl.pod_service(p, port, proto),
            Site::Node => tl.address_service(ip, port, proto).or_else(|| port.and_then(|p| tl.node_port_service(p, proto))),
            _ => tl.address_service(ip, port, proto),
        }?;
        Some(self.service_entity[svc as usize])
    }

    /// Does a node end listen on `port` (one of its pods' Service ports, a NodePort)?
    pub fn listens(&self, end: &End, port: Option<u16>, proto: Proto) -> bool {
        match (end.site, port, self.node_names.get(&end.entity)) {
            (Site::Node, Some(p), Some(node)) => self.timeline.node_listens(node, p, proto),
            _ => false,
        }
    }

    /// The address an interface's egress records carry for traffic from `ip` at `t` when records
    /// have no pkt-* fields: the primary address of the interface that held it.
    pub fn primary_for(&self, ip: Ip, t: Ts, vpc: VpcIdx) -> Ip {
        if let Some(e) = self.inv.eni_of_ip_at(ip, t, vpc)
            && let Some(p) = self.inv.eni(e).primary_ip
        {
            return p;
        }
        if let Some(pod) = self.pod_at(ip, t, vpc)
            && let Some(node) = self.timeline.pod(pod).node.as_ref().and_then(|n| self.timeline.nodes.get(n))
            && let Some(p) = node.internal_ips.first()
        {
            return *p;
        }
        ip
    }

    /// The resource the bill charges for an interface's transfer (its instance for a node's).
    pub fn eni_resource(&self, eni: EniIdx) -> Entity {
        self.entity(self.eni_resource[eni as usize])
    }

    /// The name of an interface's owner, as reports show it (`node:…`, `rds:…`).
    pub fn eni_label(&self, eni: EniIdx) -> String {
        self.entity(self.eni_entity[eni as usize]).label()
    }

    /// The entity standing for each Service of the timeline.
    pub fn service_entity(&self, s: crate::model::timeline::ServiceIdx) -> EntityId {
        self.service_entity[s as usize]
    }
}

/// RFC 1918, shared address space (100.64/10) and unique local IPv6 (fc00::/7).
pub fn is_private(ip: Ip) -> bool {
    match ip.to_ipaddr() {
        std::net::IpAddr::V4(v4) => v4.is_private() || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64),
        std::net::IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}
