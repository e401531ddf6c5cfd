//! `crossaz whatif …`: what a change would save, from the cluster state and measured traffic.

use super::attribute::{InputArgs, finish};
use super::emit;
use crate::error::Error;
use crate::pipeline;
use crate::printer::Printer;
use crate::report::render::Format;
use crate::report::{Report, build, render_routing};
use crate::whatif::routing::{self, Options};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// Per Service: what topology-mode Auto and trafficDistribution PreferClose would save, and at what risk.
    Routing(RoutingArgs),
}

#[derive(clap::Args, Debug)]
pub struct RoutingArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Only this Service (repeatable).
    #[arg(long = "service", value_name = "NAMESPACE/NAME", value_parser = parse_service)]
    pub services: Vec<(String, String)>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn parse_service(s: &str) -> Result<(String, String), String> {
    match s.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => Ok((ns.to_string(), name.to_string())),
        _ => Err(format!("`{s}` is not NAMESPACE/NAME, e.g. `shop/web-api`")),
    }
}

pub fn run(args: Args, printer: &Printer) -> Result<ExitCode, Error> {
    match args.what {
        What::Routing(a) => run_routing(a, printer),
    }
}

fn run_routing(args: RoutingArgs, printer: &Printer) -> Result<ExitCode, Error> {
    if args.format == Format::Parquet {
        return Err(Error::usage("`crossaz whatif routing` writes table, CSV or JSON"));
    }
    let inputs = args.input.inputs_needing(false)?;
    if inputs.k8s.is_empty() {
        return Err(Error::usage("`crossaz whatif routing` needs the cluster's state: pass `--k8s`")
            .hint("save it with `kubectl get nodes,pods,services,endpointslices -A -o json > cluster.json`, or run `crossaz pull k8s`"));
    }
    let (mut report, snapshot, exit) = if inputs.flow_logs.is_empty() {
        let loaded = pipeline::load_context(&inputs);
        printer.input_errors(&loaded.problems);
        let exit = if loaded.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) };
        let region = loaded.inventory.region();
        let report = build::without_traffic(loaded.info, &inputs.rates, region, vec![]);
        (report, loaded.timeline.latest, exit)
    } else {
        let outcome = pipeline::run(&inputs, printer)?;
        let exit = finish(&outcome, printer);
        (outcome.report, outcome.latest_snapshot, exit)
    };
    let Some(snapshot) = snapshot else {
        return Err(Error::failure("no Kubernetes snapshot could be read")
            .hint("pass `--k8s` with the JSON of `kubectl get nodes,pods,services,endpointslices -A -o json`"));
    };
    for (ns, name) in &args.services {
        if !snapshot.services.iter().any(|s| &s.namespace == ns && &s.name == name) {
            return Err(Error::usage(format!("no Service `{ns}/{name}` in the snapshot `{}`", snapshot.source.display()))
                .hint("name it as NAMESPACE/NAME, as `kubectl get services -A` lists it"));
        }
    }
    let traffic = !inputs.flow_logs.is_empty();
    report.routing = Some(routing::analyze(&snapshot, traffic.then_some(&report), &Options { services: args.services }));
    emit(&render_routing::render(&report, args.format, None)?, args.output.as_deref())?;
    Ok(exit)
}

/// The routing what-if for a finished attribution (the demo's top-savings table).
pub fn routing_for(report: &Report, snapshot: &crate::model::k8s::Snapshot) -> routing::RoutingWhatIf {
    routing::analyze(snapshot, Some(report), &Options::default())
}
