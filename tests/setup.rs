//! `crossaz setup` against moto_server (EC2, EKS, S3, Cost Explorer), with a stand-in for the
//! Data Exports API (moto has none) and a proxy that refuses a permission; then `pull` with no flags.

use crate::moto::{self, aws_env, endpoint};
use crate::proxy::{self, Action};
use crate::util::*;
use std::process::Command;

const RECOMMENDED: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${flow-direction} ${traffic-path}";

/// Data Exports answers as the real API does (JSON 1.1, `AWSBillingAndCostManagementDataExports`).
const LIST_EXPORTS: &str = r#"{"Exports":[{"ExportArn":"arn:aws:bcm-data-exports:us-east-1:123456789012:export/focus-monthly-0a1b","ExportName":"focus-monthly","ExportStatus":{"StatusCode":"HEALTHY","CreatedAt":"2026-10-01T00:00:00Z","LastUpdatedAt":"2026-10-01T00:00:00Z","LastRefreshedAt":"2026-10-01T00:00:00Z"}}]}"#;
const GET_EXPORT: &str = r#"{"Export":{"ExportArn":"arn:aws:bcm-data-exports:us-east-1:123456789012:export/focus-monthly-0a1b","Name":"focus-monthly","DataQuery":{"QueryStatement":"SELECT AvailabilityZone, BilledCost, ChargePeriodStart, ResourceId, SkuMeter FROM FOCUS_1_2_AWS","TableConfigurations":{}},"DestinationConfigurations":{"S3Destination":{"S3Bucket":"billing-exports","S3Prefix":"focus","S3Region":"us-east-1","S3OutputConfigurations":{"OutputType":"CUSTOM","Format":"PARQUET","Compression":"PARQUET","Overwrite":"OVERWRITE_REPORT"}}},"RefreshCadence":{"Frequency":"SYNCHRONOUS"}},"ExportStatus":{"StatusCode":"HEALTHY"}}"#;

