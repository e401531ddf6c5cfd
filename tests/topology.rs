//! Kubernetes' own topology test vectors (fixtures/corpora/k8s-topology): the controller port,
//! the kube-proxy port, and the same cases as kubectl snapshots through `crossaz whatif routing`.

use crate::util::{corpus, crossaz, tempdir};
use crossaz::model::k8s::Node;
use crossaz::whatif::kube_proxy::{Policy, ProxyEndpoint, categorize};
use crossaz::whatif::topology::{self, Allocation, Hints, SimEndpoint, SliceInfo, TrafficDistribution};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn cases(file: &str) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&std::fs::read(corpus(&format!("k8s-topology/{file}"))).unwrap()).unwrap();
    v["cases"].as_array().unwrap().clone()
}

fn of_kind(kind: &str) -> Vec<Value> {
    let c: Vec<Value> = cases("cases.json").into_iter().filter(|c| c["kind"] == kind).collect();
    assert!(!c.is_empty(), "no cases of kind {kind}");
    c
}

fn str_map_f64(v: &Value) -> Option<BTreeMap<String, f64>> {
    v.as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_f64().unwrap())).collect())
}

fn str_map_i64(v: &Value) -> BTreeMap<String, i64> {
    v.as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_i64().unwrap())).collect()).unwrap_or_default()
}

fn opt_str(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn endpoint(e: &Value) -> SimEndpoint {
    let hints = e
        .get("existing_hint_zones")
        .and_then(|h| h.as_array())
        .map(|zs| Hints { for_zones: zs.iter().map(|z| z.as_str().unwrap().to_string()).collect(), for_nodes: vec![] });
    SimEndpoint {
        address: e["address"].as_str().unwrap_or("").to_string(),
        zone: opt_str(&e["zone"]),
        node: opt_str(&e["node"]),
        ready: e["ready"].as_bool(),
        serving: None,
        terminating: None,
        hints,
    }
}

/// Slices named `toCreate[0]`, `toUpdate[1]`, `unchanged[0]`, `existing:…` (unchanged), `toCreate`.
fn slice_info(endpoints: &[Value]) -> SliceInfo {
    let mut si = SliceInfo::default();
    let mut names: Vec<String> = Vec::new();
    for (i, e) in endpoints.iter().enumerate() {
        let name = e["slice"].as_str().unwrap().to_string();
        let list = if name.starts_with("toCreate") {
            &mut si.to_create
        } else if name.starts_with("toUpdate") {
            &mut si.to_update
        } else {
            &mut si.unchanged
        };
        let pos = match names.iter().position(|n| *n == name) {
            Some(_) => list.len() - 1,
            None => {
                names.push(name);
                list.push(vec![]);
                list.len() - 1
            }
        };
        // Upstream cases repeat addresses: endpoints are keyed by their position.
        list[pos].push(SimEndpoint { address: key(i), ..endpoint(e) });
    }
    si
}

fn key(i: usize) -> String {
    format!("#{i}")
}

/// The single zone hint of an endpoint, found again by its key in the final slices.
fn hint_of(si: &SliceInfo, address: &str) -> Option<String> {
    si.endpoints().find(|e| e.address == address).and_then(|e| e.hints.as_ref()).and_then(|h| h.for_zones.first().cloned())
}

fn node_hint_of(si: &SliceInfo, address: &str) -> Option<String> {
    si.endpoints().find(|e| e.address == address).and_then(|e| e.hints.as_ref()).and_then(|h| h.for_nodes.first().cloned())
}

fn reason_for(prefix: &str) -> &'static str {
    for (p, code) in [
        ("Insufficient Node information", "insufficient-node-info"),
        ("Nodes only ready in one zone", "one-zone"),
        ("Insufficient number of endpoints", "insufficient-endpoints"),
        ("Unable to allocate minimum", "overload-threshold"),
        ("One or more endpoints do not have a zone", "endpoint-without-zone"),
        ("No hints allocated", "no-hints-allocated"),
    ] {
        if prefix.starts_with(p) {
            return code;
        }
    }
    panic!("unknown event message {prefix}")
}

