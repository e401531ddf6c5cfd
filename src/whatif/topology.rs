//! The EndpointSlice controller's hint logic, ported from Kubernetes
//! (`staging/src/k8s.io/endpointslice/topologycache` and `trafficdist`) so a what-if reaches
//! the hints Kubernetes would publish. Where Go iterates a map (ties between zones), zones
//! are taken in name order; the counts per zone do not depend on it except on exact ties.

use crate::model::k8s::{Node, ZONE_LABEL};
use serde::Serialize;
use std::collections::BTreeMap;

/// "The maximum overload any individual endpoint should be exposed to" (topologycache.go).
pub const OVERLOAD_THRESHOLD: f64 = 0.2;

/// Why the controller publishes no `Auto` hints for a Service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refusal {
    InsufficientNodeInfo,
    OneZone,
    InsufficientEndpoints,
    OverloadThreshold,
    EndpointWithoutZone,
    NoHintsAllocated,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::InsufficientNodeInfo => "insufficient-node-info",
            Refusal::OneZone => "one-zone",
            Refusal::InsufficientEndpoints => "insufficient-endpoints",
            Refusal::OverloadThreshold => "overload-threshold",
            Refusal::EndpointWithoutZone => "endpoint-without-zone",
            Refusal::NoHintsAllocated => "no-hints-allocated",
        }
    }
}

/// The Warning event Kubernetes records (event.go), without the `, addressType: …` suffix.
#[derive(Clone, Debug, PartialEq)]
pub struct Refused {
    pub reason: Refusal,
    pub message: String,
}

const INSUFFICIENT_NODE_INFO: &str = "Insufficient Node information: allocatable CPU or zone not specified on one or more nodes";

fn refused(reason: Refusal, message: impl Into<String>) -> Refused {
    Refused { reason, message: message.into() }
}

