//! `crossaz setup`'s discovery through the SDK: the cluster's VPC, subnets and flow logs, Cost
//! Explorer and the billing exports. It only reads. A permission it lacks is noted by its IAM
//! action, and discovery goes on with what it can still see.

use super::sdk_error;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};

#[derive(Clone, Debug, Default)]
pub struct Cluster {
    pub name: String,
    pub status: Option<String>,
    pub version: Option<String>,
    pub subnet_ids: Vec<String>,
    /// Absent in some answers (moto's): the VPC then comes from the subnets.
    pub vpc_id: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Subnet {
    pub id: String,
    pub az: String,
    pub az_id: String,
    pub cidr: String,
}

#[derive(Clone, Debug, Default)]
pub struct FlowLog {
    pub id: String,
    /// The VPC, subnet or interface it covers.
    pub resource_id: String,
    pub status: Option<String>,
    pub traffic_type: Option<String>,
    /// `s3`, `cloud-watch-logs` or `kinesis-data-firehose`.
    pub destination_type: String,
    pub destination: Option<String>,
    pub log_group: Option<String>,
    /// The format string as EC2 returns it (`${version} …`); empty for the default format.
    pub format: String,
    pub file_format: Option<String>,
    pub hive_compatible: bool,
    pub per_hour: bool,
    pub max_aggregation_interval: Option<i32>,
}

#[derive(Clone, Debug, Default)]
pub struct Export {
    pub name: String,
    pub arn: String,
    pub status: Option<String>,
    /// The table the export queries: `COST_AND_USAGE_REPORT` (CUR 2.0), `FOCUS_1_0_AWS`, …
    pub table: Option<String>,
    pub bucket: Option<String>,
    pub prefix: Option<String>,
    pub region: Option<String>,
}

/// The outcome of a call that may be refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    Ok,
    /// The IAM action that was refused.
    Denied(String),
    Failed(String),
}

#[derive(Clone, Debug, Default)]
pub struct Found {
    pub cluster: Option<Cluster>,
    pub cluster_probe: Option<Probe>,
    pub vpc: Option<String>,
    pub account: Option<String>,
    pub subnets: Vec<Subnet>,
    pub flow_logs: Vec<FlowLog>,
    pub flow_logs_probe: Option<Probe>,
    pub cost_explorer: Option<Probe>,
    pub exports: Vec<Export>,
    pub exports_probe: Option<Probe>,
}

fn probe<E: ProvideErrorMetadata + std::error::Error + 'static>(action: &str, e: SdkError<E>) -> Probe {
    match e.code() {
        Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "UnauthorizedException" | "AuthorizationError") => {
            Probe::Denied(action.to_string())
        }
        _ => Probe::Failed(sdk_error(action, e).to_string().replace('\n', " ")),
    }
}

/// EKS DescribeCluster: the cluster's subnets (and VPC).
pub async fn cluster(eks: &aws_sdk_eks::Client, name: &str) -> Result<Cluster, Probe> {
    let out = eks.describe_cluster().name(name).send().await.map_err(|e| probe("eks:DescribeCluster", e))?;
    let c = out.cluster().ok_or_else(|| Probe::Failed(format!("EKS returned no cluster `{name}`")))?;
    let vpc = c.resources_vpc_config();
    Ok(Cluster {
        name: name.to_string(),
        status: c.status().map(|s| s.as_str().to_string()),
        version: c.version().map(str::to_string),
        subnet_ids: vpc.map(|v| v.subnet_ids().to_vec()).unwrap_or_default(),
        vpc_id: vpc.and_then(|v| v.vpc_id()).map(str::to_string),
    })
}

/// EC2 DescribeSubnets by ID (to find their VPC) or by VPC (every subnet of it).
pub async fn subnets(ec2: &aws_sdk_ec2::Client, ids: &[String], vpc: Option<&str>) -> Result<(Vec<Subnet>, Option<String>), Probe> {
    let mut req = ec2.describe_subnets();
    match vpc {
        Some(v) => req = req.filters(aws_sdk_ec2::types::Filter::builder().name("vpc-id").values(v).build()),
        None => req = req.set_subnet_ids(Some(ids.to_vec())),
    }
    let out = req.send().await.map_err(|e| probe("ec2:DescribeSubnets", e))?;
    let mut vpc_of = None;
    let list = out
        .subnets()
        .iter()
        .map(|s| {
            vpc_of = vpc_of.clone().or_else(|| s.vpc_id().map(str::to_string));
            Subnet {
                id: s.subnet_id().unwrap_or_default().to_string(),
                az: s.availability_zone().unwrap_or_default().to_string(),
                az_id: s.availability_zone_id().unwrap_or_default().to_string(),
                cidr: s.cidr_block().unwrap_or_default().to_string(),
            }
        })
        .collect();
    Ok((list, vpc_of))
}

