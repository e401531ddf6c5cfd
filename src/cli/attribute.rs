//! `crossaz attribute`: flow logs + network inventory + Kubernetes → cross-AZ bytes and dollars.

use super::common::{emit, parse_month_arg, parse_time_arg};
use crate::error::Error;
use crate::model::time::Month;
use crate::pipeline::{self, Inputs, Outcome};
use crate::pricing::Rates;
use crate::printer::Printer;
use crate::report::render::{Format, render, summary_text};
use crate::report::views::By;
use std::path::PathBuf;
use std::process::ExitCode;

/// What to read: shared by every command that attributes (`attribute`, `reconcile`, the what-ifs).
#[derive(clap::Args, Debug, Default)]
pub struct InputArgs {
    /// A workspace written by `crossaz pull` (default `./crossaz-data` when no `--flow-logs` is given).
    #[arg(long, value_name = "DIR", env = "CROSSAZ_WORKSPACE")]
    pub workspace: Option<PathBuf>,
    /// Flow-log files or directories (text, gzip or Parquet; S3 layouts are walked recursively).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub flow_logs: Vec<PathBuf>,
    /// The result of the pre-aggregation (`crossaz athena sql`): CSV as Athena writes it, or Parquet
    /// files or folders from UNLOAD; attributed exactly as flow logs are (docs/athena.md).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub flow_aggregates: Vec<PathBuf>,
    /// JSON of `aws ec2 describe-network-interfaces`, `describe-subnets`, `describe-availability-zones`
    /// (and `aws rds describe-db-instances`, `describe-db-clusters`).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub network: Vec<PathBuf>,
    /// kubectl JSON snapshots: files, or a directory of files named by their RFC 3339 time.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub k8s: Vec<PathBuf>,
    /// Cost Explorer JSON (`aws ce get-cost-and-usage` output) to reconcile with.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub billing: Vec<PathBuf>,
    /// CUR 2.0, legacy CUR or FOCUS 1.0/1.2 export files or directories (Parquet, CSV, CSV.gz):
    /// the bill per resource (docs/billing.md).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub cur: Vec<PathBuf>,
    /// One UTC calendar month (sets `--from` and `--to`); with `--workspace`, its report is kept
    /// in the workspace's `reports/YYYY-MM.json` as a baseline for `crossaz review`.
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month_arg, conflicts_with_all = ["from", "to"])]
    pub month: Option<Month>,
    /// Count records that start at or after this time (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub from: Option<i64>,
    /// Count records that start before this time.
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub to: Option<i64>,
    /// The format string given to AWS, for files without a header line: `'${version} ${account-id} …'`.
    #[arg(long, value_name = "FORMAT", env = "CROSSAZ_FLOW_LOG_FORMAT")]
    pub flow_log_format: Option<String>,
    /// Inter-AZ rates per region (JSON); the default is AWS's $0.01/GB each way.
    #[arg(long, value_name = "FILE", env = "CROSSAZ_RATES")]
    pub rates: Option<PathBuf>,
    /// Price at the bill's effective per-GB rate (discounts included) instead of list prices.
    #[arg(long)]
    pub price_from_bill: bool,
    /// Which cross-AZ paths AWS bills, replacing the bundled table (same JSON as
    /// src/pricing/transfer-rules.json; docs/pricing.md).
    #[arg(long, value_name = "FILE", env = "CROSSAZ_TRANSFER_RULES")]
    pub transfer_rules: Option<PathBuf>,
}

impl InputArgs {
    /// Fills what neither a flag nor a `CROSSAZ_…` variable gave from `crossaz.toml`.
    pub fn apply(&mut self, cfg: &crate::config::Loaded) {
        let c = &cfg.config;
        if self.workspace.is_none() && self.flow_logs.is_empty() && self.flow_aggregates.is_empty() {
            // A file named by `--config` elsewhere is no workspace unless it holds one.
            self.workspace = cfg.path_of(&c.workspace).or_else(|| cfg.dir().filter(|d| d.join("flow-logs").is_dir()));
        }
        if self.rates.is_none() {
            self.rates = cfg.path_of(&c.pricing.rates);
        }
        if self.transfer_rules.is_none() {
            self.transfer_rules = cfg.path_of(&c.pricing.transfer_rules);
        }
        if self.flow_log_format.is_none() {
            self.flow_log_format = c.flow_logs.format.clone();
        }
    }