/// Zones' shares of allocatable CPU, as `TopologyCache.SetNodes` computes them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CpuShares {
    /// Milli-CPU per zone of the nodes that count (even when the shares are unusable).
    pub cpu_by_zone: BTreeMap<String, u64>,
    /// `None` when Kubernetes hints no Service: a counted node lacks zone or CPU, or < 2 zones.
    pub ratios: Option<BTreeMap<String, f64>>,
    /// Nodes left out (control-plane label, not Ready), with why.
    pub excluded: Vec<(String, &'static str)>,
    /// Counted nodes without a zone label or allocatable CPU: any one disables hints cluster-wide.
    pub lacking: Vec<(String, &'static str)>,
}

impl CpuShares {
    /// Why no Service can get hints, if none can.
    pub fn refusal(&self) -> Option<Refused> {
        if self.ratios.is_some() {
            return None;
        }
        // Kubernetes nils the ratios in both cases and reports insufficient node information;
        // crossaz names the second case `one-zone` because that is what the user must fix.
        if !self.lacking.is_empty() || self.cpu_by_zone.is_empty() {
            Some(refused(Refusal::InsufficientNodeInfo, INSUFFICIENT_NODE_INFO))
        } else {
            Some(refused(Refusal::OneZone, INSUFFICIENT_NODE_INFO))
        }
    }
}

pub fn is_excluded(node: &Node) -> bool {
    node.is_control_plane()
}

/// `SetNodes`: skip control-plane and not-Ready nodes; any other node without a zone label or
/// allocatable CPU makes the information insufficient; fewer than two zones give no ratios.
pub fn set_nodes<'a>(nodes: impl IntoIterator<Item = &'a Node>) -> CpuShares {
    let mut s = CpuShares::default();
    for node in nodes {
        if is_excluded(node) {
            s.excluded.push((node.name.clone(), "control-plane label"));
            continue;
        }
        if node.ready != Some(true) {
            s.excluded.push((node.name.clone(), "not Ready"));
            continue;
        }
        let zone = node.labels.get(ZONE_LABEL).filter(|z| !z.is_empty());
        let cpu = node.allocatable_cpu_milli.unwrap_or(0);
        match (zone, cpu) {
            (None, _) => s.lacking.push((node.name.clone(), "no topology.kubernetes.io/zone label")),
            (_, 0) => s.lacking.push((node.name.clone(), "no allocatable CPU")),
            (Some(z), cpu) => *s.cpu_by_zone.entry(z.clone()).or_default() += cpu,
        }
    }
    let total: u64 = s.cpu_by_zone.values().sum();
    if total > 0 && s.lacking.is_empty() && s.cpu_by_zone.len() >= 2 {
        s.ratios = Some(s.cpu_by_zone.iter().map(|(z, c)| (z.clone(), *c as f64 / total as f64)).collect());
    }
    s
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Allocation {
    pub minimum: i64,
    pub maximum: i64,
    pub desired: f64,
}

/// `getAllocations`: per-zone minimum/maximum/desired endpoints for `n` ready endpoints.
pub fn allocations(ratios: Option<&BTreeMap<String, f64>>, n: usize) -> Result<BTreeMap<String, Allocation>, Refused> {
    let Some(ratios) = ratios else {
        return Err(refused(Refusal::InsufficientNodeInfo, INSUFFICIENT_NODE_INFO));
    };
    if ratios.len() < 2 {
        return Err(refused(Refusal::OneZone, "Nodes only ready in one zone"));
    }
    if ratios.len() > n {
        return Err(refused(Refusal::InsufficientEndpoints, format!("Insufficient number of endpoints ({n} endpoints, {} zones)", ratios.len())));
    }
    let mut out = BTreeMap::new();
    let mut min_total = 0i64;
    for (zone, ratio) in ratios {
        let desired = ratio * n as f64;
        let minimum = (desired * (1.0 / (1.0 + OVERLOAD_THRESHOLD))).ceil() as i64;
        out.insert(zone.clone(), Allocation { minimum, maximum: 0, desired: desired.max(minimum as f64) });
        min_total += minimum;
    }
    if min_total > n as i64 {
        return Err(refused(
            Refusal::OverloadThreshold,
            format!("Unable to allocate minimum required endpoints to each zone without exceeding overload threshold ({n} endpoints, {} zones)", ratios.len()),
        ));
    }
    for a in out.values_mut() {
        a.maximum = a.minimum + n as i64 - min_total;
    }
    Ok(out)
}

/// Whether `n` ready endpoints can be hinted with these shares (the only inputs that decide it).
pub fn feasible(ratios: &BTreeMap<String, f64>, n: usize) -> bool {
    allocations(Some(ratios), n).is_ok()
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hints {
    pub for_zones: Vec<String>,
    pub for_nodes: Vec<String>,
}

/// An endpoint as the controller sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimEndpoint {
    pub address: String,
    pub zone: Option<String>,
    pub node: Option<String>,
    /// `conditions.ready`: only `Some(true)` counts as ready for the controller.
    pub ready: Option<bool>,
    pub serving: Option<bool>,
    pub terminating: Option<bool>,
    pub hints: Option<Hints>,
}

impl SimEndpoint {
    pub fn controller_ready(&self) -> bool {
        self.ready == Some(true)
    }

    fn zone_hint(zone: &str) -> Option<Hints> {
        Some(Hints { for_zones: vec![zone.to_string()], for_nodes: vec![] })
    }

    fn has_zone(&self) -> Option<&str> {
        self.zone.as_deref().filter(|z| !z.is_empty())
    }
}

pub type SimSlice = Vec<SimEndpoint>;

/// One Service's slices of one address family, as the reconciler sorts them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SliceInfo {
    pub to_create: Vec<SimSlice>,
    pub to_update: Vec<SimSlice>,
    pub unchanged: Vec<SimSlice>,
}

impl SliceInfo {
    /// Every endpoint in the order the reconciler leaves them: created, updated, unchanged.
    pub fn endpoints(&self) -> impl Iterator<Item = &SimEndpoint> {
        self.to_create.iter().chain(&self.to_update).chain(&self.unchanged).flatten()
    }

    fn ready_endpoints(&self) -> usize {
        self.endpoints().filter(|e| e.controller_ready()).count()
    }
}

