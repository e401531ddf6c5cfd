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
    assert_eq!(a.conversations, b.conversations);
    assert_eq!(a.summary.bytes, b.summary.bytes);
    assert_eq!(a.summary.records.counted, b.summary.records.counted);
}

#[test]
fn default_format_is_attributed_per_node_and_says_so() {
    let dir = generated(Options { format: FlowFormat::Default, ..short(3) });
    let outcome = attribute(&inputs_of(dir.path()));
    assert_truth(&outcome.report, &truth(dir.path()), "node_level_conversations");
    let notes = &outcome.report.summary.notes;
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
    let malformed = outcome.report.summary.records.uncounted.iter().find(|u| u.code == "malformed").expect("malformed records");
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
    let days: Vec<_> = full.daily.iter().filter(|d| d.date == "2026-10-02" || d.date == "2026-10-03").cloned().collect();
    assert_eq!(part.daily, days);
    assert_eq!(part.window.hours, Some(48));
    let outside = part.summary.records.uncounted.iter().find(|u| u.code == "outside-window").unwrap().records;
    let inside: u64 = part.summary.records.read - outside;
    assert!(outside > 0 && inside > 0);
    assert_eq!(part.summary.records.read, full.summary.records.read);
}

#[test]
fn incomplete_inventory_shows_as_unattributed_with_its_share() {
    // Drop the VPC endpoint's interface from the network JSON: its traffic stays, named `unattributed`.
    let dir = generated(short(3));
    let path = dir.path().join("network/network-interfaces.json");
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    doc["NetworkInterfaces"].as_array_mut().unwrap().retain(|e| e["InterfaceType"] != "vpc_endpoint");
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    let report = attribute(&inputs_of(dir.path())).report;
    let expected: std::collections::BTreeMap<_, _> = truth_conversations(&truth(dir.path()), "conversations")
        .into_iter()
        .map(|(mut k, v)| {
            if k.3 == "vpce" {
                k.3 = "unattributed".into();
                k.5 = "unattributed".into();
            }
            (k, v)
        })
        .collect();
    assert_eq!(report_conversations(&report), expected);
    let u = &report.summary.unattributed;
    let vpce_billed: u64 = expected.iter().filter(|(k, _)| k.3 == "unattributed" && k.8 == "cross-az-billed").map(|(_, (a, b))| a + b).sum();
    assert!(vpce_billed > 0);
    assert_eq!(u.cross_az_billed_bytes, vpce_billed);
    assert!(u.share_of_cost_pct > rust_decimal::Decimal::ZERO);
    assert_eq!(u.reasons[0].reason, "address on no interface of the network inventory");
    let table = crossaz::report::views::view(&report, crossaz::report::views::By::Service);
    assert!(table.rows.iter().any(|r| r[1] == crossaz::report::views::Cell::Text("unattributed".into())));
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
