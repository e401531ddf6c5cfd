//! `crossaz whatif …`: what a change would save, from the cluster state and measured traffic.

use super::attribute::{InputArgs, finish};
use super::common::emit;
use crate::error::Error;
use crate::measurement::{Measurement, build};
use crate::pipeline;
use crate::pricing::paths::PathPrices;
use crate::pricing::rds::PriceTable;
use crate::printer::Printer;
use crate::report::render::Format;
use crate::report::{Report, render_paths, render_rds, render_routing};
use crate::whatif::routing::{self, Options};
use crate::whatif::{paths, rds};
use crate::workspace::Workspace;
use rust_decimal::Decimal;
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
    /// Per database: single-AZ, Multi-AZ DB instance and Multi-AZ DB cluster, priced with the cross-AZ bytes each causes.
    Rds(RdsArgs),
    /// Load-balancer target type, NAT gateway per AZ, NLB cross-zone and VPC endpoints, priced from the measured paths.
    Paths(PathsArgs),
}

#[derive(clap::Args, Debug)]
pub struct PathsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// NAT gateway and interface endpoint prices overriding the bundled table and the workspace's (format: docs/paths.md).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct RdsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Only this database: a DB cluster or instance identifier, or an RDS interface ID (repeatable).
    #[arg(long = "db", value_name = "ID")]
    pub dbs: Vec<String>,
    /// RDS prices overriding the bundled table and the workspace's (format: docs/rds.md).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// Share of a DB instance's bytes that are reads, 0 to 1 (default 0.5; a cluster's is measured).
    #[arg(long, value_name = "F", value_parser = parse_fraction)]
    pub read_fraction: Option<Decimal>,
    /// Recommend only options that fail over within this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub rto: Option<u32>,
    /// Engine of databases the inventory does not describe (`mysql`, `postgres`).
    #[arg(long, value_name = "ENGINE")]
    pub engine: Option<String>,
    /// Instance class of databases the inventory does not describe.
    #[arg(long, value_name = "CLASS")]
    pub class: Option<String>,
    /// Allocated storage (GB) of databases the inventory does not describe.
    #[arg(long, value_name = "GB")]
    pub storage_gb: Option<i64>,
    /// Storage type of databases the inventory does not describe.
    #[arg(long, value_name = "TYPE")]
    pub storage_type: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn parse_fraction(s: &str) -> Result<Decimal, String> {
    match s.parse::<Decimal>() {
        Ok(d) if d >= Decimal::ZERO && d <= Decimal::ONE => Ok(d),
        _ => Err(format!("`{s}` is not a fraction between 0 and 1, e.g. `0.7`")),
    }
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
        What::Rds(a) => run_rds(a, printer),
        What::Paths(a) => run_paths(a, printer),
    }
}

/// The bundled path prices, overlaid by the workspace's (`pull prices`) and a `--prices` file.
pub fn path_options(workspace: Option<&std::path::Path>, file: Option<&std::path::Path>) -> Result<paths::Options, Error> {
    let mut prices = PathPrices::bundled();
    let mut sources = vec!["the bundled table (src/pricing/path-prices.json, docs/paths.md)".to_string()];
    let ws = Workspace::new(workspace.unwrap_or(std::path::Path::new(crate::workspace::DEFAULT)));
    for p in [Some(ws.path_prices()).filter(|p| p.is_file()), file.map(std::path::Path::to_path_buf)].into_iter().flatten() {
        prices.overlay(PathPrices::load(&p)?);
        sources.push(format!("`{}`", p.display()));
    }
    Ok(paths::Options { prices, prices_source: sources.join(", overridden by ") })
}

fn run_paths(args: PathsArgs, printer: &Printer) -> Result<ExitCode, Error> {
    if args.format == Format::Parquet {
        return Err(Error::usage("`crossaz whatif paths` writes table, CSV or JSON"));
    }
    let workspace = args.input.workspace.clone();
    let opts = path_options(workspace.as_deref(), args.prices.as_deref())?;
    let inputs = args.input.inputs()?;
    if inputs.network.is_empty() {
        return Err(Error::usage("`crossaz whatif paths` needs the network inventory: pass `--network`")
            .hint("it names the NAT gateways and load balancers: run `crossaz pull network`, or save `aws ec2 describe-network-interfaces` output"));
    }
    let outcome = pipeline::run(&inputs, printer)?;
    let exit = finish(&outcome, printer);
    let mut report = outcome.report;
    report.paths = Some(paths::analyze(&report.measurement, &outcome.paths, outcome.latest_snapshot.as_ref(), &opts));
    emit(&render_paths::render(&report, args.format)?, args.output.as_deref())?;
    Ok(exit)
}

