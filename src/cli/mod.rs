//! The command line: one module per subcommand, each with its `Args` and `run`.

pub mod attribute;
pub mod bench;
pub mod demo;
pub mod generate;
pub mod pull;
pub mod reconcile;
pub mod review;
pub mod whatif;

use crate::error::Error;
use crate::printer::Printer;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "crossaz",
    version,
    about = "Who causes your AWS cross-AZ data-transfer bill, what it costs, and what to do about it",
    long_about = "crossaz attributes every cross-AZ byte in VPC Flow Logs to the Kubernetes workload that sent it and the \
                  Service, database, NAT gateway or load balancer that served it, and prices it both ways ($0.01/GB out + $0.01/GB in)."
)]
pub struct Cli {
    /// Print nothing but the results (no progress bar, no warnings).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Attribute cross-AZ bytes in flow logs to workloads and Services, and price them.
    Attribute(attribute::Args),
    /// Fetch flow logs, the network inventory, the bill or Kubernetes snapshots into a workspace.
    Pull(pull::Args),
    /// How much of the billed inter-AZ transfer (Cost Explorer) the flow logs explain.
    Reconcile(reconcile::Args),
    /// What a change would save: `whatif routing` (topology-aware routing per Service).
    Whatif(whatif::Args),
    /// The monthly cost review: an HTML page, Markdown, CSV and JSON, month over month, with CI thresholds.
    Review(review::Args),
    /// Run the whole pipeline on the bundled sample month (no AWS account, no cluster).
    Demo(demo::Args),
    /// Time crossaz against DuckDB on the same generated flow logs (see docs/benchmark.md).
    Bench(bench::Args),
    /// Write a deterministic sample month (flow logs, network JSON, kubectl snapshots) and its ground truth.
    Generate(generate::Args),
}

pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    let printer = Printer { quiet: cli.quiet };
    match cli.command {
        Command::Attribute(args) => attribute::run(args, &printer),
        Command::Pull(args) => pull::run(args, &printer),
        Command::Reconcile(args) => reconcile::run(args, &printer),
        Command::Whatif(args) => whatif::run(args, &printer),
        Command::Review(args) => review::run(args, &printer),
        Command::Demo(args) => demo::run(args, &printer),
        Command::Generate(args) => generate::run(args, &printer),
        Command::Bench(args) => bench::run(args, &printer),
    }
}

/// Writes output to `--output` atomically, or to stdout.
pub fn emit(bytes: &[u8], output: Option<&std::path::Path>) -> Result<(), Error> {
    match output {
        Some(path) => crate::report::write::atomic_write(path, bytes),
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            match out.write_all(bytes).and_then(|()| out.flush()) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(Error::failure("failed to write to stdout").caused_by(e)),
            }
        }
    }
}

/// Parses `--month` values for clap.
pub fn parse_month_arg(s: &str) -> Result<crate::model::time::Month, String> {
    crate::model::time::Month::parse(s).ok_or_else(|| format!("`{s}` is not a month: expected YYYY-MM (`2026-10`), a UTC calendar month"))
}

/// Parses `--from`/`--to` values for clap.
pub fn parse_time_arg(s: &str) -> Result<i64, String> {
    crate::model::time::parse_time(s).ok_or_else(|| format!("`{s}` is not a time: expected RFC 3339 (`2026-10-01T00:00:00Z`) or a date (`2026-10-01`)"))
}
