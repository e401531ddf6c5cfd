//! `crossaz generate`: writes a sample month (and its ground truth) for demos, tests and benchmarks.

use crate::error::Error;
use crate::generate::{self, FlowFormat, Options, Unlogged};
use crate::printer::Printer;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// The bundled demo (`fixtures/demo`): the sample month, its last day shaped like a real account.
    Demo,
    /// A month of the sample cluster, without the real-account shapes (what `bench` measures).
    Month,
    /// One day of Services placed so that what topology-aware routing would save is known
    /// (`routing-truth.json`).
    Routing,
    /// One day shaped like a real account: a node and an ALB interface replaced, network
    /// snapshots, a Classic Load Balancer with kube-proxy's second hop, a database logged from
    /// 10:00, a SKIPDATA gap, database replication, another account's and another VPC's flow logs
    /// on the same CIDR in the bucket, and a security team's second flow log over one subnet.
    RealAccount,
    /// A month of three databases (a Multi-AZ DB instance that fails over, a Multi-AZ DB cluster,
    /// a single-AZ instance) whose options' cross-AZ bytes are known (`rds-truth.json`).
    Rds,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long, value_enum, default_value = "demo")]
    pub scenario: Scenario,
    /// Directory to write `flow-logs/`, `network/`, `k8s/` and `truth.json` into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    #[arg(long, default_value_t = 31)]
    pub days: u32,
    /// The first day (UTC midnight; default 2026-10-01).
    #[arg(long, value_name = "DATE", value_parser = super::common::parse_time_arg)]
    pub start: Option<i64>,
    /// Multiply every traffic rate by this.
    #[arg(long, default_value_t = 1, conflicts_with = "records")]
    pub scale: u64,
    /// Aim for about this many flow-log records (sets `--scale`).
    #[arg(long)]
    pub records: Option<u64>,
    #[arg(long, value_enum, default_value = "recommended")]
    pub format: FlowFormat,
    /// Leave out the header line of text files.
    #[arg(long)]
    pub no_header: bool,
    #[arg(long, default_value_t = 1)]
    pub files_per_day: usize,
    /// Interfaces the flow log does not cover.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub unlogged: Vec<Unlogged>,
}

pub fn run(args: Args, printer: &Printer) -> Result<ExitCode, Error> {
    let mut opts = Options {
        seed: args.seed,
        days: args.days,
        scale: args.scale.max(1),
        format: args.format,
        header: !args.no_header,
        files_per_day: args.files_per_day,
        unlogged: args.unlogged,
        real_account: matches!(args.scenario, Scenario::RealAccount | Scenario::Demo),
        ..Options::default()
    };
    if let Some(start) = args.start {
        opts.start = start - start.rem_euclid(crate::model::time::SECONDS_PER_DAY);
    }
    if args.scenario == Scenario::RealAccount {
        opts.days = 1;
    }
    if args.scenario == Scenario::Routing {
        let n = generate::routing::generate(&args.out, args.seed, opts.start).map_err(|e| Error::io("write the routing scenario to", &args.out, e))?;
        if !printer.quiet {
            eprintln!(
                "wrote {n} flow-log records, a Kubernetes snapshot and the network inventory to `{}`; ground truth in `routing-truth.json`",
                args.out.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.scenario == Scenario::Rds {
        let n = generate::rds::generate(&args.out, args.seed, opts.start).map_err(|e| Error::io("write the RDS scenario to", &args.out, e))?;
        if !printer.quiet {
            eprintln!(
                "wrote {n} flow-log records, a Kubernetes snapshot and the network inventory to `{}`; ground truth in `rds-truth.json`",
                args.out.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if opts.days == 0 {
        return Err(Error::usage("`--days` must be at least 1"));
    }
    if let Some(n) = args.records {
        let per_month = generate::records_per_month_at_scale_one(&opts).max(1);
        opts.scale = (n + per_month / 2) / per_month;
        opts.scale = opts.scale.max(1);
    }
    let s = generate::generate(&opts, &args.out).map_err(|e| Error::io("write the sample data to", &args.out, e))?;
    if !printer.quiet {
        eprintln!(
            "wrote {} flow-log records in {} files ({} bytes), {} Kubernetes snapshots and the network inventory to `{}`; ground truth in `truth.json`",
            s.records,
            s.flow_log_files,
            s.flow_log_bytes,
            s.snapshots,
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