    /// The calendar month the window covers exactly (`--month`, or `--from`/`--to` on month bounds).
    pub fn kept_month(&self) -> Option<Month> {
        self.month.clone().or_else(|| Month::of_window(self.from?, self.to?))
    }

    /// Checks the window, loads the rates and adds the workspace.
    pub fn inputs(self) -> Result<Inputs, Error> {
        self.inputs_needing(true)
    }

    /// As `inputs`; without `need_flow_logs`, a missing default workspace is not an error.
    pub fn inputs_needing(mut self, need_flow_logs: bool) -> Result<Inputs, Error> {
        if let Some(m) = &self.month {
            (self.from, self.to) = (Some(m.from), Some(m.to));
        }
        if let (Some(f), Some(t)) = (self.from, self.to)
            && t <= f
        {
            return Err(Error::usage("`--to` must be later than `--from`"));
        }
        let rates = match &self.rates {
            Some(p) => Rates::load(p)?,
            None => Rates::default(),
        };
        let rules = match &self.transfer_rules {
            Some(p) => crate::pricing::transfer::Rules::load(p)?,
            None => crate::pricing::transfer::Rules::bundled(),
        };
        let mut inputs = Inputs {
            flow_logs: self.flow_logs,
            flow_aggregates: self.flow_aggregates,
            network: self.network,
            k8s: self.k8s,
            from: self.from,
            to: self.to,
            flow_log_format: self.flow_log_format,
            rates,
            billing: self.billing,
            cur: self.cur,
            price_from_bill: self.price_from_bill,
            rules,
            ..Inputs::default()
        };
        add_workspace(&mut inputs, self.workspace.as_deref(), need_flow_logs)?;
        Ok(inputs)
    }
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// One row per server Service, client workload, namespace, AZ pair or conversation [default: service].
    #[arg(long, value_enum, env = "CROSSAZ_BY")]
    pub by: Option<By>,
    /// [default: table]
    #[arg(long, value_enum, env = "CROSSAZ_FORMAT")]
    pub format: Option<Format>,
    /// Write to this file (atomically) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Split each resource's billed inter-AZ dollars (from `--cur`) over the conversations measured
    /// on it: an `allocated_usd` column that sums to the bill.
    #[arg(long)]
    pub allocate_bill: bool,
    #[command(flatten)]
    pub engine: super::athena::EngineArgs,
}

