//! `crossaz athena`: the flow-log pre-aggregation that runs in Amazon Athena (docs/athena.md).
//! `athena sql` prints the query for a window; running it and reading its result come next.

use super::{emit, parse_time_arg};
use crate::error::Error;
use crate::printer::Printer;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// Print the pre-aggregation query for a window (runs unchanged on Athena and DuckDB).
    Sql(SqlArgs),
}

#[derive(clap::Args, Debug)]
pub struct SqlArgs {
    /// Records that start at or after this time (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub from: i64,
    /// Records that start before this time.
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub to: i64,
    /// The flow-log table, with AWS's Parquet column names.
    #[arg(long, value_name = "DATABASE.TABLE", default_value = "crossaz.flow_logs")]
    pub table: String,
    /// kubectl JSON snapshots of the window: their Service, target and NodePorts are kept exactly
    /// (default: the workspace's `k8s/`; without snapshots every port is kept).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub k8s: Vec<PathBuf>,
    #[arg(long, value_name = "DIR", env = "CROSSAZ_WORKSPACE")]
    pub workspace: Option<PathBuf>,
}

pub fn run(args: Args, printer: &Printer) -> Result<ExitCode, Error> {
    match args.what {
        What::Sql(a) => {
            let mut k8s = a.k8s.clone();
            if let Some(ws) = &a.workspace {
                k8s.push(crate::workspace::Workspace::new(ws).k8s());
            }
            let ports = if k8s.is_empty() {
                None
            } else {
                let (snaps, problems) = crate::sources::k8s::load_snapshots(&k8s);
                for p in &problems {
                    printer.warn_input(p);
                }
                if snaps.is_empty() {
                    return Err(Error::usage("no Kubernetes snapshots read: the ports to keep are not known")
                        .hint("pass `--k8s` with kubectl JSON, or no `--k8s` to keep every port"));
                }
                crate::model::timeline::Timeline::build(snaps).listening_ports()
            };
            let sql = crate::athena::flow_aggregates_sql(&a.table, a.from, a.to, ports.as_ref())?;
            emit(sql.as_bytes(), None)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
