//! The bundled sample month: the engine recovers its ground truth exactly.

use crate::util::*;
use rust_decimal::Decimal;
use std::str::FromStr;

#[test]
fn demo_month_matches_its_ground_truth() {
    let dir = demo_dir();
    let outcome = attribute(&inputs_of(&dir));
    let t = truth(&dir);
    assert_truth(&outcome.report, &t, "conversations");
    let b = &outcome.report.measurement.summary.bytes;
    assert_eq!(b.cross_az_billed, t["bytes"]["cross-az-billed"].as_u64().unwrap());
    assert_eq!(b.cross_az_free, t["bytes"]["cross-az-free"].as_u64().unwrap());
    assert_eq!(b.same_az, t["bytes"]["same-az"].as_u64().unwrap());
    assert_eq!(b.internet_other, t["bytes"]["internet-other"].as_u64().unwrap());
    assert_eq!(b.unknown_az, 0);
    assert_eq!(outcome.report.measurement.summary.cross_az_cost_usd, Decimal::from_str(t["cross_az_cost_usd"].as_str().unwrap()).unwrap());
    assert!(outcome.problems.is_empty() && outcome.warnings.is_empty());
    assert!(outcome.report.measurement.summary.notes.is_empty(), "{:?}", outcome.report.measurement.summary.notes);
    assert_eq!(outcome.report.measurement.window.hours, Some(744));
}

#[test]
fn generator_still_writes_the_committed_demo() {
    let dir = generated(crossaz::generate::demo_options());
    let fresh = std::fs::read_to_string(dir.path().join("truth.json")).unwrap();
    let committed = std::fs::read_to_string(demo_dir().join("truth.json")).unwrap();
    assert!(fresh == committed, "fixtures/demo is stale: run `cargo run -- generate --out fixtures/demo`");
}

#[test]
fn demo_has_an_ip_reused_across_workloads() {
    // The timeline matters: one pod IP served web-api, then queue-worker, the same day; on the
    // last day a replaced node's addresses go to other pods (its own address to one of them, a
    // web-api pod's to the StatefulSet pod `queue-1`, recreated under its name).
    let t = truth(&demo_dir());
    assert_eq!(t["reused_ips"].as_array().unwrap().len(), 5);
}

#[test]
fn one_snapshot_is_not_enough() {
    // Attributing with only the last snapshot (what a single `kubectl get` gives) gets the month wrong.
    let dir = demo_dir();
    let mut inputs = inputs_of(&dir);
    inputs.k8s = vec![dir.join("k8s/2026-10-31T00:00:00Z.json.gz")];
    let outcome = attribute(&inputs);
    let expected = truth_conversations(&truth(&dir), "conversations");
    let actual = report_conversations(&outcome.report);
    assert_ne!(actual, expected);
    // …but every byte still lands in a row: the totals do not change. (Some cross-AZ bytes move
    // between billed and free: a pod missing from the snapshot is not known as an ALB's target.)
    let (one, all) = (&outcome.report.measurement.summary.bytes, &attribute(&inputs_of(&dir)).report.measurement.summary.bytes);
    assert_eq!(one.cross_az_billed + one.cross_az_free, all.cross_az_billed + all.cross_az_free);
    assert_eq!((one.same_az, one.internet_other, one.unknown_az), (all.same_az, all.internet_other, all.unknown_az));
}

#[test]
fn demo_command_prints_the_service_table() {
    let run = crossaz(&["demo", "--no-review"], &repo());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Cross-AZ data transfer by service"));
    // The cache row shows the dollars of the truth's billed bytes served by `cache`.
    let billed: u64 = truth_conversations(&truth(&demo_dir()), "conversations")
        .iter()
        .filter(|(k, _)| k.5 == "cache" && k.8 == "cross-az-billed")
        .map(|(_, (a, b))| a + b)
        .sum();
    let dollars = crossaz::report::render::human_usd(crossaz::pricing::cost(billed, crossaz::pricing::AWS_INTER_AZ.both_sides()));
    let cache = run.stdout.lines().find(|l| l.contains(" cache ")).expect("a cache row");
    assert!(cache.contains(&dollars), "{cache} lacks {dollars}");
}

#[test]
fn demo_shows_what_routing_would_save_on_the_cache() {
    // The cache has one replica per zone and web-api clients in every zone: with hints every
    // client keeps to its zone, so the whole of the cache's billed cross-AZ bytes is saved.
    let billed: u64 = truth_conversations(&truth(&demo_dir()), "conversations")
        .iter()
        .filter(|(k, _)| k.5 == "cache" && k.8 == "cross-az-billed")
        .map(|(_, (a, b))| a + b)
        .sum();
    let monthly =
        crossaz::pricing::round_usd(crossaz::pricing::cost(billed, crossaz::pricing::AWS_INTER_AZ.both_sides()) * Decimal::from(730) / Decimal::from(744));
    let run = crossaz(&["demo", "--no-review"], &repo());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let row = run.stdout.lines().find(|l| l.contains("shop/cache")).expect("a cache row in the routing table");
    let dollars = crossaz::report::render::human_usd(monthly);
    assert_eq!(row.matches(dollars.as_str()).count(), 3, "{row} lacks {dollars} three times (today, Auto, PreferClose)");
    assert!(row.contains("set topology-mode: Auto"), "{row}");
}