/// The network-path what-if with the bundled prices (the demo's and the review's).
pub fn paths_for(measurement: &Measurement, outcome: &pipeline::Outcome, workspace: Option<&std::path::Path>) -> Result<paths::PathsWhatIf, Error> {
    let opts = path_options(workspace, None)?;
    Ok(paths::analyze(measurement, &outcome.paths, outcome.latest_snapshot.as_ref(), &opts))
}

fn run_rds(args: RdsArgs, printer: &Printer) -> Result<ExitCode, Error> {
    if args.format == Format::Parquet {
        return Err(Error::usage("`crossaz whatif rds` writes table, CSV or JSON"));
    }
    let workspace = args.input.workspace.clone();
    let inputs = args.input.inputs()?;
    if inputs.network.is_empty() {
        return Err(Error::usage("`crossaz whatif rds` needs the network inventory: pass `--network`")
            .hint("run `crossaz pull network`, or save `aws ec2 describe-network-interfaces` and `aws rds describe-db-instances` output"));
    }
    let mut prices = PriceTable::bundled();
    let mut sources = vec!["the bundled table (docs/rds.md)".to_string()];
    let ws = Workspace::new(workspace.as_deref().unwrap_or(std::path::Path::new(crate::workspace::DEFAULT)));
    if ws.rds_prices().is_file() {
        prices.overlay(PriceTable::load(&ws.rds_prices())?);
        sources.push(format!("`{}`", ws.rds_prices().display()));
    }
    let prices_file = match &args.prices {
        Some(p) => {
            let file = PriceTable::load(p)?;
            prices.overlay(file.clone());
            sources.push(format!("`{}`", p.display()));
            Some(file)
        }
        None => None,
    };
    let outcome = pipeline::run(&inputs, printer)?;
    let exit = finish(&outcome, printer);
    if outcome.databases.is_empty() {
        return Err(Error::failure("the network inventory holds no RDS database or RDS interface").hint(
            "add `aws rds describe-db-instances` and `describe-db-clusters` output, or the RDS interfaces (`describe-network-interfaces`), to `--network`",
        ));
    }
    let opts = rds::Options {
        ids: args.dbs,
        read_fraction: args.read_fraction,
        rto_seconds: args.rto,
        defaults: rds::Defaults { engine: args.engine, class: args.class, storage_gb: args.storage_gb, storage_type: args.storage_type },
        prices,
        prices_source: sources.join(", overridden by "),
        prices_file,
    };
    let mut report = outcome.report;
    report.rds = Some(rds::analyze(&report.measurement, &outcome.databases, &outcome.db_days, &opts)?);
    emit(&render_rds::render(&report, args.format)?, args.output.as_deref())?;
    Ok(exit)
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
        let report = Report::new(build::without_traffic(loaded.info, &inputs.rates, &inputs.rules, region, vec![]));
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
    report.routing = Some(routing::analyze(&snapshot, traffic.then_some(&report.measurement), &Options { services: args.services }));
    emit(&render_routing::render(&report, args.format, None)?, args.output.as_deref())?;
    Ok(exit)
}

/// The RDS what-if with the bundled prices and default assumptions (the demo's table).
pub fn rds_for(measurement: &Measurement, outcome: &pipeline::Outcome) -> Result<rds::RdsWhatIf, Error> {
    let opts = rds::Options { prices: PriceTable::bundled(), prices_source: "the bundled table (docs/rds.md)".into(), ..rds::Options::default() };
    rds::analyze(measurement, &outcome.databases, &outcome.db_days, &opts)
}

/// The routing what-if for a finished attribution (the demo's top-savings table).
pub fn routing_for(measurement: &Measurement, snapshot: &crate::model::k8s::Snapshot) -> routing::RoutingWhatIf {
    routing::analyze(snapshot, Some(measurement), &Options::default())
}
