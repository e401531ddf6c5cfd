//! `crossaz demo`: the whole pipeline on the bundled sample month in `fixtures/demo`.

use super::common::emit;
use crate::error::Error;
use crate::pipeline::{self, Inputs};
use crate::pricing::Rates;
use crate::printer::Printer;
use crate::report::render::{Format, render};
use crate::report::views::By;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The sample data directory (default: the repository's `fixtures/demo`).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "service")]
    pub by: By,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Where to write the review of the sample month (default `crossaz-review-2026-10`).
    #[arg(long, value_name = "DIR")]
    pub review_out: Option<PathBuf>,
    /// Only the tables: write no review.
    #[arg(long)]
    pub no_review: bool,
}

/// The sample month: October 2026.
pub const DEMO_MONTH: &str = "2026-10";

/// The baseline of the demo's review: September 2026 of the same cluster, generated (without the
/// real-account day) and attributed.
pub fn baseline_month(printer: &Printer) -> Result<crate::report::Report, Error> {
    let month = crate::model::time::Month::parse("2026-09").expect("a month");
    let dir = tempfile::tempdir().map_err(|e| Error::failure("could not create a temporary directory").caused_by(e))?;
    let opts = crate::generate::Options {
        start: month.from,
        days: ((month.to - month.from) / crate::model::time::SECONDS_PER_DAY) as u32,
        ..crate::generate::Options::default()
    };
    crate::generate::generate(&opts, dir.path()).map_err(|e| Error::io("write the baseline month to", dir.path(), e))?;
    let mut inputs = demo_inputs(dir.path());
    (inputs.from, inputs.to) = (Some(month.from), Some(month.to));
    Ok(pipeline::run(&inputs, printer)?.report)
}

pub fn demo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join("demo")
}

pub fn demo_inputs(dir: &std::path::Path) -> Inputs {
    Inputs {
        flow_logs: vec![dir.join("flow-logs")],
        network: vec![dir.join("network")],
        k8s: vec![dir.join("k8s")],
        billing: [dir.join("billing")].into_iter().filter(|p| p.is_dir()).collect(),
        cur: [dir.join("billing").join("cur")].into_iter().filter(|p| p.is_dir()).collect(),
        rates: Rates::default(),
        ..Inputs::default()
    }
}

pub fn run(args: Args, printer: &Printer) -> Result<ExitCode, Error> {
    let dir = args.data.unwrap_or_else(demo_dir);
    if !dir.join("flow-logs").is_dir() {
        return Err(Error::usage(format!("no sample data in `{}`", dir.display()))
            .hint("run from a clone of the repository, or pass `--data` with a directory written by `crossaz generate`"));
    }
    let mut outcome = pipeline::run(&demo_inputs(&dir), printer)?;
    if args.format != Format::Table || args.output.is_some() {
        if args.format == Format::Parquet && args.output.is_none() {
            return Err(Error::usage("`--format parquet` needs `--output FILE`"));
        }
        emit(&render(&outcome.report, args.by, args.format)?, args.output.as_deref())?;
        return Ok(super::attribute::finish(&outcome, printer));
    }
    let mut text = String::from("crossaz demo: a sample month of an EKS cluster in ap-northeast-2 (fixtures/demo)\n\n");
    text.push_str(&String::from_utf8_lossy(&render(&outcome.report, args.by, Format::Table)?));
    // The what-ifs go into the outcome's Report once: the tables and the review both show them.
    if let Some(snapshot) = &outcome.latest_snapshot {
        outcome.report.routing = Some(super::whatif::routing_for(&outcome.report.measurement, snapshot));
        text.push_str("\n\nWhat would topology-aware routing save? (the top Services; `crossaz whatif routing` for all)\n\n");
        text.push_str(&String::from_utf8_lossy(&crate::report::render_routing::render(&outcome.report, Format::Table, Some(5))?));
    }
    if !outcome.databases.is_empty() {
        outcome.report.rds = Some(super::whatif::rds_for(&outcome.report.measurement, &outcome)?);
        text.push_str("\n\nWhich database deployment? (options: `crossaz whatif rds --rto SECONDS --read-fraction F`)\n\n");
        text.push_str(&String::from_utf8_lossy(&crate::report::render_rds::render(&outcome.report, Format::Table)?));
    }
    if let Some(rec) = outcome.report.reconciliation.as_ref().filter(|r| !r.by_resource.is_empty()) {
        // The gaps first (rows with a likely cause), then the largest lines.
        let mut rows: Vec<_> = rec.by_resource.iter().filter(|r| r.likely_cause.is_some() && !r.billed_usd.is_zero()).cloned().collect();
        rows.extend(rec.by_resource.iter().filter(|r| r.likely_cause.is_none()).take(6usize.saturating_sub(rows.len()).max(3)).cloned());
        text.push_str(&format!(
            "\n\nThe bill resource by resource (CUR 2.0; {} of {} rows here — `crossaz reconcile --by resource` for all)\n\n",
            rows.len(),
            rec.by_resource.len()
        ));
        text.push_str(&crate::report::render::resource_table(&rows, false));
    }
    let paths = super::whatif::paths_for(&outcome.report.measurement, &outcome, None)?;
    text.push_str("\n\nTop changes to the network paths (`crossaz whatif paths` for every change, its risk and the exact edit)\n\n");
    text.push_str(&crate::report::render_paths::table(&paths, Some(5)));
    outcome.report.paths = Some(paths);
    emit(text.as_bytes(), None)?;
    let exit = super::attribute::finish(&outcome, printer);
    if args.no_review {
        return Ok(exit);
    }
    let baseline = baseline_month(&Printer { quiet: true })?;
    let month = crate::model::time::Month::parse(DEMO_MONTH).expect("a month");
    let out = args.review_out.unwrap_or_else(|| PathBuf::from(format!("crossaz-review-{DEMO_MONTH}")));
    let req = super::review::ReviewRequest {
        period: month.label.clone(),
        bounds: Some((month.from, month.to)),
        month: Some(month),
        baseline: Some(baseline.as_baseline("2026-09".into(), "generated: crossaz generate --scenario month --start 2026-09-01 --days 30".into())),
        group_by: crate::review::GroupBy::Label("team".into()),
        fail_on_increase: None,
        workspace: None,
    };
    let written = super::review::write_review(outcome, req, &out)?;
    println!("\nThe monthly review of the sample month, against a generated September (`crossaz review --help`):\n");
    super::review::print_headline(&written);
    Ok(exit)
}
