//! The command line as users see it: help, the demo, and error messages, as snapshots.

use crate::util::*;

fn snapshot_run(name: &str, args: &[&str]) {
    let run = crossaz(args, &repo());
    let text = format!("exit: {}\n--- stdout\n{}--- stderr\n{}", run.code, run.stdout, run.stderr);
    insta::with_settings!({ snapshot_path => repo().join("tests/snapshots"), prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn help() {
    snapshot_run("help", &["--help"]);
    snapshot_run("attribute_help", &["attribute", "--help"]);
}

#[test]
fn demo_by_workload() {
    snapshot_run("demo_by_workload", &["demo", "--by", "workload", "--no-review"]);
}

#[test]
fn demo_by_az_pair_csv() {
    snapshot_run("demo_by_az_pair_csv", &["demo", "--by", "az-pair", "--format", "csv"]);
}

#[test]
fn demo_by_namespace() {
    snapshot_run("demo_by_namespace", &["demo", "--by", "namespace", "--no-review"]);
}

/// The demo's CUR 2.0 Parquet per resource: amounts keep the scale the bill's floats give them
/// (`0.0` for a whole zero), so a change of reader cannot change the printed figures.
#[test]
fn reconcile_demo_cur_by_resource_csv() {
    let d = "fixtures/demo";
    snapshot_run(
        "reconcile_demo_cur_by_resource_csv",
        &[
            "reconcile",
            "--flow-logs",
            &format!("{d}/flow-logs"),
            "--network",
            &format!("{d}/network"),
            "--k8s",
            &format!("{d}/k8s"),
            "--cur",
            &format!("{d}/billing/cur"),
            "--by",
            "resource",
            "--format",
            "csv",
        ],
    );
}

#[test]
fn corpus_file_without_inventory() {
    snapshot_run("corpus_v2_records", &["attribute", "--flow-logs", "fixtures/corpora/flowlogs-reader/v2_records.txt"]);
}

#[test]
fn error_messages() {
    snapshot_run("error_missing_path", &["attribute", "--flow-logs", "fixtures/nowhere"]);
    snapshot_run("error_bad_format_string", &["attribute", "--flow-logs", "fixtures/demo/flow-logs", "--flow-log-format", "${version} ${pkt-srcadr}"]);
    snapshot_run(
        "error_k8s_given_network",
        &["attribute", "--flow-logs", "fixtures/corpora/otel-contrib/testdata/valid_vpc_flow_log_multi.log", "--k8s", "fixtures/demo/network/subnets.json"],
    );
}
