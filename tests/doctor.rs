//! `crossaz doctor` on generated workspaces: complete, then with each thing missing or stale.

use crate::util::*;
use crossaz::generate::{FlowFormat, Options, Unlogged};

fn doctor(ws: &std::path::Path) -> Run {
    crossaz(&["doctor", "--workspace", ws.to_str().unwrap(), "--month", "2026-10"], &repo())
}

/// The flow-log files of one day (`…/2026/10/05/…`).
fn day_files(ws: &std::path::Path, day: &str) -> Vec<std::path::PathBuf> {
    walkdir::WalkDir::new(ws.join("flow-logs"))
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.is_file() && p.to_string_lossy().contains(day))
        .collect()
}

#[test]
fn a_complete_month_passes_and_each_gap_is_named_with_its_fix() {
    let ws = generated(Options::default());
    let run = doctor(ws.path());
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("ok  flow logs: 31 of 31 days"), "{}", run.stdout);
    assert!(run.stdout.contains("a report of 2026-10 would be complete"), "{}", run.stdout);

    // Three days of flow logs lost, the bill not pulled, snapshots taken every 5 minutes with gaps.
    for day in ["2026/10/05", "2026/10/06", "2026/10/07"] {
        let files = day_files(ws.path(), day);
        assert!(!files.is_empty(), "{day}");
        for f in files {
            std::fs::remove_file(f).unwrap();
        }
    }
    std::fs::remove_dir_all(ws.path().join("billing")).unwrap();
    std::fs::create_dir_all(ws.path().join("state")).unwrap();
    std::fs::write(ws.path().join("state/pull-k8s.json"), r#"{"every": 300, "failures": []}"#).unwrap();
    let run = doctor(ws.path());
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(out.contains("!!  flow logs: 3 of 31 days have no record: 2026-10-05, 2026-10-06, 2026-10-07"), "{out}");
    assert!(out.contains("fix: crossaz pull flow-logs --from 2026-10-05 --to 2026-10-08"), "{out}");
    assert!(out.contains("!!  billing: no Cost Explorer data"), "{out}");
    assert!(out.contains("fix: crossaz pull billing --from 2026-10-01 --to 2026-11-01"), "{out}");
    assert!(out.contains("!!  Kubernetes: ") && out.contains("fix: keep `crossaz pull k8s --every 300s` running"), "{out}");
    assert!(out.contains("a report of 2026-10 would be incomplete: 3 problems above"), "{out}");

    // The network inventory gone.
    std::fs::remove_dir_all(ws.path().join("network")).unwrap();
    let run = doctor(ws.path());
    assert!(run.stdout.contains("!!  network inventory: none in"), "{}", run.stdout);
    assert!(run.stdout.contains("fix: crossaz pull network --every 1h"), "{}", run.stdout);
}

#[test]
fn a_format_without_pod_fields_and_a_partial_flow_log_are_named() {
    let ws = generated(Options { days: 31, format: FlowFormat::Default, ..Options::default() });
    let run = doctor(ws.path());
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("flow-log files lack `pkt-srcaddr`/`pkt-dstaddr`: traffic is attributed per node"), "{}", run.stdout);

    let ws = generated(Options { unlogged: vec![Unlogged::Elb], ..Options::default() });
    let run = doctor(ws.path());
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("interfaces of the inventory appear in no flow-log record"), "{}", run.stdout);
    assert!(run.stdout.contains("(elb:"), "names the unlogged load balancer: {}", run.stdout);

    let run = crossaz(&["doctor", "--workspace", "/nonexistent-crossaz"], &repo());
    assert_eq!(run.code, 2, "{}", run.stderr);
}
