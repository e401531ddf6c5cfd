//! `whatif routing`: per Service, what topology-aware routing (`topology-mode: Auto`,
//! `trafficDistribution: PreferSameZone`, named `PreferClose` before Kubernetes 1.34) would do to
//! cross-AZ bytes and dollars, and at what risk.
//!
//! Hints come from the controller port in `topology`, endpoint choice from the kube-proxy port
//! in `kube_proxy`; the bytes each client zone sends a Service come from the attribution Report.

use super::kube_proxy::{Policy, ProxyEndpoint, categorize};
use super::topology::{self, CpuShares, Hints, Refusal, SimEndpoint, SliceInfo, TrafficDistribution};
use crate::measurement::Measurement;
use crate::model::k8s::{EndpointSlice, KubeVersion, Service, Snapshot, ZONE_ID_LABEL, ZONE_LABEL};
use crate::pricing::{cost, per_month, round_usd};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const CONTROLLER: &str = "endpointslice-controller.k8s.io";
/// Per-endpoint load above the mean by more than this is flagged (the controller's own threshold).
pub const OVERLOAD: f64 = 1.0 + topology::OVERLOAD_THRESHOLD;
/// PreferSameZone/PreferSameNode are honoured by default from Kubernetes 1.34.
const PREFER_SAME_GATE: bool = true;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoutingWhatIf {
    /// Hours of flow logs the traffic figures cover; null without flow logs.
    pub window_hours: Option<u64>,
    pub traffic_measured: bool,
    /// Out + in, per GB (2^30 bytes).
    pub price_per_gb_usd: Decimal,
    pub snapshot: Option<String>,
    pub cluster: ClusterShares,
    /// The `trafficDistribution` value that keeps traffic in its zone on this cluster's version:
    /// `PreferSameZone` from 1.34 (and when the version is unknown), `PreferClose` before.
    #[serde(default = "prefer_close")]
    pub same_zone_mode: String,
    pub services: Vec<ServiceRouting>,
    pub total: Totals,
    pub assumptions: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterShares {
    /// Allocatable milli-CPU of the nodes the controller counts, per zone.
    pub cpu_millicores_by_zone: BTreeMap<String, u64>,
    /// The controller's CPU ratios; empty when it would hint no Service.
    pub cpu_share_by_zone: BTreeMap<String, f64>,
    /// Why no Service can get `Auto` hints in this cluster, if none can.
    pub refusal: Option<String>,
    pub excluded_nodes: Vec<String>,
    pub nodes_lacking_zone_or_cpu: Vec<String>,
    /// The cluster's Kubernetes version (`v1.34.2-eks-…`), null when no snapshot says.
    #[serde(default)]
    pub kubernetes_version: Option<String>,
    /// `the API server`, or `the nodes' kubelets` (a lower bound: the API server is never older).
    #[serde(default)]
    pub kubernetes_version_from: Option<String>,
}

/// The `trafficDistribution` value of reports written before `same_zone_mode` existed.
fn prefer_close() -> String {
    "PreferClose".into()
}

/// KEP-3015: `PreferSameZone` (and `PreferSameNode`) beta and on by default in 1.34, GA in 1.35;
/// `PreferClose` is its deprecated alias. Unknown version: the new name, with the old one in words.
pub fn same_zone_mode(version: Option<&KubeVersion>) -> &'static str {
    match version {
        Some(v) if !v.at_least(1, 34) => "PreferClose",
        _ => "PreferSameZone",
    }
}

