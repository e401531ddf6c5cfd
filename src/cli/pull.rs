//! `crossaz pull …`: fetch flow logs, the network inventory, the bill and Kubernetes snapshots into
//! a workspace, so every other command runs offline on it.

use super::common::{emit, parse_time_arg};
use crate::error::Error;
use crate::printer::Printer;
use crate::sources::aws::{self, AwsArgs};
use crate::sources::kube_pull;
use crate::workspace::Workspace;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
    /// Where pulled data goes (see docs/pull.md for the layout) [default: crossaz-data].
    #[arg(long, global = true, value_name = "DIR", env = "CROSSAZ_WORKSPACE")]
    pub workspace: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// VPC flow logs from S3 (both key layouts) or CloudWatch Logs.
    FlowLogs(FlowLogsArgs),
    /// Network interfaces, subnets, AZs, RDS instances and clusters.
    Network(NetworkArgs),
    /// Inter-AZ transfer from Cost Explorer, by day (each request costs $0.01; days are cached).
    Billing(BillingArgs),
    /// Nodes, pods, Services and EndpointSlices from the Kubernetes API, as timed snapshots.
    K8s(K8sArgs),
    /// RDS, NAT gateway and VPC endpoint prices from the AWS Price List API, for `whatif rds` and `whatif paths` (cached; docs/rds.md, docs/paths.md).
    Prices(PricesArgs),
    /// AWS's published address ranges (ip-ranges.json), which name the AWS services behind NAT gateway traffic (docs/paths.md).
    IpRanges(IpRangesArgs),
}

#[derive(clap::Args, Debug)]
pub struct IpRangesArgs {
    /// Where AWS publishes the file.
    #[arg(long, value_name = "URL", default_value = "https://ip-ranges.amazonaws.com/ip-ranges.json", env = "CROSSAZ_IP_RANGES_URL")]
    pub url: String,
}

#[derive(clap::Args, Debug)]
pub struct PricesArgs {
    /// Instance classes to price (default: the workspace's RDS instances and their cluster classes).
    #[arg(long = "class", value_name = "CLASS")]
    pub classes: Vec<String>,
    /// Engines to price: `mysql`, `postgres` (default: the workspace's, else both).
    #[arg(long = "engine", value_name = "ENGINE")]
    pub engines: Vec<String>,
    /// Where the Price List API answers (it does in us-east-1, eu-central-1 and ap-south-1).
    #[arg(long, value_name = "REGION", default_value = "us-east-1")]
    pub pricing_region: String,
    /// Ask again instead of using cached answers.
    #[arg(long)]
    pub refresh: bool,
}

#[derive(clap::Args, Debug)]
pub struct FlowLogsArgs {
    /// The S3 bucket the flow log delivers to (default: `crossaz.toml`'s, from `crossaz setup`).
    #[arg(long, conflicts_with = "log_group", env = "CROSSAZ_FLOW_LOG_BUCKET")]
    pub bucket: Option<String>,
    /// The prefix given to the flow log's destination (before `AWSLogs/`).
    #[arg(long, env = "CROSSAZ_FLOW_LOG_PREFIX")]
    pub prefix: Option<String>,
    /// A CloudWatch Logs group the flow log delivers to, instead of S3.
    #[arg(long, value_name = "GROUP", env = "CROSSAZ_FLOW_LOG_GROUP")]
    pub log_group: Option<String>,
    /// [default: the first day of last month]
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub from: Option<i64>,
    /// [default: now]
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub to: Option<i64>,
    /// Simultaneous downloads.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// For `--log-group`: the flow log's format string (default: asked of EC2, else the default format).
    #[arg(long, value_name = "FORMAT")]
    pub flow_log_format: Option<String>,
    /// Only these accounts' folders of a shared bucket (default: the account owning the workspace's VPC).
    #[arg(long = "account", value_name = "ID")]
    pub accounts: Vec<String>,
    /// Only this region's folders (default: the workspace network inventory's region).
    #[arg(long, value_name = "REGION")]
    pub logs_region: Option<String>,
    /// Every account and region under the prefix, whatever the workspace's inventory says.
    #[arg(long, conflicts_with_all = ["accounts", "logs_region"])]
    pub all_accounts: bool,
    /// For `--log-group`: bytes of events held in memory before they are written out.
    #[arg(long, value_name = "BYTES", default_value_t = 32 << 20, hide = true)]
    pub buffer_bytes: usize,
    /// For `--log-group`: stop after this many pages, as if interrupted (for testing the resume).
    #[arg(long, value_name = "N", hide = true)]
    pub stop_after_pages: Option<usize>,
}

