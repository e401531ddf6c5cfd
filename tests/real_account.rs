//! The real-account day (`crossaz generate --scenario real-account`) against its ground truth:
//! node churn with addresses reused, ALB interfaces replaced, network snapshots, other VPCs on the
//! same CIDR in the bucket, a second flow log over one subnet, free and billed paths side by side,
//! a database logged from mid-day and a SKIPDATA gap.

use crate::util::*;
use crossaz::generate::{FlowFormat, Options};
use std::collections::BTreeMap;

fn real_day(format: FlowFormat) -> tempfile::TempDir {
    generated(Options { days: 1, format, real_account: true, ..Options::default() })
}

fn other_vpcs(r: &crossaz::report::Report) -> BTreeMap<String, u64> {
    r.measurement.summary.other_vpcs.iter().map(|o| (o.vpc.clone(), o.records)).collect()
}

fn truth_other_vpcs(t: &serde_json::Value) -> BTreeMap<String, u64> {
    t["other_vpcs"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap())).collect()
}

#[test]
fn the_real_account_day_matches_its_truth() {
    let dir = real_day(FlowFormat::Recommended);
    let t = truth(dir.path());
    let outcome = attribute(&inputs_of(dir.path()));
    let r = &outcome.report;
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    assert_truth(r, &t, "conversations");
    // Other VPCs in the bucket: not analysed, counted by VPC (or by flow log without vpc-id).
    assert_eq!(other_vpcs(r), truth_other_vpcs(&t));
    assert_eq!(other_vpcs(r).len(), 2);
    // The security team's log repeats the public subnet's records: counted once, from the richer log.
    assert_eq!(r.measurement.summary.flow_log_overlaps.len(), 1);
    let o = &r.measurement.summary.flow_log_overlaps[0];
    assert_eq!(o.flow_log, crossaz::generate::real::SECURITY_FLOW_LOG);
    assert_eq!(o.covered_by, [crossaz::generate::world::FLOW_LOG_ID]);
    assert_eq!(o.records, truth_records(&t)["overlapping-flow-log"]);
    // Free paths side by side with billed ones, each with the rule that freed it.
    let free: BTreeMap<&str, u64> = r.measurement.summary.free_by_reason.iter().map(|f| (f.reason.as_str(), f.bytes)).collect();
    for reason in ["alb-to-target", "clb-to-instance", "privatelink-interface-endpoint", "rds-multi-az-replication"] {
        assert!(free.get(reason).is_some_and(|b| *b > 0), "no bytes freed by `{reason}`: {free:?}");
    }
    // kube-proxy's second hop after the Classic Load Balancer is billed, to the Service.
    assert!(r.measurement.conversations.iter().any(|c| c.client_kind == "node" && c.server == "storefront" && c.class == "cross-az-billed"));
    // The EKS control plane's path has no primary source: billed, and listed as an assumption.
    assert!(r.measurement.summary.assumptions.iter().any(|a| a.starts_with("`eks-control-plane`")), "{:?}", r.measurement.summary.assumptions);
}

#[test]
fn the_real_account_day_in_the_default_format_matches_its_truth_per_node() {
    let dir = real_day(FlowFormat::Default);
    let t = truth(dir.path());
    let outcome = attribute(&inputs_of(dir.path()));
    assert_truth(&outcome.report, &t, "node_level_conversations");
    assert_eq!(other_vpcs(&outcome.report), truth_other_vpcs(&t));
}

