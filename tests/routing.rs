//! `crossaz whatif routing` on the generated routing scenario: every figure against the truth the
//! generator states from its design (zone with no endpoints, refused hints, skewed clients, NLB).

use crate::util::{crossaz, tempdir};
use crossaz::pricing::{AWS_INTER_AZ, cost, round_usd};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn scenario() -> (tempfile::TempDir, Value) {
    let dir = tempdir();
    crossaz::generate::routing::generate(dir.path(), 2026, 1_790_812_800).expect("the scenario is written");
    let truth: Value = serde_json::from_slice(&std::fs::read(dir.path().join("routing-truth.json")).unwrap()).unwrap();
    (dir, truth)
}

fn whatif(dir: &std::path::Path, extra: &[&str]) -> Value {
    let mut args = vec!["whatif", "routing", "--flow-logs", "flow-logs", "--network", "network", "--k8s", "k8s", "--format", "json"];
    args.extend_from_slice(extra);
    let run = crossaz(&args, dir);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("JSON")
}

fn monthly(bytes: u64, hours: u64) -> Decimal {
    round_usd(cost(bytes, AWS_INTER_AZ.both_sides()) * Decimal::from(730) / Decimal::from(hours))
}

fn dec(v: &Value) -> Decimal {
    v.as_str().expect("money is a decimal string").parse().unwrap()
}

