//! `crossaz setup --cluster NAME`: finds the cluster's VPC, subnets, flow logs and billing
//! sources, says what is missing and how to fix it, and writes `crossaz.toml`. It only reads the
//! account; it never changes it.

use crate::config::{self, Config};
use crate::error::Error;
use crate::printer::Printer;
use crate::sources::aws::discover::{self, Found, Probe};
use crate::sources::aws::{self, AwsArgs};
use crate::sources::flowlogs::format::{DEFAULT_FORMAT, Field, Format, RECOMMENDED_FORMAT, aws_string};
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The EKS cluster's name.
    #[arg(long, value_name = "NAME", env = "CROSSAZ_CLUSTER")]
    pub cluster: String,
    /// Where to write `crossaz.toml` [default: crossaz-data].
    #[arg(long, value_name = "DIR", env = "CROSSAZ_WORKSPACE")]
    pub workspace: Option<PathBuf>,
    /// The VPC, when neither EKS nor the cluster's nodes can tell it.
    #[arg(long, value_name = "VPC")]
    pub vpc_id: Option<String>,
    /// For finding the VPC from the nodes when `eks:DescribeCluster` is not allowed.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Skip the Cost Explorer check (each Cost Explorer request costs $0.01).
    #[arg(long)]
    pub no_cost_explorer: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// The fields crossaz needs beyond the default format, and why.
const POD_FIELDS: [(Field, &str); 5] = [
    (Field::PktSrcaddr, "pod addresses"),
    (Field::PktDstaddr, "pod addresses"),
    (Field::FlowDirection, "which side sent"),
    (Field::InterfaceId, "node churn"),
    (Field::AzId, "zones of unknown interfaces"),
];

