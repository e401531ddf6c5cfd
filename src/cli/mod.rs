//! The command line: one module per subcommand, each with its `Args` and `run`.

pub mod athena;
pub mod attribute;
pub mod bench;
pub mod common;
pub mod demo;
pub mod doctor;
pub mod generate;
pub mod pull;
pub mod reconcile;
pub mod review;
pub mod setup;
pub mod whatif;

use crate::error::Error;
use crate::printer::Printer;
use clap::{Parser, Subcommand};
use common::emit;
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
    /// The configuration file (default: `crossaz.toml` in the workspace; docs/config.md).
    #[arg(long, global = true, value_name = "FILE", env = "CROSSAZ_CONFIG")]
    pub config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Attribute cross-AZ bytes in flow logs to workloads and Services, and price them.
    Attribute(attribute::Args),
    /// Fetch flow logs, the network inventory, the bill, Kubernetes snapshots, prices or AWS's address ranges into a workspace.
    Pull(pull::Args),
    /// How much of the billed inter-AZ transfer (Cost Explorer) the flow logs explain.
    Reconcile(reconcile::Args),
    /// What a change would save: topology-aware routing (`routing`), the RDS deployment (`rds`), the network paths (`paths`).
    Whatif(whatif::Args),
    /// Find the cluster's VPC, flow logs and billing sources, say what is missing, write `crossaz.toml`.
    Setup(setup::Args),
    /// What a workspace lacks for a month's report, and the command that fixes each.
    Doctor(doctor::Args),
    /// The monthly cost review: an HTML page, Markdown, CSV and JSON, month over month, with CI thresholds.
    Review(review::Args),
    /// Run the whole pipeline on the bundled sample month (no AWS account, no cluster).
    Demo(demo::Args),
    /// Time crossaz against DuckDB on the same generated flow logs (see docs/benchmark.md).
    Bench(bench::Args),
    /// The flow-log pre-aggregation for Amazon Athena: `athena sql` prints it (docs/athena.md).
    Athena(athena::Args),
    /// Write a deterministic sample month (flow logs, network JSON, kubectl snapshots) and its ground truth.
    Generate(generate::Args),
    /// Print a shell completion script: `crossaz completions bash > /etc/bash_completion.d/crossaz`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `crossaz man > /usr/local/share/man/man1/crossaz.1`.
    Man,
}

pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    let printer = Printer { quiet: cli.quiet };
    let mut command = cli.command;
    let configured =
        matches!(command, Command::Attribute(_) | Command::Pull(_) | Command::Reconcile(_) | Command::Whatif(_) | Command::Review(_) | Command::Doctor(_));
    let cfg = if configured { crate::config::load(cli.config.as_deref(), command.workspace().as_deref())? } else { crate::config::Loaded::default() };
    command.apply(&cfg);
    match command {
        Command::Attribute(args) => attribute::run(args, &printer, &cfg),
        Command::Pull(args) => pull::run(args, &printer, &cfg),
        Command::Reconcile(args) => reconcile::run(args, &printer),
        Command::Whatif(args) => whatif::run(args, &printer),
        Command::Review(args) => review::run(args, &printer),
        Command::Setup(args) => setup::run(args, &printer),
        Command::Doctor(args) => doctor::run(args, &printer, &cfg),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "crossaz", &mut out);
            emit(&out, None)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut out)
                .map_err(|e| Error::failure("failed to write the manual page").caused_by(e))?;
            emit(&out, None)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => demo::run(args, &printer),
        Command::Generate(args) => generate::run(args, &printer),
        Command::Bench(args) => bench::run(args, &printer),
        Command::Athena(args) => athena::run(args, &printer),
    }
}

impl Command {
    /// The workspace a command names (flag or `CROSSAZ_WORKSPACE`), where `crossaz.toml` is looked for.
    fn workspace(&self) -> Option<std::path::PathBuf> {
        match self {
            Command::Attribute(a) => a.input.workspace.clone(),
            Command::Reconcile(a) => a.input.workspace.clone(),
            Command::Review(a) => a.input.workspace.clone(),
            Command::Whatif(w) => match &w.what {
                whatif::What::Routing(a) => a.input.workspace.clone(),
                whatif::What::Rds(a) => a.input.workspace.clone(),
                whatif::What::Paths(a) => a.input.workspace.clone(),
            },
            Command::Pull(a) => a.workspace.clone(),
            Command::Doctor(a) => a.workspace.clone(),
            Command::Setup(a) => a.workspace.clone(),
            _ => None,
        }
    }

    /// Fills the inputs that flags and environment left empty from the configuration.
    fn apply(&mut self, cfg: &crate::config::Loaded) {
        match self {
            Command::Reconcile(a) => a.input.apply(cfg),
            Command::Doctor(a) if a.workspace.is_none() => a.workspace = cfg.workspace(),
            Command::Review(a) => a.input.apply(cfg),
            Command::Whatif(w) => match &mut w.what {
                whatif::What::Routing(a) => a.input.apply(cfg),
                whatif::What::Paths(a) => {
                    a.input.apply(cfg);
                    if a.prices.is_none() {
                        a.prices = cfg.path_of(&cfg.config.pricing.path_prices);
                    }
                }
                whatif::What::Rds(a) => {
                    a.input.apply(cfg);
                    if a.prices.is_none() {
                        a.prices = cfg.path_of(&cfg.config.pricing.rds_prices);
                    }
                }
            },
            _ => {}
        }
    }
}
