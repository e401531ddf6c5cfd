//! Kubernetes objects as crossaz needs them: the parts of nodes, pods, Services and
//! EndpointSlices that decide who holds an address and which Service it backs.

use super::ip::Ip;
use super::time::Ts;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// IANA protocol numbers, as flow logs carry them.
pub type Proto = u8;
pub const TCP: Proto = 6;
pub const UDP: Proto = 17;
pub const SCTP: Proto = 132;

pub fn proto_from_k8s(s: Option<&str>) -> Proto {
    match s.unwrap_or("TCP") {
        "UDP" => UDP,
        "SCTP" => SCTP,
        _ => TCP,
    }
}

#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// When it was taken, from the file name; `None` for a lone snapshot without a time.
    pub time: Option<Ts>,
    pub source: PathBuf,
    /// The API server's version (`v1.34.2-eks-…`), when the snapshot recorded it.
    pub server_version: Option<String>,
    pub nodes: Vec<Node>,
    pub pods: Vec<Pod>,
    pub services: Vec<Service>,
    pub slices: Vec<EndpointSlice>,
    /// Objects of other kinds, counted so nothing goes unmentioned.
    pub other_objects: usize,
}

#[derive(Clone, Debug, Default)]
pub struct Node {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub instance_id: Option<String>,
    pub internal_ips: Vec<Ip>,
    pub allocatable_cpu_milli: Option<u64>,
    pub ready: Option<bool>,
    pub created: Option<Ts>,
    /// `status.nodeInfo.kubeletVersion` (`v1.33.5-eks-…`).
    pub kubelet_version: Option<String>,
}

pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
pub const LEGACY_ZONE_LABEL: &str = "failure-domain.beta.kubernetes.io/zone";
pub const ZONE_ID_LABEL: &str = "topology.k8s.aws/zone-id";

impl Node {
    pub fn zone_name(&self) -> Option<&str> {
        self.labels.get(ZONE_LABEL).or_else(|| self.labels.get(LEGACY_ZONE_LABEL)).map(String::as_str).filter(|z| !z.is_empty())
    }

    pub fn zone_id(&self) -> Option<&str> {
        self.labels.get(ZONE_ID_LABEL).map(String::as_str).filter(|z| !z.is_empty())
    }

    pub fn is_control_plane(&self) -> bool {
        self.labels.contains_key("node-role.kubernetes.io/control-plane") || self.labels.contains_key("node-role.kubernetes.io/master")
    }
}

#[derive(Clone, Debug, Default)]
pub struct OwnerRef {
    pub kind: String,
    pub name: String,
}

#[derive(Clone, Debug, Default)]
pub struct Pod {
    /// `metadata.uid`: a pod deleted and created again under the same name gets a new one.
    pub uid: Option<String>,
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub owner: Option<OwnerRef>,
    pub node_name: Option<String>,
    pub host_network: bool,
    pub ips: Vec<Ip>,
    pub phase: Option<String>,
    pub created: Option<Ts>,
    pub deleted: Option<Ts>,
    /// When its last container finished, for pods that ran to completion.
    pub finished: Option<Ts>,
}

impl Pod {
    /// What tells this pod apart from every other across snapshots: its uid; without one, its
    /// namespace, name and `creationTimestamp`; without those, its name and node (pods never move).
    /// Never the name alone: a StatefulSet pod recreated on another node keeps its name.
    pub fn identity(&self) -> String {
        match (&self.uid, self.created) {
            (Some(uid), _) => uid.clone(),
            (None, Some(created)) => format!("{}/{}@{created}", self.namespace, self.name),
            (None, None) => format!("{}/{}@node:{}", self.namespace, self.name, self.node_name.as_deref().unwrap_or("")),
        }
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self.phase.as_deref(), Some("Succeeded" | "Failed"))
    }
}

#[derive(Clone, Debug, Default)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: u16,
    pub target_port: Option<String>,
    pub node_port: Option<u16>,
    pub protocol: Proto,
}

#[derive(Clone, Debug, Default)]
pub struct Service {
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub type_: String,
    pub ports: Vec<ServicePort>,
    pub has_selector: bool,
    pub traffic_distribution: Option<String>,
    pub internal_traffic_policy: Option<String>,
    pub external_traffic_policy: Option<String>,
    /// `spec.clusterIP`: `None` (the string) for headless Services.
    pub cluster_ip: Option<String>,
    pub has_external_ips: bool,
}

impl Service {
    pub fn is_headless(&self) -> bool {
        self.cluster_ip.as_deref() == Some("None")
    }

    /// Reachable from outside the cluster through kube-proxy (node port, load balancer, external IPs).
    pub fn is_externally_accessible(&self) -> bool {
        self.has_external_ips || self.type_ == "LoadBalancer" || self.ports.iter().any(|p| p.node_port.is_some_and(|n| n != 0))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SlicePort {
    pub name: Option<String>,
    /// `None` means every port.
    pub port: Option<u16>,
    pub protocol: Proto,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub addresses: Vec<Ip>,
    /// `None` when the condition is absent (treated as ready by consumers, per the API docs).
    pub ready: Option<bool>,
    pub serving: Option<bool>,
    pub terminating: Option<bool>,
    pub node_name: Option<String>,
    pub zone: Option<String>,
    pub hints_for_zones: Option<Vec<String>>,
    pub hints_for_nodes: Option<Vec<String>>,
    pub target_kind: Option<String>,
    pub target_name: Option<String>,
    pub target_namespace: Option<String>,
    pub target_uid: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct EndpointSlice {
    pub namespace: String,
    pub name: String,
    /// From the `kubernetes.io/service-name` label.
    pub service: Option<String>,
    /// From the `endpointslice.kubernetes.io/managed-by` label.
    pub managed_by: Option<String>,
    pub address_type: String,
    pub endpoints: Vec<Endpoint>,
    pub ports: Vec<SlicePort>,
}

/// A Kubernetes minor version, and what it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
    /// As the cluster printed it (`v1.34.2-eks-b9c9d5f`).
    pub text: String,
    /// `the API server` or `the nodes' kubelets` (a lower bound: the API server is never older).
    pub from: &'static str,
}

impl KubeVersion {
    /// `v1.34.2-eks-…`, `1.34`, `v1.34+` → (1, 34).
    pub fn parse(text: &str, from: &'static str) -> Option<KubeVersion> {
        let mut parts = text.trim().trim_start_matches('v').split(['.', '-', '+']);
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(KubeVersion { major, minor, text: text.trim().to_string(), from })
    }

    /// The API server's version if recorded, else the newest kubelet's (the server is at least that).
    pub fn of(snapshot: &Snapshot) -> Option<KubeVersion> {
        if let Some(v) = snapshot.server_version.as_deref().and_then(|v| KubeVersion::parse(v, "the API server")) {
            return Some(v);
        }
        snapshot.nodes.iter().filter_map(|n| KubeVersion::parse(n.kubelet_version.as_deref()?, "the nodes' kubelets")).max_by_key(|v| (v.major, v.minor))
    }

    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}
