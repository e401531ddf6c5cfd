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
    r.summary.other_vpcs.iter().map(|o| (o.vpc.clone(), o.records)).collect()
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
    assert_eq!(r.summary.flow_log_overlaps.len(), 1);
    let o = &r.summary.flow_log_overlaps[0];
    assert_eq!(o.flow_log, crossaz::generate::real::SECURITY_FLOW_LOG);
    assert_eq!(o.covered_by, [crossaz::generate::world::FLOW_LOG_ID]);
    assert_eq!(o.records, truth_records(&t)["overlapping-flow-log"]);
    // Free paths side by side with billed ones, each with the rule that freed it.
    let free: BTreeMap<&str, u64> = r.summary.free_by_reason.iter().map(|f| (f.reason.as_str(), f.bytes)).collect();
    for reason in ["alb-to-target", "clb-to-instance", "privatelink-interface-endpoint", "rds-multi-az-replication"] {
        assert!(free.get(reason).is_some_and(|b| *b > 0), "no bytes freed by `{reason}`: {free:?}");
    }
    // kube-proxy's second hop after the Classic Load Balancer is billed, to the Service.
    assert!(r.conversations.iter().any(|c| c.client_kind == "node" && c.server == "storefront" && c.class == "cross-az-billed"));
    // The EKS control plane's path has no primary source: billed, and listed as an assumption.
    assert!(r.summary.assumptions.iter().any(|a| a.starts_with("`eks-control-plane`")), "{:?}", r.summary.assumptions);
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
    // Everything but the deleted ALB interface resolves as before: pods by the Kubernetes timeline,
    // the replaced node by the records' instance-id, zones by subnet. The deleted ALB interface is
    // named by its id and billed: only a snapshot that saw it can tell it was an ALB.
    let alb_name = "elb:k8s-game2048-ingress2-4f8e1c2b7a";
    let actual = report_conversations(&report);
    let not_alb = |k: &ConvKey| k.2 != alb_name && k.5 != alb_name;
    let expected: BTreeMap<ConvKey, (u64, u64)> = truth_conversations(&t, "conversations").into_iter().filter(|(k, _)| not_alb(k)).collect();
    let got: BTreeMap<ConvKey, (u64, u64)> =
        actual.iter().filter(|(k, _)| not_alb(k) && !k.2.starts_with("eni:") && !k.5.starts_with("eni:")).map(|(k, v)| (k.clone(), *v)).collect();
    assert_eq!(got, expected);
    let old_name = format!("eni:{}", old_alb[0]);
    assert!(actual.keys().any(|k| k.2 == old_name && k.8 == "cross-az-billed"), "{old_name} not found");
    assert!(report.summary.notes.iter().any(|n| n.contains(&old_alb[0]) && n.contains("pull network --every")), "{:?}", report.summary.notes);
}
