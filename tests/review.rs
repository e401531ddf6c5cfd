//! `crossaz review`: figures against the generated months' truth, month over month, thresholds,
//! chargeback, the files it writes, hostile names, and the page in a real browser.

use crate::util::*;
use crossaz::generate::Options;
use crossaz::model::time::Month;
use crossaz::report::Report;
use crossaz::report::render::{human_bytes, human_pct, human_usd};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

/// A generated calendar month of the sample cluster (no real-account day), as a workspace.
fn month(label: &str) -> tempfile::TempDir {
    let m = Month::parse(label).unwrap();
    generated(Options { start: m.from, days: ((m.to - m.from) / 86_400) as u32, ..Options::default() })
}

fn read_report(path: &Path) -> Report {
    serde_json::from_slice(&std::fs::read(path).expect("the report exists")).expect("a Report")
}

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().expect("a decimal string")).unwrap()
}

const WORKLOAD_KINDS: [&str; 7] = ["deployment", "statefulset", "daemonset", "cronjob", "job", "replicaset", "pod"];

/// Billed cross-AZ bytes per server (`ns/name` or `name`) in a truth file.
fn truth_by_server(truth: &Value) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for ((_, _, _, _, sns, server, _, _, class, _, _), (a, b)) in truth_conversations(truth, "conversations") {
        if class == "cross-az-billed" {
            *out.entry(if sns.is_empty() { server } else { format!("{sns}/{server}") }).or_default() += a + b;
        }
    }
    out
}

/// Billed cross-AZ bytes per team, from the generator's conversations and the teams it labelled.
fn truth_by_team(truth: &Value) -> BTreeMap<String, u64> {
    let team = |map: &str, ns: &str, name: &str| truth["teams"][map][format!("{ns}/{name}")].as_str().map(str::to_string);
    let mut out = BTreeMap::new();
    for ((ck, cns, client, sk, sns, server, _, _, class, _, _), (a, b)) in truth_conversations(truth, "conversations") {
        if class != "cross-az-billed" {
            continue;
        }
        let group = if WORKLOAD_KINDS.contains(&ck.as_str()) {
            team("workloads", &cns, &client).unwrap_or_else(|| "(no team label)".into())
        } else if sk == "service" {
            team("services", &sns, &server).unwrap_or_else(|| "(no team label)".into())
        } else if WORKLOAD_KINDS.contains(&sk.as_str()) {
            team("workloads", &sns, &server).unwrap_or_else(|| "(no team label)".into())
        } else {
            "(outside Kubernetes)".into()
        };
        *out.entry(group).or_default() += a + b;
    }
    out
}