#[test]
fn projections_match_the_designed_truth() {
    let (dir, truth) = scenario();
    let out = whatif(dir.path(), &[]);
    let hours = truth["window"]["hours"].as_u64().unwrap();
    assert_eq!(out["window_hours"], hours);
    let services = truth["services"].as_object().unwrap();
    assert_eq!(out["services"].as_array().unwrap().len(), services.len());
    let mut total_close = Decimal::ZERO;
    for (key, t) in services {
        let s = out["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| format!("{}/{}", s["namespace"].as_str().unwrap(), s["service"].as_str().unwrap()) == *key)
            .expect(key);
        assert_eq!(s["ready_endpoints_by_zone"], t["ready_endpoints_by_zone"], "{key}");
        assert_eq!(s["active_mode"], t["active_mode"], "{key}");
        let today = t["today_cross_az_bytes"].as_u64().unwrap();
        assert_eq!(s["today"]["cross_az_bytes"], today, "{key}");
        assert_eq!(s["today"]["unsteerable_cross_az_bytes"], t["unsteerable_cross_az_bytes"], "{key}");
        let steerable = t["client_bytes_by_zone"].as_object().unwrap();
        if steerable.is_empty() {
            assert_eq!(s["today"]["client_bytes_by_zone"], json!({}), "{key}");
        } else {
            assert_eq!(s["today"]["client_bytes_by_zone"], t["client_bytes_by_zone"], "{key}");
        }
        assert_eq!(s["auto"]["hints_applied"], t["auto"]["hints_applied"], "{key}");
        assert_eq!(s["auto"]["reason"], t["auto"]["reason"], "{key}");
        assert_eq!(s["auto"]["hints_by_zone"], t["auto"]["hints_by_zone"], "{key}");
        let auto = t["auto_projected_cross_az_bytes"].as_u64().unwrap();
        let close = t["prefer_close_projected_cross_az_bytes"].as_u64().unwrap();
        assert_eq!(s["auto"]["projected_cross_az_bytes"], auto, "{key}");
        assert_eq!(s["prefer_close"]["projected_cross_az_bytes"], close, "{key}");
        assert_eq!(s["prefer_close"]["fallback_zones"], t["prefer_close_fallback_zones"], "{key}");
        assert_eq!(dec(&s["today"]["monthly_usd"]), monthly(today, hours), "{key}");
        assert_eq!(dec(&s["auto"]["monthly_savings_usd"]), monthly(today, hours) - monthly(auto, hours), "{key}");
        assert_eq!(dec(&s["prefer_close"]["monthly_savings_usd"]), monthly(today, hours) - monthly(close, hours), "{key}");
        total_close += monthly(today, hours) - monthly(close, hours);
        match t["auto_fix"].as_str() {
            Some(fix) => assert!(s["auto"]["suggestion"].as_str().unwrap().ends_with(fix), "{key}: {}", s["auto"]["suggestion"]),
            None => assert!(s["auto"]["suggestion"].is_null(), "{key}"),
        }
    }
    assert_eq!(dec(&out["total"]["prefer_close_monthly_savings_usd"]), total_close);
}

#[test]
fn an_active_mode_is_checked_against_what_it_should_give() {
    let (dir, _) = scenario();
    let out = whatif(dir.path(), &["--service", "store/catalog"]);
    let s = &out["services"][0];
    assert_eq!(s["active_mode"], "PreferClose");
    assert_eq!(s["active_from"], "spec.trafficDistribution");
    // Clients kept to their zone: measured and expected same-zone shares agree.
    assert_eq!(s["today"]["same_zone_share_measured"], 1.0);
    assert_eq!(s["today"]["same_zone_share_expected"], 1.0);
    assert_eq!(s["recommendation"], "keep PreferClose");
    // Auto would keep the controller's valid own-zone hints (unchanged slices stay).
    assert_eq!(
        s["auto"]["hinted_endpoints_live_in"],
        json!({"ap-northeast-2a": {"ap-northeast-2a": 1}, "ap-northeast-2b": {"ap-northeast-2b": 1}, "ap-northeast-2c": {"ap-northeast-2c": 1}})
    );
    let run = crossaz(&["whatif", "routing", "--flow-logs", "flow-logs", "--network", "network", "--k8s", "k8s", "--service", "store/catalog"], dir.path());
    assert!(run.stdout.contains("store/catalog (PreferClose): 100.0% of bytes stayed in-zone, the mode should give 100.0%"), "{}", run.stdout);
}

#[test]
fn skewed_clients_show_the_load_risk() {
    let (dir, _) = scenario();
    let out = whatif(dir.path(), &["--service", "store/checkout", "--service", "store/cart"]);
    let svc = |name: &str| out["services"].as_array().unwrap().iter().find(|s| s["service"] == name).unwrap().clone();
    // checkout: 3 replicas per zone, clients 6:3:1. Today every replica takes 1/9 of the bytes;
    // kept in-zone, each zone-a replica takes 0.6/3 = 0.2 of them: 1.8 × the mean.
    let checkout = svc("checkout");
    assert_eq!(checkout["today"]["load_max_over_mean"], 1.0);
    assert_eq!(checkout["prefer_close"]["load_max_over_mean"], 1.8);
    assert_eq!(checkout["prefer_close"]["risk"], "medium");
    assert_eq!(checkout["prefer_close"]["overloaded_zones"], json!(["ap-northeast-2a"]));
    // cart: 2 in a, 1 in b. PreferClose: a-replicas take 0.6/2 + 0.1/3, the b-replica 0.3 + 0.1/3:
    // every replica 1/3 of the bytes, no risk. Auto hints one a-replica for zone c only: the other
    // takes all of zone a (0.6 = 1.8 × the mean).
    let cart = svc("cart");
    assert_eq!(cart["prefer_close"]["load_max_over_mean"], 1.0);
    assert_eq!(cart["prefer_close"]["risk"], "low");
    assert_eq!(cart["auto"]["load_max_over_mean"], 1.8);
    assert_eq!(
        cart["auto"]["hinted_endpoints_live_in"],
        json!({"ap-northeast-2a": {"ap-northeast-2a": 1}, "ap-northeast-2b": {"ap-northeast-2b": 1}, "ap-northeast-2c": {"ap-northeast-2a": 1}})
    );
    // Same savings, lower risk: PreferSameZone (the nodes run 1.34) is recommended for cart, Auto
    // for checkout (a tie).
    assert_eq!(cart["recommended_mode"], "PreferSameZone");
    assert_eq!(checkout["recommended_mode"], "Auto");
    // Shares per client zone: zone c has no cart replica, so it crosses under every mode.
    let c = cart["client_zones"].as_array().unwrap().iter().find(|z| z["zone"] == "ap-northeast-2c").unwrap().clone();
    assert_eq!(
        (c["today_same_zone_share"].as_f64(), c["auto_same_zone_share"].as_f64(), c["prefer_close_same_zone_share"].as_f64()),
        (Some(0.0), Some(0.0), Some(0.0))
    );
    let a = cart["client_zones"].as_array().unwrap().iter().find(|z| z["zone"] == "ap-northeast-2a").unwrap().clone();
    assert_eq!(
        (a["today_same_zone_share"].as_f64(), a["auto_same_zone_share"].as_f64(), a["prefer_close_same_zone_share"].as_f64()),
        (Some(0.6667), Some(1.0), Some(1.0))
    );
}

#[test]
fn without_flow_logs_the_simulation_is_complete_and_traffic_is_null() {
    let (dir, truth) = scenario();
    let run = crossaz(&["whatif", "routing", "--k8s", "k8s", "--format", "json"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(out["traffic_measured"], false);
    assert_eq!(out["window_hours"], Value::Null);
    for s in out["services"].as_array().unwrap() {
        let key = format!("{}/{}", s["namespace"].as_str().unwrap(), s["service"].as_str().unwrap());
        let t = &truth["services"][&key];
        assert_eq!(s["auto"]["hints_applied"], t["auto"]["hints_applied"], "{key}");
        assert_eq!(s["auto"]["hints_by_zone"], t["auto"]["hints_by_zone"], "{key}");
        for f in ["projected_cross_az_bytes", "monthly_savings_usd"] {
            assert_eq!(s["auto"][f], Value::Null, "{key} {f}");
            assert_eq!(s["prefer_close"][f], Value::Null, "{key} {f}");
        }
        assert_eq!(s["today"]["cross_az_bytes"], Value::Null);
    }
}

#[test]
fn table_and_csv_render_the_same_answer() {
    let (dir, _) = scenario();
    let run = crossaz(&["whatif", "routing", "--flow-logs", "flow-logs", "--network", "network", "--k8s", "k8s"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("whatif_routing_table", run.stdout);
    let run = crossaz(
        &["whatif", "routing", "--flow-logs", "flow-logs", "--network", "network", "--k8s", "k8s", "--format", "csv", "--output", "out.csv"],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let csv = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    insta::assert_snapshot!("whatif_routing_csv", csv);
}

/// Rewrites the scenario's snapshot: every node's `nodeInfo.kubeletVersion` (removed for None),
/// and the List's `serverVersion` as `crossaz pull k8s` records it.
fn set_versions(dir: &std::path::Path, kubelet: Option<&str>, server: Option<&str>) {
    for f in std::fs::read_dir(dir.join("k8s")).unwrap().flatten().map(|e| e.path()) {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&f).unwrap()), &mut text).unwrap();
        let mut list: Value = serde_json::from_str(&text).unwrap();
        for item in list["items"].as_array_mut().unwrap().iter_mut().filter(|i| i["kind"] == "Node") {
            let info = item["status"]["nodeInfo"].as_object_mut().unwrap();
            match kubelet {
                Some(v) => info.insert("kubeletVersion".into(), json!(v)),
                None => info.remove("kubeletVersion"),
            };
        }
        if let Some(v) = server {
            list["serverVersion"] = json!({"major": "1", "minor": v.split('.').nth(1).unwrap(), "gitVersion": v, "platform": "linux/amd64"});
        }
        let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&f).unwrap(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, list.to_string().as_bytes()).unwrap();
        gz.finish().unwrap();
    }
}

#[test]
fn the_same_zone_mode_is_named_for_the_clusters_version() {
    // (kubelets, API server) → (the value, where the version came from, the words for cart, a note).
    let cases = [
        (
            Some("v1.34.2-eks-b9c9d5f"),
            None,
            "PreferSameZone",
            Some("the nodes' kubelets"),
            "set trafficDistribution: PreferSameZone",
            "PreferClose is its deprecated alias",
        ),
        (
            Some("v1.33.5-eks-113cf36"),
            None,
            "PreferClose",
            Some("the nodes' kubelets"),
            "set trafficDistribution: PreferClose",
            "upgrading to 1.34 renames it PreferSameZone",
        ),
        // The API server is never older than its kubelets: its `/version` wins.
        (
            Some("v1.33.5-eks-113cf36"),
            Some("v1.35.0-eks-3a1f0c2"),
            "PreferSameZone",
            Some("the API server"),
            "set trafficDistribution: PreferSameZone",
            "v1.35.0-eks-3a1f0c2",
        ),
        (None, None, "PreferSameZone", None, "set trafficDistribution: PreferSameZone (PreferClose before 1.34)", "version is unknown"),
    ];
    for (kubelet, server, mode, from, words, note) in cases {
        let (dir, _) = scenario();
        set_versions(dir.path(), kubelet, server);
        let out = whatif(dir.path(), &[]);
        let case = format!("{kubelet:?} {server:?}");
        assert_eq!(out["same_zone_mode"], mode, "{case}");
        assert_eq!(out["cluster"]["kubernetes_version_from"], json!(from), "{case}");
        let cart = out["services"].as_array().unwrap().iter().find(|s| s["service"] == "cart").unwrap().clone();
        assert_eq!(cart["recommended_mode"], mode, "{case}");
        assert!(cart["recommendation"].as_str().unwrap().starts_with(words), "{case}: {}", cart["recommendation"]);
        assert!(out["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains(note)), "{case}: {}", out["notes"]);
        // The service already on PreferClose keeps it, under either name.
        let catalog = out["services"].as_array().unwrap().iter().find(|s| s["service"] == "catalog").unwrap().clone();
        assert_eq!(catalog["recommendation"], "keep PreferClose", "{case}");
        let table = crossaz(&["whatif", "routing", "--flow-logs", "flow-logs", "--network", "network", "--k8s", "k8s"], dir.path()).stdout;
        assert!(table.starts_with(&format!("Topology-aware routing: what Auto and {mode} would do, per Service")), "{case}: {table}");
        assert!(table.contains(&format!("{mode} saves")), "{case}");
    }
}

// ---- bad and unusual input: explained, never a crash ----

mod unusual {
    use super::*;
    use crate::topology::{node, service, snapshot};
    use std::collections::BTreeMap;

    fn three_zones() -> Vec<Value> {
        ["a", "b", "c"].iter().map(|z| node(&format!("node-{z}"), Some(&format!("us-east-1{z}")), Some("2"), true, &[])).collect()
    }

    fn ep(ip: &str, zone: Option<&str>, node: &str) -> Value {
        let mut e = json!({"addresses": [ip], "conditions": {"ready": true, "serving": true, "terminating": false}, "nodeName": node});
        if let Some(z) = zone {
            e["zone"] = json!(z);
        }
        e
    }

    fn run_json(doc: &Value) -> (i32, Value, String) {
        let dir = tempdir();
        std::fs::write(dir.path().join("cluster.json"), serde_json::to_vec(doc).unwrap()).unwrap();
        let run = crossaz(&["whatif", "routing", "--k8s", "cluster.json", "--format", "json"], dir.path());
        (run.code, serde_json::from_str(&run.stdout).unwrap_or(Value::Null), run.stderr)
    }

    #[test]
    fn endpoints_without_zone_are_named() {
        let eps = vec![ep("10.0.1.5", Some("us-east-1a"), "node-a"), ep("10.0.2.5", Some("us-east-1b"), "node-b"), ep("10.0.3.5", None, "node-x")];
        let (code, out, err) = run_json(&snapshot(&three_zones(), service(&BTreeMap::new(), None), &[eps], "IPv4"));
        assert_eq!(code, 0, "{err}");
        let s = &out["services"][0];
        assert_eq!(s["auto"]["reason"], "endpoint-without-zone");
        assert_eq!(s["auto"]["message"], "One or more endpoints do not have a zone specified, addressType: IPv4");
        assert_eq!(s["auto"]["suggestion"], "give these endpoints' nodes the topology.kubernetes.io/zone label: 10.0.3.5 (node node-x)");
        assert_eq!(s["endpoints_without_zone"], 1);
        // PreferClose gives the zoned endpoints hints, the zoneless one none: kube-proxy then
        // ignores every hint, so nothing would change.
        for z in s["client_zones"].as_array().unwrap() {
            assert_eq!(z["prefer_close_same_zone_share"], z["today_same_zone_share"], "{z}");
        }
    }

    #[test]
    fn nodes_without_cpu_or_zone_disable_hints_for_every_service() {
        let mut nodes = three_zones();
        nodes.push(node("node-nozone", None, Some("2"), true, &[]));
        nodes.push(node("node-nocpu", Some("us-east-1a"), None, true, &[]));
        nodes.push(node("node-cp", None, None, true, &[("node-role.kubernetes.io/control-plane", "")]));
        nodes.push(node("node-down", None, None, false, &[]));
        let eps: Vec<Value> =
            (0..6).map(|i| ep(&format!("10.0.{}.{}", i % 3 + 1, 10 + i), Some(["us-east-1a", "us-east-1b", "us-east-1c"][i % 3]), "node-a")).collect();
        let (code, out, err) = run_json(&snapshot(&nodes, service(&BTreeMap::new(), None), &[eps], "IPv4"));
        assert_eq!(code, 0, "{err}");
        assert_eq!(out["cluster"]["refusal"], "insufficient-node-info");
        assert_eq!(
            out["cluster"]["nodes_lacking_zone_or_cpu"],
            json!(["node-nozone (no topology.kubernetes.io/zone label)", "node-nocpu (no allocatable CPU)"])
        );
        assert_eq!(out["cluster"]["excluded_nodes"], json!(["node-cp (control-plane label)", "node-down (not Ready)"]));
        let s = &out["services"][0];
        assert_eq!(s["auto"]["reason"], "insufficient-node-info");
        assert!(s["auto"]["suggestion"].as_str().unwrap().contains("node-nozone: no topology.kubernetes.io/zone label; node-nocpu: no allocatable CPU"));
    }

    #[test]
    fn one_zone_is_named_as_such() {
        let nodes = vec![node("n1", Some("us-east-1a"), Some("2"), true, &[]), node("n2", Some("us-east-1a"), Some("2"), true, &[])];
        let eps = vec![ep("10.0.1.5", Some("us-east-1a"), "n1"), ep("10.0.1.6", Some("us-east-1a"), "n2")];
        let (code, out, _) = run_json(&snapshot(&nodes, service(&BTreeMap::new(), None), &[eps], "IPv4"));
        assert_eq!(code, 0);
        assert_eq!(out["services"][0]["auto"]["reason"], "one-zone");
        // Kubernetes' own event says "insufficient node information" for this case.
        assert!(out["services"][0]["auto"]["message"].as_str().unwrap().starts_with("Insufficient Node information"));
    }

    #[test]
    fn dual_stack_families_are_simulated_each_on_its_own() {
        let v4: Vec<Value> =
            ["a", "b", "c"].iter().enumerate().map(|(i, z)| ep(&format!("10.0.{}.5", i + 1), Some(&format!("us-east-1{z}")), &format!("node-{z}"))).collect();
        let v6: Vec<Value> =
            ["a", "b"].iter().enumerate().map(|(i, z)| ep(&format!("2600:1f18::{}", i + 1), Some(&format!("us-east-1{z}")), &format!("node-{z}"))).collect();
        let mut doc = snapshot(&three_zones(), service(&BTreeMap::new(), None), &[v4], "IPv4");
        let six = snapshot(&[], json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "x"}}), &[v6], "IPv6");
        for item in six["items"].as_array().unwrap().iter().filter(|i| i["kind"] == "EndpointSlice") {
            doc["items"].as_array_mut().unwrap().push(item.clone());
        }
        let (code, out, err) = run_json(&doc);
        assert_eq!(code, 0, "{err}");
        let s = &out["services"][0];
        assert_eq!(s["address_type"], "IPv4");
        assert_eq!(
            s["auto"]["by_address_type"],
            json!([
                {"address_type": "IPv4", "ready_endpoints": 3, "hints_applied": true, "reason": null, "hints_by_zone": {"us-east-1a": 1, "us-east-1b": 1, "us-east-1c": 1}},
                {"address_type": "IPv6", "ready_endpoints": 2, "hints_applied": false, "reason": "insufficient-endpoints", "hints_by_zone": {}}
            ])
        );
    }

    #[test]
    fn services_without_selector_or_cluster_ip_are_explained() {
        let eps =
            vec![ep("10.0.1.5", Some("us-east-1a"), "node-a"), ep("10.0.2.5", Some("us-east-1b"), "node-b"), ep("10.0.3.5", Some("us-east-1c"), "node-c")];
        let mut svc = service(&BTreeMap::new(), None);
        svc["spec"].as_object_mut().unwrap().remove("selector");
        let mut doc = snapshot(&three_zones(), svc, std::slice::from_ref(&eps), "IPv4");
        for item in doc["items"].as_array_mut().unwrap().iter_mut().filter(|i| i["kind"] == "EndpointSlice") {
            item["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] = json!("endpointslicemirroring-controller.k8s.io");
        }
        let (code, out, err) = run_json(&doc);
        assert_eq!(code, 0, "{err}");
        let s = &out["services"][0];
        assert_eq!(s["auto"]["reason"], "not-managed");
        assert_eq!(s["auto"]["hints_applied"], false);
        assert!(s["recommendation"].as_str().unwrap().starts_with("none:"), "{}", s["recommendation"]);

        let mut headless = service(&BTreeMap::new(), None);
        headless["spec"]["clusterIP"] = json!("None");
        let (code, out, _) = run_json(&snapshot(&three_zones(), headless, &[eps], "IPv4"));
        assert_eq!(code, 0);
        let s = &out["services"][0];
        assert_eq!(s["applicable"], false);
        assert!(s["not_applicable"].as_str().unwrap().starts_with("headless Service"));
    }

    #[test]
    fn usage_and_data_errors() {
        let dir = tempdir();
        let run = crossaz(&["whatif", "routing", "--format", "json"], dir.path());
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("needs the cluster's state: pass `--k8s`"), "{}", run.stderr);

        std::fs::write(dir.path().join("cluster.json"), serde_json::to_vec(&snapshot(&three_zones(), service(&BTreeMap::new(), None), &[], "IPv4")).unwrap())
            .unwrap();
        let run = crossaz(&["whatif", "routing", "--k8s", "cluster.json", "--service", "default/nope"], dir.path());
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains("no Service `default/nope` in the snapshot"), "{}", run.stderr);
        let run = crossaz(&["whatif", "routing", "--k8s", "cluster.json", "--service", "nope"], dir.path());
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains("is not NAMESPACE/NAME"), "{}", run.stderr);
        let run = crossaz(&["whatif", "routing", "--k8s", "cluster.json", "--format", "parquet"], dir.path());
        assert_eq!(run.code, 2);

        std::fs::write(dir.path().join("broken.json"), "{\"kind\": \"List\", \"items\": [\n  {\"kind\": \"Node\",\n").unwrap();
        let run = crossaz(&["whatif", "routing", "--k8s", "broken.json"], dir.path());
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(run.stderr.contains("cannot read `broken.json:3`"), "{}", run.stderr);
        assert!(run.stderr.contains("the JSON ends early"), "{}", run.stderr);
    }
}

#[test]
fn a_file_named_twice_is_read_once() {
    let (dir, _) = scenario();
    let once = crossaz(&["attribute", "--flow-logs", "flow-logs", "--k8s", "k8s", "--network", "network", "--format", "json"], dir.path());
    let twice = crossaz(&["attribute", "--flow-logs", "flow-logs", "./flow-logs/", "--k8s", "k8s", "--network", "network", "--format", "json"], dir.path());
    assert_eq!(once.code, 0, "{}", once.stderr);
    assert_eq!(twice.code, 0, "{}", twice.stderr);
    let read = |r: &crate::util::Run| serde_json::from_str::<Value>(&r.stdout).unwrap()["summary"]["records"]["read"].clone();
    assert!(read(&once).as_u64().unwrap() > 0);
    assert_eq!(read(&twice), read(&once));
}
