//! Helpers: run the built binary, generate scenarios, compare reports with ground truth.

#![allow(dead_code)]

use crossaz::generate::{self, Options};
use crossaz::pipeline::{self, Inputs, Outcome};
use crossaz::printer::Printer;
use crossaz::report::Report;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn demo_dir() -> PathBuf {
    repo().join("fixtures/demo")
}

pub fn corpus(rel: &str) -> PathBuf {
    repo().join("fixtures/corpora").join(rel)
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the crossaz binary with `args` in `cwd`.
pub fn crossaz(args: &[&str], cwd: &Path) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_crossaz"))
        .args(args)
        .current_dir(cwd)
        .env("CROSSAZ_NO_PROGRESS", "1")
        .env("NO_COLOR", "1")
        .output()
        .expect("the crossaz binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Generates a scenario into a fresh temporary directory.
pub fn generated(opts: Options) -> tempfile::TempDir {
    let dir = tempdir();
    generate::generate(&opts, dir.path()).expect("the generator writes its files");
    dir
}

pub fn short(days: u32) -> Options {
    Options { days, ..Options::default() }
}

/// The inputs of a generated (or demo) directory.
pub fn inputs_of(dir: &Path) -> Inputs {
    Inputs { flow_logs: vec![dir.join("flow-logs")], network: vec![dir.join("network")], k8s: vec![dir.join("k8s")], ..Inputs::default() }
}

pub fn attribute(inputs: &Inputs) -> Outcome {
    pipeline::run(inputs, &Printer { quiet: true }).expect("the pipeline runs")
}

pub fn truth(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("truth.json")).expect("truth.json exists")).expect("truth.json is JSON")
}

/// (client kind, ns, name, server kind, ns, name, client AZ ID, server AZ ID, class, pricing rule, free reason)
pub type ConvKey = (String, String, String, String, String, String, String, String, String, String, String);

pub fn truth_conversations(truth: &Value, which: &str) -> BTreeMap<ConvKey, (u64, u64)> {
    truth[which]
        .as_array()
        .expect("conversations")
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
            let key = (
                s("client_kind"),
                s("client_namespace"),
                s("client"),
                s("server_kind"),
                s("server_namespace"),
                s("server"),
                s("client_az_id"),
                s("server_az_id"),
                s("class"),
                s("pricing_rule"),
                s("free_reason"),
            );
            (key, (c["bytes_to_server"].as_u64().unwrap(), c["bytes_to_client"].as_u64().unwrap()))
        })
        .collect()
}

pub fn report_conversations(r: &Report) -> BTreeMap<ConvKey, (u64, u64)> {
    r.measurement
        .conversations
        .iter()
        .map(|c| {
            let key = (
                c.client_kind.clone(),
                c.client_namespace.clone(),
                c.client.clone(),
                c.server_kind.clone(),
                c.server_namespace.clone(),
                c.server.clone(),
                c.client_az_id.clone(),
                c.server_az_id.clone(),
                c.class.clone(),
                c.pricing_rule.clone().unwrap_or_default(),
                c.free_reason.clone().unwrap_or_default(),
            );
            (key, (c.bytes_to_server, c.bytes_to_client))
        })
        .collect()
}

/// Records by code, with `counted` and `total`, as the truth file spells them.
pub fn report_records(r: &Report) -> BTreeMap<String, u64> {
    let mut m: BTreeMap<String, u64> = r.measurement.summary.records.uncounted.iter().map(|u| (u.code.clone(), u.records)).collect();
    m.insert("counted".into(), r.measurement.summary.records.counted);
    m.insert("total".into(), r.measurement.summary.records.read);
    m
}

pub fn truth_records(t: &Value) -> BTreeMap<String, u64> {
    t["records"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap())).collect()
}

/// Asserts the report's conversations equal the ground truth's, both ways.
pub fn assert_truth_conversations(report: &Report, truth: &Value) {
    assert_eq!(report_conversations(report), truth_conversations(truth, "conversations"));
}

/// Asserts the report equals the ground truth: every conversation's bytes both ways, every record's fate.
pub fn assert_truth(report: &Report, truth: &Value, which: &str) {
    let expected = truth_conversations(truth, which);
    let actual = report_conversations(report);
    let missing: Vec<_> = expected.iter().filter(|(k, v)| actual.get(*k) != Some(v)).take(5).collect();
    let extra: Vec<_> = actual.iter().filter(|(k, _)| !expected.contains_key(*k)).take(5).collect();
    assert!(missing.is_empty() && extra.is_empty(), "differs from truth:\n expected but not found: {missing:#?}\n found but not expected: {extra:#?}");
    assert_eq!(actual.len(), expected.len());
    assert_eq!(report_records(report), truth_records(truth));
}