pub fn run(args: Args, printer: &Printer) -> Result<ExitCode, Error> {
    let rt = aws::runtime()?;
    let (found, region) = rt.block_on(discover_all(&args))?;
    let mut out = String::new();
    let header = format!("crossaz setup: cluster `{}` in {}\n", args.cluster, region.as_deref().unwrap_or("an unknown region"));

    match (&found.cluster, &found.cluster_probe) {
        (Some(c), _) => line(
            &mut out,
            true,
            format!("EKS cluster `{}` ({}, Kubernetes {})", c.name, c.status.as_deref().unwrap_or("?"), c.version.as_deref().unwrap_or("?")),
        ),
        (None, Some(p)) => line(&mut out, false, format!("EKS cluster: {}", probe_text(p))),
        (None, None) => {}
    }
    match &found.vpc {
        Some(v) => line(&mut out, true, format!("VPC {v}{}", found.account.as_deref().map(|a| format!(" in account {a}")).unwrap_or_default())),
        None => line(&mut out, false, "VPC: not found — pass `--vpc-id`, allow `eks:DescribeCluster`, or point `--kubeconfig` at the cluster".into()),
    }
    if !found.subnets.is_empty() {
        let mut zones: Vec<String> = found.subnets.iter().map(|s| format!("{} ({})", s.az_id, s.az)).collect();
        zones.sort();
        zones.dedup();
        line(&mut out, true, format!("{} subnets in {} AZs: {}", found.subnets.len(), zones.len(), zones.join(", ")));
    }
    let best = best_flow_log(&found);
    match &found.flow_logs_probe {
        Some(p) if *p != Probe::Ok => line(&mut out, false, format!("flow logs: {}", probe_text(p))),
        _ if found.flow_logs.is_empty() && found.vpc.is_some() => {
            line(&mut out, false, "no flow log covers the VPC: crossaz has nothing to read".into());
            let _ = write!(out, "{}", fix(found.vpc.as_deref().unwrap_or("vpc-…"), None));
        }
        _ => {}
    }
    for f in &found.flow_logs {
        let format = parse_format(&f.format);
        let lacking: Vec<&str> = POD_FIELDS.iter().filter(|(field, _)| !format.has(*field)).map(|(field, _)| field.name()).collect();
        let dest = destination_text(f);
        let chosen = best.as_ref().is_some_and(|b| b.id == f.id);
        line(
            &mut out,
            lacking.is_empty(),
            format!(
                "flow log {} on {} → {dest}; traffic {}, {} s records{}{}",
                f.id,
                f.resource_id,
                f.traffic_type.as_deref().unwrap_or("?"),
                f.max_aggregation_interval.unwrap_or(600),
                if format.describe() == Format::default_v2().describe() { "; the default format" } else { "" },
                if chosen { " (the one crossaz will pull)" } else { "" }
            ),
        );
        if !lacking.is_empty() {
            let _ = writeln!(out, "      lacks `{}`: without them crossaz attributes per node, not per pod (docs/flow-log-format.md)", lacking.join("`, `"));
            let _ = write!(out, "{}", fix(found.vpc.as_deref().unwrap_or(&f.resource_id), Some(f)));
        }
        if f.traffic_type.as_deref().is_some_and(|t| t != "ALL" && t != "ACCEPT") {
            let _ = writeln!(
                out,
                "      records only {} traffic: accepted bytes are what is billed; record ALL (`aws ec2 create-flow-logs … --traffic-type ALL`)",
                f.traffic_type.as_deref().unwrap_or("")
            );
        }
    }
    if found.flow_logs.len() > 1 {
        let _ =
            writeln!(out, "      {} flow logs cover this VPC: crossaz counts each flow once, from the richest format (docs/method.md)", found.flow_logs.len());
    }
    match &found.cost_explorer {
        Some(Probe::Ok) => line(&mut out, true, "Cost Explorer answers (ce:GetCostAndUsage; each request costs $0.01, days are cached)".into()),
        Some(p) => line(&mut out, false, format!("Cost Explorer: {}", probe_text(p))),
        None => {}
    }
    match &found.exports_probe {
        Some(Probe::Ok) if found.exports.is_empty() => {
            let _ = writeln!(out, "  -- no CUR 2.0 or FOCUS export (optional: per-resource billing; Cost Explorer is enough for `reconcile`)");
        }
        Some(Probe::Ok) => {
            for e in &found.exports {
                line(
                    &mut out,
                    true,
                    format!(
                        "billing export `{}` ({}) → s3://{}/{}",
                        e.name,
                        export_kind(e.table.as_deref()),
                        e.bucket.as_deref().unwrap_or("?"),
                        e.prefix.as_deref().unwrap_or("")
                    ),
                );
            }
            let _ = writeln!(out, "      `crossaz pull billing --source cur` downloads it: the bill per resource (docs/billing.md)");
        }
        Some(p) => line(&mut out, false, format!("billing exports: {}", probe_text(p))),
        None => {}
    }
    let denied: Vec<String> = [&found.cluster_probe, &found.flow_logs_probe, &found.cost_explorer, &found.exports_probe]
        .into_iter()
        .flatten()
        .filter_map(|p| if let Probe::Denied(a) = p { Some(a.clone()) } else { None })
        .collect();
    if !denied.is_empty() {
        let _ = writeln!(out, "\nmissing permissions: {} — docs/iam-policy.json grants every action crossaz uses", denied.join(", "));
    }

    let root = args.workspace.clone().unwrap_or_else(|| PathBuf::from(crate::workspace::DEFAULT));
    let cfg = to_config(&args, &found, region, best.as_ref());
    let path = config::write(&cfg, &root)?;
    let _ = writeln!(out, "\nwrote `{}`", path.display());
    let usable = found.vpc.is_some() && best.is_some();
    if usable {
        let _ = writeln!(
            out,
            "next: `crossaz pull network --every 1h`, `crossaz pull k8s --every 5m`, `crossaz pull flow-logs`, `crossaz pull billing`; `crossaz doctor` says what is still missing; then `crossaz review --month YYYY-MM`"
        );
    }
    super::common::emit(format!("{header}{out}").as_bytes(), None)?;
    if !printer.quiet && !usable {
        eprintln!("error: no VPC or no flow log found: crossaz has nothing to read yet (the fixes are above)");
    }
    Ok(if usable { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn discover_all(args: &Args) -> Result<(Found, Option<String>), Error> {
    let conf = aws::sdk_config(&args.aws).await;
    let region = conf.region().map(|r| r.to_string());
    let (eks, ec2) = (aws_sdk_eks::Client::new(&conf), aws_sdk_ec2::Client::new(&conf));
    let mut found = Found::default();
    match discover::cluster(&eks, &args.cluster).await {
        Ok(c) => {
            found.vpc = c.vpc_id.clone();
            found.cluster = Some(c);
        }
        Err(p) => found.cluster_probe = Some(p),
    }
    if let Some(v) = &args.vpc_id {
        found.vpc = Some(v.clone());
    }
    // moto (and some IAM setups) answer without the VPC: it is the subnets'.
    if found.vpc.is_none()
        && let Some(c) = &found.cluster
        && !c.subnet_ids.is_empty()
        && let Ok((_, vpc)) = discover::subnets(&ec2, &c.subnet_ids, None).await
    {
        found.vpc = vpc;
    }
    // Without EKS: the nodes' instances, from the kubeconfig.
    if found.vpc.is_none() && found.cluster.is_none() {
        found.vpc = super::pull::cluster_vpc(&ec2, args.kubeconfig.as_deref(), args.context.as_deref()).await.ok();
    }
    if let Some(vpc) = found.vpc.clone() {
        if let Ok((subnets, _)) = discover::subnets(&ec2, &[], Some(&vpc)).await {
            found.subnets = subnets;
        }
        found.account = discover::vpc_owner(&ec2, &vpc).await.ok().flatten();
        let mut resources = vec![vpc.clone()];
        resources.extend(found.subnets.iter().map(|s| s.id.clone()));
        match discover::flow_logs(&ec2, &resources).await {
            Ok(list) => {
                found.flow_logs = list;
                found.flow_logs_probe = Some(Probe::Ok);
            }
            Err(p) => found.flow_logs_probe = Some(p),
        }
    }
    if !args.no_cost_explorer {
        let today = chrono::Utc::now().date_naive();
        let day = (today - chrono::Duration::days(2)).format("%Y-%m-%d").to_string();
        let next = (today - chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
        found.cost_explorer = Some(discover::cost_explorer(&aws_sdk_costexplorer::Client::new(&conf), &day, &next).await);
    }
    // Data Exports answers in us-east-1 only.
    let exports_conf = aws_sdk_bcmdataexports::config::Builder::from(&conf).region(aws_config::Region::new("us-east-1")).build();
    match discover::exports(&aws_sdk_bcmdataexports::Client::from_conf(exports_conf)).await {
        Ok(list) => {
            found.exports = list;
            found.exports_probe = Some(Probe::Ok);
        }
        Err(p) => found.exports_probe = Some(p),
    }
    Ok((found, region))
}

fn line(out: &mut String, ok: bool, text: String) {
    let _ = writeln!(out, "  {} {text}", if ok { "ok " } else { "!! " });
}

fn parse_format(text: &str) -> Format {
    if text.trim().is_empty() { Format::default_v2() } else { Format::from_aws_string(text).unwrap_or_else(|_| Format::default_v2()) }
}

/// The flow log crossaz should pull: active, to S3 or CloudWatch Logs, with the richest format.
fn best_flow_log(found: &Found) -> Option<discover::FlowLog> {
    found
        .flow_logs
        .iter()
        .filter(|f| f.status.as_deref().is_none_or(|s| s == "ACTIVE") && (f.destination_type == "s3" || f.log_group.is_some()))
        .max_by_key(|f| (parse_format(&f.format).richness(), f.destination_type == "s3", f.resource_id.starts_with("vpc-")))
        .cloned()
}

/// `(bucket, prefix)` of an S3 destination ARN (`arn:aws:s3:::bucket/prefix`).
pub fn s3_destination(arn: &str) -> Option<(String, String)> {
    let rest = arn.strip_prefix("arn:aws:s3:::").or_else(|| arn.split_once(":s3:::").map(|(_, r)| r))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    Some((bucket.to_string(), prefix.trim_end_matches('/').to_string()))
}

fn destination_text(f: &discover::FlowLog) -> String {
    match (f.destination_type.as_str(), &f.destination, &f.log_group) {
        ("s3", Some(arn), _) => {
            let (b, p) = s3_destination(arn).unwrap_or_default();
            let layout = format!(
                "{}{}{}",
                f.file_format.as_deref().unwrap_or("plain-text"),
                if f.hive_compatible { ", Hive-compatible prefixes" } else { "" },
                if f.per_hour { ", hourly partitions" } else { ", daily partitions" }
            );
            format!("s3://{b}/{p} ({layout})")
        }
        (_, _, Some(g)) => format!("CloudWatch Logs group `{g}`"),
        (t, d, _) => format!("{t} {}", d.as_deref().unwrap_or("")),
    }
}

fn probe_text(p: &Probe) -> String {
    match p {
        Probe::Ok => "ok".into(),
        Probe::Denied(a) => format!("not allowed: the credentials lack `{a}`"),
        Probe::Failed(e) => e.clone(),
    }
}

fn export_kind(table: Option<&str>) -> String {
    match table {
        Some("COST_AND_USAGE_REPORT") => "CUR 2.0".into(),
        Some(t) if t.starts_with("FOCUS_1_0") => "FOCUS 1.0".into(),
        Some(t) if t.starts_with("FOCUS_1_2") => "FOCUS 1.2".into(),
        Some(t) => t.to_string(),
        None => "unknown table".into(),
    }
}

/// The AWS CLI and Terraform that create a flow log with the recommended format, to the same
/// destination as `like` (or a bucket to choose). crossaz never runs them.
pub fn fix(vpc: &str, like: Option<&discover::FlowLog>) -> String {
    let aws_format = aws_string(RECOMMENDED_FORMAT);
    let dest = like.and_then(|f| f.destination.clone()).unwrap_or_else(|| "arn:aws:s3:::YOUR-FLOW-LOG-BUCKET/eks".into());
    let mut out = String::new();
    let _ = writeln!(out, "      fix (AWS CLI):");
    let _ = writeln!(
        out,
        "        aws ec2 create-flow-logs --resource-type VPC --resource-ids {vpc} --traffic-type ALL \\\n          --log-destination-type s3 --log-destination {dest} --max-aggregation-interval 60 \\\n          --log-format '{aws_format}'"
    );
    let _ = writeln!(out, "      or (Terraform):");
    let _ = writeln!(
        out,
        "        resource \"aws_flow_log\" \"crossaz\" {{\n          vpc_id                   = \"{vpc}\"\n          traffic_type             = \"ALL\"\n          log_destination_type     = \"s3\"\n          log_destination          = \"{dest}\"\n          max_aggregation_interval = 60\n          log_format               = \"{}\"\n        }}",
        aws_format.replace("${", "$${")
    );
    if like.is_some() {
        let _ =
            writeln!(out, "      then delete the old flow log once the new one delivers (two logs over the same interfaces are read once, from the richer).");
    }
    out
}

fn to_config(args: &Args, found: &Found, region: Option<String>, best: Option<&discover::FlowLog>) -> Config {
    let mut c = Config {
        region,
        account: found.account.clone(),
        vpc: found.vpc.clone(),
        cluster: Some(args.cluster.clone()),
        profile: args.aws.profile.clone(),
        ..Config::default()
    };
    if let Some(f) = best {
        c.flow_logs.id = Some(f.id.clone());
        if f.destination_type == "s3" {
            let (b, p) = f.destination.as_deref().and_then(s3_destination).unwrap_or_default();
            c.flow_logs.bucket = Some(b);
            c.flow_logs.prefix = (!p.is_empty()).then_some(p);
            c.flow_logs.file_format = Some(f.file_format.clone().unwrap_or_else(|| "plain-text".into()));
            c.flow_logs.hive_compatible = Some(f.hive_compatible);
            c.flow_logs.per_hour = Some(f.per_hour);
        } else {
            c.flow_logs.log_group = f.log_group.clone();
        }
        c.flow_logs.format = Some(if f.format.is_empty() { aws_string(DEFAULT_FORMAT) } else { f.format.clone() });
    }
    c.billing.source = Some("cost-explorer".into());
    if let Some(e) = found.exports.iter().find(|e| e.status.as_deref().is_none_or(|s| s == "HEALTHY")) {
        c.billing.export = Some(e.name.clone());
        c.billing.bucket = e.bucket.clone();
        c.billing.prefix = e.prefix.clone();
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_destinations_split_into_bucket_and_prefix() {
        assert_eq!(s3_destination("arn:aws:s3:::logs"), Some(("logs".into(), "".into())));
        assert_eq!(s3_destination("arn:aws:s3:::logs/eks/prod/"), Some(("logs".into(), "eks/prod".into())));
        assert_eq!(s3_destination("arn:aws-cn:s3:::logs/x"), Some(("logs".into(), "x".into())));
        assert_eq!(s3_destination("arn:aws:logs:…"), None);
    }

    #[test]
    fn the_fix_creates_the_recommended_format() {
        let text = fix("vpc-1", None);
        assert!(text.contains("--resource-ids vpc-1") && text.contains("'${version} ${account-id}"), "{text}");
        assert!(text.contains("\"$${version} $${account-id}"), "Terraform escapes `${{`: {text}");
        let parsed = Format::from_aws_string(text.split('\'').nth(1).unwrap()).unwrap();
        assert!(POD_FIELDS.iter().all(|(f, _)| parsed.has(*f)));
    }
}