#[test]
fn the_review_of_a_generated_month_matches_its_truth_month_over_month() {
    let (sep, oct) = (month("2026-09"), month("2026-10"));
    let (ts, to) = (truth(sep.path()), truth(oct.path()));
    let ws = |d: &tempfile::TempDir| d.path().to_str().unwrap().to_string();

    // `attribute --month` keeps September's report in its workspace.
    let run = crossaz(&["attribute", "--month", "2026-09", "--workspace", &ws(&sep), "--format", "json", "-o", "/dev/null"], &repo());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let kept = sep.path().join("reports/2026-09.json");
    assert_eq!(read_report(&kept).measurement.summary.cross_az_cost_usd, dec(&ts["cross_az_cost_usd"]));

    // October's review against it, from a file.
    let out = tempdir();
    let run = crossaz(
        &[
            "review",
            "--month",
            "2026-10",
            "--workspace",
            &ws(&oct),
            "--baseline-report",
            kept.to_str().unwrap(),
            "--group-by",
            "label:team",
            "--out",
            out.path().to_str().unwrap(),
        ],
        &repo(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(&format!("Review of 2026-10 written to {}", out.path().display())), "{}", run.stdout);
    let report = read_report(&out.path().join("report.json"));
    let review = report.review.as_ref().expect("a review");

    // Headline.
    let (now, before) = (dec(&to["cross_az_cost_usd"]), dec(&ts["cross_az_cost_usd"]));
    assert_eq!(review.headline.cross_az_cost_usd, now);
    assert_eq!(review.headline.cross_az_billed_bytes, to["bytes"]["cross-az-billed"].as_u64().unwrap());
    assert_eq!(review.headline.change_usd, Some(now - before));
    assert_eq!(review.headline.change_pct, Some(((now - before) * Decimal::from(100) / before).round_dp(2)));
    assert!(run.stdout.contains(&format!("Cross-AZ cost {}", human_usd(now))), "{}", run.stdout);
    let b = review.baseline.as_ref().unwrap();
    assert_eq!((b.cross_az_cost_usd, b.daily.len()), (before, 30));

    // Per Service: csv/service.csv against the truth.
    let mut csv = csv::Reader::from_path(out.path().join("csv/service.csv")).unwrap();
    let mut by_service = BTreeMap::new();
    for row in csv.deserialize::<BTreeMap<String, String>>() {
        let row = row.unwrap();
        let bytes: u64 = row["cross_az_bytes"].parse().unwrap();
        if bytes > 0 {
            let name = if row["namespace"].is_empty() { row["service"].clone() } else { format!("{}/{}", row["namespace"], row["service"]) };
            by_service.insert(name, bytes);
        }
    }
    assert_eq!(by_service, truth_by_server(&to));

    // Month over month per Service: both sides from the two truths.
    let (now_s, before_s) = (truth_by_server(&to), truth_by_server(&ts));
    let changes: BTreeMap<String, (u64, u64)> = review
        .changes
        .iter()
        .filter(|c| c.dimension == "service")
        .map(|c| (if c.namespace.is_empty() { c.name.clone() } else { format!("{}/{}", c.namespace, c.name) }, (c.baseline_bytes, c.current_bytes)))
        .collect();
    let expected: BTreeMap<String, (u64, u64)> =
        now_s.keys().chain(before_s.keys()).map(|k| (k.clone(), (before_s.get(k).copied().unwrap_or(0), now_s.get(k).copied().unwrap_or(0)))).collect();
    assert_eq!(changes, expected);
    for c in &review.changes {
        assert_eq!(c.change_usd, c.current_usd - c.baseline_usd);
    }
    assert!(review.changes.windows(2).all(|w| w[0].change_usd.abs() >= w[1].change_usd.abs()), "sorted by the size of the change");

    // Chargeback by the generator's team labels; unlabelled pods have their own row.
    let groups: BTreeMap<String, u64> = review.chargeback.rows.iter().map(|r| (r.group.clone(), r.cross_az_billed_bytes)).collect();
    assert_eq!(groups, truth_by_team(&to));
    assert_eq!(review.chargeback.total_bytes, review.headline.cross_az_billed_bytes);

    // Every file the review promises.
    for f in ["index.html", "summary.md", "report.json"].into_iter().map(String::from).chain(
        ["service", "workload", "namespace", "az-pair", "conversation", "day", "chargeback", "changes", "actions"].iter().map(|v| format!("csv/{v}.csv")),
    ) {
        assert!(out.path().join(&f).is_file(), "{f}");
    }
    let day_rows = csv::Reader::from_path(out.path().join("csv/day.csv")).unwrap().records().count();
    assert_eq!(day_rows, 31);

    // The review keeps October's report for November's review.
    assert_eq!(read_report(&oct.path().join("reports/2026-10.json")).measurement.summary.cross_az_cost_usd, now);
}

#[test]
fn a_threshold_exits_3_with_the_biggest_contributors_and_baselines_come_from_the_workspace() {
    let (sep, oct) = (month("2026-09"), month("2026-10"));
    let (now, before) = (dec(&truth(oct.path())["cross_az_cost_usd"]), dec(&truth(sep.path())["cross_az_cost_usd"]));
    let growth = now - before;
    let growth_pct = growth * Decimal::from(100) / before;
    assert!(growth > Decimal::ZERO, "October has a day more than September");
    let ws = oct.path().to_str().unwrap();
    let run = crossaz(&["attribute", "--month", "2026-09", "--workspace", sep.path().to_str().unwrap(), "-q", "--format", "csv", "-o", "/dev/null"], &repo());
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::create_dir_all(oct.path().join("reports")).unwrap();
    std::fs::copy(sep.path().join("reports/2026-09.json"), oct.path().join("reports/2026-09.json")).unwrap();
    let out = tempdir();
    let o = out.path().to_str().unwrap();

    // Thresholds on both sides of the truth's growth, in percent and in dollars.
    let below_pct = (growth_pct - Decimal::ONE).floor().max(Decimal::ZERO);
    let above_usd = (growth + Decimal::ONE).ceil();
    for (limit, code) in [
        (format!("{below_pct}%"), 3),
        (format!("{}%", growth_pct.ceil() + Decimal::ONE), 0),
        (format!("{}", (growth - Decimal::ONE).floor()), 3),
        (format!("{above_usd}"), 0),
    ] {
        let run = crossaz(&["review", "--month", "2026-10", "--workspace", ws, "--baseline", "2026-09", "--fail-on-increase", &limit, "--out", o], &repo());
        assert_eq!(run.code, code, "--fail-on-increase {limit}: {}", run.stderr);
        let review = read_report(&out.path().join("report.json")).review.unwrap();
        assert_eq!(review.threshold.as_ref().map(|t| t.exceeded), Some(code == 3));
        if code == 3 {
            assert!(run.stderr.contains(&format!("more than `--fail-on-increase {limit}`")), "{}", run.stderr);
            let contributors = &review.threshold.as_ref().unwrap().contributors;
            assert!(!contributors.is_empty() && contributors.len() <= 3);
            for c in contributors {
                assert!(
                    run.stderr.contains(&format!("+{} {}/{}", human_usd(c.change_usd), c.namespace, c.name))
                        || run.stderr.contains(&format!("+{} {}", human_usd(c.change_usd), c.name)),
                    "{}",
                    run.stderr
                );
            }
        }
    }

    // Without `--baseline`, the previous month's kept report is the baseline.
    let run = crossaz(&["review", "--month", "2026-10", "--workspace", ws, "--out", o], &repo());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let review = read_report(&out.path().join("report.json")).review.unwrap();
    assert_eq!(review.headline.change_usd, Some(growth));
    assert_eq!(review.baseline.unwrap().label, "2026-09");

    // Without any baseline, the review says so, and a threshold is a usage error.
    let lone = month("2026-10");
    let lw = lone.path().to_str().unwrap();
    let run = crossaz(&["review", "--month", "2026-10", "--workspace", lw, "--out", o], &repo());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("(no baseline)"), "{}", run.stdout);
    assert!(std::fs::read_to_string(out.path().join("summary.md")).unwrap().contains("No baseline: nothing is compared."));
    let run = crossaz(&["review", "--month", "2026-10", "--workspace", lw, "--fail-on-increase", "10%", "--out", o], &repo());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`--fail-on-increase` needs a baseline"), "{}", run.stderr);
    let run = crossaz(&["review", "--month", "2026-10", "--workspace", lw, "--baseline", "2026-08", "--out", o], &repo());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("no report of 2026-08 in the workspace"), "{}", run.stderr);
    let run = crossaz(&["review", "--workspace", lw], &repo());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("needs a period"), "{}", run.stderr);
    let bad = out.path().join("not-a-report.json");
    std::fs::write(&bad, "{\"hello\": 1}").unwrap();
    let run = crossaz(&["review", "--month", "2026-10", "--workspace", lw, "--baseline-report", bad.to_str().unwrap(), "--out", o], &repo());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("is not a crossaz report: it has no `schema_version`"), "{}", run.stderr);
    let run = crossaz(&["review", "--month", "2026-10", "--workspace", lw, "--fail-on-increase", "ten", "--out", o], &repo());
    assert_eq!(run.code, 2, "{}", run.stderr);
}

