//! The JSON printed by `kubectl get nodes,pods,services,endpointslices -A -o json`: a `List`
//! (or a typed list, or one object). A directory of files named by their RFC 3339 time is a timeline.

use super::{expand_path, json_problem, read_all};
use crate::error::InputProblem;
use crate::model::ip::Ip;
use crate::model::k8s::*;
use crate::model::time::{Ts, parse_file_time, parse_time};
use crate::model::timeline::{Timeline, TimelineBuilder};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const EXPECTED: &str = "the JSON printed by `kubectl get nodes,pods,services,endpointslices -A -o json`";

#[derive(Deserialize)]
struct Top {
    items: Option<Vec<Object>>,
    /// The API server's `/version`, as `kubectl version -o json` names it (`crossaz pull k8s` adds it).
    #[serde(rename = "serverVersion")]
    server_version: Option<RawVersion>,
    #[serde(flatten)]
    object: Object,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawVersion {
    git_version: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Object {
    kind: Option<String>,
    api_version: Option<String>,
    metadata: Meta,
    spec: Spec,
    status: Status,
    address_type: Option<String>,
    endpoints: Option<Vec<RawEndpoint>>,
    ports: Option<Vec<RawSlicePort>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Meta {
    name: String,
    namespace: Option<String>,
    uid: Option<String>,
    creation_timestamp: Option<String>,
    deletion_timestamp: Option<String>,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    owner_references: Vec<RawOwner>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawOwner {
    kind: String,
    name: String,
    controller: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Spec {
    node_name: Option<String>,
    host_network: Option<bool>,
    #[serde(rename = "providerID")]
    provider_id: Option<String>,
    #[serde(rename = "type")]
    type_: Option<String>,
    ports: Option<Vec<RawServicePort>>,
    selector: Option<BTreeMap<String, String>>,
    traffic_distribution: Option<String>,
    internal_traffic_policy: Option<String>,
    external_traffic_policy: Option<String>,
    #[serde(rename = "clusterIP")]
    cluster_ip: Option<String>,
    #[serde(rename = "externalIPs")]
    external_ips: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawServicePort {
    name: Option<String>,
    port: Option<u16>,
    target_port: Option<Value>,
    node_port: Option<u16>,
    protocol: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Status {
    phase: Option<String>,
    #[serde(rename = "podIP")]
    pod_ip: Option<String>,
    #[serde(rename = "podIPs")]
    pod_ips: Vec<RawPodIp>,
    container_statuses: Vec<RawContainerStatus>,
    allocatable: BTreeMap<String, Value>,
    addresses: Vec<RawAddress>,
    conditions: Vec<RawCondition>,
    node_info: RawNodeInfo,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawNodeInfo {
    kubelet_version: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawPodIp {
    ip: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawContainerStatus {
    state: RawContainerState,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawContainerState {
    terminated: Option<RawTerminated>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawTerminated {
    finished_at: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawAddress {
    #[serde(rename = "type")]
    type_: String,
    address: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawCondition {
    #[serde(rename = "type")]
    type_: String,
    status: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawEndpoint {
    addresses: Vec<String>,
    conditions: RawEndpointConditions,
    node_name: Option<String>,
    zone: Option<String>,
    hints: Option<RawHints>,
    target_ref: Option<RawTargetRef>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawEndpointConditions {
    ready: Option<bool>,
    serving: Option<bool>,
    terminating: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawHints {
    for_zones: Option<Vec<RawName>>,
    for_nodes: Option<Vec<RawName>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawName {
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawTargetRef {
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawSlicePort {
    name: Option<String>,
    port: Option<u16>,
    protocol: Option<String>,
}

/// Reads one snapshot file. Its time comes from its name, when the name is a time.
pub fn load_snapshot(path: &Path) -> Result<Snapshot, InputProblem> {
    let bytes = read_all(path)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(InputProblem::new(path, None, format!("the file is empty; expected {EXPECTED}")));
    }
    let top: Top = serde_json::from_slice(&bytes).map_err(|e| json_problem(path, &e, EXPECTED))?;
    let server_version = top.server_version.as_ref().and_then(|v| v.git_version.clone()).filter(|v| !v.is_empty());
    let mut snap = Snapshot { time: snapshot_time(path), source: path.to_path_buf(), server_version, ..Snapshot::default() };
    let list_kind = top.object.kind.clone().unwrap_or_default();
    let items = match top.items {
        Some(items) => items,
        None if top.object.api_version.is_some() && top.object.kind.is_some() => vec![top.object],
        None => {
            let hint = "run `kubectl get nodes,pods,services,endpointslices -A -o json > snapshot.json`";
            let what = if top.object.kind.is_none() && top.object.api_version.is_none() {
                format!("this is not a Kubernetes object or list (no `kind`, `apiVersion` or `items`); expected {EXPECTED}")
            } else {
                format!("`{list_kind}` has no `items`; expected {EXPECTED}")
            };
            let mut p = InputProblem::new(path, None, what).with_hint(hint);
            let aws_keys: [&[u8]; 3] = [b"\"NetworkInterfaces\"", b"\"Subnets\"", b"\"AvailabilityZones\""];
            if aws_keys.iter().any(|k| bytes.windows(k.len()).any(|w| w == *k)) {
                p = p.with_hint("this looks like `aws ec2 describe-…` output: pass it with `--network`");
            }
            return Err(p);
        }
    };
    // Typed lists (`PodList`) leave out each item's kind.
    let implied = list_kind.strip_suffix("List").filter(|k| !k.is_empty()).map(str::to_string);
    for item in items {
        let kind = item.kind.clone().or_else(|| implied.clone()).unwrap_or_default();
        match kind.as_str() {
            "Node" => snap.nodes.push(node(item)),
            "Pod" => snap.pods.push(pod(item)),
            "Service" => snap.services.push(service(item)),
            "EndpointSlice" => snap.slices.push(slice(item)),
            _ => snap.other_objects += 1,
        }
    }
    Ok(snap)
}

/// Loads every snapshot under the given paths and orders them in time.
pub fn load_snapshots(paths: &[PathBuf]) -> (Vec<Snapshot>, Vec<InputProblem>) {
    let mut snaps = Vec::new();
    let problems = each_snapshot(paths, |s| snaps.push(s));
    (snaps, problems)
}

/// The timeline of every snapshot under the given paths, and how many were read. The files are
/// read one at a time in time order and folded in, so memory follows what changed between them.
pub fn load_timeline(paths: &[PathBuf]) -> (Timeline, usize, Vec<InputProblem>) {
    let mut builder = TimelineBuilder::default();
    let mut read = 0;
    let problems = each_snapshot(paths, |s| {
        read += 1;
        builder.add(s)
    });
    (builder.finish(), read, problems)
}

/// Gives each snapshot under `paths` to `each`, in time order (a file's time is its name), one file
/// at a time. A snapshot without a time is taken only when it is the only one.
fn each_snapshot(paths: &[PathBuf], mut each: impl FnMut(Snapshot)) -> Vec<InputProblem> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        match expand_path(p) {
            Ok(f) => files.extend(f),
            Err(e) => problems.push(e),
        }
    }
    // Problems are reported in the order of the files, whatever order they are read in.
    let mut read_problems: Vec<(usize, InputProblem)> = Vec::new();
    let mut order: Vec<(Option<Ts>, usize)> = files.iter().enumerate().map(|(i, f)| (snapshot_time(f), i)).collect();
    order.sort();
    let mut untimed = Vec::new();
    let mut taken = 0;
    for (time, i) in order {
        match load_snapshot(&files[i]) {
            Ok(s) if time.is_none() => untimed.push(s),
            Ok(s) => {
                taken += 1;
                each(s)
            }
            Err(e) => read_problems.push((i, e)),
        }
    }
    read_problems.sort_by_key(|(i, _)| *i);
    problems.extend(read_problems.into_iter().map(|(_, e)| e));
    if taken == 0 && untimed.len() == 1 {
        untimed.into_iter().for_each(each);
    } else {
        for s in untimed {
            problems.push(
                InputProblem::new(&s.source, None, "cannot tell when this snapshot was taken, and there are several")
                    .with_hint("name each snapshot file by its RFC 3339 time, e.g. `2026-10-01T12:00:00Z.json`"),
            );
        }
    }
    problems
}

/// A snapshot's time, from its file name (`2026-10-01T12:00:00Z.json.gz`).
pub fn snapshot_time(path: &Path) -> Option<Ts> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".gz").unwrap_or(name);
    let stem = stem.strip_suffix(".json").unwrap_or(stem);
    parse_file_time(stem)
}

fn ts(s: &Option<String>) -> Option<Ts> {
    s.as_deref().and_then(parse_time)
}

fn ips<'a>(list: impl IntoIterator<Item = &'a String>) -> Vec<Ip> {
    let mut out = Vec::new();
    for s in list {
        if let Some(ip) = Ip::parse_str(s)
            && !out.contains(&ip)
        {
            out.push(ip);
        }
    }
    out
}

fn node(o: Object) -> Node {
    let instance_id = o.spec.provider_id.as_deref().and_then(|p| p.rsplit('/').next()).filter(|s| s.starts_with("i-")).map(str::to_string);
    let cpu = o.status.allocatable.get("cpu").and_then(|v| match v {
        Value::String(s) => parse_cpu_milli(s),
        Value::Number(n) => n.as_f64().map(|f| (f * 1000.0).round() as u64),
        _ => None,
    });
    let ready = o.status.conditions.iter().find(|c| c.type_ == "Ready").map(|c| c.status == "True");
    let internal_ips = ips(o.status.addresses.iter().filter(|a| a.type_ == "InternalIP").map(|a| &a.address));
    let created = ts(&o.metadata.creation_timestamp);
    let kubelet_version = o.status.node_info.kubelet_version.filter(|v| !v.is_empty());
    Node { name: o.metadata.name, labels: o.metadata.labels, instance_id, internal_ips, allocatable_cpu_milli: cpu, ready, created, kubelet_version }
}

/// `"2"` → 2000, `"1930m"` → 1930, `"0.5"` → 500.
pub fn parse_cpu_milli(s: &str) -> Option<u64> {
    if let Some(m) = s.strip_suffix('m') {
        return m.parse().ok();
    }
    let f: f64 = s.parse().ok()?;
    (f >= 0.0).then(|| (f * 1000.0).round() as u64)
}

fn pod(o: Object) -> Pod {
    let m = o.metadata;
    let owner = m
        .owner_references
        .iter()
        .find(|r| r.controller == Some(true))
        .or_else(|| m.owner_references.first())
        .map(|r| OwnerRef { kind: r.kind.clone(), name: r.name.clone() });
    let mut pod_ips = ips(o.status.pod_ips.iter().map(|p| &p.ip));
    if pod_ips.is_empty() {
        pod_ips = ips(o.status.pod_ip.iter());
    }
    let finished = o.status.container_statuses.iter().filter_map(|c| c.state.terminated.as_ref()).filter_map(|t| ts(&t.finished_at)).max();
    Pod {
        uid: m.uid.filter(|u| !u.is_empty()),
        namespace: m.namespace.unwrap_or_else(|| "default".into()),
        name: m.name,
        labels: m.labels,
        owner,
        node_name: o.spec.node_name,
        host_network: o.spec.host_network.unwrap_or(false),
        ips: pod_ips,
        phase: o.status.phase,
        created: ts(&m.creation_timestamp),
        deleted: ts(&m.deletion_timestamp),
        finished,
    }
}

fn service(o: Object) -> Service {
    let ports = o
        .spec
        .ports
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| {
            Some(ServicePort {
                name: p.name,
                port: p.port?,
                target_port: p.target_port.map(|v| match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                }),
                node_port: p.node_port,
                protocol: proto_from_k8s(p.protocol.as_deref()),
            })
        })
        .collect();
    Service {
        namespace: o.metadata.namespace.unwrap_or_else(|| "default".into()),
        name: o.metadata.name,
        labels: o.metadata.labels,
        annotations: o.metadata.annotations,
        type_: o.spec.type_.unwrap_or_else(|| "ClusterIP".into()),
        ports,
        has_selector: o.spec.selector.is_some_and(|s| !s.is_empty()),
        traffic_distribution: o.spec.traffic_distribution,
        internal_traffic_policy: o.spec.internal_traffic_policy,
        external_traffic_policy: o.spec.external_traffic_policy,
        cluster_ip: o.spec.cluster_ip,
        has_external_ips: o.spec.external_ips.is_some_and(|v| !v.is_empty()),
    }
}

fn slice(o: Object) -> EndpointSlice {
    let endpoints = o
        .endpoints
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            let (hz, hn) = match e.hints {
                Some(h) => (h.for_zones.map(|z| z.into_iter().map(|n| n.name).collect()), h.for_nodes.map(|z| z.into_iter().map(|n| n.name).collect())),
                None => (None, None),
            };
            let t = e.target_ref.unwrap_or_default();
            Endpoint {
                addresses: ips(e.addresses.iter()),
                ready: e.conditions.ready,
                serving: e.conditions.serving,
                terminating: e.conditions.terminating,
                node_name: e.node_name,
                zone: e.zone,
                hints_for_zones: hz,
                hints_for_nodes: hn,
                target_kind: t.kind,
                target_name: t.name,
                target_namespace: t.namespace,
                target_uid: t.uid,
            }
        })
        .collect();
    let ports =
        o.ports.unwrap_or_default().into_iter().map(|p| SlicePort { name: p.name, port: p.port, protocol: proto_from_k8s(p.protocol.as_deref()) }).collect();
    EndpointSlice {
        namespace: o.metadata.namespace.unwrap_or_else(|| "default".into()),
        service: o.metadata.labels.get("kubernetes.io/service-name").cloned(),
        managed_by: o.metadata.labels.get("endpointslice.kubernetes.io/managed-by").cloned(),
        name: o.metadata.name,
        address_type: o.address_type.unwrap_or_else(|| "IPv4".into()),
        endpoints,
        ports,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_quantities() {
        assert_eq!(parse_cpu_milli("2"), Some(2000));
        assert_eq!(parse_cpu_milli("1930m"), Some(1930));
        assert_eq!(parse_cpu_milli("0.5"), Some(500));
        assert_eq!(parse_cpu_milli("x"), None);
    }
}
