//! `crossaz reconcile`: how much of the billed inter-AZ transfer the flow logs explain.

use super::attribute::{add_workspace, finish};
use super::{emit, parse_time_arg};
use crate::error::Error;
use crate::pipeline::{self, Inputs};
use crate::pricing::Rates;
use crate::printer::Printer;
use crate::report::render::{reconciliation, Format};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A workspace written by `crossaz pull` (default `./crossaz-data` when no `--flow-logs` is given).
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub flow_logs: Vec<PathBuf>,
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub network: Vec<PathBuf>,
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub k8s: Vec<PathBuf>,
    /// Cost Explorer JSON (`aws ce get-cost-and-usage` output, or `crossaz pull billing`'s).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub billing: Vec<PathBuf>,
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub from: Option<i64>,
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub to: Option<i64>,
    /// Price the explained bytes at the bill's effective per-GB rate.
    #[arg(long)]
    pub price_from_bill: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[arg(long, value_name = "FORMAT")]
    pub flow_log_format: Option<String>,
}

pub fn run(args: Args, printer: &Printer) -> Result<ExitCode, Error> {
    let mut inputs = Inputs {
        flow_logs: args.flow_logs,
        network: args.network,
        k8s: args.k8s,
        billing: args.billing,
        from: args.from,
        to: args.to,
        flow_log_format: args.flow_log_format,
        price_from_bill: args.price_from_bill,
        rates: Rates::default(),
    };
    add_workspace(&mut inputs, args.workspace.as_deref())?;
    let outcome = pipeline::run(&inputs, printer)?;
    emit(&reconciliation(&outcome.report, args.format)?, args.output.as_deref())?;
    Ok(finish(&outcome, printer))
}
