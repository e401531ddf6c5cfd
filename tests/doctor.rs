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
    write_config(ws.path());
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
    assert!(out.contains("!!  Kubernetes: ") && out.contains("fix: keep `crossaz pull k8s --every 300s --workspace "), "{out}");
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
}

/// `crossaz.toml` as `crossaz setup` writes it when it found the flow log's bucket.
fn write_config(ws: &std::path::Path) {
    let cfg = crossaz::config::Config {
        region: Some("ap-northeast-2".into()),
        flow_logs: crossaz::config::FlowLogs { bucket: Some("flow-logs-bucket".into()), ..Default::default() },
        ..Default::default()
    };
    crossaz::config::write(&cfg, ws).unwrap();
}

/// The four inputs' lines of a run: (ok?, the line after the marker, its fix).
fn lines(out: &str) -> Vec<(bool, String, Option<String>)> {
    let mut v: Vec<(bool, String, Option<String>)> = Vec::new();
    for l in out.lines() {
        if let Some(t) = l.strip_prefix("  ok  ") {
            v.push((true, t.to_string(), None));
        } else if let Some(t) = l.strip_prefix("  !!  ") {
            v.push((false, t.to_string(), None));
        } else if let Some(f) = l.trim_start().strip_prefix("fix: ") {
            v.last_mut().unwrap().2 = Some(f.to_string());
        }
    }
    v
}

#[test]
fn an_empty_workspace_lists_every_input_with_the_command_that_fills_it() {
    // No folder, an empty folder, a folder holding only what `crossaz setup` wrote: exit 1, never 2.
    let dir = tempdir();
    let (missing, empty, configured) = (dir.path().join("not-made"), dir.path().join("empty"), dir.path().join("configured"));
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::create_dir_all(&configured).unwrap();
    write_config(&configured);
    for ws in [&missing, &empty, &configured] {
        let run = doctor(ws);
        let w = ws.display();
        assert_eq!(run.code, 1, "{w}: {}\n{}", run.stdout, run.stderr);
        assert!(!run.stderr.contains("error"), "{w}: {}", run.stderr);
        let flow_fix = if ws == &configured {
            format!("crossaz pull flow-logs --from 2026-10-01 --to 2026-11-01 --workspace {w}")
        } else {
            format!(
                "crossaz pull flow-logs --bucket BUCKET --from 2026-10-01 --to 2026-11-01 --workspace {w} (`crossaz setup --cluster NAME` finds the bucket)"
            )
        };
        let mut expected = vec![
            (false, format!("flow logs: no flow-log files in `{w}/flow-logs`"), Some(flow_fix)),
            (
                false,
                format!("Kubernetes: no snapshot of 2026-10 in `{w}/k8s`: pods cannot be named"),
                Some(format!("keep `crossaz pull k8s --every 5m --workspace {w}` running through the month")),
            ),
            (false, format!("network inventory: none in `{w}/network`"), Some(format!("crossaz pull network --every 1h --workspace {w}"))),
            (
                false,
                format!("billing: no Cost Explorer data in `{w}/billing`: the review cannot say how much of the bill it explains"),
                Some(format!("crossaz pull billing --from 2026-10-01 --to 2026-11-01 --workspace {w}")),
            ),
        ];
        if ws == &missing {
            expected.insert(0, (false, format!("workspace: no folder at `{w}`"), Some(format!("crossaz setup --cluster NAME --workspace {w}"))));
        }
        assert_eq!(lines(&run.stdout), expected, "{}", run.stdout);
        assert!(run.stdout.contains(&format!("a report of 2026-10 would be incomplete: {} problems above", expected.len())), "{}", run.stdout);
    }
}

#[test]
fn after_each_single_pull_the_rest_is_still_listed_with_its_fix() {
    let full = generated(Options::default());
    let pulls = ["flow-logs", "network", "k8s", "billing"];
    for pulled in pulls {
        let ws = tempdir();
        write_config(ws.path());
        copy_dir(&full.path().join(pulled), &ws.path().join(pulled));
        let run = doctor(ws.path());
        assert_eq!(run.code, 1, "{pulled}: {}\n{}", run.stdout, run.stderr);
        let got = lines(&run.stdout);
        let label = |l: &str| l.split(':').next().unwrap().to_string();
        // Each input by its line: fine for the one pulled, missing (with its fix) for the others.
        let state: Vec<(String, bool, bool)> =
            got.iter().filter(|(_, t, _)| !t.starts_with("flow-log format")).map(|(ok, t, fix)| (label(t), *ok, fix.is_some())).collect();
        let expected: Vec<(String, bool, bool)> = [("flow logs", "flow-logs"), ("Kubernetes", "k8s"), ("network inventory", "network"), ("billing", "billing")]
            .into_iter()
            .map(|(label, p)| (label.to_string(), p == pulled, p != pulled))
            .collect();
        assert_eq!(state, expected, "{pulled}:\n{}", run.stdout);
        let ok_line = match pulled {
            "flow-logs" => "flow logs: 31 of 31 days (".to_string(),
            "network" => "network inventory: ".to_string(),
            "k8s" => "Kubernetes: ".to_string(),
            _ => "billing: 31 days of Cost Explorer data".to_string(),
        };
        assert!(got.iter().any(|(ok, t, _)| *ok && t.starts_with(&ok_line)), "{pulled}: {}", run.stdout);
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for e in walkdir::WalkDir::new(from).into_iter().filter_map(Result::ok) {
        let dest = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}