/// `RemoveHintsFromSlices`.
fn remove_hints(si: &mut SliceInfo) {
    for ep in si.to_create.iter_mut().chain(si.to_update.iter_mut()).flatten() {
        ep.hints = None;
    }
    let unchanged = std::mem::take(&mut si.unchanged);
    for mut slice in unchanged {
        if slice.iter().any(|e| e.hints.is_some()) {
            for ep in &mut slice {
                ep.hints = None;
            }
            si.to_update.push(slice);
        } else {
            si.unchanged.push(slice);
        }
    }
}

/// `getHintsByZone`: hints of an unchanged slice by zone, or `None` when the slice must be rewritten.
pub fn hints_by_zone(slice: &[SimEndpoint], allocated: &BTreeMap<String, i64>, allocations: &BTreeMap<String, Allocation>) -> Option<BTreeMap<String, i64>> {
    let mut by_zone: BTreeMap<String, i64> = BTreeMap::new();
    for ep in slice.iter().filter(|e| e.controller_ready()) {
        let zones = ep.hints.as_ref().map(|h| &h.for_zones).filter(|z| !z.is_empty())?;
        for z in zones {
            if !allocations.contains_key(z) {
                return None;
            }
            *by_zone.entry(z.clone()).or_default() += 1;
        }
    }
    for (zone, n) in &by_zone {
        let already = allocated.get(zone).copied().unwrap_or(0);
        if n + already > allocations[zone].maximum {
            return None;
        }
    }
    Some(by_zone)
}

/// `getGivingAndReceivingZones`: whole endpoints each zone gives and receives.
pub fn giving_and_receiving(allocations: &BTreeMap<String, Allocation>, allocated: &BTreeMap<String, i64>) -> (BTreeMap<String, i64>, BTreeMap<String, i64>) {
    let mut giving_desired: BTreeMap<&str, f64> = BTreeMap::new();
    let mut receiving_desired: BTreeMap<&str, f64> = BTreeMap::new();
    for (zone, a) in allocations {
        let hints = allocated.get(zone).copied().unwrap_or(0) as f64;
        if hints > a.desired {
            giving_desired.insert(zone, hints - a.desired);
        } else if hints < a.desired {
            receiving_desired.insert(zone, a.desired - hints);
        }
    }
    let (mut giving, mut receiving) = (BTreeMap::new(), BTreeMap::new());
    loop {
        let (gz, give) = most(&giving_desired);
        let (rz, receive) = most(&receiving_desired);
        let (Some(gz), Some(rz)) = (gz, rz) else {
            break;
        };
        if (give < 1.0 && receive < 1.0) || give < 0.5 || receive < 0.5 {
            break;
        }
        *giving.entry(gz.to_string()).or_default() += 1;
        *giving_desired.get_mut(gz).expect("present") -= 1.0;
        *receiving.entry(rz.to_string()).or_default() += 1;
        *receiving_desired.get_mut(rz).expect("present") -= 1.0;
    }
    (giving, receiving)
}

/// `getMost`: the zone with the largest strictly positive value.
fn most<'z>(zones: &BTreeMap<&'z str, f64>) -> (Option<&'z str>, f64) {
    let (mut zone, mut num) = (None, 0.0);
    for (z, n) in zones {
        if *n > num {
            zone = Some(*z);
            num = *n;
        }
    }
    (zone, num)
}

/// `redistributeHints`: re-hints endpoints of giving zones to receiving zones, in slice order.
pub fn redistribute(slices: &mut [&mut SimSlice], giving: &mut BTreeMap<String, i64>, receiving: &mut BTreeMap<String, i64>) -> BTreeMap<String, i64> {
    let mut moved: BTreeMap<String, i64> = BTreeMap::new();
    for slice in slices.iter_mut() {
        for ep in slice.iter_mut() {
            if !ep.controller_ready() {
                continue;
            }
            if giving.is_empty() || receiving.is_empty() {
                return moved;
            }
            let Some(zone) = ep.has_zone().map(str::to_string) else {
                continue;
            };
            if giving.get(&zone).is_some_and(|n| *n > 0) {
                let Some(rz) = receiving.iter().find(|(_, n)| **n > 0).map(|(z, _)| z.clone()) else {
                    continue;
                };
                ep.hints = SimEndpoint::zone_hint(&rz);
                decrement(giving, &zone);
                decrement(receiving, &rz);
                *moved.entry(rz).or_default() += 1;
                *moved.entry(zone).or_default() -= 1;
            }
        }
    }
    moved
}

