//! `crossaz review`: the monthly cost review — `index.html`, `summary.md`, `csv/`, `report.json`.

use super::attribute::{InputArgs, finish};
use crate::error::Error;
use crate::model::time::{Month, format_date};
use crate::pipeline::{self, Outcome};
use crate::printer::Printer;
use crate::report::render::{Format, csv_rows, human_bytes, human_pct, human_usd, render};
use crate::report::review_view as rv;
use crate::report::views::{By, Cell};
use crate::report::{Report, SCHEMA_VERSION, html, markdown};
use crate::review::{self, GroupBy, Limit};
use crate::workspace::Workspace;
use crate::write::atomic_write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Directory to write into (default `crossaz-review-YYYY-MM`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Compare with this month's report, kept in the workspace's `reports/` (default: the previous
    /// month's, when the workspace has it).
    #[arg(long, value_name = "YYYY-MM", value_parser = super::common::parse_month_arg)]
    pub baseline: Option<Month>,
    /// Compare with a JSON Report crossaz wrote (`report.json`, `attribute --format json`).
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    pub baseline_report: Option<PathBuf>,
    /// Exit 3 when the cross-AZ cost grew by more than this against the baseline: `10%`, or `50` (USD).
    #[arg(long, value_name = "LIMIT", value_parser = Limit::parse)]
    pub fail_on_increase: Option<Limit>,
    /// Chargeback grouping: `namespace`, `workload` or `label:KEY` (a pod label, e.g. `label:team`).
    #[arg(long, value_name = "GROUPING", default_value = "namespace", value_parser = GroupBy::parse)]
    pub group_by: GroupBy,
}

/// What a review writes, for the caller (the demo) to point at.
pub struct Written {
    pub dir: PathBuf,
    pub report: Report,
}

pub fn run(args: Args, printer: &Printer) -> Result<ExitCode, Error> {
    let month = args.input.kept_month();
    let (from, to) = match (&args.input.month, args.input.from, args.input.to) {
        (Some(m), _, _) => (m.from, m.to),
        (None, Some(f), Some(t)) => (f, t),
        _ => {
            return Err(Error::usage("`crossaz review` needs a period: `--month YYYY-MM`, or `--from` and `--to`")
                .hint("e.g. `crossaz review --month 2026-10 --workspace crossaz-data`"));
        }
    };
    let workspace = args.input.workspace.clone().or_else(|| {
        let d = PathBuf::from(crate::workspace::DEFAULT);
        (args.input.flow_logs.is_empty() && d.is_dir()).then_some(d)
    });
    let baseline = load_baseline(&args, workspace.as_deref(), month.as_ref())?;
    if args.fail_on_increase.is_some() && baseline.is_none() {
        return Err(Error::usage("`--fail-on-increase` needs a baseline to compare with")
            .hint("pass `--baseline YYYY-MM` (a month kept in the workspace's `reports/`) or `--baseline-report FILE`"));
    }
    let period = month.as_ref().map(|m| m.label.clone()).unwrap_or_else(|| format!("{} → {}", format_date(from), format_date(to - 1)));
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "crossaz-review-{}",
            month.as_ref().map(|m| m.label.clone()).unwrap_or_else(|| format!("{}_{}", format_date(from), format_date(to - 1)))
        ))
    });
    let inputs = args.input.inputs()?;
    let outcome = pipeline::run(&inputs, printer)?;
    let exit = finish(&outcome, printer);
    let review_input = ReviewRequest {
        period,
        bounds: Some((from, to)),
        month: month.clone(),
        baseline: baseline.as_ref().map(|(r, label, source)| r.as_baseline(label.clone(), source.clone())),
        group_by: args.group_by.clone(),
        fail_on_increase: args.fail_on_increase.clone(),
        workspace: workspace.clone(),
    };
    let written = write_review(outcome, review_input, &out)?;
    if let (Some(ws), Some(m)) = (&workspace, &month) {
        let path = Workspace::new(ws).keep_report(m, &written.report)?;
        if !printer.quiet {
            eprintln!("kept the report of {} in `{}` (next month's baseline)", m.label, path.display());
        }
    }
    print_headline(&written);
    let review = written.report.review.as_ref().expect("the review was just built");
    if !printer.quiet {
        for n in &review.notes {
            eprintln!("note: {n}");
        }
    }
    if let Some(t) = review.threshold.as_ref().filter(|t| t.exceeded) {
        eprintln!("error: the cross-AZ cost grew {}, more than `--fail-on-increase {}`", rv::change_suffix(review).unwrap_or_default(), t.limit);
        if !t.contributors.is_empty() {
            eprintln!("  the biggest contributors:");
            for c in &t.contributors {
                eprintln!("    {} {} ({} → {})", rv::signed_usd(c.change_usd), rv::change_name(c), human_usd(c.baseline_usd), human_usd(c.current_usd));
            }
        }
        if exit == ExitCode::SUCCESS {
            return Ok(ExitCode::from(3));
        }
    }
    Ok(exit)
}