/// Rewrites every Kubernetes snapshot and network file of a generated directory.
fn rewrite(dir: &Path, replacements: &[(&str, &str)]) {
    use std::io::{Read, Write};
    for entry in walkdir::WalkDir::new(dir.join("k8s")).into_iter().chain(walkdir::WalkDir::new(dir.join("network"))) {
        let entry = entry.unwrap();
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        let gz = path.extension().is_some_and(|e| e == "gz");
        let mut text = String::new();
        if gz {
            flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
        } else {
            text = std::fs::read_to_string(path).unwrap();
        }
        for (from, to) in replacements {
            text = text.replace(from, to);
        }
        if gz {
            let mut e = flate2::write::GzEncoder::new(std::fs::File::create(path).unwrap(), flate2::Compression::fast());
            e.write_all(text.as_bytes()).unwrap();
            e.finish().unwrap();
        } else {
            std::fs::write(path, text).unwrap();
        }
    }
}

const SCRIPT_NS: &str = "<script>alert(1)</script>";
const IMG_ELB: &str = "\"><img src=x onerror=alert(2)>";
const FORMULA_NS: &str = "=1+2|cmd";
const TICK_TEAM: &str = "`rm -rf` | team";

/// A generated month whose names are hostile: a namespace that is a script, a load balancer whose
/// description breaks out of an attribute, a namespace that is a spreadsheet formula, a label
/// with backticks and pipes.
fn hostile_workspace() -> tempfile::TempDir {
    let dir = generated(Options { days: 3, ..Options::default() });
    let json = |s: &str| serde_json::to_string(s).unwrap();
    rewrite(
        dir.path(),
        &[
            ("\"game-2048\"", &json(SCRIPT_NS)),
            ("k8s-shop-queue-3c5e7a9b1d", &json(IMG_ELB)[1..json(IMG_ELB).len() - 1]),
            ("\"monitoring\"", &json(FORMULA_NS)),
            ("\"team\":\"platform\"", &format!("\"team\":{}", json(TICK_TEAM))),
            ("\"team\": \"platform\"", &format!("\"team\": {}", json(TICK_TEAM))),
        ],
    );
    dir
}