#[derive(clap::Args, Debug)]
pub struct NetworkArgs {
    /// The VPC to describe (default: `crossaz.toml`'s, else the VPC of the cluster's nodes, from the kubeconfig).
    #[arg(long, value_name = "VPC", env = "CROSSAZ_VPC")]
    pub vpc_id: Option<String>,
    /// Keep taking snapshots at this interval (`1h`), each in `network/<time>/`, so that interfaces
    /// deleted later (replaced nodes, scaled load balancers) are still known.
    #[arg(long, value_name = "INTERVAL", value_parser = parse_interval)]
    pub every: Option<u64>,
    /// With `--every`: stop after this many snapshots.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// For finding the cluster's VPC without `--vpc-id`.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct BillingArgs {
    /// [default: the first day of last month]
    #[arg(long, value_name = "DATE", value_parser = parse_time_arg)]
    pub from: Option<i64>,
    /// [default: now]
    #[arg(long, value_name = "DATE", value_parser = parse_time_arg)]
    pub to: Option<i64>,
    /// The linked account whose bill to read (default: the account owning the workspace's VPC;
    /// a management account's bill otherwise covers the whole organization).
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// The whole bill the credentials see, every linked account.
    #[arg(long, conflicts_with = "account")]
    pub all_accounts: bool,
    /// Cost Explorer (one figure per day and usage type, paid per request), or a CUR 2.0 / FOCUS
    /// export that Data Exports delivers to S3 (per resource; docs/billing.md).
    /// [default: ce, or `billing.source` in crossaz.toml]
    #[arg(long, value_enum)]
    pub source: Option<BillingSource>,
    /// With `--source cur`: the export's S3 bucket (default: `billing.bucket` in crossaz.toml, from `crossaz setup`).
    #[arg(long, env = "CROSSAZ_CUR_BUCKET")]
    pub bucket: Option<String>,
    /// With `--source cur`: the export's S3 prefix (before the export's name).
    #[arg(long, env = "CROSSAZ_CUR_PREFIX")]
    pub prefix: Option<String>,
    /// With `--source cur`: the export's name (default: every export under the prefix).
    #[arg(long, value_name = "NAME", env = "CROSSAZ_CUR_EXPORT")]
    pub export: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BillingSource {
    Ce,
    Cur,
}

#[derive(clap::Args, Debug)]
pub struct K8sArgs {
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Keep taking snapshots at this interval (`30s`, `5m`, `1h`) until stopped.
    #[arg(long, value_name = "INTERVAL", value_parser = parse_interval)]
    pub every: Option<u64>,
    /// With `--every`: stop after this many snapshots (missed ones included).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// First wait before trying a failed snapshot again (doubling each time).
    #[arg(long, value_name = "MS", default_value_t = 1000, hide = true)]
    pub retry_base_ms: u64,
}

/// `30s`, `5m`, `1h` → seconds.
pub fn parse_interval(s: &str) -> Result<u64, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| format!("`{s}` is not an interval: expected e.g. `30s`, `5m`, `1h`"))?;
    let secs = match unit {
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => {
            return Err(format!("`{s}` is not an interval: expected e.g. `30s`, `5m`, `1h`"));
        }
    };
    if secs == 0 {
        return Err("the interval must be at least 1s".into());
    }
    Ok(secs)
}

