//! Generated scenarios against their ground truth: every format, layout and logging gap.

use crate::util::*;
use crossaz::generate::{FlowFormat, Options, Unlogged};
use proptest::prelude::*;

#[test]
fn parquet_in_the_hive_layout_matches_truth() {
    let dir = generated(Options { format: FlowFormat::Parquet, ..short(4) });
    let outcome = attribute(&inputs_of(dir.path()));
    assert_truth(&outcome.report, &truth(dir.path()), "conversations");
}

#[test]
fn parquet_and_text_give_the_same_report() {
    let text = generated(short(3));
    let parquet = generated(Options { format: FlowFormat::Parquet, ..short(3) });
    let a = attribute(&inputs_of(text.path())).report;
    let b = attribute(&inputs_of(parquet.path())).report;
    assert_eq!(a.measurement.conversations, b.measurement.conversations);
    assert_eq!(a.measurement.summary.bytes, b.measurement.summary.bytes);
    assert_eq!(a.measurement.summary.records.counted, b.measurement.summary.records.counted);
}

#[test]
fn default_format_is_attributed_per_node_and_says_so() {
    let dir = generated(Options { format: FlowFormat::Default, ..short(3) });
    let outcome = attribute(&inputs_of(dir.path()));
    assert_truth(&outcome.report, &truth(dir.path()), "node_level_conversations");
    let notes = &outcome.report.measurement.summary.notes;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].starts_with("3 of 3 flow-log files have no pkt-srcaddr/pkt-dstaddr fields"), "{}", notes[0]);
}

#[test]
fn headerless_files_read_with_the_format_string() {
    let dir = generated(Options { header: false, files_per_day: 4, ..short(2) });
    let mut inputs = inputs_of(dir.path());
    let recommended = crossaz::sources::flowlogs::format::RECOMMENDED_FORMAT;
    inputs.flow_log_format = Some(recommended.split(' ').map(|f| format!("${{{f}}}")).collect::<Vec<_>>().join(" "));
    let outcome = attribute(&inputs);
    assert_truth(&outcome.report, &truth(dir.path()), "conversations");
    // Without the format string, every line is reported, not guessed at.
    let outcome = attribute(&inputs_of(dir.path()));
    let malformed = outcome.report.measurement.summary.records.uncounted.iter().find(|u| u.code == "malformed").expect("malformed records");
    assert_eq!(malformed.records, truth_records(&truth(dir.path()))["total"]);
    assert!(malformed.examples[0].contains("expected 14 fields (the default format), found 25"), "{}", malformed.examples[0]);
    assert!(outcome.had_bad_input());
}

#[test]
fn unlogged_senders_fall_back_to_the_receivers_ingress_record() {
    let dir = generated(Options { unlogged: vec![Unlogged::Rds, Unlogged::Elb], ..short(4) });
    let outcome = attribute(&inputs_of(dir.path()));
    assert_truth(&outcome.report, &truth(dir.path()), "conversations");
}

#[test]
fn window_limits_count_records_by_start_time() {
    let dir = generated(short(4));
    let full = attribute(&inputs_of(dir.path())).report;
    let mut inputs = inputs_of(dir.path());
    inputs.from = crossaz::model::time::parse_time("2026-10-02");
    inputs.to = crossaz::model::time::parse_time("2026-10-04");
    let part = attribute(&inputs).report;
    let days: Vec<_> = full.measurement.daily.iter().filter(|d| d.date == "2026-10-02" || d.date == "2026-10-03").cloned().collect();
    assert_eq!(part.measurement.daily, days);
    assert_eq!(part.measurement.window.hours, Some(48));
    let outside = part.measurement.summary.records.uncounted.iter().find(|u| u.code == "outside-window").unwrap().records;
    let inside: u64 = part.measurement.summary.records.read - outside;
    assert!(outside > 0 && inside > 0);
    assert_eq!(part.measurement.summary.records.read, full.measurement.summary.records.read);
}

/// Drops the interfaces `keep` rejects from a generated network inventory; returns the dropped ones.
fn drop_interfaces(dir: &std::path::Path, drop: impl Fn(&serde_json::Value) -> bool) -> Vec<serde_json::Value> {
    let path = dir.join("network/network-interfaces.json");
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let list = doc["NetworkInterfaces"].as_array_mut().unwrap();
    let dropped: Vec<serde_json::Value> = list.iter().filter(|e| drop(e)).cloned().collect();
    list.retain(|e| !drop(e));
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    dropped
}