/// EC2 DescribeVpcs: the account that owns the VPC.
pub async fn vpc_owner(ec2: &aws_sdk_ec2::Client, vpc: &str) -> Result<Option<String>, Probe> {
    let out = ec2.describe_vpcs().vpc_ids(vpc).send().await.map_err(|e| probe("ec2:DescribeVpcs", e))?;
    Ok(out.vpcs().first().and_then(|v| v.owner_id()).map(str::to_string))
}

/// EC2 DescribeFlowLogs: every flow log on the VPC or one of its subnets.
pub async fn flow_logs(ec2: &aws_sdk_ec2::Client, resources: &[String]) -> Result<Vec<FlowLog>, Probe> {
    let filter = aws_sdk_ec2::types::Filter::builder().name("resource-id").set_values(Some(resources.to_vec())).build();
    let out = ec2.describe_flow_logs().filter(filter).send().await.map_err(|e| probe("ec2:DescribeFlowLogs", e))?;
    Ok(out
        .flow_logs()
        .iter()
        .map(|f| {
            let opts = f.destination_options();
            FlowLog {
                id: f.flow_log_id().unwrap_or_default().to_string(),
                resource_id: f.resource_id().unwrap_or_default().to_string(),
                status: f.flow_log_status().map(str::to_string),
                traffic_type: f.traffic_type().map(|t| t.as_str().to_string()),
                destination_type: f.log_destination_type().map(|t| t.as_str().to_string()).unwrap_or_else(|| "cloud-watch-logs".into()),
                destination: f.log_destination().map(str::to_string),
                log_group: f.log_group_name().map(str::to_string),
                format: f.log_format().unwrap_or_default().to_string(),
                file_format: opts.and_then(|o| o.file_format()).map(|x| x.as_str().to_string()),
                hive_compatible: opts.and_then(|o| o.hive_compatible_partitions()).unwrap_or(false),
                per_hour: opts.and_then(|o| o.per_hour_partition()).unwrap_or(false),
                max_aggregation_interval: f.max_aggregation_interval(),
            }
        })
        .collect())
}

/// Cost Explorer GetCostAndUsage for one day: whether it answers ($0.01).
pub async fn cost_explorer(ce: &aws_sdk_costexplorer::Client, day: &str, next: &str) -> Probe {
    let period = aws_sdk_costexplorer::types::DateInterval::builder().start(day).end(next).build();
    let Ok(period) = period else { return Probe::Failed("bad date".into()) };
    match ce.get_cost_and_usage().time_period(period).granularity(aws_sdk_costexplorer::types::Granularity::Daily).metrics("UsageQuantity").send().await {
        Ok(_) => Probe::Ok,
        Err(e) => probe("ce:GetCostAndUsage", e),
    }
}

/// Data Exports ListExports and GetExport: CUR 2.0 and FOCUS exports, with their buckets.
pub async fn exports(exports: &aws_sdk_bcmdataexports::Client) -> Result<Vec<Export>, Probe> {
    let out = exports.list_exports().send().await.map_err(|e| probe("bcm-data-exports:ListExports", e))?;
    let mut list = Vec::new();
    for r in out.exports() {
        let mut x = Export {
            name: r.export_name().to_string(),
            arn: r.export_arn().to_string(),
            status: r.export_status().and_then(|s| s.status_code()).map(|c| c.as_str().to_string()),
            ..Export::default()
        };
        let got = exports.get_export().export_arn(r.export_arn()).send().await.map_err(|e| probe("bcm-data-exports:GetExport", e))?;
        if let Some(e) = got.export() {
            let q = e.data_query().map(|q| q.query_statement().to_ascii_uppercase()).unwrap_or_default();
            x.table = q.split_once(" FROM ").map(|(_, rest)| rest.split_whitespace().next().unwrap_or_default().to_string());
            if let Some(dest) = e.destination_configurations().and_then(|d| d.s3_destination()) {
                x.bucket = Some(dest.s3_bucket().to_string());
                x.prefix = Some(dest.s3_prefix().to_string());
                x.region = Some(dest.s3_region().to_string());
            }
        }
        list.push(x);
    }
    Ok(list)
}