/// `--from`/`--to`, by default from the first day of last month (UTC) to now: last month whole,
/// for its review, and this month so far.
fn window(from: Option<i64>, to: Option<i64>) -> Result<(i64, i64), Error> {
    let now = chrono::Utc::now().timestamp();
    let to = to.unwrap_or(now);
    let from = match from {
        Some(f) => f,
        None => crate::model::time::Month::containing(to - 1).and_then(|m| m.previous()).map(|m| m.from).unwrap_or(to - 31 * 86_400),
    };
    if to <= from {
        return Err(Error::usage("`--to` must be later than `--from`"));
    }
    Ok((from, to))
}

/// Fills what flags and the environment left empty from `crossaz.toml`.
fn apply(args: &mut Args, cfg: &crate::config::Loaded) {
    let c = &cfg.config;
    if args.workspace.is_none() {
        args.workspace = cfg.workspace();
    }
    let env = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    if args.aws.region.is_none() && !env("AWS_REGION") && !env("AWS_DEFAULT_REGION") {
        args.aws.region = c.region.clone();
    }
    if args.aws.profile.is_none() && !env("AWS_PROFILE") {
        args.aws.profile = c.profile.clone();
    }
    match &mut args.what {
        What::FlowLogs(a) => {
            if a.bucket.is_none() && a.log_group.is_none() {
                a.bucket = c.flow_logs.bucket.clone();
                a.log_group = c.flow_logs.log_group.clone();
            }
            if a.prefix.is_none() {
                a.prefix = c.flow_logs.prefix.clone();
            }
            if a.flow_log_format.is_none() {
                a.flow_log_format = c.flow_logs.format.clone();
            }
        }
        What::Network(a) if a.vpc_id.is_none() => a.vpc_id = c.vpc.clone(),
        What::Billing(a) => {
            if a.account.is_none() && !a.all_accounts {
                a.account = c.account.clone();
            }
            if a.source.is_none() && c.billing.source.as_deref() == Some("cur") {
                a.source = Some(BillingSource::Cur);
            }
            // The export `crossaz setup` found, for `--source cur`.
            if a.bucket.is_none() {
                a.bucket = c.billing.bucket.clone();
                a.prefix = a.prefix.take().or_else(|| c.billing.prefix.clone());
                a.export = a.export.take().or_else(|| c.billing.export.clone());
            }
        }
        _ => {}
    }
}

pub fn run(mut args: Args, printer: &Printer, cfg: &crate::config::Loaded) -> Result<ExitCode, Error> {
    apply(&mut args, cfg);
    let root = args.workspace.clone().unwrap_or_else(|| PathBuf::from(crate::workspace::DEFAULT));
    let ws = Workspace::new(&root);
    std::fs::create_dir_all(&ws.root).map_err(|e| Error::io("create the workspace", &ws.root, e))?;
    let rt = aws::runtime()?;
    let text = rt.block_on(async {
        match args.what {
            What::FlowLogs(a) => flow_logs(&args.aws, a, &ws, printer).await,
            What::Network(a) => network(&args.aws, a, &ws, printer).await,
            What::Billing(a) if a.source == Some(BillingSource::Cur) => cur(&args.aws, a, &ws, printer).await,
            What::Billing(a) => {
                let (from, to) = window(a.from, a.to)?;
                let conf = aws::sdk_config(&args.aws).await;
                let region = conf
                    .region()
                    .map(|r| r.to_string())
                    .ok_or_else(|| Error::usage("the bill's usage types depend on the region: pass `--region` (the region of the cluster)"))?;
                let inv = crate::pipeline::network_inventory(&ws.network());
                let account = match (&a.account, a.all_accounts, inv.owners.len()) {
                    (Some(x), _, _) => Some(x.clone()),
                    (None, false, 1) => inv.owners.iter().next().cloned(),
                    _ => None,
                };
                let b = aws::ce::pull(&aws_sdk_costexplorer::Client::new(&conf), &region, account.as_deref(), from, to, &ws).await?;
                let mut cents = rust_decimal::Decimal::from(b.paid_requests) / rust_decimal::Decimal::from(100);
                cents.rescale(2);
                Ok(format!(
                    "billing ({}): {} days in the window, {} already closed and cached; made {} paid Cost Explorer requests (${}) into `{}`\n",
                    account.as_deref().map(|x| format!("account {x}")).unwrap_or_else(|| "every linked account".into()),
                    b.days,
                    b.days_cached,
                    b.paid_requests,
                    cents,
                    ws.billing().display()
                ))
            }
            What::K8s(a) => k8s(a, &ws, printer).await,
            What::Prices(a) => prices(&args.aws, a, &ws).await,
            What::IpRanges(a) => ip_ranges(&a.url, &ws).await,
        }
    })?;
    emit(text.as_bytes(), None)?;
    Ok(ExitCode::SUCCESS)
}