pub fn run(mut args: Args, printer: &Printer, cfg: &crate::config::Loaded) -> Result<ExitCode, Error> {
    args.input.apply(cfg);
    let by = match args.by {
        Some(b) => b,
        None => config_enum(cfg.config.output.by.as_deref(), "output.by")?.unwrap_or(By::Service),
    };
    let format = match args.format {
        Some(f) => f,
        None => config_enum(cfg.config.output.format.as_deref(), "output.format")?.unwrap_or(Format::Table),
    };
    if format == Format::Parquet && args.output.is_none() {
        return Err(Error::usage("`--format parquet` needs `--output FILE`"));
    }
    let keep = args.input.workspace.clone().zip(args.input.kept_month());
    let workspace = args.input.workspace.clone();
    let athena = args.engine.engine == super::athena::Engine::Athena;
    if athena && !(args.input.flow_logs.is_empty() && args.input.flow_aggregates.is_empty()) {
        return Err(Error::usage("`--engine athena` reads the flow logs in Athena: leave out `--flow-logs` and `--flow-aggregates`"));
    }
    let mut inputs = args.input.inputs_needing(!athena)?;
    inputs.allocate_bill = args.allocate_bill || format == Format::Focus;
    // With `--engine athena`, the result comes here: kept in the workspace, else in a temporary
    // directory that lives until the report is written.
    let mut scratch = None;
    let mut query = None;
    if athena {
        let (Some(from), Some(to)) = (inputs.from, inputs.to) else {
            return Err(Error::usage("`--engine athena` queries a window: pass `--month`, or `--from` and `--to`"));
        };
        let dir = match &workspace {
            Some(ws) => crate::workspace::Workspace::new(ws).athena_results(),
            None => scratch.insert(tempfile::tempdir().map_err(|e| Error::failure("cannot create a temporary directory").caused_by(e))?).path().to_path_buf(),
        };
        let (file, q) = super::athena::aggregate_in_athena(&args.engine, (from, to), &inputs.k8s, &dir, printer)?;
        inputs.flow_logs.clear();
        inputs.flow_aggregates = vec![file];
        query = Some(q);
    }
    let mut outcome = pipeline::run(&inputs, printer)?;
    outcome.report.measurement.inputs.athena = query;
    let bytes = render(&outcome.report, by, format)?;
    emit(&bytes, args.output.as_deref())?;
    if let Some((dir, month)) = keep {
        let path = crate::workspace::Workspace::new(&dir).keep_report(&month, &outcome.report)?;
        if !printer.quiet {
            eprintln!("kept the report of {} in `{}` (a baseline for `crossaz review`)", month.label, path.display());
        }
    }
    if format != Format::Table && !printer.quiet {
        eprint!("{}", summary_text(&outcome.report));
    }
    Ok(finish(&outcome, printer))
}

/// A value of `crossaz.toml` for a flag with fixed choices.
fn config_enum<T: clap::ValueEnum>(value: Option<&str>, key: &str) -> Result<Option<T>, Error> {
    let Some(v) = value else { return Ok(None) };
    T::from_str(v, false).map(Some).map_err(|_| {
        let choices: Vec<String> = T::value_variants().iter().filter_map(|x| x.to_possible_value()).map(|p| p.get_name().to_string()).collect();
        Error::usage(format!("`{v}` is not a valid `{key}` in crossaz.toml")).hint(format!("one of: {}", choices.join(", ")))
    })
}

/// Prints warnings and input errors; exit 1 when some input could not be read.
pub fn finish(outcome: &Outcome, printer: &Printer) -> ExitCode {
    for w in &outcome.warnings {
        printer.warn_input(w);
    }
    printer.input_errors(&outcome.problems);
    if outcome.had_bad_input() {
        let bad: u64 = outcome.report.measurement.summary.records.uncounted.iter().filter(|u| u.bad_input).map(|u| u.records).sum();
        eprintln!(
            "error: some input could not be read ({bad} records skipped, {} files with errors); the report covers everything else",
            outcome.problems.len()
        );
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Adds `--workspace` (or `./crossaz-data` when nothing else names flow logs) to the inputs.
pub fn add_workspace(inputs: &mut Inputs, workspace: Option<&std::path::Path>, need_flow_logs: bool) -> Result<(), Error> {
    match workspace {
        Some(dir) => {
            if !dir.is_dir() {
                return Err(Error::usage(format!("no workspace at `{}`", dir.display())).hint("create one with `crossaz pull …`, or pass `--flow-logs`"));
            }
            inputs.add_workspace(dir);
        }
        None if inputs.flow_logs.is_empty() && inputs.flow_aggregates.is_empty() => {
            let dir = std::path::Path::new(crate::workspace::DEFAULT);
            if !dir.is_dir() && !need_flow_logs {
                return Ok(());
            }
            if !dir.is_dir() {
                return Err(Error::usage("no flow logs to read: pass `--flow-logs`, or `--workspace` with a directory written by `crossaz pull`"));
            }
            inputs.add_workspace(dir);
        }
        None => {}
    }
    Ok(())
}