#[test]
fn with_only_todays_inventory_replaced_nodes_still_resolve_and_the_old_alb_interface_is_named_by_its_id() {
    // `describe-network-interfaces` pulled at the end of the day: the replaced interfaces are gone.
    let dir = real_day(FlowFormat::Recommended);
    let net = dir.path().join("network");
    let mut snaps: Vec<std::path::PathBuf> = std::fs::read_dir(&net).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    snaps.sort();
    let last = snaps.pop().unwrap();
    let old_alb: Vec<String> = {
        let first: serde_json::Value = serde_json::from_slice(&std::fs::read(snaps[0].join("network-interfaces.json")).unwrap()).unwrap();
        let now: serde_json::Value = serde_json::from_slice(&std::fs::read(last.join("network-interfaces.json")).unwrap()).unwrap();
        let ids = |v: &serde_json::Value| -> Vec<String> {
            v["NetworkInterfaces"].as_array().unwrap().iter().map(|e| e["NetworkInterfaceId"].as_str().unwrap().to_string()).collect()
        };
        let now_ids = ids(&now);
        first["NetworkInterfaces"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["Description"].as_str().unwrap().starts_with("ELB app/") && !now_ids.contains(&e["NetworkInterfaceId"].as_str().unwrap().to_string()))
            .map(|e| e["NetworkInterfaceId"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(old_alb.len(), 1);
    for s in &snaps {
        std::fs::remove_dir_all(s).unwrap();
    }
    let t = truth(dir.path());
    let report = attribute(&inputs_of(dir.path())).report;
    // Pods resolve by the Kubernetes timeline, the replaced node by the records' instance-id, zones
    // by subnet. The deleted ALB interface's conversations, as the generator built them, are named
    // by its ID: only a snapshot that saw it can tell it was an ALB, so its legs to targets in other
    // zones are billed by the default rule (docs/method.md, "Interfaces come and go").
    let alb_name = "elb:k8s-game2048-ingress2-4f8e1c2b7a";
    let old_name = format!("eni:{}", old_alb[0]);
    let through_old = truth_conversations(&serde_json::json!({"c": t["deleted_interfaces"][&old_alb[0]]}), "c");
    assert!(!through_old.is_empty(), "the generator sent traffic through the ALB interface it deleted");
    let mut expected = truth_conversations(&t, "conversations");
    for (k, (up, down)) in through_old {
        let e = expected.get_mut(&k).expect("a conversation of the truth");
        (e.0, e.1) = (e.0 - up, e.1 - down);
        if *e == (0, 0) {
            expected.remove(&k);
        }
        let mut renamed = k.clone();
        for (kind, name) in [(&mut renamed.0, &mut renamed.2), (&mut renamed.3, &mut renamed.5)] {
            if name == alb_name {
                (*kind, *name) = ("eni".into(), old_name.clone());
            }
        }
        if renamed.8 == "cross-az-free" {
            (renamed.8, renamed.9, renamed.10) = ("cross-az-billed".into(), "default".into(), String::new());
        }
        let e = expected.entry(renamed).or_default();
        (e.0, e.1) = (e.0 + up, e.1 + down);
    }
    let actual = report_conversations(&report);
    assert_eq!(actual, expected);
    assert!(actual.keys().any(|k| k.2 == old_name && k.8 == "cross-az-billed"), "{old_name} not found");
    assert!(
        report.measurement.summary.notes.iter().any(|n| n.contains(&old_alb[0]) && n.contains("pull network --every")),
        "{:?}",
        report.measurement.summary.notes
    );
}

/// Rewrites every Kubernetes snapshot of `dir` with `edit` applied to each object.
fn edit_snapshots(dir: &std::path::Path, edit: impl Fn(&mut serde_json::Value)) {
    for f in std::fs::read_dir(dir.join("k8s")).unwrap().flatten().map(|e| e.path()) {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&f).unwrap()), &mut text).unwrap();
        let mut list: serde_json::Value = serde_json::from_str(&text).unwrap();
        for item in list["items"].as_array_mut().unwrap() {
            edit(item);
        }
        let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&f).unwrap(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, list.to_string().as_bytes()).unwrap();
        gz.finish().unwrap();
    }
}

/// Bytes to and from each Service, summed over its conversations.
fn by_service(convs: &BTreeMap<ConvKey, (u64, u64)>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (k, (up, down)) in convs.iter().filter(|(k, _)| k.3 == "service") {
        *out.entry(format!("{}/{}", k.4, k.5)).or_default() += up + down;
    }
    out
}

#[test]
fn a_statefulset_pod_recreated_under_its_name_on_an_address_web_api_held_is_another_pod() {
    let dir = real_day(FlowFormat::Recommended);
    // The shape, as the generator wrote it: `queue-1` twice, with two uids on two nodes, the second
    // on an address a web-api pod held earlier in the day.
    let mut sightings: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    let mut web_api_ips = std::collections::BTreeSet::new();
    for f in std::fs::read_dir(dir.path().join("k8s")).unwrap().flatten().map(|e| e.path()) {
        let s = crossaz::sources::k8s::load_snapshot(&f).unwrap();
        for p in &s.pods {
            if p.name == "queue-1" {
                sightings.insert(
                    p.uid.clone().unwrap(),
                    (p.node_name.clone().unwrap(), p.ips[0].to_string(), crossaz::model::time::format_time(p.created.unwrap())),
                );
            }
            if p.name.starts_with("web-api-") && p.created < Some(s.time.unwrap()) {
                web_api_ips.extend(p.ips.iter().map(|i| (i.to_string(), s.time.unwrap())));
            }
        }
    }
    assert_eq!(sightings.len(), 2, "{sightings:?}");
    let mut lives: Vec<&(String, String, String)> = sightings.values().collect();
    lives.sort_by_key(|l| l.2.clone());
    let (before, after) = (lives[0], lives[1]);
    assert_ne!(before.0, after.0, "another node");
    let after_created = crossaz::model::time::parse_time(&after.2).unwrap();
    assert!(web_api_ips.iter().any(|(ip, at)| *ip == after.1 && *at < after_created), "{after:?} was a web-api pod's address before");

    // Every Service's bytes and every conversation exact, with uids, and with snapshots that lack
    // them (pods told apart by name and creationTimestamp).
    let t = truth(dir.path());
    let expected = truth_conversations(&t, "conversations");
    let check = |what: &str| {
        let report = attribute(&inputs_of(dir.path())).report;
        let actual = report_conversations(&report);
        assert_eq!(by_service(&actual), by_service(&expected), "{what}: bytes per Service");
        assert_eq!(actual, expected, "{what}: conversations");
        assert!(by_service(&actual)["shop/web-api"] > 0 && by_service(&actual)["shop/queue"] > 0);
    };
    check("with uids");
    edit_snapshots(dir.path(), |item| {
        if item["kind"] == "Pod" {
            item["metadata"].as_object_mut().unwrap().remove("uid");
        }
        for ep in item["endpoints"].as_array_mut().into_iter().flatten() {
            ep["targetRef"].as_object_mut().map(|t| t.remove("uid"));
        }
    });
    check("without uids");
}