async fn flow_logs(aws_args: &AwsArgs, a: FlowLogsArgs, ws: &Workspace, printer: &Printer) -> Result<String, Error> {
    let (from, to) = window(a.from, a.to)?;
    if a.bucket.is_none() && a.log_group.is_none() {
        return Err(Error::usage("where does the flow log deliver? pass `--bucket` (S3) or `--log-group` (CloudWatch Logs)")
            .hint("`crossaz setup --cluster NAME` finds the cluster's flow logs and remembers them in `crossaz.toml`"));
    }
    let conf = aws::sdk_config(aws_args).await;
    if let Some(group) = &a.log_group {
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        let (logs, fmt_requests) = aws::cwl::formats_of(&ec2, group, a.flow_log_format.as_deref()).await?;
        let now = chrono::Utc::now().timestamp();
        let region = conf.region().map(|r| r.to_string()).unwrap_or_else(|| "unknown".into());
        let opts = aws::cwl::CwlOptions { buffer_bytes: a.buffer_bytes.max(1), stop_after_pages: a.stop_after_pages };
        let c = aws::cwl::pull(&aws_sdk_cloudwatchlogs::Client::new(&conf), group, &logs, &region, (from, to), now, ws, opts).await?;
        let ids: Vec<String> = logs.iter().map(|l| l.id.clone().unwrap_or_else(|| "given format".into())).collect();
        return Ok(format!(
            "pulled {} events of {} streams over {} days ({} days already complete{}) from log group `{group}` ({} flow logs: {}) into `{}` ({} requests)\n",
            c.events,
            c.streams,
            c.days,
            c.days_cached,
            if c.resumed > 0 { format!(", {} resumed", c.resumed) } else { String::new() },
            logs.len(),
            ids.join(", "),
            ws.flow_logs().display(),
            c.requests + fmt_requests
        ));
    }
    let bucket = a.bucket.as_deref().unwrap_or_default();
    let s3 = aws::s3_client(&conf, aws_args);
    // A central bucket holds many accounts' and regions' VPCs: by default only the inventory's.
    let inv = crate::pipeline::network_inventory(&ws.network());
    let (accounts, region) = if a.all_accounts {
        (Vec::new(), None)
    } else {
        let accounts = if a.accounts.is_empty() { inv.owners.iter().cloned().collect() } else { a.accounts.clone() };
        (accounts, a.logs_region.clone().or_else(|| inv.region()))
    };
    let bar = printer.progress(0, "downloading flow logs");
    let prefix = a.prefix.clone().unwrap_or_default();
    let src = aws::s3::S3Source { bucket, prefix: &prefix, from, to, concurrency: a.concurrency, accounts: &accounts, region: region.as_deref() };
    let r = aws::s3::pull(&s3, &src, ws, &bar).await;
    bar.finish_and_clear();
    let r = r?;
    let scope = match (accounts.is_empty(), &region) {
        (true, None) => "every account and region".to_string(),
        _ => format!("account {} in {}", if accounts.is_empty() { "any".to_string() } else { accounts.join(", ") }, region.as_deref().unwrap_or("any region")),
    };
    let mut out = format!(
        "flow logs ({scope}): {} objects in the window, {} downloaded ({} bytes), {} already up to date, into `{}` ({} list requests)\n",
        r.listed,
        r.downloaded,
        r.bytes,
        r.up_to_date,
        ws.flow_logs().display(),
        r.list_requests
    );
    if !r.skipped_folders.is_empty() {
        out.push_str(&format!("left out other accounts' and regions' folders: {} (`--all-accounts` takes them)\n", r.skipped_folders.join(", ")));
    }
    if accounts.is_empty() && region.is_none() && !a.all_accounts {
        out.push_str(
            "note: no network inventory in the workspace to scope the pull: run `crossaz pull network` first, or pass `--account` and `--logs-region`\n",
        );
    }
    Ok(out)
}

