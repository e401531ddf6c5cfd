//! `crossaz reconcile`: how much of the billed inter-AZ transfer the flow logs explain.

use super::attribute::{InputArgs, finish};
use super::common::emit;
use crate::error::Error;
use crate::pipeline;
use crate::printer::Printer;
use crate::report::render::{Format, reconciliation};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// One row per day (the account's inter-AZ line), per resource and direction over the window,
    /// or per resource, direction and day (needs `--cur`).
    #[arg(long, value_enum, default_value = "day")]
    pub by: ReconcileBy,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReconcileBy {
    Day,
    Resource,
    ResourceDay,
}

pub fn run(args: Args, printer: &Printer) -> Result<ExitCode, Error> {
    let inputs = args.input.inputs()?;
    if args.by != ReconcileBy::Day && inputs.cur.is_empty() {
        return Err(Error::usage(format!("`--by {}` needs the bill per resource", if args.by == ReconcileBy::Resource { "resource" } else { "resource-day" }))
            .hint("pass `--cur` with a CUR 2.0 or FOCUS export, or `crossaz pull billing --source cur` into the workspace (docs/billing.md)"));
    }
    let outcome = pipeline::run(&inputs, printer)?;
    let out = match args.by {
        ReconcileBy::Day => reconciliation(&outcome.report, args.format)?,
        by => crate::report::render::reconciliation_by_resource(&outcome.report, by == ReconcileBy::ResourceDay, args.format)?,
    };
    emit(&out, args.output.as_deref())?;
    Ok(finish(&outcome, printer))
}