fn hostile_review(group_by: &str) -> (tempfile::TempDir, tempfile::TempDir, Report) {
    let ws = hostile_workspace();
    let out = tempdir();
    let run = crossaz(
        &[
            "review",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-04",
            "--workspace",
            ws.path().to_str().unwrap(),
            "--group-by",
            group_by,
            "--out",
            out.path().to_str().unwrap(),
        ],
        &repo(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = read_report(&out.path().join("report.json"));
    (ws, out, report)
}

#[test]
fn hostile_names_are_text_in_markdown_and_csv() {
    let (_ws, out, report) = hostile_review("label:team");
    let names: Vec<String> = report.measurement.conversations.iter().flat_map(|c| [c.client_namespace.clone(), c.server.clone()]).collect();
    assert!(names.iter().any(|n| n == SCRIPT_NS) && names.iter().any(|n| n == FORMULA_NS), "the hostile names reached the report");
    assert!(names.iter().any(|n| n == &format!("elb:{IMG_ELB}")), "the hostile load balancer reached the report");
    let groups: Vec<&str> = report.review.as_ref().unwrap().chargeback.rows.iter().map(|r| r.group.as_str()).collect();
    assert!(groups.contains(&TICK_TEAM), "{groups:?}");

    let md = std::fs::read_to_string(out.path().join("summary.md")).unwrap();
    assert!(md.contains("\\`rm -rf\\` \\| team"), "backticks and pipes escaped:\n{md}");
    assert!(!md.contains("<script>") && !md.contains("<img"), "no raw HTML in Markdown:\n{md}");
    assert!(md.contains("&lt;img src=x onerror=alert(2)&gt;"), "{md}");
    for line in md.lines().filter(|l| l.starts_with('|') && l.contains("rm -rf")) {
        let unescaped = line.replace("\\|", "");
        assert_eq!(unescaped.matches('|').count(), 5, "a 4-column row stays 4 columns: {line}");
    }

    let ns = std::fs::read_to_string(out.path().join("csv/namespace.csv")).unwrap();
    let mut rd = csv::Reader::from_reader(ns.as_bytes());
    let cells: Vec<String> = rd.records().map(|r| r.unwrap()[0].to_string()).collect();
    assert!(cells.contains(&format!("'{FORMULA_NS}")), "a formula is neutralised with a leading quote: {cells:?}");
    assert!(cells.contains(&SCRIPT_NS.to_string()), "{cells:?}");
    let changes = std::fs::read_to_string(out.path().join("csv/chargeback.csv")).unwrap();
    assert!(!changes.lines().any(|l| l.starts_with('=')), "{changes}");
}

#[test]
fn a_period_the_flow_logs_cover_only_in_part_says_so() {
    let ws = generated(Options { days: 3, ..Options::default() });
    let out = tempdir();
    for (month, says) in [("2026-10", "the flow logs cover only 2026-10-01T"), ("2026-11", "no flow-log record falls in the period")] {
        let run = crossaz(&["review", "--month", month, "--workspace", ws.path().to_str().unwrap(), "--out", out.path().to_str().unwrap()], &repo());
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stderr.contains(says), "{month}: {}", run.stderr);
        assert!(std::fs::read_to_string(out.path().join("summary.md")).unwrap().contains(says), "{month}");
    }
}

/// Runs tests/browser/check-page.mjs (playwright-core driving Debian's chromium) on a page.
fn browse(page: &Path, shot: &Path) -> Value {
    let script = repo().join("tests/browser/check-page.mjs");
    assert!(
        repo().join("tests/browser/node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run `tests/run-all`, which installs chromium and `npm ci` in tests/browser"
    );
    let out = std::process::Command::new("node").arg(&script).arg(page).arg(shot).output().expect("node runs (tests/run-all installs it)");
    assert!(out.status.success(), "the browser check failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the browser check prints JSON")
}

/// The page's `data-field` figures, in order, per field.
fn fields(b: &Value) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for f in b["fields"].as_array().unwrap() {
        out.entry(f["field"].as_str().unwrap().into()).or_default().push((f["value"].as_str().unwrap().into(), f["text"].as_str().unwrap().into()));
    }
    out
}

#[test]
fn the_review_page_in_a_real_browser() {
    // The demo's review: a full month with billing, what-ifs and a baseline.
    let out = tempdir();
    let run = crossaz(&["demo", "--review-out", out.path().to_str().unwrap()], &repo());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(&format!("{}", out.path().join("index.html").display())), "the demo points at the review: {}", run.stdout);
    let report = read_report(&out.path().join("report.json"));
    let review = report.review.as_ref().unwrap();
    let b = browse(&out.path().join("index.html"), &out.path().join("screenshot.png"));
    assert_eq!(b["console"], serde_json::json!([]), "no console errors");
    assert_eq!(b["page_errors"], serde_json::json!([]));
    assert_eq!(b["requests"], serde_json::json!([]), "no request leaves the page");
    assert_eq!(b["dialogs"], serde_json::json!([]));
    let shot = &b["screenshot"];
    assert!(shot["colours"].as_u64().unwrap() > 50 && shot["non_white_share"].as_f64().unwrap() > 0.05, "the screenshot is not blank: {shot}");
    assert!(std::fs::metadata(out.path().join("screenshot.png")).unwrap().len() > 50_000);

    // The cluster runs Kubernetes 1.34: the routing action sets `PreferSameZone`, not its old name.
    let queue = review.actions.iter().find(|a| a.kind == "topology-aware-routing" && a.target == "shop/queue").expect("an action for shop/queue");
    assert_eq!(queue.change, "kubectl patch service -n shop queue --type merge -p '{\"spec\":{\"trafficDistribution\":\"PreferSameZone\"}}'");

    // The DOM's headline figures are report.json's, formatted as the terminal formats them.
    let f = fields(&b);
    let h = &review.headline;
    assert_eq!(f["cross_az_cost_usd"], vec![(h.cross_az_cost_usd.to_string(), human_usd(h.cross_az_cost_usd))]);
    assert_eq!(f["cross_az_billed_bytes"], vec![(h.cross_az_billed_bytes.to_string(), human_bytes(h.cross_az_billed_bytes))]);
    let p = h.bill_explained_pct.expect("the demo has billing");
    assert_eq!(f["bill_explained_pct"], vec![(p.to_string(), human_pct(p))]);
    assert_eq!(f["savings_monthly_usd"], vec![(h.savings_monthly_usd.to_string(), human_usd(h.savings_monthly_usd))]);
    let change = h.change_usd.expect("the demo has a baseline");
    assert_eq!(f["change_usd"][0].0, change.to_string());
    assert!(f["change_usd"][0].1.starts_with(&format!("+{}", human_usd(change))), "{:?}", f["change_usd"]);
    assert_eq!(f["action_savings"], review.actions.iter().map(|a| (a.monthly_savings_usd.to_string(), human_usd(a.monthly_savings_usd))).collect::<Vec<_>>());
    assert_eq!(f["chargeback_usd"], review.chargeback.rows.iter().map(|r| (r.cost_usd.to_string(), human_usd(r.cost_usd))).collect::<Vec<_>>());
    assert_eq!(f["records_read"][0].0, report.measurement.summary.records.read.to_string());
    // The bill per resource: the gaps of the CUR export, as report.json has them.
    let gaps: Vec<(String, String)> = report
        .reconciliation
        .as_ref()
        .unwrap()
        .by_resource
        .iter()
        .filter(|r| r.likely_cause.is_some() && !r.billed_usd.is_zero())
        .map(|r| (r.billed_usd.to_string(), human_usd(r.billed_usd)))
        .collect();
    assert!(!gaps.is_empty());
    assert_eq!(f["resource_gap_usd"], gaps);
    assert_eq!(
        b["dom"]["sections"],
        serde_json::json!(["Headline", "What to do", "What changed", "Where it goes", "Chargeback by label:team", "Data quality", "Assumptions"])
    );
    assert_eq!(b["dom"]["charts_with_text_alternative"], 1);
    // Focus shows the exact value; print clips nothing; a phone never scrolls sideways.
    let first = &report.measurement.daily[0];
    assert!(b["focus_tip"]["text"].as_str().unwrap().starts_with(&format!("{}: {}", first.date, human_usd(first.cost_usd))), "{}", b["focus_tip"]);
    assert_eq!(b["focus_tip"]["visibility"], "visible");
    assert_eq!(b["print"]["clipped_scroll_boxes"], 0);
    assert_eq!(b["print"]["charts_outside"], 0);
    assert!(b["print"]["pdf_bytes"].as_u64().unwrap() > 10_000);
    assert_eq!(b["phone"]["page_width"], b["phone"]["viewport"]);
    // From a small phone to a wide screen (360 to 1,440 px, every 40): the page never scrolls
    // sideways, no table overflows its box, nothing visible lies outside the page.
    let widths = b["widths"].as_array().unwrap();
    assert_eq!(widths.len(), 28);
    for w in widths {
        assert_eq!(w["page_width"], w["width"], "{w}");
        assert_eq!((&w["overflowing_boxes"], &w["sticking_out"]), (&serde_json::json!([]), &serde_json::json!([])), "{w}");
    }
    // The README's picture is this page, as the same browser draws it.
    let shot = out.path().join("readme-screenshot.png");
    let committed = repo().join("docs/review-screenshot.png");
    let run = std::process::Command::new("node")
        .arg(repo().join("tests/browser/screenshot.mjs"))
        .args([out.path().join("index.html"), shot.clone(), committed])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let diff: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(
        diff,
        serde_json::json!({"width": 900, "height": 1425, "differing_pixels": 0}),
        "docs/review-screenshot.png is not the demo's review: `cargo run --release -- demo && node tests/browser/screenshot.mjs crossaz-review-2026-10/index.html docs/review-screenshot.png`"
    );

    // Hostile names: shown as text, no element made, no script run.
    let (_ws, hostile, _) = hostile_review("namespace");
    let b = browse(&hostile.path().join("index.html"), &hostile.path().join("screenshot.png"));
    assert_eq!(b["dialogs"], serde_json::json!([]), "no script ran");
    assert_eq!(b["requests"], serde_json::json!([]), "no request (img src=x) was made");
    assert_eq!(b["console"], serde_json::json!([]));
    assert_eq!((b["dom"]["scripts"].as_u64(), b["dom"]["images"].as_u64(), b["dom"]["event_attributes"].as_u64()), (Some(0), Some(0), Some(0)));
    let text = b["dom"]["text"].as_str().unwrap();
    for name in [SCRIPT_NS, IMG_ELB, FORMULA_NS] {
        assert!(text.contains(name), "`{name}` shows as text");
    }
}