async fn cur(aws_args: &AwsArgs, a: BillingArgs, ws: &Workspace, printer: &Printer) -> Result<String, Error> {
    let (from, to) = window(a.from, a.to)?;
    let Some(bucket) = a.bucket.as_deref() else {
        return Err(Error::usage("which bucket does the export deliver to? pass `--bucket` (and `--prefix`, `--export`)")
            .hint("`crossaz setup` finds the account's CUR 2.0 and FOCUS exports and remembers them in `crossaz.toml`"));
    };
    let conf = aws::sdk_config(aws_args).await;
    let s3 = aws::s3_client(&conf, aws_args);
    let bar = printer.progress(0, "downloading the billing export");
    let src = aws::cur::CurSource { bucket, prefix: a.prefix.as_deref().unwrap_or(""), export: a.export.as_deref(), from, to };
    let r = aws::cur::pull(&s3, &src, ws, &bar).await;
    bar.finish_and_clear();
    let r = r?;
    Ok(format!(
        "billing export ({}): {} billing periods ({}), {} data files, {} downloaded ({} bytes), {} already up to date, {} replaced files removed, into `{}` ({} requests)\n",
        r.exports.join(", "),
        r.periods.len(),
        r.periods.join(", "),
        r.listed,
        r.downloaded,
        r.bytes,
        r.up_to_date,
        r.removed,
        ws.cur().display(),
        r.requests
    ))
}

async fn network(aws_args: &AwsArgs, a: NetworkArgs, ws: &Workspace, printer: &Printer) -> Result<String, Error> {
    let conf = aws::sdk_config(aws_args).await;
    let (ec2, rds) = (aws_sdk_ec2::Client::new(&conf), aws_sdk_rds::Client::new(&conf));
    // One VPC: a bucket or an account holds others, often on the same CIDR.
    let vpc = match a.vpc_id {
        Some(v) => v,
        None => cluster_vpc(&ec2, a.kubeconfig.as_deref(), a.context.as_deref()).await?,
    };
    let summary = |n: &aws::ec2::NetworkPull, dir: &std::path::Path| {
        format!(
            "pulled {} network interfaces, {} subnets, {} AZs, {} RDS instances and {} RDS clusters of {vpc} into `{}` ({} requests)\n",
            n.interfaces,
            n.subnets,
            n.zones,
            n.db_instances,
            n.db_clusters,
            dir.display(),
            n.requests
        )
    };
    let Some(every) = a.every else {
        let n = aws::ec2::pull(&ec2, &rds, Some(&vpc), &ws.network()).await?;
        return Ok(summary(&n, &ws.network()));
    };
    let mut taken = 0u64;
    loop {
        let at = chrono::Utc::now().timestamp();
        let dir = ws.network().join(crate::model::time::format_time(at));
        let last = match aws::ec2::pull(&ec2, &rds, Some(&vpc), &dir).await {
            Ok(n) => summary(&n, &dir),
            // A snapshot that fails is only a gap: interfaces are known from the others.
            Err(e) => format!("warning: missed the network snapshot of {}: {}\n", crate::model::time::format_time(at), e.message),
        };
        taken += 1;
        if a.count.is_some_and(|c| taken >= c) {
            return Ok(last);
        }
        if !printer.quiet || last.starts_with("warning") {
            eprint!("{last}");
        }
        let wait = (at + every as i64 - chrono::Utc::now().timestamp()).max(0) as u64;
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    }
}