fn decrement(map: &mut BTreeMap<String, i64>, key: &str) {
    match map.get_mut(key) {
        Some(n) if *n > 1 => *n -= 1,
        _ => {
            map.remove(key);
        }
    }
}

/// `TopologyCache.AddHints` for one Service and address family: the endpoints hinted for each
/// zone, or why there are none (then every hint is removed, as Kubernetes does).
pub fn add_hints(ratios: Option<&BTreeMap<String, f64>>, si: &mut SliceInfo) -> Result<BTreeMap<String, i64>, Refused> {
    let n = si.ready_endpoints();
    let allocations = match allocations(ratios, n) {
        Ok(a) => a,
        Err(e) => {
            remove_hints(si);
            return Err(e);
        }
    };
    // Unchanged slices keep valid hints; the others are rewritten.
    let mut allocated: BTreeMap<String, i64> = BTreeMap::new();
    let unchanged = std::mem::take(&mut si.unchanged);
    for slice in unchanged {
        match hints_by_zone(&slice, &allocated, &allocations) {
            Some(by_zone) => {
                for (z, k) in by_zone {
                    *allocated.entry(z).or_default() += k;
                }
                si.unchanged.push(slice);
            }
            None => si.to_update.push(slice),
        }
    }
    // Step 1: every ready endpoint hinted for its own zone. (Go leaves unready endpoints' hints
    // as they were: its loop assigns to a copy.)
    for ep in si.to_create.iter_mut().chain(si.to_update.iter_mut()).flatten() {
        if !ep.controller_ready() {
            continue;
        }
        let Some(zone) = ep.has_zone().map(str::to_string) else {
            remove_hints(si);
            return Err(refused(Refusal::EndpointWithoutZone, "One or more endpoints do not have a zone specified"));
        };
        *allocated.entry(zone.clone()).or_default() += 1;
        ep.hints = SimEndpoint::zone_hint(&zone);
    }
    // Steps 2 and 3: move whole endpoints from zones with too many to zones with too few.
    let (mut giving, mut receiving) = giving_and_receiving(&allocations, &allocated);
    let mut slices: Vec<&mut SimSlice> = si.to_create.iter_mut().chain(si.to_update.iter_mut()).collect();
    for (zone, diff) in redistribute(&mut slices, &mut giving, &mut receiving) {
        *allocated.entry(zone).or_default() += diff;
    }
    if allocated.is_empty() {
        remove_hints(si);
        return Err(refused(Refusal::NoHintsAllocated, "No hints allocated for zones"));
    }
    Ok(allocated)
}

/// `hintsEnabled`: the deprecated annotation, when present, wins over `topology-mode`.
pub fn auto_enabled(annotations: &BTreeMap<String, String>) -> bool {
    let v = annotations.get(ANNOTATION_TOPOLOGY_AWARE_HINTS).or_else(|| annotations.get(ANNOTATION_TOPOLOGY_MODE));
    matches!(v.map(String::as_str), Some("Auto" | "auto"))
}

pub const ANNOTATION_TOPOLOGY_AWARE_HINTS: &str = "service.kubernetes.io/topology-aware-hints";
pub const ANNOTATION_TOPOLOGY_MODE: &str = "service.kubernetes.io/topology-mode";

/// `spec.trafficDistribution` values the controller acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TrafficDistribution {
    PreferClose,
    PreferSameZone,
    PreferSameNode,
}

impl TrafficDistribution {
    /// Parses a value; `PreferSameZone`/`PreferSameNode` only with the PreferSameTrafficDistribution
    /// gate (on by default from 1.34, locked on in 1.35).
    pub fn parse(v: Option<&str>, prefer_same_gate: bool) -> Option<TrafficDistribution> {
        match v? {
            "PreferClose" => Some(TrafficDistribution::PreferClose),
            "PreferSameZone" if prefer_same_gate => Some(TrafficDistribution::PreferSameZone),
            "PreferSameNode" if prefer_same_gate => Some(TrafficDistribution::PreferSameNode),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TrafficDistribution::PreferClose => "PreferClose",
            TrafficDistribution::PreferSameZone => "PreferSameZone",
            TrafficDistribution::PreferSameNode => "PreferSameNode",
        }
    }
}