/// What the cluster's version means for the mode's name, in words.
fn version_note(version: Option<&KubeVersion>) -> String {
    match version {
        Some(v) if v.at_least(1, 34) => format!(
            "Kubernetes {} (from {}): `trafficDistribution: PreferSameZone` (PreferClose is its deprecated alias; PreferSameNode is also available)",
            v.text, v.from
        ),
        Some(v) => format!(
            "Kubernetes {} (from {}): `trafficDistribution: PreferClose`; upgrading to 1.34 renames it PreferSameZone (PreferClose stays an alias)",
            v.text, v.from
        ),
        None => "the cluster's Kubernetes version is unknown (no `nodeInfo.kubeletVersion` in the snapshot, no API server version): `trafficDistribution: PreferSameZone` from Kubernetes 1.34, `PreferClose` before".to_string(),
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub today_monthly_usd: Option<Decimal>,
    pub auto_monthly_savings_usd: Option<Decimal>,
    pub prefer_close_monthly_savings_usd: Option<Decimal>,
    pub recommended_monthly_savings_usd: Option<Decimal>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceRouting {
    pub namespace: String,
    pub service: String,
    /// `Auto`, `PreferClose`, `PreferSameZone`, `PreferSameNode` or `none`.
    pub active_mode: String,
    /// Where the active mode is set: the annotation key or `spec.trafficDistribution`.
    pub active_from: Option<String>,
    /// False when routing modes cannot change this Service's traffic (see `not_applicable`).
    pub applicable: bool,
    pub not_applicable: Option<String>,
    /// The address family the estimate uses (the one with the most ready endpoints).
    pub address_type: Option<String>,
    pub ready_endpoints_by_zone: BTreeMap<String, u64>,
    pub not_ready_endpoints: u64,
    pub endpoints_without_zone: u64,
    pub today: Today,
    pub auto: AutoMode,
    /// `trafficDistribution: PreferSameZone` (`PreferClose`): the field keeps its first name.
    pub prefer_close: PreferClose,
    pub client_zones: Vec<ClientZone>,
    /// `Auto`, `PreferSameZone` (`PreferClose` before Kubernetes 1.34), or null for no change.
    pub recommended_mode: Option<String>,
    pub recommended_monthly_savings_usd: Option<Decimal>,
    pub recommendation: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Today {
    /// Bytes (both directions) from clients that go through kube-proxy, by client zone.
    pub client_bytes_by_zone: Option<BTreeMap<String, u64>>,
    /// Billed cross-AZ bytes to and from this Service, every client.
    pub cross_az_bytes: Option<u64>,
    pub cross_az_usd: Option<Decimal>,
    pub monthly_usd: Option<Decimal>,
    /// Billed cross-AZ bytes of clients routing cannot steer (load balancers, NAT, unknown zone).
    pub unsteerable_cross_az_bytes: Option<u64>,
    /// Share of steerable bytes that stayed in the client's zone, measured.
    pub same_zone_share_measured: Option<f64>,
    /// What kube-proxy's rules give with today's slices and hints, for the same client zones.
    pub same_zone_share_expected: Option<f64>,
    pub load_max_over_mean: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AutoMode {
    pub hints_applied: bool,
    /// One of `insufficient-node-info`, `one-zone`, `insufficient-endpoints`, `overload-threshold`,
    /// `endpoint-without-zone`, `no-hints-allocated`, `not-managed`; null when applied.
    pub reason: Option<String>,
    /// The event message Kubernetes records.
    pub message: Option<String>,
    /// Zone → number of ready endpoints hinted for it.
    pub hints_by_zone: BTreeMap<String, u64>,
    /// Zone → (zone the hinted endpoints live in → count).
    pub hinted_endpoints_live_in: BTreeMap<String, BTreeMap<String, u64>>,
    /// The smallest change that would make the hints apply.
    pub suggestion: Option<String>,
    pub projected_cross_az_bytes: Option<u64>,
    pub projected_monthly_usd: Option<Decimal>,
    pub monthly_savings_usd: Option<Decimal>,
    pub load_max_over_mean: Option<f64>,
    pub risk: Option<String>,
    pub overloaded_zones: Vec<String>,
    /// Each address family on its own, for dual-stack Services.
    pub by_address_type: Vec<FamilyHints>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilyHints {
    pub address_type: String,
    pub ready_endpoints: u64,
    pub hints_applied: bool,
    pub reason: Option<String>,
    pub hints_by_zone: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PreferClose {
    pub projected_cross_az_bytes: Option<u64>,
    pub projected_monthly_usd: Option<Decimal>,
    pub monthly_savings_usd: Option<Decimal>,
    /// Client zones that would go cluster-wide: no ready endpoint in them.
    pub fallback_zones: Vec<String>,
    pub load_max_over_mean: Option<f64>,
    /// `low` (max/mean ≤ 1.2), `medium` (≤ 2), `high`.
    pub risk: Option<String>,
    pub overloaded_zones: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientZone {
    pub zone: String,
    pub bytes: Option<u64>,
    pub measured_cross_az_bytes: Option<u64>,
    /// Share of this zone's requests kube-proxy keeps in the zone, by mode.
    pub today_same_zone_share: f64,
    pub auto_same_zone_share: f64,
    pub prefer_close_same_zone_share: f64,
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `(namespace, name)` of the Services to analyse; all when empty.
    pub services: Vec<(String, String)>,
}

/// Bytes a Service served during the window, from the Report.
#[derive(Clone, Debug, Default)]
struct Measured {
    /// Steerable clients per zone: (all bytes, billed cross-AZ bytes, same-AZ bytes).
    by_zone: BTreeMap<String, (u64, u64, u64)>,
    cross_az: u64,
    unsteerable_cross_az: u64,
}

const STEERABLE: [&str; 8] = ["deployment", "statefulset", "daemonset", "cronjob", "job", "replicaset", "pod", "node"];

fn measured(m: &Measurement, zone_names: &BTreeMap<String, String>) -> BTreeMap<(String, String), Measured> {
    let mut out: BTreeMap<(String, String), Measured> = BTreeMap::new();
    for c in m.conversations.iter().filter(|c| c.server_kind == "service") {
        let m = out.entry((c.server_namespace.clone(), c.server.clone())).or_default();
        let billed = if c.class == "cross-az-billed" { c.bytes } else { 0 };
        m.cross_az += billed;
        let zone = if c.client_az.is_empty() { zone_names.get(&c.client_az_id).cloned().unwrap_or_default() } else { c.client_az.clone() };
        let steerable = STEERABLE.contains(&c.client_kind.as_str()) && !zone.is_empty() && (c.class == "cross-az-billed" || c.class == "same-az");
        if steerable {
            let e = m.by_zone.entry(zone).or_default();
            e.0 += c.bytes;
            e.1 += billed;
            if c.class == "same-az" {
                e.2 += c.bytes;
            }
        } else {
            m.unsteerable_cross_az += billed;
        }
    }
    out
}

pub fn analyze(snapshot: &Snapshot, measurement: Option<&Measurement>, opts: &Options) -> RoutingWhatIf {
    let shares = topology::set_nodes(&snapshot.nodes);
    let zone_names: BTreeMap<String, String> =
        snapshot.nodes.iter().filter_map(|n| Some((n.labels.get(ZONE_ID_LABEL)?.clone(), n.labels.get(ZONE_LABEL)?.clone()))).collect();
    let traffic = measurement.map(|r| measured(r, &zone_names)).unwrap_or_default();
    // Pods talking to a Service's pods: the transfer rule `default`.
    let price = measurement.map(|r| r.pricing.per_gb("default")).unwrap_or_else(|| crate::pricing::AWS_INTER_AZ.both_sides());
    let hours = measurement.and_then(|r| r.window.hours).filter(|h| *h > 0);
    let version = KubeVersion::of(snapshot);
    let mode = same_zone_mode(version.as_ref());
    let ctx = Ctx { shares: &shares, price, hours, measured: measurement.is_some(), mode, version_known: version.is_some() };
    let mut notes = vec![version_note(version.as_ref())];
    let mut services = Vec::new();
    let mut seen = BTreeSet::new();
    for svc in &snapshot.services {
        let key = (svc.namespace.clone(), svc.name.clone());
        if !opts.services.is_empty() && !opts.services.contains(&key) {
            continue;
        }
        if svc.type_ == "ExternalName" {
            continue;
        }
        seen.insert(key.clone());
        let slices: Vec<&EndpointSlice> = snapshot.slices.iter().filter(|s| s.namespace == svc.namespace && s.service.as_deref() == Some(&svc.name)).collect();
        services.push(service(&ctx, svc, &slices, traffic.get(&key)));
    }
    let missing: Vec<String> =
        traffic.keys().filter(|k| !seen.contains(*k) && (opts.services.is_empty() || opts.services.contains(k))).map(|(n, s)| format!("{n}/{s}")).collect();
    if !missing.is_empty() {
        notes.push(format!(
            "{} Services with measured traffic are not in the latest snapshot (deleted during the window?): {}",
            missing.len(),
            missing.join(", ")
        ));
    }
    services.sort_by(|a, b| {
        best_savings(b)
            .cmp(&best_savings(a))
            .then(b.today.monthly_usd.cmp(&a.today.monthly_usd))
            .then((&a.namespace, &a.service).cmp(&(&b.namespace, &b.service)))
    });
    let total = totals(&services, measurement.is_some() && hours.is_some());
    RoutingWhatIf {
        window_hours: hours,
        traffic_measured: measurement.is_some(),
        price_per_gb_usd: price.normalize(),
        snapshot: snapshot.time.map(crate::model::time::format_time).or_else(|| Some(snapshot.source.display().to_string())),
        cluster: ClusterShares {
            cpu_millicores_by_zone: shares.cpu_by_zone.clone(),
            cpu_share_by_zone: shares.ratios.clone().unwrap_or_default().into_iter().map(|(z, r)| (z, round4(r))).collect(),
            refusal: shares.refusal().map(|r| r.reason.code().to_string()),
            excluded_nodes: shares.excluded.iter().map(|(n, why)| format!("{n} ({why})")).collect(),
            nodes_lacking_zone_or_cpu: shares.lacking.iter().map(|(n, why)| format!("{n} ({why})")).collect(),
            kubernetes_version: version.as_ref().map(|v| v.text.clone()),
            kubernetes_version_from: version.as_ref().map(|v| v.from.to_string()),
        },
        same_zone_mode: mode.to_string(),
        services,
        total,
        assumptions: assumptions(measurement.is_some(), mode),
        notes,
    }
}

fn assumptions(measured: bool, mode: &str) -> Vec<String> {
    let mut a = vec![
        "kube-proxy picks uniformly among the endpoints it may use (iptables/nftables random, IPVS round robin)".to_string(),
        "hints are those the EndpointSlice controller would publish for the latest snapshot's nodes and endpoints; where Go's map order breaks a tie, zones are taken in name order".into(),
        "only clients that go through kube-proxy (pods, hostNetwork pods on nodes) are steered; load balancers in IP mode, NAT gateways and clients of unknown zone keep today's bytes".into(),
        format!("PreferSameNode sends across zones exactly what {mode} does (where a node has no endpoint of its own, its zone hints are the fallback); it only keeps more on the node, so its cross-AZ price is the same"),
    ];
    if measured {
        a.push("the window's traffic pattern repeats: monthly figures scale the window to 730 hours; a client zone whose usable endpoints would not change keeps its measured bytes".into());
        a.push("per-endpoint load is measured bytes spread over the endpoints each client zone may use".into());
    } else {
        a.push("no flow logs: traffic figures are null; load risk assumes each zone's clients send in proportion to the zone's CPU share".into());
    }
    a
}

struct Ctx<'a> {
    shares: &'a CpuShares,
    price: Decimal,
    hours: Option<u64>,
    measured: bool,
    /// The `trafficDistribution` value to recommend: `PreferSameZone` or `PreferClose`.
    mode: &'static str,
    version_known: bool,
}

impl Ctx<'_> {
    fn monthly(&self, bytes: u64) -> Option<Decimal> {
        let h = self.hours?;
        Some(round_usd(per_month(cost(bytes, self.price), h)))
    }
}

fn best_savings(s: &ServiceRouting) -> Decimal {
    let a = if s.auto.hints_applied { s.auto.monthly_savings_usd.unwrap_or_default() } else { Decimal::ZERO };
    a.max(s.prefer_close.monthly_savings_usd.unwrap_or_default())
}

fn to_sim(e: &crate::model::k8s::Endpoint, i: usize) -> SimEndpoint {
    let hints = (e.hints_for_zones.is_some() || e.hints_for_nodes.is_some())
        .then(|| Hints { for_zones: e.hints_for_zones.clone().unwrap_or_default(), for_nodes: e.hints_for_nodes.clone().unwrap_or_default() });
    SimEndpoint {
        address: e.addresses.first().map(|a| a.to_string()).unwrap_or_else(|| format!("endpoint-{i}")),
        zone: e.zone.clone(),
        node: e.node_name.clone(),
        ready: e.ready,
        serving: e.serving,
        terminating: e.terminating,
        hints,
    }
}

fn to_proxy(e: &SimEndpoint) -> ProxyEndpoint {
    let ready = e.ready != Some(false);
    ProxyEndpoint {
        ready,
        serving: e.serving != Some(false),
        terminating: e.terminating == Some(true),
        is_local: false,
        zone_hints: e.hints.as_ref().map(|h| h.for_zones.clone()).unwrap_or_default(),
        node_hints: e.hints.as_ref().map(|h| h.for_nodes.clone()).unwrap_or_default(),
    }
}

/// The endpoints kube-proxy in `zone` would use, and the zones they live in.
fn usable(endpoints: &[SimEndpoint], policy: &Policy, zone: &str) -> Vec<usize> {
    let proxy: Vec<ProxyEndpoint> = endpoints.iter().map(to_proxy).collect();
    categorize(&proxy, policy, "", zone, PREFER_SAME_GATE).cluster.unwrap_or_default()
}

fn same_zone_share(endpoints: &[SimEndpoint], used: &[usize], zone: &str) -> f64 {
    if used.is_empty() {
        return 0.0;
    }
    used.iter().filter(|i| endpoints[**i].zone.as_deref() == Some(zone)).count() as f64 / used.len() as f64
}

/// Per-endpoint load when each client zone's weight spreads over its usable endpoints: (max/mean, overloaded zones).
fn load(endpoints: &[SimEndpoint], used: &BTreeMap<String, Vec<usize>>, weight: &BTreeMap<String, f64>) -> (Option<f64>, Vec<String>) {
    let mut per = vec![0.0f64; endpoints.len()];
    let mut total = 0.0;
    for (zone, idx) in used {
        let w = weight.get(zone).copied().unwrap_or(0.0);
        if idx.is_empty() || w <= 0.0 {
            continue;
        }
        total += w;
        for i in idx {
            per[*i] += w / idx.len() as f64;
        }
    }
    let ready = endpoints.iter().filter(|e| e.ready != Some(false)).count();
    if ready == 0 || total <= 0.0 {
        return (None, vec![]);
    }
    let mean = total / ready as f64;
    let max = per.iter().copied().fold(0.0, f64::max);
    let mut hot = BTreeSet::new();
    for (i, l) in per.iter().enumerate() {
        if *l > mean * OVERLOAD + 1e-9 {
            hot.insert(endpoints[i].zone.clone().unwrap_or_else(|| "(no zone)".into()));
        }
    }
    (Some(round2(max / mean)), hot.into_iter().collect())
}

fn risk(ratio: Option<f64>) -> Option<String> {
    ratio.map(|r| {
        if r <= OVERLOAD + 1e-9 {
            "low"
        } else if r <= 2.0 {
            "medium"
        } else {
            "high"
        }
        .to_string()
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Endpoints of one address family, in slice order.
fn families(slices: &[&EndpointSlice]) -> BTreeMap<String, Vec<Vec<SimEndpoint>>> {
    let mut out: BTreeMap<String, Vec<Vec<SimEndpoint>>> = BTreeMap::new();
    for s in slices.iter().filter(|s| s.address_type == "IPv4" || s.address_type == "IPv6") {
        out.entry(s.address_type.clone()).or_default().push(s.endpoints.iter().enumerate().map(|(i, e)| to_sim(e, i)).collect());
    }
    out
}

fn not_applicable(svc: &Service, slices: &[&EndpointSlice]) -> Option<String> {
    if svc.is_headless() {
        return Some("headless Service: clients connect to pod IPs from DNS, kube-proxy does not route it".into());
    }
    if svc.internal_traffic_policy.as_deref() == Some("Local") && !svc.is_externally_accessible() {
        return Some("internalTrafficPolicy: Local already keeps traffic on the client's node; topology hints are not used".into());
    }
    if slices.is_empty() {
        return Some("no EndpointSlices in the snapshot".into());
    }
    None
}

fn unmanaged(svc: &Service, slices: &[&EndpointSlice]) -> Option<String> {
    if !svc.has_selector {
        return Some("Service without a selector: its EndpointSlices are not managed by the EndpointSlice controller, which adds no hints".into());
    }
    let others: BTreeSet<&str> = slices.iter().filter_map(|s| s.managed_by.as_deref()).filter(|m| *m != CONTROLLER).collect();
    (!others.is_empty()).then(|| {
        format!(
            "its EndpointSlices are managed by {}, not the EndpointSlice controller, which adds no hints",
            others.into_iter().collect::<Vec<_>>().join(", ")
        )
    })
}

fn active_mode(svc: &Service) -> (String, Option<String>) {
    if topology::auto_enabled(&svc.annotations) {
        let key = if svc.annotations.contains_key(topology::ANNOTATION_TOPOLOGY_AWARE_HINTS) {
            topology::ANNOTATION_TOPOLOGY_AWARE_HINTS
        } else {
            topology::ANNOTATION_TOPOLOGY_MODE
        };
        return ("Auto".into(), Some(format!("annotation {key}")));
    }
    match TrafficDistribution::parse(svc.traffic_distribution.as_deref(), PREFER_SAME_GATE) {
        Some(td) => (td.as_str().into(), Some("spec.trafficDistribution".into())),
        None => ("none".into(), None),
    }
}

fn count_by<'e>(zones: impl Iterator<Item = &'e str>) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for z in zones {
        *m.entry(z.to_string()).or_default() += 1;
    }
    m
}

fn service(ctx: &Ctx<'_>, svc: &Service, slices: &[&EndpointSlice], traffic: Option<&Measured>) -> ServiceRouting {
    let (active_mode, active_from) = active_mode(svc);
    let mut fams = families(slices);
    if fams.is_empty() {
        // No endpoints yet: the controller still decides (and refuses) for the IPv4 family.
        fams.insert("IPv4".into(), vec![]);
    }
    let ready = |eps: &[Vec<SimEndpoint>]| eps.iter().flatten().filter(|e| e.controller_ready()).count();
    // The family with the most ready endpoints; IPv4 on a tie.
    let primary = fams.iter().max_by(|a, b| ready(a.1).cmp(&ready(b.1)).then(b.0.cmp(a.0))).map(|(k, _)| k.clone());
    let today_eps: Vec<SimEndpoint> = primary.as_ref().map(|p| fams[p].iter().flatten().cloned().collect()).unwrap_or_default();

    let unmanaged = unmanaged(svc, slices);
    let mut auto = AutoMode::default();
    let mut auto_eps = today_eps.clone();
    for (family, eps) in &fams {
        let mut si = SliceInfo { unchanged: eps.clone(), ..Default::default() };
        let result = match &unmanaged {
            Some(_) => None,
            None => Some(topology::add_hints(ctx.shares.ratios.as_ref(), &mut si)),
        };
        let hinted: Vec<SimEndpoint> = si.endpoints().cloned().collect();
        let (applied, reason, message, by_zone) = match result {
            None => (false, Some("not-managed".to_string()), unmanaged.clone(), BTreeMap::new()),
            Some(Ok(m)) => (true, None, None, m.into_iter().map(|(z, n)| (z, n.max(0) as u64)).collect()),
            Some(Err(e)) => {
                // Kubernetes reports one-zone clusters as insufficient node information; say which.
                let reason = match (e.reason, ctx.shares.refusal()) {
                    (Refusal::InsufficientNodeInfo, Some(r)) => r.reason,
                    (r, _) => r,
                };
                (false, Some(reason.code().to_string()), Some(format!("{}, addressType: {family}", e.message)), BTreeMap::new())
            }
        };
        auto.by_address_type.push(FamilyHints {
            address_type: family.clone(),
            ready_endpoints: ready(eps) as u64,
            hints_applied: applied,
            reason: reason.clone(),
            hints_by_zone: by_zone.clone(),
        });
        if Some(family) == primary.as_ref() {
            auto.hints_applied = applied;
            auto.reason = reason;
            auto.message = message;
            auto.hints_by_zone = by_zone;
            if applied {
                for e in hinted.iter().filter(|e| e.controller_ready()) {
                    for z in e.hints.iter().flat_map(|h| &h.for_zones) {
                        *auto.hinted_endpoints_live_in.entry(z.clone()).or_default().entry(e.zone.clone().unwrap_or_default()).or_default() += 1;
                    }
                }
            }
            auto_eps = hinted;
        }
    }
    if fams.len() < 2 {
        auto.by_address_type.clear();
    }

    let mut close_si = SliceInfo { unchanged: primary.as_ref().map(|p| fams[p].clone()).unwrap_or_default(), ..Default::default() };
    if unmanaged.is_none() {
        topology::reconcile_traffic_distribution(Some(TrafficDistribution::PreferClose), &mut close_si);
    }
    let close_eps: Vec<SimEndpoint> = close_si.endpoints().cloned().collect();

    let ready_by_zone = count_by(today_eps.iter().filter(|e| e.controller_ready()).filter_map(|e| e.zone.as_deref()));
    let not_ready = today_eps.iter().filter(|e| !e.controller_ready()).count() as u64;
    let without_zone = today_eps.iter().filter(|e| e.zone.as_deref().is_none_or(str::is_empty)).count() as u64;
    let na = not_applicable(svc, slices);
    let policy = Policy {
        internal_local: svc.internal_traffic_policy.as_deref() == Some("Local"),
        external_local: svc.external_traffic_policy.as_deref() == Some("Local"),
        externally_accessible: svc.is_externally_accessible(),
    };

    // Client zones: measured ones, or every zone with CPU when there are no flow logs.
    let zones: Vec<String> = match traffic {
        Some(t) => t.by_zone.keys().cloned().collect(),
        None if !ctx.measured => ctx.shares.cpu_by_zone.keys().cloned().collect(),
        None => vec![],
    };
    let weight: BTreeMap<String, f64> = zones
        .iter()
        .map(|z| {
            let w = match traffic {
                Some(t) => t.by_zone.get(z).map(|v| v.0 as f64).unwrap_or(0.0),
                None => ctx.shares.cpu_by_zone.get(z).copied().unwrap_or(0) as f64,
            };
            (z.clone(), w)
        })
        .collect();
    let sets = |eps: &[SimEndpoint]| -> BTreeMap<String, Vec<usize>> { zones.iter().map(|z| (z.clone(), usable(eps, &policy, z))).collect() };
    let (used_today, used_auto, used_close) = (sets(&today_eps), sets(&auto_eps), sets(&close_eps));
    let client_zones: Vec<ClientZone> = zones
        .iter()
        .map(|z| ClientZone {
            zone: z.clone(),
            bytes: traffic.map(|t| t.by_zone.get(z).map(|v| v.0).unwrap_or(0)),
            measured_cross_az_bytes: traffic.map(|t| t.by_zone.get(z).map(|v| v.1).unwrap_or(0)),
            today_same_zone_share: round4(same_zone_share(&today_eps, &used_today[z], z)),
            auto_same_zone_share: round4(same_zone_share(&auto_eps, &used_auto[z], z)),
            prefer_close_same_zone_share: round4(same_zone_share(&close_eps, &used_close[z], z)),
        })
        .collect();

    // Projected billed cross-AZ bytes under a mode: unsteerable bytes stay; each client zone
    // keeps its measured bytes unless its usable endpoints change.
    let project = |eps: &[SimEndpoint], used: &BTreeMap<String, Vec<usize>>| -> Option<u64> {
        let t = traffic?;
        let mut total = t.unsteerable_cross_az;
        for (z, (bytes, cross, _)) in &t.by_zone {
            let u = &used[z];
            if na.is_some() || u.is_empty() || *u == used_today[z] {
                total += cross;
            } else {
                let away = u.iter().filter(|i| eps[**i].zone.as_deref() != Some(z.as_str())).count() as u128;
                total += ((*bytes as u128 * away * 2 + u.len() as u128) / (2 * u.len() as u128)) as u64;
            }
        }
        Some(total)
    };
    let measured_bytes = |f: fn(&(u64, u64, u64)) -> u64| traffic.map(|t| t.by_zone.values().map(f).sum::<u64>());
    let steerable = measured_bytes(|v| v.0);
    let today_monthly = traffic.and_then(|t| ctx.monthly(t.cross_az));
    let savings = |projected: Option<u64>| -> (Option<Decimal>, Option<Decimal>) {
        let pm = projected.and_then(|b| ctx.monthly(b));
        (pm, pm.zip(today_monthly).map(|(p, t)| (t - p).normalize()))
    };
    let weighted_share = |eps: &[SimEndpoint], used: &BTreeMap<String, Vec<usize>>| -> Option<f64> {
        let total: f64 = weight.values().sum();
        (total > 0.0).then(|| round4(zones.iter().map(|z| weight[z] * same_zone_share(eps, &used[z], z)).sum::<f64>() / total))
    };

    let (today_load, _) = load(&today_eps, &used_today, &weight);
    let today = Today {
        client_bytes_by_zone: traffic.map(|t| t.by_zone.iter().map(|(z, v)| (z.clone(), v.0)).collect()),
        cross_az_bytes: traffic.map(|t| t.cross_az),
        cross_az_usd: traffic.map(|t| round_usd(cost(t.cross_az, ctx.price))),
        monthly_usd: today_monthly,
        unsteerable_cross_az_bytes: traffic.map(|t| t.unsteerable_cross_az),
        same_zone_share_measured: steerable.filter(|b| *b > 0).map(|b| round4(measured_bytes(|v| v.2).unwrap_or(0) as f64 / b as f64)),
        same_zone_share_expected: weighted_share(&today_eps, &used_today),
        load_max_over_mean: today_load,
    };

    // Refused hints are removed, so the projection holds either way.
    auto.projected_cross_az_bytes = project(&auto_eps, &used_auto);
    (auto.projected_monthly_usd, auto.monthly_savings_usd) = savings(auto.projected_cross_az_bytes);
    let (l, hot) = load(&auto_eps, &used_auto, &weight);
    auto.load_max_over_mean = l;
    auto.risk = risk(l);
    auto.overloaded_zones = hot;
    if !auto.hints_applied {
        auto.suggestion = suggestion(ctx.shares, &auto, &today_eps, &ready_by_zone);
    }
    let mut prefer_close = PreferClose { projected_cross_az_bytes: project(&close_eps, &used_close), ..Default::default() };
    (prefer_close.projected_monthly_usd, prefer_close.monthly_savings_usd) = savings(prefer_close.projected_cross_az_bytes);
    prefer_close.fallback_zones = zones.iter().filter(|z| !ready_by_zone.contains_key(*z)).cloned().collect();
    let (l, hot) = load(&close_eps, &used_close, &weight);
    prefer_close.load_max_over_mean = l;
    prefer_close.risk = risk(l);
    prefer_close.overloaded_zones = hot;

    let mut out = ServiceRouting {
        namespace: svc.namespace.clone(),
        service: svc.name.clone(),
        active_mode,
        active_from,
        applicable: na.is_none(),
        not_applicable: na,
        address_type: primary,
        ready_endpoints_by_zone: ready_by_zone,
        not_ready_endpoints: not_ready,
        endpoints_without_zone: without_zone,
        today,
        auto,
        prefer_close,
        client_zones,
        recommended_mode: None,
        recommended_monthly_savings_usd: None,
        recommendation: String::new(),
    };
    let (mode, text) = recommend(&out, ctx);
    out.recommended_monthly_savings_usd = match mode {
        Some("Auto") => out.auto.monthly_savings_usd,
        Some(_) => out.prefer_close.monthly_savings_usd,
        None => None,
    };
    out.recommended_mode = mode.map(str::to_string);
    out.recommendation = text;
    out
}

/// The smallest change that makes `Auto` hints apply, when one exists.
fn suggestion(shares: &CpuShares, auto: &AutoMode, eps: &[SimEndpoint], ready_by_zone: &BTreeMap<String, u64>) -> Option<String> {
    let reason = auto.reason.as_deref()?;
    match reason {
        "insufficient-node-info" if !shares.lacking.is_empty() => Some(format!(
            "fix these nodes (one is enough to disable hints for every Service): {}",
            shares.lacking.iter().map(|(n, why)| format!("{n}: {why}")).collect::<Vec<_>>().join("; ")
        )),
        "insufficient-node-info" => Some("no Ready worker node with a zone label and allocatable CPU".into()),
        "one-zone" => Some(format!(
            "Ready worker nodes are in {} only: hints need nodes in two or more zones",
            shares.cpu_by_zone.keys().cloned().collect::<Vec<_>>().join(", ")
        )),
        "insufficient-endpoints" | "overload-threshold" => {
            let ratios = shares.ratios.as_ref()?;
            let n: u64 = ready_by_zone.values().sum::<u64>() + eps.iter().filter(|e| e.controller_ready() && e.zone.is_none()).count() as u64;
            let k = (1..=256u64).find(|k| topology::feasible(ratios, (n + k) as usize))?;
            let total = n + k;
            let mut have = ready_by_zone.clone();
            let mut added: BTreeMap<String, u64> = BTreeMap::new();
            for _ in 0..k {
                // Each new replica goes where the zone is furthest below its CPU share.
                let (zone, _) = ratios
                    .iter()
                    .map(|(z, r)| (z, r * total as f64 - *have.get(z).unwrap_or(&0) as f64))
                    .fold((None, f64::MIN), |best, (z, gap)| if gap > best.1 { (Some(z), gap) } else { best });
                let zone = zone?.clone();
                *have.entry(zone.clone()).or_default() += 1;
                *added.entry(zone).or_default() += 1;
            }
            let parts: Vec<String> = added.iter().map(|(z, c)| format!("{c} in {z}")).collect();
            Some(format!("add {k} ready replica{} ({} → {total}): {}", if k == 1 { "" } else { "s" }, n, parts.join(", ")))
        }
        "endpoint-without-zone" => {
            let list: Vec<String> = eps
                .iter()
                .filter(|e| e.controller_ready() && e.zone.as_deref().is_none_or(str::is_empty))
                .map(|e| format!("{} (node {})", e.address, e.node.as_deref().unwrap_or("unknown")))
                .collect();
            Some(format!("give these endpoints' nodes the topology.kubernetes.io/zone label: {}", list.join(", ")))
        }
        "not-managed" => Some("give the Service a selector so the EndpointSlice controller manages its slices, or have the slices' owner add hints".into()),
        _ => None,
    }
}

fn usd(d: Option<Decimal>) -> String {
    d.map(crate::human::human_usd).unwrap_or_else(|| "—".into())
}

/// The mode to set (if any) and why, in words.
fn recommend(s: &ServiceRouting, ctx: &Ctx<'_>) -> (Option<&'static str>, String) {
    if let Some(why) = &s.not_applicable {
        return (None, format!("none: {why}"));
    }
    if s.auto.reason.as_deref() == Some("not-managed") && s.active_mode == "none" {
        return (None, "none: not managed by the EndpointSlice controller".into());
    }
    if !ctx.measured {
        let text = if s.auto.hints_applied {
            "Auto would apply; add flow logs to price it".into()
        } else {
            format!("Auto refused ({}); add flow logs to price {}", s.auto.reason.as_deref().unwrap_or("?"), ctx.mode)
        };
        return (None, text);
    }
    // Candidates within 10% of the best saving; the least risky wins, Auto first on a tie.
    let rank = |r: &Option<String>| match r.as_deref() {
        Some("low") | None => 0,
        Some("medium") => 1,
        _ => 2,
    };
    let mut cands: Vec<(&'static str, Decimal, u8)> = Vec::new();
    if s.auto.hints_applied {
        cands.push(("Auto", s.auto.monthly_savings_usd.unwrap_or_default(), rank(&s.auto.risk)));
    }
    cands.push((ctx.mode, s.prefer_close.monthly_savings_usd.unwrap_or_default(), rank(&s.prefer_close.risk)));
    let best = cands.iter().map(|c| c.1).max().unwrap_or_default();
    if best < Decimal::ONE {
        let text = match (s.active_mode.as_str(), s.auto.hints_applied) {
            ("none", _) => "no change: less than $1/month to save".to_string(),
            ("Auto", false) => format!("Auto is set but refused ({}): routing is cluster-wide", s.auto.reason.as_deref().unwrap_or("?")),
            (m, _) => format!("keep {m}"),
        };
        return (None, text);
    }
    let (mode, saves, risk) = cands.iter().filter(|c| c.1 * Decimal::from(10) >= best * Decimal::from(9)).min_by_key(|c| c.2).copied().expect("one candidate");
    if risk == 2 {
        let hot = if mode == "Auto" { &s.auto.overloaded_zones } else { &s.prefer_close.overloaded_zones };
        return (
            None,
            format!(
                "spread replicas across zones first (topologySpreadConstraints): {mode} would save {}/month but overload {}",
                usd(Some(saves)),
                hot.join(", ")
            ),
        );
    }
    if mode == s.active_mode || same_zone(mode) && same_zone(&s.active_mode) {
        return (None, format!("keep {} (active)", s.active_mode));
    }
    let mut text = match mode {
        "Auto" => "set topology-mode: Auto".to_string(),
        m if ctx.version_known => format!("set trafficDistribution: {m}"),
        m => format!("set trafficDistribution: {m} (PreferClose before 1.34)"),
    };
    if risk == 1 {
        let hot = if mode == "Auto" { &s.auto.overloaded_zones } else { &s.prefer_close.overloaded_zones };
        text.push_str(&format!(" (watch load in {})", hot.join(", ")));
    }
    (Some(mode), text)
}

/// `PreferClose` and `PreferSameZone` are one mode under two names.
fn same_zone(mode: &str) -> bool {
    matches!(mode, "PreferClose" | "PreferSameZone")
}

fn totals(services: &[ServiceRouting], priced: bool) -> Totals {
    if !priced {
        return Totals::default();
    }
    let sum = |f: &dyn Fn(&ServiceRouting) -> Option<Decimal>| Some(services.iter().filter_map(f).sum::<Decimal>().normalize());
    Totals {
        today_monthly_usd: sum(&|s| s.today.monthly_usd),
        auto_monthly_savings_usd: sum(&|s| s.auto.hints_applied.then_some(s.auto.monthly_savings_usd).flatten()),
        prefer_close_monthly_savings_usd: sum(&|s| s.prefer_close.monthly_savings_usd),
        recommended_monthly_savings_usd: sum(&|s| s.recommended_monthly_savings_usd),
    }
}