fn hint_counts(si: &SliceInfo) -> BTreeMap<String, i64> {
    let mut m = BTreeMap::new();
    for e in si.endpoints().filter(|e| e.controller_ready()) {
        for z in e.hints.iter().flat_map(|h| &h.for_zones) {
            *m.entry(z.clone()).or_default() += 1;
        }
    }
    m
}

#[test]
fn add_hints_reaches_kubernetes_results() {
    for c in of_kind("controller_add_hints") {
        let name = c["name"].as_str().unwrap();
        let ratios = str_map_f64(&c["cpu_ratios_by_zone"]);
        let eps = c["endpoints"].as_array().unwrap();
        let mut si = slice_info(eps);
        let result = topology::add_hints(ratios.as_ref(), &mut si);
        let exp = &c["expected"];
        assert_eq!(result.is_ok(), exp["hints_applied"].as_bool().unwrap(), "{name}");
        match &result {
            Ok(by_zone) => assert_eq!(by_zone, &str_map_i64(&exp["allocated_hints_by_zone"]), "{name}"),
            Err(e) => {
                let prefix = exp["events"][0]["message_prefix"].as_str().unwrap();
                assert!(e.message.starts_with(prefix), "{name}: {} vs {prefix}", e.message);
                assert_eq!(e.reason.code(), reason_for(prefix), "{name}");
            }
        }
        let want: Vec<Option<String>> = exp["per_endpoint_zone_hint"].as_array().unwrap().iter().map(opt_str).collect();
        let got: Vec<Option<String>> = (0..eps.len()).map(|i| hint_of(&si, &key(i))).collect();
        assert_eq!(got, want, "{name}");
    }
}

fn nodes_of(zones: &Value) -> Vec<Node> {
    let mut nodes = Vec::new();
    for (zone, z) in zones.as_object().into_iter().flatten() {
        let list: Vec<Value> = match z.get("nodes") {
            Some(n) => n.as_array().unwrap().clone(),
            None => z["nodes_cpu_millicores"].as_array().unwrap().iter().map(|c| json!({"cpu_millicores": c, "ready": true})).collect(),
        };
        for (i, n) in list.iter().enumerate() {
            let mut labels: BTreeMap<String, String> = n
                .get("labels")
                .and_then(|l| l.as_object())
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect())
                .unwrap_or_default();
            labels.insert("topology.kubernetes.io/zone".into(), zone.clone());
            nodes.push(Node {
                name: z.get("node_names").and_then(|n| n[i].as_str()).map(str::to_string).unwrap_or_else(|| format!("{zone}-node-{i}")),
                labels,
                allocatable_cpu_milli: n["cpu_millicores"].as_u64(),
                ready: Some(n["ready"].as_bool().unwrap_or(true)),
                ..Node::default()
            });
        }
    }
    nodes
}

#[test]
fn set_nodes_reaches_kubernetes_results() {
    for c in of_kind("controller_set_nodes") {
        let name = c["name"].as_str().unwrap();
        let shares = topology::set_nodes(&nodes_of(&c["zones"]));
        let exp = &c["expected"];
        assert_eq!(shares.ratios.is_some(), exp["sufficient_node_info"].as_bool().unwrap(), "{name}");
        if let Some(r) = &shares.ratios {
            assert_eq!(Some(r.clone()), str_map_f64(&exp["cpu_ratios_by_zone"]), "{name}");
            let cpu: BTreeMap<String, i64> = shares.cpu_by_zone.iter().map(|(z, c)| (z.clone(), *c as i64)).collect();
            assert_eq!(cpu, str_map_i64(&exp["cpu_by_zone_millicores"]), "{name}");
        }
    }
}

fn allocations_of(desired: &BTreeMap<String, f64>) -> BTreeMap<String, Allocation> {
    desired.iter().map(|(z, d)| (z.clone(), Allocation { minimum: 0, maximum: 0, desired: *d })).collect()
}

#[test]
fn giving_and_receiving_zones_match() {
    for c in of_kind("controller_giving_receiving_zones") {
        let name = c["name"].as_str().unwrap();
        let desired = str_map_f64(&c["inputs"]["desired_by_zone"]).unwrap();
        let allocated = str_map_i64(&c["inputs"]["allocated_hints_by_zone"]);
        let (give, receive) = topology::giving_and_receiving(&allocations_of(&desired), &allocated);
        assert_eq!(give, str_map_i64(&c["expected"]["giving_zones"]), "{name}");
        assert_eq!(receive, str_map_i64(&c["expected"]["receiving_zones"]), "{name}");
    }
}

