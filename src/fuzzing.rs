//! What the fuzz targets (`fuzz/`, docs/fuzzing.md) feed, and `tests/fuzz_corpus.rs` replays: each
//! target reads bytes as one kind of input file, through the same code as a real file of that kind
//! (gzip detection included). Any panic is a finding; errors are the expected answer to bad bytes.

use crate::model::flow::{FlowRecord, FlowSink, FormatTraits, SkipReason};
use std::path::Path;

/// The parsers fuzzed, by the name `fuzz/` and the corpus folders use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A text flow-log file: header line, format, records (`sources/flowlogs/text.rs`).
    FlowLogText,
    /// A `${field} …` format string (`Format::from_aws_string`).
    FormatString,
    /// A kubectl JSON snapshot, then the timeline built from it.
    KubectlJson,
    /// `aws ec2 describe-*` / `aws rds describe-*` JSON, then the inventory built from it.
    NetworkJson,
    /// A Parquet flow-log file, every row group; and the same bytes as a pre-aggregation result.
    Parquet,
    /// A pre-aggregation result as CSV (`--flow-aggregates`).
    AggregatesCsv,
    /// A Cost Explorer GetCostAndUsage response.
    CostExplorerJson,
    /// A CUR 2.0 / FOCUS export file (CSV or Parquet).
    BillingExport,
}

impl Target {
    pub const ALL: [Target; 8] = [
        Target::FlowLogText,
        Target::FormatString,
        Target::KubectlJson,
        Target::NetworkJson,
        Target::Parquet,
        Target::AggregatesCsv,
        Target::CostExplorerJson,
        Target::BillingExport,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::FlowLogText => "flowlog-text",
            Target::FormatString => "format-string",
            Target::KubectlJson => "kubectl-json",
            Target::NetworkJson => "network-json",
            Target::Parquet => "parquet",
            Target::AggregatesCsv => "aggregates-csv",
            Target::CostExplorerJson => "cost-explorer-json",
            Target::BillingExport => "billing-export",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Counts what a reader hands over, and checks what every reader promises.
#[derive(Default)]
struct Tally {
    records: u64,
    skipped: u64,
}

impl FlowSink for Tally {
    fn set_format(&mut self, _: FormatTraits) {}
    fn record(&mut self, r: &FlowRecord<'_>, line: u64) {
        assert!(line > 0, "lines and rows are numbered from 1");
        self.records += 1 + r.extra_records;
    }
    fn skip(&mut self, _: SkipReason, line: u64, detail: &str, records: u64) {
        assert!(!detail.is_empty(), "a skipped record is named (line {line})");
        self.skipped += records;
    }
}

/// Reads `data` as `target`'s input; `scratch` is a directory for the file it is written to.
pub fn run(target: Target, data: &[u8], scratch: &Path) {
    let file = |name: &str| {
        let p = scratch.join(name);
        std::fs::write(&p, data).expect("the scratch directory is writable");
        p
    };
    let mut tally = Tally::default();
    match target {
        Target::FlowLogText => {
            let p = file("flow.log");
            let format = crate::sources::flowlogs::format::Format::default_v2();
            let _ = crate::sources::flowlogs::text::read_text_file(&p, &format, true, &mut tally);
        }
        Target::FormatString => {
            if let Ok(s) = std::str::from_utf8(data) {
                let _ = crate::sources::flowlogs::format::Format::from_aws_string(s);
            }
        }
        Target::KubectlJson => {
            let p = file("2026-10-01T00:00:00Z.json");
            if let Ok(snap) = crate::sources::k8s::load_snapshot(&p) {
                let timeline = crate::model::timeline::Timeline::build(vec![snap]);
                let _ = timeline.listening_ports();
            }
        }
        Target::NetworkJson => {
            let p = file("network.json");
            let mut inv = crate::model::inventory::Inventory::default();
            if crate::sources::network::load_file(&mut inv, &p).is_ok() {
                inv.finish();
            }
        }
        Target::Parquet => {
            let p = file("flows.parquet");
            if let Ok((groups, _)) = crate::sources::flowlogs::parquet::row_groups(&p) {
                let all: Vec<usize> = (0..groups).collect();
                let _ = crate::sources::flowlogs::parquet::read_parquet_row_groups(&p, &all, &mut tally);
                let _ = crate::sources::flowlogs::parquet::read_aggregates_parquet_row_groups(&p, &all, &mut tally);
            }
        }
        Target::AggregatesCsv => {
            let p = file("aggregates.csv");
            let _ = crate::sources::flowlogs::aggregates::read_aggregates_file(&p, (0, data.len() as u64), &mut tally);
            let _ = crate::sources::flowlogs::split::split(&p, false, scratch);
        }
        Target::CostExplorerJson => {
            let p = file("cost-explorer.json");
            let _ = crate::sources::billing::load_file(&p);
        }
        Target::BillingExport => {
            let name = if data.starts_with(b"PAR1") { "export.parquet" } else { "export.csv" };
            let _ = crate::sources::billing_export::read(&file(name));
        }
    }
}