/// The VPC of the cluster in the kubeconfig: its nodes' instances, as EC2 describes them.
pub(crate) async fn cluster_vpc(ec2: &aws_sdk_ec2::Client, kubeconfig: Option<&std::path::Path>, context: Option<&str>) -> Result<String, Error> {
    let usage = |why: String| {
        Error::usage("which VPC? pass `--vpc-id`")
            .caused_by(why)
            .hint("`crossaz pull network --vpc-id vpc-…` (an account or a shared bucket often holds several VPCs on the same CIDR)")
    };
    let client = kube_pull::client(kubeconfig, context).await.map_err(|e| usage(format!("the cluster's VPC comes from its nodes, and {}", e.message)))?;
    let instances = kube_pull::node_instances(&client).await.map_err(|e| usage(e.message))?;
    if instances.is_empty() {
        return Err(usage("the cluster's nodes name no EC2 instance in their `providerID`".into()));
    }
    let vpcs = aws::ec2::vpc_of_instances(ec2, &instances).await?;
    match vpcs.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(usage(format!("EC2 knows none of the nodes' instances ({})", instances.join(", ")))),
        many => Err(usage(format!("the nodes are in several VPCs ({})", many.join(", ")))),
    }
}

async fn prices(aws_args: &AwsArgs, a: PricesArgs, ws: &Workspace) -> Result<String, Error> {
    let conf = aws::sdk_config(aws_args).await;
    let region = conf.region().map(|r| r.to_string()).ok_or_else(|| Error::usage("pass `--region`: the region whose prices to fetch"))?;
    let (mut engines, mut classes) = (a.engines, a.classes);
    if engines.is_empty() || classes.is_empty() {
        let (e, c) = crate::sources::network::rds_engines_and_classes(&ws.network());
        if engines.is_empty() {
            engines = if e.is_empty() { vec!["mysql".into(), "postgres".into()] } else { e };
        }
        if classes.is_empty() {
            classes = c;
        }
    }
    let pricing_conf = aws_sdk_pricing::config::Builder::from(&conf).region(aws_config::Region::new(a.pricing_region.clone())).build();
    let client = aws_sdk_pricing::Client::from_conf(pricing_conf);
    let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let mut out = String::new();
    let mut n = aws::pricing::PricesPull::default();
    if classes.is_empty() {
        out.push_str("prices: no RDS instance class to price (pass `--class db.m6gd.large`, or run `crossaz pull network` first)\n");
    } else {
        let q = aws::pricing::PriceQuery { region: &region, engines: &engines, classes: &classes, refresh: a.refresh, date: date.clone() };
        let (_, got) = aws::pricing::pull(&client, &q, ws).await?;
        out.push_str(&format!(
            "prices: {} instance and {} storage prices for {region} ({}; {}) into `{}`\n",
            got.instance_prices,
            got.storage_prices,
            engines.join(", "),
            classes.join(", "),
            ws.rds_prices().display(),
        ));
        n = got;
    }
    aws::pricing::pull_paths(&client, &region, a.refresh, &date, ws, &mut n).await?;
    out.push_str(&format!(
        "prices: {} NAT gateway and interface endpoint prices for {region} into `{}` ({} requests, {} cached answers)\n",
        n.path_prices,
        ws.path_prices().display(),
        n.requests,
        n.cached_queries
    ));
    Ok(out)
}

