//! `crossaz reconcile`: how much of the billed inter-AZ transfer the flow logs explain.

use super::attribute::{InputArgs, finish};
use super::emit;
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
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args, printer: &Printer) -> Result<ExitCode, Error> {
    let inputs = args.input.inputs()?;
    let outcome = pipeline::run(&inputs, printer)?;
    emit(&reconciliation(&outcome.report, args.format)?, args.output.as_deref())?;
    Ok(finish(&outcome, printer))
}