pub struct ReviewRequest<'a> {
    pub period: String,
    /// The period's bounds, when known, to say when the flow logs cover only part of it.
    pub bounds: Option<(i64, i64)>,
    pub month: Option<Month>,
    pub baseline: Option<review::BaselineInput<'a>>,
    pub group_by: GroupBy,
    pub fail_on_increase: Option<Limit>,
    /// Where `pull prices` left NAT gateway and endpoint prices (`prices/path-prices.json`).
    pub workspace: Option<PathBuf>,
}

/// Adds the what-ifs the Report lacks and the review to an attribution, and writes every file into `out`.
pub fn write_review(outcome: Outcome, req: ReviewRequest<'_>, out: &Path) -> Result<Written, Error> {
    let mut report = outcome.report.clone();
    let mut notes = Vec::new();
    match &outcome.latest_snapshot {
        _ if report.routing.is_some() => {}
        Some(snapshot) => report.routing = Some(super::whatif::routing_for(&report.measurement, snapshot)),
        None => notes.push("no Kubernetes snapshot: topology-aware routing was not estimated (pass `--k8s`)".into()),
    }
    if !outcome.databases.is_empty() && report.rds.is_none() {
        match super::whatif::rds_for(&report.measurement, &outcome) {
            Ok(r) => report.rds = Some(r),
            Err(e) => notes.push(format!("the RDS what-if could not run: {e}")),
        }
    }
    if report.paths.is_none() {
        match super::whatif::paths_for(&report.measurement, &outcome, req.workspace.as_deref()) {
            Ok(p) => report.paths = Some(p),
            Err(e) => notes.push(format!("the network-path what-if could not run: {e}")),
        }
    }
    if let Some((from, to)) = req.bounds {
        notes.extend(partial_period(&report, from, to));
    }
    let review = review::review(
        &report.measurement,
        review::Input {
            period: req.period,
            month: req.month.map(|m| m.label),
            command: command_line(),
            baseline: req.baseline,
            whatifs: report.whatifs(),
            reconciliation: report.reconciliation.as_ref(),
            group_by: req.group_by,
            labels: &outcome.labels,
            fail_on_increase: req.fail_on_increase,
            snapshot_gaps: outcome.snapshot_gaps.clone(),
            notes,
        },
    );
    report.review = Some(review);
    write_files(&report, out)?;
    Ok(Written { dir: out.to_path_buf(), report })
}

fn write_files(report: &Report, out: &Path) -> Result<(), Error> {
    let review = report.review.as_ref().expect("a review");
    let csv_dir = out.join("csv");
    fs_err::create_dir_all(&csv_dir).map_err(|e| Error::failure(format!("could not create `{}`", csv_dir.display())).caused_by(e))?;
    let mut json = serde_json::to_vec_pretty(report).map_err(|e| Error::failure("failed to write JSON").caused_by(e))?;
    json.push(b'\n');
    atomic_write(&out.join("report.json"), &json)?;
    atomic_write(&out.join("index.html"), html::render(report, review).as_bytes())?;
    atomic_write(&out.join("summary.md"), markdown::render(report, review).as_bytes())?;
    for by in [By::Service, By::Workload, By::Namespace, By::AzPair, By::Conversation] {
        atomic_write(&csv_dir.join(format!("{}.csv", by.as_str())), &render(report, by, Format::Csv)?)?;
    }
    for (name, header, rows) in review_tables(report, review) {
        atomic_write(&csv_dir.join(name), &csv_rows(&header, &rows)?)?;
    }
    Ok(())
}