#[test]
fn redistribution_matches() {
    for c in of_kind("controller_redistribute_hints") {
        let name = c["name"].as_str().unwrap();
        let mut slice: Vec<SimEndpoint> =
            c["inputs"]["endpoints"].as_array().unwrap().iter().enumerate().map(|(i, e)| SimEndpoint { address: format!("e{i}"), ..endpoint(e) }).collect();
        let mut giving = str_map_i64(&c["inputs"]["giving_zones"]);
        let mut receiving = str_map_i64(&c["inputs"]["receiving_zones"]);
        let moved = topology::redistribute(&mut [&mut slice], &mut giving, &mut receiving);
        assert_eq!(moved, str_map_i64(&c["expected"]["redistributions"]), "{name}");
        if let Some(want) = c["expected"]["per_endpoint_zone_hint"].as_array() {
            let got: Vec<Option<String>> = slice.iter().map(|e| e.hints.as_ref().and_then(|h| h.for_zones.first().cloned())).collect();
            assert_eq!(got, want.iter().map(opt_str).collect::<Vec<_>>(), "{name}");
        }
    }
}

#[test]
fn hints_of_unchanged_slices_are_validated_like_kubernetes() {
    for c in of_kind("controller_get_hints_by_zone") {
        let name = c["name"].as_str().unwrap();
        let slice: Vec<SimEndpoint> = c["inputs"]["slice_endpoints"].as_array().unwrap().iter().map(endpoint).collect();
        let allocated = str_map_i64(&c["inputs"]["allocated_hints_by_zone"]);
        let allocations: BTreeMap<String, Allocation> = str_map_i64(&c["inputs"]["allocation_maximum_by_zone"])
            .into_iter()
            .map(|(z, m)| (z, Allocation { minimum: 0, maximum: m, desired: 0.0 }))
            .collect();
        let got = topology::hints_by_zone(&slice, &allocated, &allocations);
        let exp = &c["expected"]["hints_by_zone"];
        match exp.is_null() {
            true => assert_eq!(got, None, "{name}"),
            false => assert_eq!(got, Some(str_map_i64(exp)), "{name}"),
        }
    }
}

fn annotations(inputs: &Value) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if let Some(v) = inputs.get("service_annotation_service.kubernetes.io/topology-aware-hints").and_then(Value::as_str) {
        m.insert("service.kubernetes.io/topology-aware-hints".to_string(), v.to_string());
    }
    m
}

#[test]
fn reconciler_cases_match() {
    for c in of_kind("controller_reconcile").into_iter().chain(of_kind("controller_reconcile_traffic_distribution")) {
        let name = c["name"].as_str().unwrap();
        let inputs = &c["inputs"];
        let shares = topology::set_nodes(&nodes_of(&c["zones"]));
        let gate = inputs["feature_gate_PreferSameTrafficDistribution"].as_bool().unwrap_or(false);
        let td = TrafficDistribution::parse(inputs["service_spec_trafficDistribution"].as_str(), gate);
        let cache = inputs["topology_cache_enabled"].as_bool().unwrap_or(true);
        let eps = c["endpoints"].as_array().unwrap();
        let mut si = slice_info(eps);
        let _ = topology::reconcile(&annotations(inputs), td, shares.ratios.as_ref(), cache, &mut si);
        let exp = &c["expected"];
        let counts = hint_counts(&si);
        assert_eq!(!counts.is_empty(), exp["hints_applied"].as_bool().unwrap(), "{name}");
        if let Some(want) = exp["hint_count_by_zone"].as_object() {
            let want: BTreeMap<String, i64> = want.iter().filter(|(k, _)| !k.is_empty()).map(|(k, v)| (k.clone(), v.as_i64().unwrap())).collect();
            assert_eq!(counts, want, "{name}");
        }
        let cross = si.endpoints().filter(|e| e.hints.as_ref().is_some_and(|h| h.for_zones.first() != e.zone.as_ref())).count();
        assert_eq!(cross as i64, exp["cross_zone_hints"].as_i64().unwrap(), "{name}");
        if let Some(want) = exp["per_endpoint_zone_hint"].as_array() {
            let got: Vec<Option<String>> = (0..eps.len()).map(|i| hint_of(&si, &key(i))).collect();
            assert_eq!(got, want.iter().map(opt_str).collect::<Vec<_>>(), "{name}");
        }
        if let Some(want) = exp["per_endpoint_node_hint"].as_array() {
            let got: Vec<Option<String>> = (0..eps.len()).map(|i| node_hint_of(&si, &key(i))).collect();
            assert_eq!(got, want.iter().map(opt_str).collect::<Vec<_>>(), "{name}");
        }
    }
}

