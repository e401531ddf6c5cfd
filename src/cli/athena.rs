//! `crossaz athena`: the flow-log pre-aggregation that runs in Amazon Athena (docs/athena.md).
//! `athena setup` creates the table over the flow-log bucket, `athena sql` prints the query for a
//! window, and `attribute --engine athena` runs it here (`aggregate_in_athena`).

use super::common::{emit, parse_time_arg};
use crate::athena::{FileFormat, Layout, TableSpec};
use crate::error::Error;
use crate::model::time::Ts;
use crate::printer::Printer;
use crate::report::AthenaQuery;
use crate::sources::aws::{self, AwsArgs};
use rust_decimal::Decimal;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// Create the database and the flow-log table over a bucket, with partition projection
    /// (or print the DDL with `--print`).
    Setup(Box<SetupArgs>),
    /// Print the pre-aggregation query for a window (runs unchanged on Athena and DuckDB).
    Sql(SqlArgs),
}

#[derive(clap::Args, Debug)]
pub struct SetupArgs {
    /// The bucket the flow logs deliver to.
    #[arg(long, value_name = "BUCKET")]
    pub bucket: String,
    /// The flow log's key prefix, before `AWSLogs/`.
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// The flow log's file format.
    #[arg(long, value_enum)]
    pub format: FileFormat,
    /// The flow log writes Hive-compatible prefixes (`aws-account-id=…/…/year=…/month=…/day=…`).
    #[arg(long)]
    pub hive: bool,
    /// The flow log writes a folder per hour.
    #[arg(long)]
    pub per_hour: bool,
    #[arg(long, value_name = "NAME", default_value = "crossaz")]
    pub database: String,
    /// The table the pre-aggregation reads (for text, a view over `<TABLE>_text`).
    #[arg(long, value_name = "NAME", default_value = "flow_logs")]
    pub table: String,
    /// The accounts whose flow logs are in the bucket.
    #[arg(long = "account", value_name = "ID", num_args = 1.., value_delimiter = ',')]
    pub accounts: Vec<String>,
    /// The regions whose flow logs are in the bucket (default: `--region`, else `AWS_REGION`).
    #[arg(long = "logs-region", value_name = "REGION", num_args = 1.., value_delimiter = ',')]
    pub regions: Vec<String>,
    /// The first day partition projection considers.
    #[arg(long, value_name = "DATE", value_parser = parse_time_arg, default_value = "2021-10-01")]
    pub since: i64,
    /// For `--format text`: the format string the flow log was created with (default: AWS's default format).
    #[arg(long, value_name = "FORMAT")]
    pub flow_log_format: Option<String>,
    /// Print the statements instead of running them.
    #[arg(long)]
    pub print: bool,
    #[arg(long, value_name = "NAME", default_value = "primary")]
    pub workgroup: String,
    /// Where Athena writes statement results, when the workgroup sets no location.
    #[arg(long, value_name = "S3-URI")]
    pub athena_output: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    #[default]
    Local,
    Athena,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Fetch {
    #[default]
    S3,
    Api,
}

/// `attribute --engine athena`: where the pre-aggregation runs and how its result comes back.
#[derive(clap::Args, Debug, Default)]
pub struct EngineArgs {
    /// Where flow-log records are summed: `local` reads files; `athena` runs the pre-aggregation in
    /// Amazon Athena and attributes its result here, as `local` would (docs/athena.md).
    #[arg(long, value_enum, default_value = "local")]
    pub engine: Engine,
    /// With `--engine athena`: the flow-log table of `crossaz athena setup`.
    #[arg(long, value_name = "DATABASE.TABLE", default_value = "crossaz.flow_logs")]
    pub table: String,
    /// With `--engine athena`: the workgroup the query runs in.
    #[arg(long, value_name = "NAME", default_value = "primary")]
    pub workgroup: String,
    /// With `--engine athena`: where Athena writes the result, when the workgroup sets no location.
    #[arg(long, value_name = "S3-URI")]
    pub athena_output: Option<String>,
    /// With `--engine athena`: download the result object from S3, or page it through GetQueryResults.
    #[arg(long, value_enum, value_name = "HOW", default_value = "s3")]
    pub athena_fetch: Fetch,
    /// With `--engine athena`: the price per TB scanned, for the query's cost in the report.
    #[arg(long, value_name = "USD", default_value = crate::pricing::athena::DEFAULT_USD_PER_TB)]
    pub athena_usd_per_tb: Decimal,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Every port a Service or NodePort match can name in the snapshots; `None` keeps every port.
pub fn listening_ports(k8s: &[PathBuf], printer: &Printer) -> Result<Option<BTreeSet<u16>>, Error> {
    if k8s.is_empty() {
        return Ok(None);
    }
    let (timeline, snapshots, problems) = crate::sources::k8s::load_timeline(k8s);
    for p in &problems {
        printer.warn_input(p);
    }
    if snapshots == 0 {
        return Err(Error::usage("no Kubernetes snapshots read: the ports to keep are not known")
            .hint("pass `--k8s` with kubectl JSON, or no `--k8s` to keep every port"));
    }
    Ok(timeline.listening_ports())
}

/// Runs the pre-aggregation of `[from, to)` in Athena and fetches its result into `dir`: the
/// file for `--flow-aggregates`, and what the query scanned and cost.
pub fn aggregate_in_athena(a: &EngineArgs, (from, to): (Ts, Ts), k8s: &[PathBuf], dir: &Path, printer: &Printer) -> Result<(PathBuf, AthenaQuery), Error> {
    let sql = crate::athena::flow_aggregates_sql(&a.table, from, to, listening_ports(k8s, printer)?.as_ref())?;
    aws::runtime()?.block_on(async {
        let conf = aws::sdk_config(&a.aws).await;
        let client = aws_sdk_athena::Client::new(&conf);
        let spinner = printer.spinner("Athena query");
        let target = aws::athena::Target { workgroup: &a.workgroup, output: a.athena_output.as_deref() };
        let finished = aws::athena::run(&client, &sql, &target, &spinner, !printer.quiet).await;
        spinner.finish_and_clear();
        let finished = finished?;
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        let name: String = finished.query_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        let dest = dir.join(format!("{name}.csv"));
        let (result_rows, fetched_from) = match a.athena_fetch {
            Fetch::S3 => {
                let bar = printer.progress(0, "downloading the Athena result");
                let r = aws::athena::download_result(&aws::s3_client(&conf, &a.aws), &finished, &dest, &bar).await;
                bar.finish_and_clear();
                r.map_err(|e| e.or_hint("or page the result through Athena instead: `crossaz attribute --engine athena … --athena-fetch api`"))?;
                (data_lines(&dest)?, finished.output_location.clone().unwrap_or_default())
            }
            Fetch::Api => {
                let bar = printer.spinner("reading the Athena result");
                let r = aws::athena::page_result(&client, &finished.query_id, &dest, &bar).await;
                bar.finish_and_clear();
                (r?, "GetQueryResults".to_string())
            }
        };
        let query = AthenaQuery {
            cost_usd: crate::pricing::athena::scan_cost(finished.data_scanned_bytes, a.athena_usd_per_tb),
            query_id: finished.query_id,
            workgroup: a.workgroup.clone(),
            table: a.table.clone(),
            data_scanned_bytes: finished.data_scanned_bytes,
            usd_per_tb: a.athena_usd_per_tb,
            engine_execution_ms: finished.engine_execution_ms,
            result_rows,
            fetched_from,
        };
        Ok((dest, query))
    })
}

/// Lines after the header.
fn data_lines(path: &Path) -> Result<u64, Error> {
    let lines = crate::sources::flowlogs::aggregates::newlines(path, u64::MAX).map_err(|e| Error::io("read", path, e))?;
    Ok(lines.saturating_sub(1))
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
        What::Setup(a) => setup(*a, printer),
        What::Sql(a) => {
            let mut k8s = a.k8s.clone();
            if let Some(ws) = &a.workspace {
                k8s.push(crate::workspace::Workspace::new(ws).k8s());
            }
            let sql = crate::athena::flow_aggregates_sql(&a.table, a.from, a.to, listening_ports(&k8s, printer)?.as_ref())?;
            emit(sql.as_bytes(), None)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn setup(a: SetupArgs, printer: &Printer) -> Result<ExitCode, Error> {
    if a.flow_log_format.is_some() && a.format == FileFormat::Parquet {
        return Err(Error::usage("`--flow-log-format` is for `--format text`").hint("Parquet columns are found by name"));
    }
    let mut regions = a.regions.clone();
    if regions.is_empty() {
        regions.extend(a.aws.region.clone().or_else(|| std::env::var("AWS_REGION").ok()));
    }
    let spec = TableSpec {
        bucket: a.bucket.clone(),
        prefix: a.prefix.clone(),
        format: a.format,
        layout: Layout { hive: a.hive, per_hour: a.per_hour },
        database: a.database.clone(),
        table: a.table.clone(),
        accounts: a.accounts.clone(),
        regions,
        since: a.since,
        log_format: a.flow_log_format.clone(),
    };
    let statements = spec.ddl()?;
    if a.print {
        let text: String = statements.iter().map(|s| format!("{s};\n\n")).collect();
        emit(text.trim_end().as_bytes(), None)?;
        emit(b"\n", None)?;
        return Ok(ExitCode::SUCCESS);
    }
    let ids = aws::runtime()?.block_on(async {
        let conf = aws::sdk_config(&a.aws).await;
        let client = aws_sdk_athena::Client::new(&conf);
        let target = aws::athena::Target { workgroup: &a.workgroup, output: a.athena_output.as_deref() };
        let mut ids = Vec::new();
        for sql in &statements {
            let spinner = printer.spinner("Athena");
            let r = aws::athena::run(&client, sql, &target, &spinner, false).await;
            spinner.finish_and_clear();
            ids.push(r?.query_id);
        }
        Ok::<_, Error>(ids)
    })?;
    let under = if a.format == FileFormat::Text { "text" } else { "parquet" };
    let made = format!("table {0}.{1}_{under} and view {0}.{1}", a.database, a.table);
    let text = format!(
        "created database {} and {made} over `{}` in workgroup {} (queries {}); next: `crossaz attribute --engine athena --table {} …`\n",
        a.database,
        spec.location(),
        a.workgroup,
        ids.join(", "),
        spec.query_table()
    );
    emit(text.as_bytes(), None)?;
    Ok(ExitCode::SUCCESS)
}