/// Saves AWS's ip-ranges.json into the workspace when it is newer than the copy crossaz uses now.
async fn ip_ranges(url: &str, ws: &Workspace) -> Result<String, Error> {
    let bytes = crate::sources::http::get(url).await?;
    let path = ws.ip_ranges();
    let fresh = crate::sources::ip_ranges::parse(&bytes, std::path::Path::new(url), url.to_string()).map_err(|p| {
        Error::failure(format!("`{url}` did not answer with AWS's ip-ranges.json")).caused_by(p.what).hint("check `--url`; nothing was written")
    })?;
    let current = crate::sources::ip_ranges::load(Some(&path)).unwrap_or_else(|_| crate::sources::ip_ranges::bundled());
    if fresh.created < current.created {
        return Ok(format!("ip-ranges: `{url}` is of {}, older than {} in use: kept\n", fresh.created, current.source));
    }
    if let Some(dir) = path.parent() {
        fs_err::create_dir_all(dir).map_err(|e| Error::failure(format!("could not create `{}`", dir.display())).caused_by(e))?;
    }
    crate::write::atomic_write(&path, &bytes)?;
    Ok(format!("ip-ranges: AWS's file of {} ({} prefixes) into `{}`\n", fresh.created, fresh.len(), path.display()))
}

async fn k8s(a: K8sArgs, ws: &Workspace, printer: &Printer) -> Result<String, Error> {
    let client = kube_pull::client(a.kubeconfig.as_deref(), a.context.as_deref()).await?;
    let base = std::time::Duration::from_millis(a.retry_base_ms);
    let Some(every) = a.every else {
        let mut retried = 0;
        let at = chrono::Utc::now().timestamp();
        let (snap, requests) = kube_pull::snapshot_with_retries(&client, 4, base, &mut retried).await.map_err(kube_pull::SnapshotError::into_error)?;
        let n = snap["items"].as_array().map_or(0, Vec::len);
        let path = kube_pull::write_snapshot(ws, at, &snap)?;
        return Ok(format!("wrote `{}`: {n} objects ({requests} requests{})\n", path.display(), retried_text(retried)));
    };
    // A month of snapshots must survive the API's bad minutes: transient errors are retried within
    // the interval, and a snapshot that still fails is recorded as missed, not fatal.
    let mut state = kube_pull::read_state(ws).unwrap_or_default();
    state.every = every;
    kube_pull::write_state(ws, &state)?;
    let (mut taken, mut missed) = (0u64, 0u64);
    let attempts = (every * 1000 / a.retry_base_ms.max(1)).clamp(1, 60).ilog2().max(1) + 1;
    loop {
        let at = chrono::Utc::now().timestamp();
        let mut retried = 0;
        let last = match kube_pull::snapshot_with_retries(&client, attempts, base, &mut retried).await {
            Ok((snap, requests)) => {
                let n = snap["items"].as_array().map_or(0, Vec::len);
                let path = kube_pull::write_snapshot(ws, at, &snap)?;
                taken += 1;
                format!("wrote `{}`: {n} objects ({requests} requests{})\n", path.display(), retried_text(retried))
            }
            Err(e) if e.failure == kube_pull::Failure::Fatal => return Err(e.into_error()),
            Err(e) => {
                missed += 1;
                let error = format!("failed to list {}: {}", e.what, e.error);
                state.failures.push(kube_pull::MissedSnapshot { at: crate::model::time::format_time(at), error: error.clone() });
                kube_pull::write_state(ws, &state)?;
                format!(
                    "warning: missed the snapshot of {} ({error}); recorded in `{}`, trying again at the next interval\n",
                    crate::model::time::format_time(at),
                    kube_pull::state_path(ws).display()
                )
            }
        };
        if a.count.is_some_and(|c| taken + missed >= c) {
            return Ok(format!("{last}{taken} snapshots written, {missed} missed\n"));
        }
        if !printer.quiet || last.starts_with("warning") {
            eprint!("{last}");
        }
        let next = at + every as i64;
        let wait = (next - chrono::Utc::now().timestamp()).max(0) as u64;
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    }
}

fn retried_text(retried: u32) -> String {
    if retried == 0 { String::new() } else { format!(", after {retried} retries") }
}