type CsvTable = (&'static str, Vec<&'static str>, Vec<Vec<Cell>>);

/// The review's own CSV files: day, chargeback, changes, actions.
fn review_tables(r: &Report, review: &review::Review) -> Vec<CsvTable> {
    let t = |s: &str| Cell::Text(s.to_string());
    let day = r
        .measurement
        .daily
        .iter()
        .map(|d| {
            vec![
                t(&d.date),
                Cell::U64(d.cross_az_billed_bytes),
                Cell::Dec(d.cost_usd),
                Cell::U64(d.cross_az_free_bytes),
                Cell::U64(d.same_az_bytes),
                Cell::U64(d.internet_other_bytes),
                Cell::U64(d.unknown_az_bytes),
            ]
        })
        .collect();
    let chargeback = review
        .chargeback
        .rows
        .iter()
        .map(|c| vec![t(&c.group), Cell::U64(c.cross_az_billed_bytes), Cell::Dec(c.cost_usd), Cell::Dec(c.share_pct), t(&c.members.join(" "))])
        .collect();
    let changes = review
        .changes
        .iter()
        .map(|c| {
            vec![
                t(&c.dimension),
                t(&c.namespace),
                t(&c.name),
                t(&c.kind),
                t(&c.status),
                Cell::U64(c.baseline_bytes),
                Cell::U64(c.current_bytes),
                Cell::Dec(c.baseline_usd),
                Cell::Dec(c.current_usd),
                Cell::Dec(c.change_usd),
            ]
        })
        .collect();
    let actions = review
        .actions
        .iter()
        .map(|a| vec![Cell::U64(u64::from(a.rank)), t(&a.kind), t(&a.target), Cell::Dec(a.monthly_savings_usd), t(&a.risk), t(&a.change), t(&a.evidence)])
        .collect();
    vec![
        ("day.csv", vec!["date", "cross_az_billed_bytes", "cost_usd", "cross_az_free_bytes", "same_az_bytes", "internet_other_bytes", "unknown_az_bytes"], day),
        ("chargeback.csv", vec!["group", "cross_az_billed_bytes", "cost_usd", "share_pct", "members"], chargeback),
        (
            "changes.csv",
            vec!["dimension", "namespace", "name", "kind", "status", "baseline_bytes", "current_bytes", "baseline_usd", "current_usd", "change_usd"],
            changes,
        ),
        ("actions.csv", vec!["rank", "kind", "target", "monthly_savings_usd", "risk", "change", "evidence"], actions),
    ]
}

/// The baseline Report, its label and where it came from.
fn load_baseline(args: &Args, workspace: Option<&Path>, month: Option<&Month>) -> Result<Option<(Report, String, String)>, Error> {
    if let Some(file) = &args.baseline_report {
        let label = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "baseline".into());
        let r = read_report(file)?;
        let label = r.review.as_ref().map(|v| v.period.clone()).unwrap_or(label);
        return Ok(Some((r, label, file.display().to_string())));
    }
    if let Some(m) = &args.baseline {
        let Some(ws) = workspace else {
            return Err(Error::usage(format!("`--baseline {}` reads the workspace's `reports/{}.json`: pass `--workspace`", m.label, m.label))
                .hint("or pass the report itself with `--baseline-report FILE`"));
        };
        let path = Workspace::new(ws).report(&m.label);
        if !path.is_file() {
            return Err(Error::failure(format!("no report of {} in the workspace: `{}` does not exist", m.label, path.display())).hint(format!(
                "keep one with `crossaz review --month {0} --workspace {1}` or `crossaz attribute --month {0} --workspace {1}`",
                m.label,
                ws.display()
            )));
        }
        return Ok(Some((read_report(&path)?, m.label.clone(), path.display().to_string())));
    }
    // The previous month's report, when the workspace keeps it.
    if let (Some(ws), Some(prev)) = (workspace, month.and_then(Month::previous)) {
        let path = Workspace::new(ws).report(&prev.label);
        if path.is_file() {
            return Ok(Some((read_report(&path)?, prev.label.clone(), path.display().to_string())));
        }
    }
    Ok(None)
}