/// `trafficdist.ReconcileHints`: own-zone hints (and own-node with PreferSameNode) on ready
/// endpoints; `None` removes every hint.
pub fn reconcile_traffic_distribution(td: Option<TrafficDistribution>, si: &mut SliceInfo) {
    let want = |ep: &SimEndpoint| -> Option<Hints> {
        let zones: Vec<String> = ep.zone.iter().cloned().collect();
        let nodes: Vec<String> = match td {
            Some(TrafficDistribution::PreferSameNode) => ep.node.iter().cloned().collect(),
            _ => vec![],
        };
        (!zones.is_empty() || !nodes.is_empty()).then_some(Hints { for_zones: zones, for_nodes: nodes })
    };
    // `needsUpdate`: a ready endpoint's hint is missing, wrong or stale.
    let wrong = |have: &[String], want: Option<&String>| match want {
        Some(w) => have.len() != 1 || &have[0] != w,
        None => !have.is_empty(),
    };
    let needs_update = |slice: &SimSlice| match td {
        None => slice.iter().any(|e| e.hints.is_some()),
        Some(t) => slice.iter().filter(|e| e.controller_ready()).any(|e| {
            let (zones, nodes) = e.hints.as_ref().map(|h| (&h.for_zones[..], &h.for_nodes[..])).unwrap_or((&[], &[]));
            (e.zone.is_some() && e.hints.is_none())
                || wrong(zones, e.zone.as_ref())
                || (t == TrafficDistribution::PreferSameNode && wrong(nodes, e.node.as_ref()))
        }),
    };
    let unchanged = std::mem::take(&mut si.unchanged);
    for slice in unchanged {
        if needs_update(&slice) {
            si.to_update.push(slice);
        } else {
            si.unchanged.push(slice);
        }
    }
    for ep in si.to_create.iter_mut().chain(si.to_update.iter_mut()).flatten() {
        match td {
            None => ep.hints = None,
            Some(_) if ep.controller_ready() => ep.hints = want(ep),
            Some(_) => {}
        }
    }
}

/// What the EndpointSlice reconciler does for a Service: `Auto` (when the topology cache runs
/// and the annotation enables it) wins over `trafficDistribution`; otherwise trafficdist.
pub fn reconcile(
    annotations: &BTreeMap<String, String>,
    td: Option<TrafficDistribution>,
    ratios: Option<&BTreeMap<String, f64>>,
    topology_cache: bool,
    si: &mut SliceInfo,
) -> Result<BTreeMap<String, i64>, Refused> {
    if topology_cache && auto_enabled(annotations) {
        return add_hints(ratios, si);
    }
    reconcile_traffic_distribution(td, si);
    Ok(BTreeMap::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn equal(zones: usize) -> BTreeMap<String, f64> {
        (0..zones).map(|i| (format!("zone-{i}"), 1.0 / zones as f64)).collect()
    }

    #[test]
    fn three_equal_zones_fail_exactly_where_kubernetes_docs_say() {
        let r = equal(3);
        let failing: Vec<usize> = (1..=20).filter(|n| !feasible(&r, *n)).collect();
        assert_eq!(failing, vec![1, 2, 4, 5, 8, 11]);
        let r2 = equal(2);
        let failing2: Vec<usize> = (1..=20).filter(|n| !feasible(&r2, *n)).collect();
        assert_eq!(failing2, vec![1, 3, 5]);
    }

    #[test]
    fn forty_thirty_thirty() {
        let r: BTreeMap<String, f64> = [("a", 0.4), ("b", 0.3), ("c", 0.3)].into_iter().map(|(z, v)| (z.to_string(), v)).collect();
        let ok: Vec<usize> = (1..=10).filter(|n| feasible(&r, *n)).collect();
        assert_eq!(ok, vec![4, 7, 8, 9, 10]);
    }
}
