//! Names the owner of an address at a moment: a pod's workload, a node, an AWS-managed peer,
//! `unattributed` (inside the VPC, owner unknown) or `external`.

use crate::model::entity::{Entities, Entity, EntityId, EntityKind};
use crate::model::inventory::{EniIdx, EniOwner, Inventory, LbKind, NO_ZONE, ZoneIdx, owner_entity};
use crate::model::ip::Ip;
use crate::model::k8s::Proto;
use crate::model::time::Ts;
use crate::model::timeline::{PodIdx, Timeline};
use rustc_hash::{FxHashMap, FxHashSet};

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
    /// In a known subnet but on no interface of the inventory.
    NoInterface,
}

impl Unattributed {
    pub const ALL: [Unattributed; 2] = [Unattributed::PodUnknown, Unattributed::NoInterface];

    /// Stable name, kept as the entity's name (reports show every reason as `unattributed`).
    pub fn code(self) -> &'static str {
        match self {
            Unattributed::PodUnknown => "pod-unknown",
            Unattributed::NoInterface => "no-interface",
        }
    }

    pub fn from_code(code: &str) -> Option<Unattributed> {
        Unattributed::ALL.into_iter().find(|u| u.code() == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Unattributed::PodUnknown => "pod IP with no known pod at that time",
            Unattributed::NoInterface => "address on no interface of the network inventory",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct End {
    pub entity: EntityId,
    pub zone: ZoneIdx,
    pub site: Site,
    /// The interface holding the address, when the inventory knows it.
    pub eni: Option<EniIdx>,
}

pub struct Resolver<'a> {
    pub inv: &'a Inventory,
    pub timeline: &'a Timeline,
    pub entities: Entities,
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
    unattributed: [EntityId; 2],
    /// Application Load Balancers: their traffic to targets is free across zones.
    albs: FxHashSet<EntityId>,
}

impl<'a> Resolver<'a> {
    pub fn new(inv: &'a Inventory, timeline: &'a Timeline) -> Resolver<'a> {
        let mut entities = Entities::default();
        let external = entities.intern(Entity::new(EntityKind::External, "", ""));
        let unattributed = Unattributed::ALL.map(|u| entities.intern(Entity::new(EntityKind::Unattributed, "", u.code())));
        let mut node_entity = FxHashMap::default();
        let mut node_zone = FxHashMap::default();
        for (name, node) in &timeline.nodes {
            node_entity.insert(name.clone(), entities.intern(Entity::new(EntityKind::Node, "", name)));
            let zone = node.zone_id().and_then(|id| inv.zone_by_id(id)).or_else(|| node.zone_name().and_then(|n| inv.zone_by_name(n))).unwrap_or(NO_ZONE);
            node_zone.insert(name.clone(), zone);
        }
        let mut eni_entity = Vec::with_capacity(inv.enis.len());
        let mut eni_node = Vec::with_capacity(inv.enis.len());
        let mut albs = FxHashSet::default();
        for eni in &inv.enis {
            let node = match &eni.owner {
                EniOwner::Instance { instance_id } => timeline.node_by_instance(instance_id).map(str::to_string),
                _ => None,
            }
            .or_else(|| eni.primary_ip.and_then(|ip| timeline.node_by_ip(ip)).map(str::to_string));
            let id = match &node {
                Some(n) => *node_entity.entry(n.clone()).or_insert_with(|| entities.intern(Entity::new(EntityKind::Node, "", n))),
                None => entities.intern(owner_entity(eni)),
            };
            if let EniOwner::LoadBalancer { kind: LbKind::Application, .. } = eni.owner {
                albs.insert(id);
            }
            eni_entity.push(id);
            eni_node.push(node.is_some());
        }
        let service_entity = timeline.services.iter().map(|(ns, n)| entities.intern(Entity::new(EntityKind::Service, ns, n))).collect();
        let mut pod_workload = Vec::with_capacity(timeline.pods.len());
        let mut pod_node = Vec::with_capacity(timeline.pods.len());
        let mut pod_zone = Vec::with_capacity(timeline.pods.len());
        for p in &timeline.pods {
            pod_workload.push(entities.intern(p.workload.clone()));
            let node = p.node.as_ref();
            pod_node.push(node.and_then(|n| node_entity.get(n).copied()));
            pod_zone.push(node.and_then(|n| node_zone.get(n).copied()).unwrap_or(NO_ZONE));
        }
        Resolver {
            inv,
            timeline,
            entities,
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
            albs,
        }
    }

    /// Who held `ip` at `t`. With `node_level`, pods are named by their node (flow logs without pkt-* fields).
    pub fn resolve(&self, ip: Ip, t: Ts, node_level: bool) -> End {
        match self.timeline.pod_at(ip, t) {
            Some(pod) => self.pod_end(ip, pod, node_level),
            None => self.resolve_static(ip, node_level),
        }
    }

    /// The end for a pod holding `ip`.
    pub fn pod_end(&self, ip: Ip, pod: PodIdx, node_level: bool) -> End {
        let eni = self.inv.eni_of_ip(ip);
        let eni_zone = eni.map(|e| self.inv.eni(e).zone).filter(|z| *z != NO_ZONE);
        let zone = eni_zone.or_else(|| self.inv.subnet_of_ip(ip).map(|s| s.zone)).unwrap_or(self.pod_zone[pod as usize]);
        if node_level && let Some(n) = self.pod_node[pod as usize] {
            return End { entity: n, zone, site: Site::Node, eni };
        }
        End { entity: self.pod_workload[pod as usize], zone, site: Site::Pod(pod), eni }
    }

    /// Who holds `ip` when no pod does: an interface's owner, a node, `unattributed` or `external`.
    pub fn resolve_static(&self, ip: Ip, node_level: bool) -> End {
        let eni = self.inv.eni_of_ip(ip);
        if let Some(e) = eni {
            let i = e as usize;
            let interface = self.inv.eni(e);
            let zone = interface.zone;
            if self.eni_node[i] {
                let is_node_ip = interface.primary_ip == Some(ip) || self.timeline.node_by_ip(ip).is_some();
                if is_node_ip || node_level {
                    return End { entity: self.eni_entity[i], zone, site: Site::Node, eni };
                }
                return End { entity: self.unattributed[0], zone, site: Site::Unattributed(Unattributed::PodUnknown), eni };
            }
            return End { entity: self.eni_entity[i], zone, site: Site::Peer, eni };
        }
        if let Some(node) = self.timeline.node_by_ip(ip) {
            let zone = self.node_zone.get(node).copied().unwrap_or(NO_ZONE);
            let zone = self.inv.subnet_of_ip(ip).map(|s| s.zone).filter(|z| *z != NO_ZONE).unwrap_or(zone);
            return End { entity: self.node_entity[node], zone, site: Site::Node, eni };
        }
        if let Some(s) = self.inv.subnet_of_ip(ip) {
            return End { entity: self.unattributed[1], zone: s.zone, site: Site::Unattributed(Unattributed::NoInterface), eni };
        }
        End { entity: self.external, zone: NO_ZONE, site: Site::External, eni }
    }

    /// The end standing for an interface itself (NAT or transit gateway forwarding traffic).
    pub fn interface_end(&self, eni: EniIdx) -> End {
        End { entity: self.eni_entity[eni as usize], zone: self.inv.eni(eni).zone, site: Site::Peer, eni: Some(eni) }
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

    pub fn is_alb(&self, e: EntityId) -> bool {
        self.albs.contains(&e)
    }

    /// The name of an interface's owner, as reports show it (`node:…`, `rds:…`).
    pub fn eni_label(&self, eni: EniIdx) -> String {
        self.entities.get(self.eni_entity[eni as usize]).label()
    }

    /// The entity standing for each Service of the timeline.
    pub fn service_entity(&self, s: crate::model::timeline::ServiceIdx) -> EntityId {
        self.service_entity[s as usize]
    }

    pub fn zone_label(&self, z: ZoneIdx) -> (String, String) {
        match self.inv.zone(z) {
            Some(zone) => (zone.id.clone(), zone.name.clone().unwrap_or_default()),
            None => (String::new(), String::new()),
        }
    }
}