#[test]
fn summary_md_of_the_demo() {
    let out = tempdir();
    let run = crossaz(&["demo", "--review-out", out.path().to_str().unwrap()], &repo());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let md = std::fs::read_to_string(out.path().join("summary.md")).unwrap();
    let pattern = regex_escape(&out.path().display().to_string());
    let filters = vec![(pattern.as_str(), "[OUT]")];
    insta::with_settings!({ snapshot_path => repo().join("tests/snapshots"), prepend_module_to_snapshot => false, filters => filters }, {
        insta::assert_snapshot!("review_demo_summary_md", md);
    });
}

fn regex_escape(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' { c.to_string() } else { format!("\\{c}") }).collect()
}

/// Reports kept by earlier versions (schemas 2 to 5) still read back, as `review --baseline-report`
/// reads them: each is the demo's report without the fields its schema did not have yet, and it
/// reads as the same measurement.
#[test]
fn reports_of_schemas_2_to_5_read_back_as_the_same_measurement() {
    let out = tempdir();
    let review = out.path().join("review");
    let run = crossaz(&["demo", "--review-out", review.to_str().unwrap()], &repo());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let full: Value = serde_json::from_slice(&std::fs::read(review.join("report.json")).unwrap()).unwrap();
    let current = read_report(&review.join("report.json"));
    assert!(!current.measurement.resources.is_empty() && current.review.is_some() && current.paths.is_some());
    // What each schema added (src/report/mod.rs, SCHEMA_VERSION).
    let added_after = |v: u64| -> Vec<&'static str> {
        let mut fields = Vec::new();
        if v < 3 {
            fields.extend(["daily.by_server", "review"]);
        }
        if v < 4 {
            fields.push("paths");
        }
        if v < 5 {
            fields.extend(["resources", "reconciliation.by_resource", "reconciliation.by_resource_day", "allocation"]);
        }
        fields
    };
    for v in 2..=5u64 {
        let mut old = full.clone();
        old["schema_version"] = v.into();
        for field in added_after(v) {
            match field.split_once('.') {
                Some(("daily", inner)) => old["daily"].as_array_mut().unwrap().iter_mut().for_each(|d| drop(d.as_object_mut().unwrap().remove(inner))),
                Some((outer, inner)) => drop(old[outer].as_object_mut().and_then(|o| o.remove(inner))),
                None => drop(old.as_object_mut().unwrap().remove(field)),
            }
        }
        let path = out.path().join(format!("schema-{v}.json"));
        std::fs::write(&path, serde_json::to_vec(&old).unwrap()).unwrap();
        let back = crossaz::cli::review::read_report(&path).unwrap_or_else(|e| panic!("schema {v}: {e}"));
        assert_eq!(back.schema_version as u64, v);
        let m = &back.measurement;
        assert_eq!(
            (&m.window, &m.pricing, &m.summary, &m.zones, &m.conversations),
            (
                &current.measurement.window,
                &current.measurement.pricing,
                &current.measurement.summary,
                &current.measurement.zones,
                &current.measurement.conversations
            ),
            "schema {v}"
        );
        let costs = |r: &Report| r.measurement.daily.iter().map(|d| (d.date.clone(), d.cost_usd)).collect::<Vec<_>>();
        assert_eq!(costs(&back), costs(&current), "schema {v}");
        assert_eq!((m.resources.is_empty(), back.review.is_some(), back.paths.is_some()), (v < 5, v >= 3, v >= 4), "schema {v}");
        // And through the command that reads them.
        let again = out.path().join(format!("review-{v}"));
        let args =
            ["review", "--month", "2026-10", "--flow-logs", "fixtures/demo/flow-logs", "--network", "fixtures/demo/network", "--k8s", "fixtures/demo/k8s"];
        let run = crossaz(&[&args[..], &["--baseline-report", path.to_str().unwrap(), "--out", again.to_str().unwrap()]].concat(), &repo());
        assert_eq!(run.code, 0, "schema {v}: {}", run.stderr);
        let baseline = read_report(&again.join("report.json")).review.unwrap().baseline.unwrap();
        assert_eq!(baseline.cross_az_cost_usd, current.measurement.summary.cross_az_cost_usd, "schema {v}");
    }
}
