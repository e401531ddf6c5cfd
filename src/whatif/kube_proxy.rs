//! Which endpoints kube-proxy on a node uses for a Service, ported from Kubernetes
//! `pkg/proxy/topology.go` (`CategorizeEndpoints`, `topologyModeFromHints`).

/// An endpoint as kube-proxy sees it: absent `ready`/`serving` count as true.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyEndpoint {
    pub ready: bool,
    pub serving: bool,
    pub terminating: bool,
    /// On the node doing the proxying.
    pub is_local: bool,
    pub zone_hints: Vec<String>,
    pub node_hints: Vec<String>,
}

/// The Service's traffic policies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub internal_local: bool,
    pub external_local: bool,
    /// Has a node port, load-balancer ingress or external IPs.
    pub externally_accessible: bool,
}

impl Policy {
    pub fn uses_cluster_endpoints(&self) -> bool {
        !self.internal_local || self.externally_accessible
    }

    pub fn uses_local_endpoints(&self) -> bool {
        self.internal_local || (self.external_local && self.externally_accessible)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopologyMode {
    None,
    PreferSameZone,
    PreferSameNode,
}

/// Indices into the endpoint list; `None` when the Service never uses that policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Categorized {
    pub cluster: Option<Vec<usize>>,
    pub local: Option<Vec<usize>>,
    pub all_reachable: Vec<usize>,
    pub has_any: bool,
    pub mode: TopologyMode,
}

/// `topologyModeFromHints`.
pub fn topology_mode(endpoints: &[ProxyEndpoint], node: &str, zone: &str, prefer_same_gate: bool) -> TopologyMode {
    let mut has_ready = false;
    let (mut for_node, mut all_node_hints) = (false, true);
    let (mut for_zone, mut all_zone_hints) = (false, true);
    for ep in endpoints.iter().filter(|e| e.ready) {
        has_ready = true;
        if ep.node_hints.is_empty() {
            all_node_hints = false;
        } else if ep.node_hints.iter().any(|n| n == node) {
            for_node = true;
        }
        if ep.zone_hints.is_empty() {
            all_zone_hints = false;
        } else if ep.zone_hints.iter().any(|z| z == zone) {
            for_zone = true;
        }
    }
    if !has_ready {
        TopologyMode::None
    } else if prefer_same_gate && all_node_hints && for_node {
        TopologyMode::PreferSameNode
    } else if all_zone_hints && for_zone {
        TopologyMode::PreferSameZone
    } else {
        TopologyMode::None
    }
}

fn available(ep: &ProxyEndpoint, mode: TopologyMode, node: &str, zone: &str) -> bool {
    match mode {
        TopologyMode::None => true,
        TopologyMode::PreferSameNode => ep.node_hints.iter().any(|n| n == node),
        TopologyMode::PreferSameZone => ep.zone_hints.iter().any(|z| z == zone),
    }
}

fn filter(endpoints: &[ProxyEndpoint], keep: impl Fn(&ProxyEndpoint) -> bool) -> Vec<usize> {
    endpoints.iter().enumerate().filter(|(_, e)| keep(e)).map(|(i, _)| i).collect()
}

/// `CategorizeEndpoints` for a node named `node` whose zone label is `zone` (empty if none).
pub fn categorize(endpoints: &[ProxyEndpoint], policy: &Policy, node: &str, zone: &str, prefer_same_gate: bool) -> Categorized {
    let mut out = Categorized { cluster: None, local: None, all_reachable: vec![], has_any: false, mode: TopologyMode::None };
    if endpoints.is_empty() {
        out.cluster = policy.uses_cluster_endpoints().then(Vec::new);
        out.local = policy.uses_local_endpoints().then(Vec::new);
        return out;
    }
    if policy.uses_cluster_endpoints() {
        out.mode = topology_mode(endpoints, node, zone, prefer_same_gate);
        let mut cluster = filter(endpoints, |e| e.ready && available(e, out.mode, node, zone));
        if cluster.is_empty() {
            cluster = filter(endpoints, |e| e.serving && e.terminating);
        }
        out.has_any = !cluster.is_empty();
        out.cluster = Some(cluster);
    }
    if !policy.uses_local_endpoints() {
        out.all_reachable = out.cluster.clone().unwrap_or_default();
        return out;
    }
    let (mut local_ready, mut local_terminating) = (false, false);
    for e in endpoints {
        if e.ready {
            out.has_any = true;
            local_ready |= e.is_local;
        } else if e.serving && e.terminating {
            out.has_any = true;
            local_terminating |= e.is_local;
        }
    }
    let local = if local_ready {
        filter(endpoints, |e| e.is_local && e.ready)
    } else if local_terminating {
        filter(endpoints, |e| e.is_local && e.serving && e.terminating)
    } else {
        vec![]
    };
    let mut all: Vec<usize> = local.clone();
    if let Some(c) = &out.cluster {
        all.extend(c);
    }
    all.sort_unstable();
    all.dedup();
    out.all_reachable = all;
    out.local = Some(local);
    out
}