fn unique(what: &str) -> String {
    format!("{what}-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() % 1_000_000_000)
}

struct World {
    vpc: String,
    subnets: Vec<String>,
    flow_log: String,
    bucket: String,
}

/// A VPC with three subnets, an EKS cluster on them, and a flow log to S3 in `format`.
async fn world(cluster: &str, cidr_b: u8, format: Option<&str>) -> World {
    let conf = moto::config().await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let vpc = ec2.create_vpc().cidr_block(format!("10.{cidr_b}.0.0/16")).send().await.unwrap().vpc().unwrap().vpc_id().unwrap().to_string();
    let mut subnets = Vec::new();
    for (i, az) in ["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"].iter().enumerate() {
        let s = ec2.create_subnet().vpc_id(&vpc).cidr_block(format!("10.{cidr_b}.{i}.0/24")).availability_zone(*az).send().await.unwrap();
        subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    let bucket = unique("flow-logs");
    moto::s3()
        .await
        .create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(moto::REGION))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut req = ec2
        .create_flow_logs()
        .resource_type(aws_sdk_ec2::types::FlowLogsResourceType::Vpc)
        .resource_ids(&vpc)
        .traffic_type(aws_sdk_ec2::types::TrafficType::All)
        .log_destination_type(aws_sdk_ec2::types::LogDestinationType::S3)
        .log_destination(format!("arn:aws:s3:::{bucket}"))
        .max_aggregation_interval(60);
    if let Some(f) = format {
        req = req.log_format(f);
    }
    let out = req.send().await.unwrap();
    assert!(out.unsuccessful().is_empty(), "{:?}", out.unsuccessful());
    let flow_log = out.flow_log_ids()[0].clone();
    let eks = aws_sdk_eks::Client::new(&conf);
    eks.create_cluster()
        .name(cluster)
        .role_arn("arn:aws:iam::123456789012:role/eks-cluster")
        .resources_vpc_config(aws_sdk_eks::types::VpcConfigRequest::builder().set_subnet_ids(Some(subnets.clone())).build())
        .send()
        .await
        .unwrap();
    World { vpc, subnets, flow_log, bucket }
}

fn crossaz_aws(args: &[&str], cwd: &std::path::Path) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crossaz"));
    aws_env(&mut cmd).args(args).current_dir(cwd).env_remove("CROSSAZ_WORKSPACE").env_remove("CROSSAZ_CONFIG");
    let out = cmd.output().expect("crossaz runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Forwards to moto; answers Data Exports as the stand-in; refuses EKS when `deny_eks`.
fn front(deny_eks: bool) -> proxy::Proxy {
    proxy::start(endpoint(), move |r| {
        if r.amz_target.ends_with("DataExports.ListExports") {
            Action::Respond(LIST_EXPORTS.into())
        } else if r.amz_target.ends_with("DataExports.GetExport") {
            Action::Respond(GET_EXPORT.into())
        } else if deny_eks && r.target.starts_with("/clusters") {
            Action::Deny
        } else {
            Action::Forward
        }
    })
}

#[test]
fn setup_finds_the_clusters_vpc_flow_logs_and_billing_then_pulls_need_no_flags() {
    let cluster = unique("prod");
    let w = moto::runtime().block_on(world(&cluster, 61, Some(RECOMMENDED)));
    let p = front(false);
    let dir = tempdir();
    let ws = dir.path().join("crossaz-data");
    let run = crossaz_aws(&["setup", "--cluster", &cluster, "--endpoint-url", &p.url], dir.path());
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(out.contains(&format!("ok  VPC {}", w.vpc)), "{out}");
    assert!(out.contains("3 subnets in 3 AZs"), "{out}");
    assert!(
        out.contains(&format!(
            "flow log {} on {} → s3://{}/ (plain-text, daily partitions); traffic ALL, 60 s records (the one crossaz will pull)",
            w.flow_log, w.vpc, w.bucket
        )),
        "{out}"
    );
    assert!(!out.contains("lacks"), "{out}");
    assert!(out.contains("ok  Cost Explorer answers"), "{out}");
    assert!(out.contains("ok  billing export `focus-monthly` (FOCUS 1.2) → s3://billing-exports/focus"), "{out}");
    assert!(!out.contains("missing permissions"), "{out}");

    let cfg = crossaz::config::load(None, Some(&ws)).unwrap().config;
    assert_eq!(cfg.vpc.as_deref(), Some(w.vpc.as_str()));
    assert_eq!(cfg.cluster.as_deref(), Some(cluster.as_str()));
    assert_eq!(cfg.region.as_deref(), Some(moto::REGION));
    assert_eq!(cfg.flow_logs.bucket.as_deref(), Some(w.bucket.as_str()));
    assert_eq!(cfg.flow_logs.format.as_deref(), Some(RECOMMENDED));
    assert_eq!(cfg.billing.export.as_deref(), Some("focus-monthly"));
    assert_eq!(cfg.billing.bucket.as_deref(), Some("billing-exports"));

    // `pull` takes the workspace, the VPC and the bucket from crossaz.toml (the endpoint is the test's).
    let run = crossaz_aws(&["pull", "network", "--endpoint-url", endpoint()], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("3 subnets") && run.stdout.contains(&w.vpc) && run.stdout.contains("into `crossaz-data/network`"), "{}", run.stdout);
    let subnets = std::fs::read_to_string(ws.join("network/describe-subnets.json")).unwrap();
    assert!(w.subnets.iter().all(|s| subnets.contains(s)), "the config's VPC was described");
    // A flow-log object delivered yesterday: inside the default window (last month's first day to now).
    let day = chrono::Utc::now() - chrono::Duration::days(1);
    let key = format!(
        "AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/{}/123456789012_vpcflowlogs_ap-northeast-2_{}_{}T0000Z_0a1b2c3d.log.gz",
        day.format("%Y/%m/%d"),
        w.flow_log,
        day.format("%Y%m%d")
    );
    let body = std::fs::read(crossaz::sources::expand_path(&demo_dir().join("flow-logs")).unwrap()[0].clone()).unwrap();
    moto::runtime().block_on(async { moto::s3().await.put_object().bucket(&w.bucket).key(&key).body(body.into()).send().await.unwrap() });
    let run = crossaz_aws(&["pull", "flow-logs", "--endpoint-url", endpoint()], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("flow logs (account 123456789012 in ap-northeast-2): 1 objects in the window, 1 downloaded"), "{}", run.stdout);
    assert!(ws.join("flow-logs").join(&key).is_file());
}

#[test]
fn setup_prints_the_fix_for_a_format_without_pod_fields() {
    let cluster = unique("legacy");
    let w = moto::runtime().block_on(world(&cluster, 62, None));
    let p = front(false);
    let dir = tempdir();
    let run = crossaz_aws(&["setup", "--cluster", &cluster, "--workspace", "ws", "--endpoint-url", &p.url, "--no-cost-explorer"], dir.path());
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(out.contains(&format!("!!  flow log {} on {}", w.flow_log, w.vpc)) && out.contains("the default format"), "{out}");
    assert!(out.contains("lacks `pkt-srcaddr`, `pkt-dstaddr`, `flow-direction`, `az-id`"), "{out}");
    assert!(out.contains(&format!("aws ec2 create-flow-logs --resource-type VPC --resource-ids {} --traffic-type ALL", w.vpc)), "{out}");
    assert!(out.contains(&format!("--log-destination arn:aws:s3:::{}", w.bucket)), "{out}");
    assert!(out.contains("resource \"aws_flow_log\" \"crossaz\"") && out.contains("$${pkt-srcaddr}"), "{out}");
    assert!(!out.contains("Cost Explorer"), "`--no-cost-explorer` makes no paid request: {out}");
}

#[test]
fn a_missing_permission_is_named_and_setup_goes_on_with_what_it_can_see() {
    let cluster = unique("locked");
    let w = moto::runtime().block_on(world(&cluster, 63, Some(RECOMMENDED)));
    let p = front(true);
    let dir = tempdir();
    // Without EKS and without another way to the VPC: say so, exit 1.
    let run = crossaz_aws(&["setup", "--cluster", &cluster, "--workspace", "ws", "--endpoint-url", &p.url, "--kubeconfig", "/nonexistent"], dir.path());
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("!!  EKS cluster: not allowed: the credentials lack `eks:DescribeCluster`"), "{}", run.stdout);
    assert!(run.stdout.contains("!!  VPC: not found"), "{}", run.stdout);
    assert!(run.stdout.contains("missing permissions: eks:DescribeCluster — docs/iam-policy.json"), "{}", run.stdout);
    // With the VPC given, the rest is found.
    let run = crossaz_aws(&["setup", "--cluster", &cluster, "--vpc-id", &w.vpc, "--workspace", "ws", "--endpoint-url", &p.url], dir.path());
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains(&format!("flow log {} on {}", w.flow_log, w.vpc)), "{}", run.stdout);
    assert!(run.stdout.contains("missing permissions: eks:DescribeCluster"), "{}", run.stdout);
    let policy = std::fs::read_to_string(repo().join("docs/iam-policy.json")).unwrap();
    assert!(policy.contains("\"eks:DescribeCluster\""), "the policy grants what setup needs");
}

#[test]
fn without_eks_the_vpc_comes_from_the_nodes_instances() {
    let cluster = unique("nodes");
    let w = moto::runtime().block_on(world(&cluster, 64, Some(RECOMMENDED)));
    let instance = moto::runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&moto::config().await);
        let run = ec2.run_instances().image_id("ami-12c6146b").min_count(1).max_count(1).subnet_id(&w.subnets[1]).send().await.unwrap();
        run.instances()[0].instance_id().unwrap().to_string()
    });
    let node = serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "ip-10-64-1-5"},
        "spec": {"providerID": format!("aws:///ap-northeast-2b/{instance}")}, "status": {}});
    let api = crate::kube_api::start(vec![node]);
    let p = front(true);
    let dir = tempdir();
    let kc = crate::kube_api::kubeconfig(dir.path(), &api.url);
    let run = crossaz_aws(&["setup", "--cluster", &cluster, "--kubeconfig", kc.to_str().unwrap(), "--endpoint-url", &p.url, "--no-cost-explorer"], dir.path());
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("not allowed: the credentials lack `eks:DescribeCluster`"), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("ok  VPC {}", w.vpc)), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("flow log {} on {}", w.flow_log, w.vpc)), "{}", run.stdout);
}