#[test]
fn traffic_distribution_hints_match() {
    for c in of_kind("traffic_distribution_reconcile_hints") {
        let name = c["name"].as_str().unwrap();
        // trafficdist itself honours every value; the feature gate is the reconciler's business.
        let td = TrafficDistribution::parse(c["inputs"]["trafficDistribution"].as_str(), true);
        let eps = c["endpoints"].as_array().unwrap();
        let mut si = slice_info(eps);
        topology::reconcile_traffic_distribution(td, &mut si);
        let exp = &c["expected"];
        let got: Vec<Option<String>> = (0..eps.len()).map(|i| hint_of(&si, &key(i))).collect();
        assert_eq!(got, exp["per_endpoint_zone_hint"].as_array().unwrap().iter().map(opt_str).collect::<Vec<_>>(), "{name}");
        let got: Vec<Option<String>> = (0..eps.len()).map(|i| node_hint_of(&si, &key(i))).collect();
        assert_eq!(got, exp["per_endpoint_node_hint"].as_array().unwrap().iter().map(opt_str).collect::<Vec<_>>(), "{name}");
        let placement: Vec<&str> = (0..eps.len())
            .map(|i| {
                let a = key(i);
                let has = |list: &[Vec<SimEndpoint>]| list.iter().flatten().any(|x| x.address == a);
                if has(&si.to_create) {
                    "toCreate"
                } else if has(&si.to_update) {
                    "toUpdate"
                } else {
                    "unchanged"
                }
            })
            .collect();
        let want: Vec<&str> = exp["slice_placement_after"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(placement, want, "{name}");
    }
}

#[test]
fn kube_proxy_picks_the_same_endpoints() {
    let all = cases("kube_proxy_cases.json");
    assert_eq!(all.len(), 26);
    for c in all {
        let name = c["name"].as_str().unwrap();
        let i = &c["inputs"];
        let eps: Vec<ProxyEndpoint> = i["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let ready = e["ready"].as_bool().unwrap();
                ProxyEndpoint {
                    ready,
                    serving: e["serving"].as_bool().unwrap_or(ready),
                    terminating: e["terminating"].as_bool().unwrap_or(false),
                    is_local: e["is_local"].as_bool().unwrap(),
                    zone_hints: e["zone_hints"].as_array().map(|z| z.iter().map(|v| v.as_str().unwrap().to_string()).collect()).unwrap_or_default(),
                    node_hints: vec![],
                }
            })
            .collect();
        let ids: Vec<&str> = i["endpoints"].as_array().unwrap().iter().map(|e| e["endpoint"].as_str().unwrap()).collect();
        let svc = &i["service"];
        let policy = Policy {
            internal_local: svc["internalTrafficPolicy"] == "Local",
            external_local: svc["externalTrafficPolicy"] == "Local",
            externally_accessible: svc["nodePort"].as_u64().is_some_and(|p| p != 0),
        };
        let zone = i["node_labels"]["topology.kubernetes.io/zone"].as_str().unwrap_or("");
        let got = categorize(&eps, &policy, "test-node", zone, true);
        let names = |v: &Option<Vec<usize>>| {
            v.as_ref().map(|l| {
                let mut n: Vec<&str> = l.iter().map(|x| ids[*x]).collect();
                n.sort();
                n
            })
        };
        let want = |k: &str| {
            c["expected"][k].as_array().map(|l| {
                let mut n: Vec<&str> = l.iter().map(|v| v.as_str().unwrap()).collect();
                n.sort();
                n
            })
        };
        assert_eq!(names(&got.cluster), want("cluster_endpoints"), "{name}: cluster");
        assert_eq!(names(&got.local), want("local_endpoints"), "{name}: local");
        assert_eq!(names(&Some(got.all_reachable.clone())), want("all_reachable_endpoints"), "{name}: all");
        assert_eq!(got.has_any, c["expected"]["has_any_endpoints"].as_bool().unwrap(), "{name}: has_any");
    }
}