/// Reads a JSON Report crossaz wrote (any view or format that holds the whole Report).
pub fn read_report(path: &Path) -> Result<Report, Error> {
    let text = crate::limits::read_text(path, crate::sources::max_json_bytes(), "a crossaz report")?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::failure(format!("`{}` is not JSON (line {}, column {})", path.display(), e.line(), e.column())).caused_by(e))?;
    let version = value.get("schema_version").and_then(|v| v.as_u64());
    match version {
        Some(v) if (2..=u64::from(SCHEMA_VERSION)).contains(&v) => {}
        Some(v) => {
            return Err(Error::failure(format!("`{}` is a crossaz report of schema {v}; this crossaz reads schemas 2 to {SCHEMA_VERSION}", path.display()))
                .hint("write it again with this version: `crossaz attribute --format json --month YYYY-MM …`"));
        }
        None => {
            return Err(Error::failure(format!("`{}` is not a crossaz report: it has no `schema_version`", path.display()))
                .hint("pass a `report.json` that `crossaz review` wrote, or the output of `crossaz attribute --format json`"));
        }
    }
    serde_json::from_value(value).map_err(|e| Error::failure(format!("`{}` is not a crossaz report", path.display())).caused_by(e))
}

pub fn print_headline(w: &Written) {
    let Some(review) = &w.report.review else { return };
    let h = &review.headline;
    let mut line = format!("Cross-AZ cost {}", human_usd(h.cross_az_cost_usd));
    match rv::change_suffix(review) {
        Some(c) => line.push_str(&format!(" ({c})")),
        None => line.push_str(" (no baseline)"),
    }
    line.push_str(&format!(" · {} billed", human_bytes(h.cross_az_billed_bytes)));
    if let Some(p) = h.bill_explained_pct {
        line.push_str(&format!(" · bill explained {}", human_pct(p)));
    }
    line.push_str(&format!(" · savings available {} per month", human_usd(h.savings_monthly_usd)));
    println!("Review of {} written to {}/", review.period, w.dir.display());
    println!("  {}  the page to bring to the meeting", w.dir.join("index.html").display());
    println!("  {}  for a pull request, ticket or chat", w.dir.join("summary.md").display());
    println!("  {}/  one CSV per view; report.json holds every figure", w.dir.join("csv").display());
    println!("{line}");
}

/// A note when the records start well after the period's start or end well before its end.
fn partial_period(r: &Report, from: i64, to: i64) -> Option<String> {
    let parse = |s: &Option<String>| s.as_deref().and_then(crate::model::time::parse_time);
    let (first, last) = (parse(&r.measurement.window.first_record), parse(&r.measurement.window.last_record));
    let slack = 3 * 3600;
    match (first, last) {
        (None, _) | (_, None) => Some("no flow-log record falls in the period: its cost is zero for want of data, not of traffic".into()),
        (Some(f), Some(l)) if f > from + slack || l < to - slack => Some(format!(
            "the flow logs cover only {} → {} of the period {} → {}: the cost is not the whole period's, and a comparison with a whole baseline month understates it",
            crate::model::time::format_time(f),
            crate::model::time::format_time(l),
            crate::model::time::format_time(from),
            crate::model::time::format_time(to)
        )),
        _ => None,
    }
}

/// The command line as typed, quoted where a shell would need it.
fn command_line() -> String {
    std::env::args()
        .enumerate()
        .map(|(i, a)| {
            let a = if i == 0 { "crossaz".to_string() } else { a };
            if !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=%@,+".contains(c)) {
                a
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
