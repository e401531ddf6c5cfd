//! Who sends and serves traffic: Kubernetes workloads and Services, nodes, AWS-managed peers.

use rustc_hash::FxHashMap;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntityKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    CronJob,
    Job,
    ReplicaSet,
    /// A pod with no controller, named by itself.
    Pod,
    Service,
    Node,
    Ec2,
    Rds,
    Nat,
    Elb,
    Vpce,
    Eks,
    Lambda,
    Tgw,
    Elasticache,
    Efs,
    Opensearch,
    Msk,
    ClientVpn,
    /// Any other network interface, named by its id.
    Eni,
    External,
    Unattributed,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Deployment => "deployment",
            EntityKind::StatefulSet => "statefulset",
            EntityKind::DaemonSet => "daemonset",
            EntityKind::CronJob => "cronjob",
            EntityKind::Job => "job",
            EntityKind::ReplicaSet => "replicaset",
            EntityKind::Pod => "pod",
            EntityKind::Service => "service",
            EntityKind::Node => "node",
            EntityKind::Ec2 => "ec2",
            EntityKind::Rds => "rds",
            EntityKind::Nat => "nat",
            EntityKind::Elb => "elb",
            EntityKind::Vpce => "vpce",
            EntityKind::Eks => "eks",
            EntityKind::Lambda => "lambda",
            EntityKind::Tgw => "tgw",
            EntityKind::Elasticache => "elasticache",
            EntityKind::Efs => "efs",
            EntityKind::Opensearch => "opensearch",
            EntityKind::Msk => "msk",
            EntityKind::ClientVpn => "client-vpn",
            EntityKind::Eni => "eni",
            EntityKind::External => "external",
            EntityKind::Unattributed => "unattributed",
        }
    }

    /// Kubernetes objects are shown by name; everything else as `kind:name`.
    pub fn is_kubernetes(self) -> bool {
        matches!(
            self,
            EntityKind::Deployment
                | EntityKind::StatefulSet
                | EntityKind::DaemonSet
                | EntityKind::CronJob
                | EntityKind::Job
                | EntityKind::ReplicaSet
                | EntityKind::Pod
                | EntityKind::Service
        )
    }

    pub fn parse(s: &str) -> Option<EntityKind> {
        ALL_KINDS.iter().copied().find(|k| k.as_str() == s)
    }
}

const ALL_KINDS: [EntityKind; 25] = [
    EntityKind::Deployment,
    EntityKind::StatefulSet,
    EntityKind::DaemonSet,
    EntityKind::CronJob,
    EntityKind::Job,
    EntityKind::ReplicaSet,
    EntityKind::Pod,
    EntityKind::Service,
    EntityKind::Node,
    EntityKind::Ec2,
    EntityKind::Rds,
    EntityKind::Nat,
    EntityKind::Elb,
    EntityKind::Vpce,
    EntityKind::Eks,
    EntityKind::Lambda,
    EntityKind::Tgw,
    EntityKind::Elasticache,
    EntityKind::Efs,
    EntityKind::Opensearch,
    EntityKind::Msk,
    EntityKind::ClientVpn,
    EntityKind::Eni,
    EntityKind::External,
    EntityKind::Unattributed,
];

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Entity {
    pub kind: EntityKind,
    /// Kubernetes namespace; empty for everything outside the cluster.
    pub namespace: String,
    pub name: String,
}

impl Entity {
    pub fn new(kind: EntityKind, namespace: impl Into<String>, name: impl Into<String>) -> Entity {
        Entity { kind, namespace: namespace.into(), name: name.into() }
    }

    /// The name shown in reports: `web-api`, `rds:shop-db-1`, `node:ip-10-0-1-5…`, `external`.
    pub fn label(&self) -> String {
        match self.kind {
            k if k.is_kubernetes() => self.name.clone(),
            EntityKind::External | EntityKind::Unattributed => self.kind.as_str().to_string(),
            k => format!("{}:{}", k.as_str(), self.name),
        }
    }
}

pub type EntityId = u32;

/// Interns entities so the hot path carries a `u32`.
#[derive(Default, Debug)]
pub struct Entities {
    list: Vec<Entity>,
    index: FxHashMap<Entity, EntityId>,
}

impl Entities {
    pub fn intern(&mut self, e: Entity) -> EntityId {
        if let Some(&id) = self.index.get(&e) {
            return id;
        }
        let id = self.list.len() as EntityId;
        self.list.push(e.clone());
        self.index.insert(e, id);
        id
    }

    pub fn get(&self, id: EntityId) -> &Entity {
        &self.list[id as usize]
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}