// ---- the same cases as kubectl JSON through the CLI ----

/// A kubectl List: nodes, one Service `default/svc` and its EndpointSlices.
pub fn snapshot(nodes: &[Value], service: Value, slices: &[Vec<Value>], address_type: &str) -> Value {
    let mut items: Vec<Value> = nodes.to_vec();
    items.push(service);
    for (i, eps) in slices.iter().enumerate() {
        items.push(json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": format!("svc-{address_type}-{i}").to_lowercase(), "namespace": "default",
                         "labels": {"kubernetes.io/service-name": "svc", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
            "addressType": address_type, "endpoints": eps, "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]
        }));
    }
    json!({"apiVersion": "v1", "kind": "List", "items": items})
}

pub fn node(name: &str, zone: Option<&str>, cpu: Option<&str>, ready: bool, extra_labels: &[(&str, &str)]) -> Value {
    let mut labels = serde_json::Map::new();
    if let Some(z) = zone {
        labels.insert("topology.kubernetes.io/zone".into(), json!(z));
    }
    for (k, v) in extra_labels {
        labels.insert((*k).into(), json!(v));
    }
    let mut allocatable = serde_json::Map::new();
    if let Some(c) = cpu {
        allocatable.insert("cpu".into(), json!(c));
    }
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
           "status": {"allocatable": allocatable, "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}})
}

pub fn service(annotations: &BTreeMap<String, String>, traffic_distribution: Option<&str>) -> Value {
    let mut spec = json!({"selector": {"app": "svc"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}], "type": "ClusterIP", "clusterIP": "10.100.0.10"});
    if let Some(td) = traffic_distribution {
        spec["trafficDistribution"] = json!(td);
    }
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc", "namespace": "default", "annotations": annotations}, "spec": spec})
}

fn kubectl_endpoint(e: &Value, i: usize) -> Value {
    let addr = e["address"]
        .as_str()
        .filter(|a| a.parse::<std::net::IpAddr>().is_ok())
        .map(str::to_string)
        .unwrap_or_else(|| format!("10.9.{}.{}", i / 200, i % 200 + 1));
    let mut conditions = serde_json::Map::new();
    if let Some(r) = e["ready"].as_bool() {
        conditions.insert("ready".into(), json!(r));
    }
    let mut ep = json!({"addresses": [addr], "conditions": conditions});
    if let Some(z) = e["zone"].as_str() {
        ep["zone"] = json!(z);
    }
    if let Some(n) = e["node"].as_str() {
        ep["nodeName"] = json!(n);
    }
    ep
}

/// Nodes for a case: its zones' nodes, or one node per zone with CPU in proportion to the ratios.
fn case_nodes(c: &Value) -> Vec<Value> {
    if let Some(zones) = c["zones"].as_object() {
        return nodes_of(&Value::Object(zones.clone()))
            .iter()
            .map(|n| {
                let extra: Vec<(&str, &str)> =
                    n.labels.iter().filter(|(k, _)| k.as_str() != "topology.kubernetes.io/zone").map(|(k, v)| (k.as_str(), v.as_str())).collect();
                node(&n.name, n.zone_name(), n.allocatable_cpu_milli.map(|c| format!("{c}m")).as_deref(), n.ready == Some(true), &extra)
            })
            .collect();
    }
    str_map_f64(&c["cpu_ratios_by_zone"])
        .unwrap_or_default()
        .iter()
        .map(|(z, r)| node(&format!("node-{z}"), Some(z), Some(&format!("{}m", (r * 10_000.0).round() as u64)), true, &[]))
        .collect()
}