/// Sums truth rows that a renaming made equal.
fn renamed(truth: &serde_json::Value, rename: impl Fn(&mut ConvKey)) -> std::collections::BTreeMap<ConvKey, (u64, u64)> {
    let mut out: std::collections::BTreeMap<ConvKey, (u64, u64)> = std::collections::BTreeMap::new();
    for (mut k, (a, b)) in truth_conversations(truth, "conversations") {
        rename(&mut k);
        let e = out.entry(k).or_default();
        e.0 += a;
        e.1 += b;
    }
    out
}

#[test]
fn unlogged_interfaces_missing_from_the_inventory_show_as_unattributed_with_their_share() {
    // The databases' interfaces are neither logged nor in the network JSON: their traffic stays,
    // seen from the pods' side, and is named `unattributed` (billed: nothing says it is free).
    let dir = generated(Options { unlogged: vec![Unlogged::Rds], ..short(3) });
    drop_interfaces(dir.path(), |e| e["RequesterId"] == "amazon-rds");
    let report = attribute(&inputs_of(dir.path())).report;
    let expected = renamed(&truth(dir.path()), |k| {
        if k.3 == "rds" {
            k.3 = "unattributed".into();
            k.5 = "unattributed".into();
            if k.8 == "cross-az-billed" {
                k.9 = "default".into();
            }
        }
    });
    assert_eq!(report_conversations(&report), expected);
    let u = &report.measurement.summary.unattributed;
    let billed: u64 = expected.iter().filter(|(k, _)| k.3 == "unattributed" && k.8 == "cross-az-billed").map(|(_, (a, b))| a + b).sum();
    assert!(billed > 0);
    assert_eq!(u.cross_az_billed_bytes, billed);
    assert!(u.share_of_cost_pct > rust_decimal::Decimal::ZERO);
    assert_eq!(u.reasons[0].reason, "address on no interface of the network inventory at that time");
    let table = crossaz::report::views::view(&report, crossaz::report::views::By::Service);
    assert!(table.rows.iter().any(|r| r[1] == crossaz::report::views::Cell::Text("unattributed".into())));
}

#[test]
fn a_logged_interface_missing_from_the_inventory_is_named_from_its_own_records() {
    // The endpoint's interface is logged but not in the network JSON (deleted since, say): the
    // records it wrote itself tie its address to its id, so both directions name it alike.
    let dir = generated(short(3));
    let dropped = drop_interfaces(dir.path(), |e| e["InterfaceType"] == "vpc_endpoint");
    let id = dropped[0]["NetworkInterfaceId"].as_str().unwrap().to_string();
    let report = attribute(&inputs_of(dir.path())).report;
    let expected = renamed(&truth(dir.path()), |k| {
        if k.3 == "vpce" {
            k.3 = "eni".into();
            k.5 = format!("eni:{id}");
            if k.8 == "cross-az-free" {
                (k.8, k.9, k.10) = ("cross-az-billed".into(), "default".into(), String::new());
            }
        }
    });
    assert_eq!(report_conversations(&report), expected);
    assert_eq!(report.measurement.summary.unattributed.bytes, 0);
    assert!(
        report.measurement.summary.notes.iter().any(|n| n.starts_with("1 interfaces in the flow logs are in no network snapshot") && n.contains(&id)),
        "{:?}",
        report.measurement.summary.notes
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, .. ProptestConfig::default() })]

    /// Whatever the seed, scale and format, the engine recovers the generator's truth.
    #[test]
    fn any_generated_scenario_matches_truth(seed in 0u64..10_000, days in 1u32..3, scale in 1u64..3, parquet in any::<bool>()) {
        let format = if parquet { FlowFormat::Parquet } else { FlowFormat::Recommended };
        let dir = generated(Options { seed, days, scale, format, ..Options::default() });
        let outcome = attribute(&inputs_of(dir.path()));
        assert_truth(&outcome.report, &truth(dir.path()), "conversations");
    }
}
