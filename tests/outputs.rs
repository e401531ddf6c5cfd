//! Output formats render the same Report: CSV, JSON, Parquet, and atomic writes.

use crate::util::*;
use crossaz::pricing::{AWS_INTER_AZ, cost, round_usd};
use std::collections::BTreeMap;

fn truth_billed_by_server() -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for (k, (a, b)) in truth_conversations(&truth(&demo_dir()), "conversations") {
        if k.8 == "cross-az-billed" {
            *m.entry(k.5).or_default() += a + b;
        }
    }
    m
}

#[test]
fn csv_by_service_has_raw_numbers_from_the_truth() {
    let run = crossaz(&["demo", "--by", "service", "--format", "csv"], &repo());
    assert_eq!(run.code, 0);
    let mut rdr = csv::Reader::from_reader(run.stdout.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        header,
        ["namespace", "service", "kind", "cross_az_bytes", "cost_usd", "share_pct", "cross_az_free_bytes", "same_az_bytes", "internet_other_bytes", "clients"]
    );
    let billed = truth_billed_by_server();
    let mut rows = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let expected = billed.get(&rec[1]).copied().unwrap_or(0);
        assert_eq!(rec[3].parse::<u64>().unwrap(), expected, "{}", &rec[1]);
        assert_eq!(rec[4], round_usd(cost(expected, AWS_INTER_AZ.both_sides())).to_string(), "{}", &rec[1]);
        rows += 1;
    }
    let servers: std::collections::BTreeSet<String> = truth_conversations(&truth(&demo_dir()), "conversations").into_keys().map(|k| k.5).collect();
    assert_eq!(rows, servers.len() + 1, "every server appears once, billed or not, and `unattributed` always");
}

#[test]
fn json_is_versioned_and_carries_the_view() {
    let run = crossaz(&["demo", "--by", "conversation", "--format", "json"], &repo());
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["schema_version"], crossaz::report::SCHEMA_VERSION);
    assert_eq!(v["view"]["by"], "conversation");
    assert_eq!(v["view"]["rows"].as_array().unwrap().len(), v["conversations"].as_array().unwrap().len());
    let report: crossaz::report::Report = serde_json::from_value(v.clone()).expect("the JSON reads back as a Report");
    assert_truth(&report, &truth(&demo_dir()), "conversations");
}

#[test]
fn parquet_output_reads_back_with_typed_columns() {
    use arrow_array::cast::AsArray;
    use arrow_array::types::UInt64Type;
    let dir = tempdir();
    let out = dir.path().join("by-service.parquet");
    let run = crossaz(&["demo", "--by", "service", "--format", "parquet", "--output", out.to_str().unwrap()], &repo());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&out).unwrap()).unwrap().build().unwrap();
    let mut total = 0u64;
    for batch in reader {
        let batch = batch.unwrap();
        assert_eq!(batch.schema().field(4).data_type(), &arrow_schema::DataType::Decimal128(38, 6));
        total += batch.column(3).as_primitive::<UInt64Type>().values().iter().sum::<u64>();
    }
    assert_eq!(total, truth_billed_by_server().values().sum::<u64>());
}

#[test]
fn output_files_are_replaced_atomically() {
    let dir = tempdir();
    let out = dir.path().join("report.csv");
    std::fs::write(&out, "old contents").unwrap();
    let run = crossaz(&["demo", "--format", "csv", "--output", out.to_str().unwrap()], &repo());
    assert_eq!(run.code, 0);
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("namespace,service,"));
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "no temporary file is left behind: {names:?}");
    // A directory that does not exist: an error, and nothing written.
    let bad = dir.path().join("missing/report.csv");
    let run = crossaz(&["demo", "--format", "csv", "--output", bad.to_str().unwrap()], &repo());
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("error: failed to create a temporary file in"), "{}", run.stderr);
    assert!(!bad.exists());
}

#[test]
fn views_add_up_to_the_total() {
    let report = attribute(&inputs_of(&demo_dir())).report;
    let billed = report.measurement.summary.bytes.cross_az_billed;
    for by in [crossaz::report::views::By::Service, crossaz::report::views::By::Workload, crossaz::report::views::By::AzPair] {
        let t = crossaz::report::views::view(&report, by);
        let col = t.columns.iter().position(|c| c.name == "cross_az_bytes" || c.name == "cross_az_billed_bytes").unwrap();
        let sum: u64 = t.rows.iter().map(|r| if let crossaz::report::views::Cell::U64(v) = r[col] { v } else { 0 }).sum();
        assert_eq!(sum, billed, "{by:?}");
    }
}