fn run_whatif(doc: &Value) -> Value {
    let dir = tempdir();
    let path = dir.path().join("cluster.json");
    std::fs::write(&path, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let run = crossaz(&["whatif", "routing", "--k8s", path.to_str().unwrap(), "--format", "json"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("JSON output")
}

#[test]
fn vectors_as_kubectl_snapshots_reach_the_same_hints() {
    let mut checked = 0;
    for c in of_kind("controller_add_hints").into_iter().chain(of_kind("controller_reconcile")).chain(of_kind("controller_reconcile_traffic_distribution")) {
        let name = c["name"].as_str().unwrap();
        if c["inputs"]["topology_cache_enabled"] == false {
            continue; // EKS runs the topology cache; a disabled cache is not a what-if.
        }
        let eps = c["endpoints"].as_array().unwrap();
        // Every slice as it exists in the cluster, in the order the controller walks them.
        let si = slice_info(eps);
        let slices: Vec<Vec<Value>> = si
            .to_create
            .iter()
            .chain(&si.to_update)
            .chain(&si.unchanged)
            .map(|s| {
                s.iter()
                    .map(|e| {
                        let i: usize = e.address[1..].parse().unwrap();
                        kubectl_endpoint(&eps[i], i)
                    })
                    .collect()
            })
            .collect();
        let ann = annotations(&c["inputs"]);
        let doc = snapshot(&case_nodes(&c), service(&ann, c["inputs"]["service_spec_trafficDistribution"].as_str()), &slices, "IPv4");
        let out = run_whatif(&doc);
        let svc = &out["services"][0];
        let exp = &c["expected"];
        let auto_expected = if c["kind"] == "controller_add_hints" || topology::auto_enabled(&ann) { exp["hints_applied"].as_bool() } else { None };
        if let Some(applied) = auto_expected {
            assert_eq!(svc["auto"]["hints_applied"].as_bool(), Some(applied), "{name}: {svc:#}");
            let want = exp.get("allocated_hints_by_zone").filter(|v| !v.is_null()).or_else(|| exp.get("hint_count_by_zone")).cloned().unwrap_or(Value::Null);
            if applied {
                assert_eq!(svc["auto"]["hints_by_zone"], want, "{name}");
                assert_eq!(svc["auto"]["reason"], Value::Null, "{name}");
            } else if let Some(prefix) = exp["events"][0]["message_prefix"].as_str() {
                assert_eq!(svc["auto"]["reason"], reason_for(prefix), "{name}");
            }
            if let Some(per) = exp["per_endpoint_zone_hint"].as_array().filter(|_| applied) {
                let mut live: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
                for (e, h) in eps.iter().zip(per) {
                    if let (Some(h), Some(z)) = (h.as_str(), e["zone"].as_str()) {
                        *live.entry(h.into()).or_default().entry(z.into()).or_default() += 1;
                    }
                }
                assert_eq!(svc["auto"]["hinted_endpoints_live_in"], json!(live), "{name}");
            }
        }
        // crossaz models current Kubernetes, where PreferSameZone/PreferSameNode are GA.
        let active = if topology::auto_enabled(&ann) { "Auto" } else { c["inputs"]["service_spec_trafficDistribution"].as_str().unwrap_or("none") };
        assert_eq!(svc["active_mode"], active, "{name}");
        checked += 1;
    }
    assert_eq!(checked, 15);
}

#[test]
fn node_cases_as_kubectl_snapshots() {
    for c in of_kind("controller_set_nodes") {
        let name = c["name"].as_str().unwrap();
        let doc = snapshot(&case_nodes(&c), service(&BTreeMap::new(), None), &[], "IPv4");
        let out = run_whatif(&doc);
        let exp = &c["expected"];
        let sufficient = exp["sufficient_node_info"].as_bool().unwrap();
        assert_eq!(out["cluster"]["refusal"].is_null(), sufficient, "{name}");
        if sufficient {
            assert_eq!(out["cluster"]["cpu_millicores_by_zone"], exp["cpu_by_zone_millicores"], "{name}");
            assert_eq!(out["cluster"]["cpu_share_by_zone"], exp["cpu_ratios_by_zone"], "{name}");
        }
    }
}

// ---- properties ----

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn sim(zones: &[usize], zone_names: &[String]) -> SliceInfo {
        let eps: Vec<SimEndpoint> = zones
            .iter()
            .enumerate()
            .map(|(i, z)| SimEndpoint { address: key(i), zone: Some(zone_names[*z].clone()), ready: Some(true), ..SimEndpoint::default() })
            .collect();
        SliceInfo { unchanged: vec![eps], ..SliceInfo::default() }
    }

    fn ratios_of(cpu: &[u64]) -> (Vec<String>, BTreeMap<String, f64>) {
        let names: Vec<String> = (0..cpu.len()).map(|i| format!("zone-{}", (b'a' + i as u8) as char)).collect();
        let nodes: Vec<Node> = names
            .iter()
            .zip(cpu)
            .map(|(z, c)| Node {
                name: format!("n-{z}"),
                labels: [("topology.kubernetes.io/zone".to_string(), z.clone())].into(),
                allocatable_cpu_milli: Some(*c),
                ready: Some(true),
                ..Node::default()
            })
            .collect();
        (names, topology::set_nodes(&nodes).ratios.unwrap())
    }

    proptest! {
        #[test]
        fn feasibility_depends_only_on_n_and_cpu_ratios(
            cpu in proptest::collection::vec(100u64..8000, 2..5),
            placements in proptest::collection::vec(proptest::collection::vec(0usize..4, 1..24), 2..4),
        ) {
            let (names, ratios) = ratios_of(&cpu);
            let n = placements[0].len();
            let expected = topology::feasible(&ratios, n);
            for p in &placements {
                // Same N, different placements: the same verdict and reason.
                let zones: Vec<usize> = (0..n).map(|i| p.get(i).copied().unwrap_or(0) % cpu.len()).collect();
                let mut si = sim(&zones, &names);
                let got = topology::add_hints(Some(&ratios), &mut si);
                prop_assert_eq!(got.is_ok(), expected);
                if let Ok(by_zone) = got {
                    // Every ready endpoint is hinted exactly once. (Kubernetes does not promise each
                    // zone its `maximum`: that bound only validates hints already on unchanged slices.)
                    prop_assert_eq!(by_zone.values().sum::<i64>(), n as i64);
                }
            }
        }

        #[test]
        fn three_equal_zones_refuse_exactly_1_2_4_5_8_11(n in 1usize..40, seed in 0usize..1000) {
            let (names, ratios) = ratios_of(&[2000, 2000, 2000]);
            let zones: Vec<usize> = (0..n).map(|i| (i * 7 + seed) % 3).collect();
            let mut si = sim(&zones, &names);
            let ok = topology::add_hints(Some(&ratios), &mut si).is_ok();
            prop_assert_eq!(ok, ![1, 2, 4, 5, 8, 11].contains(&n));
        }
    }

    #[test]
    fn hints_follow_cpu_share_not_pod_placement() {
        let (names, ratios) = ratios_of(&[2000, 2000, 2000]);
        // All six pods in zone a: zones b and c still get two hints each, served from zone a.
        let mut si = sim(&[0; 6], &names);
        let by_zone = topology::add_hints(Some(&ratios), &mut si).unwrap();
        assert_eq!(by_zone, [("zone-a".to_string(), 2), ("zone-b".to_string(), 2), ("zone-c".to_string(), 2)].into());
        assert!(si.endpoints().all(|e| e.zone.as_deref() == Some("zone-a")));
        // 40/30/30 CPU with the pods spread evenly: hints follow the CPU, 4/3/3.
        let (names, ratios) = ratios_of(&[4000, 3000, 3000]);
        let mut si = sim(&[0, 0, 0, 1, 1, 1, 1, 2, 2, 2], &names);
        let by_zone = topology::add_hints(Some(&ratios), &mut si).unwrap();
        assert_eq!(by_zone, [("zone-a".to_string(), 4), ("zone-b".to_string(), 3), ("zone-c".to_string(), 3)].into());
        let moved: Vec<(String, String)> = si
            .endpoints()
            .filter_map(|e| {
                let h = e.hints.as_ref()?.for_zones[0].clone();
                (Some(&h) != e.zone.as_ref()).then(|| (e.zone.clone().unwrap(), h))
            })
            .collect();
        assert_eq!(moved, vec![("zone-b".to_string(), "zone-a".to_string())]);
    }
}
