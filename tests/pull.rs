//! `crossaz pull` against a real AWS-compatible server (moto), through the real AWS SDK, as a user
//! runs it; then `attribute` on the workspace equals `attribute` on the same local files.

use crate::moto::{self, pull};
use crate::proxy::{self, Action};
use crate::util::*;
use crossaz::pipeline::Inputs;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn unique(what: &str) -> String {
    format!("crossaz-{what}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst))
}

/// The demo's flow-log files, by day of the month.
fn demo_day_files() -> BTreeMap<u32, PathBuf> {
    crossaz::sources::expand_path(&demo_dir().join("flow-logs"))
        .unwrap()
        .into_iter()
        // The VPC's own flow log (the bucket also holds other VPCs' and a second flow log).
        .filter(|p| p.file_name().unwrap().to_str().unwrap().contains(crossaz::generate::world::FLOW_LOG_ID))
        .map(|p| {
            let day: u32 = p.parent().unwrap().file_name().unwrap().to_str().unwrap().parse().unwrap();
            (day, p)
        })
        .collect()
}

async fn make_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    let cfg =
        aws_sdk_s3::types::CreateBucketConfiguration::builder().location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(moto::REGION)).build();
    s3.create_bucket().bucket(bucket).create_bucket_configuration(cfg).send().await.unwrap();
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) {
    s3.put_object().bucket(bucket).key(key).body(body.into()).send().await.unwrap();
}

/// Uploads demo days 1–3 in the AWSLogs layout and day 4 in the Hive layout, under `prod/`.
fn upload_demo_days(bucket: &str) -> BTreeMap<String, Vec<u8>> {
    let files = demo_day_files();
    let mut keys = BTreeMap::new();
    moto::runtime().block_on(async {
        let s3 = moto::s3().await;
        make_bucket(&s3, bucket).await;
        for day in 1..=4u32 {
            let path = &files[&day];
            let name = path.file_name().unwrap().to_str().unwrap();
            let key = if day <= 3 {
                format!("prod/AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/2026/10/{day:02}/{name}")
            } else {
                format!("prod/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=ap-northeast-2/year=2026/month=10/day={day:02}/{name}")
            };
            let body = std::fs::read(path).unwrap();
            put(&s3, bucket, &key, body.clone()).await;
            keys.insert(key, body);
        }
    });
    keys
}

fn demo_inputs_for(flow_logs: PathBuf) -> Inputs {
    let d = demo_dir();
    Inputs { flow_logs: vec![flow_logs], network: vec![d.join("network")], k8s: vec![d.join("k8s")], ..Inputs::default() }
}

fn window(inputs: &mut Inputs, from: &str, to: &str) {
    inputs.from = crossaz::model::time::parse_time(from);
    inputs.to = crossaz::model::time::parse_time(to);
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    if !dir.exists() {
        return Vec::new();
    }
    crossaz::sources::expand_path(dir).unwrap()
}

#[test]
fn s3_pull_reads_both_layouts_only_in_the_window_and_equals_local_files() {
    let bucket = unique("flows");
    let keys = upload_demo_days(&bucket);
    let ws = tempdir();
    let w = ws.path().to_str().unwrap();
    let args = ["flow-logs", "--bucket", &bucket, "--prefix", "prod", "--from", "2026-10-02", "--to", "2026-10-04", "--workspace", w];
    let run = pull(&args, moto::endpoint(), ws.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Days 2 and 3, and day 4 (a day's last records sit in the next day's first file); not day 1.
    assert!(run.stdout.contains("3 objects in the window, 3 downloaded"), "{}", run.stdout);
    let pulled = files_under(&ws.path().join("flow-logs"));
    assert_eq!(pulled.len(), 3);
    for (key, body) in keys.iter().skip(1) {
        assert_eq!(&std::fs::read(ws.path().join("flow-logs").join(key.trim_start_matches("prod/"))).ok(), &None, "keys keep their prefix");
        assert_eq!(std::fs::read(ws.path().join("flow-logs").join(key)).unwrap(), *body);
    }
    // Again: nothing to download.
    let run = pull(&args, moto::endpoint(), ws.path());
    assert!(run.stdout.contains("3 objects in the window, 0 downloaded (0 bytes), 3 already up to date"), "{}", run.stdout);
    // The workspace attributes exactly like the local files.
    let mut from_ws = demo_inputs_for(ws.path().join("flow-logs"));
    window(&mut from_ws, "2026-10-02", "2026-10-04");
    let mut local = demo_inputs_for(demo_dir().join("flow-logs"));
    window(&mut local, "2026-10-02", "2026-10-04");
    let a = attribute(&from_ws).report;
    let b = attribute(&local).report;
    assert_eq!(a.measurement.conversations, b.measurement.conversations);
    assert_eq!(a.measurement.summary.bytes, b.measurement.summary.bytes);
    assert_eq!(a.measurement.summary.records.counted, b.measurement.summary.records.counted);
}

#[test]
fn malicious_keys_stay_inside_the_workspace() {
    let bucket = unique("evil");
    let day = "prod/AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/2026/10/01/";
    let evil = [
        format!("{day}../../../../../../../../../../escaped.log"),
        format!("{day}..%2F..%2Fescaped2.log"),
        format!("{day}/leading-slash.log"),
        format!("{day}./dot/./x.log"),
        format!("{day}odd name ?*<>|\u{1F600}.log"),
    ];
    moto::runtime().block_on(async {
        let s3 = moto::s3().await;
        make_bucket(&s3, &bucket).await;
        for k in &evil {
            put(&s3, &bucket, k, b"version interface-id srcaddr dstaddr bytes start\n".to_vec()).await;
        }
    });
    let outer = tempdir();
    let ws = outer.path().join("ws");
    let run = pull(
        &["flow-logs", "--bucket", &bucket, "--prefix", "prod", "--from", "2026-10-01", "--to", "2026-10-02", "--workspace", ws.to_str().unwrap()],
        moto::endpoint(),
        outer.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("5 objects in the window, 5 downloaded"), "{}", run.stdout);
    let inside = files_under(&ws.join("flow-logs"));
    assert_eq!(inside.len(), 5);
    for f in &inside {
        assert!(f.starts_with(ws.join("flow-logs")), "{}", f.display());
    }
    // Nothing was written beside the workspace.
    let outside: Vec<_> = std::fs::read_dir(outer.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(outside, vec![std::ffi::OsString::from("ws")]);
}

#[test]
fn throttling_and_server_errors_are_retried() {
    let bucket = unique("flaky");
    upload_demo_days(&bucket);
    // Every third request gets a 503 SlowDown or a bare 503 the first time round.
    let p = proxy::start(moto::endpoint(), |r| match r.index % 3 {
        0 if r.index < 12 => {
            if r.index % 2 == 0 {
                Action::SlowDown
            } else {
                Action::Unavailable
            }
        }
        _ => Action::Forward,
    });
    let ws = tempdir();
    let run = pull(
        &["flow-logs", "--bucket", &bucket, "--prefix", "prod", "--from", "2026-10-01", "--to", "2026-10-05", "--workspace", ws.path().to_str().unwrap()],
        &p.url,
        ws.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("4 objects in the window, 4 downloaded"), "{}", run.stdout);
    assert!(p.injected.load(Ordering::SeqCst) >= 3, "faults were injected");
    assert_eq!(files_under(&ws.path().join("flow-logs")).len(), 4);
}

#[test]
fn a_pull_killed_half_way_resumes_without_duplicates_or_loss() {
    let bucket = unique("killed");
    let keys = upload_demo_days(&bucket);
    // Downloads after the first two hang: the pull is stuck with whole files and a partial state.
    let gets = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let g = gets.clone();
    let p = proxy::start(moto::endpoint(), move |r| {
        if r.method == "GET" && !r.target.contains("list-type") && !r.target.contains("prefix=") && g.fetch_add(1, Ordering::SeqCst) >= 2 {
            return Action::Hold;
        }
        Action::Forward
    });
    let ws = tempdir();
    let w = ws.path().to_str().unwrap().to_string();
    let args = ["flow-logs", "--bucket", &bucket, "--prefix", "prod", "--from", "2026-10-01", "--to", "2026-10-05", "--workspace", &w, "--concurrency", "1"];
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_crossaz"));
    moto::aws_env(&mut cmd).arg("pull").args(args).args(["--endpoint-url", &p.url]);
    let mut child = cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while files_under(&ws.path().join("flow-logs")).len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = files_under(&ws.path().join("flow-logs"));
    assert_eq!(partial.len(), 2, "two whole files before the kill");
    for f in &partial {
        let key = f.strip_prefix(ws.path().join("flow-logs")).unwrap().to_str().unwrap().to_string();
        assert_eq!(&std::fs::read(f).unwrap(), &keys[&key], "no partial file");
    }
    // Resume without faults: the rest arrives, nothing twice.
    let run = pull(&args, moto::endpoint(), ws.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("4 objects in the window, 2 downloaded"), "{}", run.stdout);
    let all: Vec<String> =
        files_under(&ws.path().join("flow-logs")).iter().map(|f| f.strip_prefix(ws.path().join("flow-logs")).unwrap().to_str().unwrap().to_string()).collect();
    assert_eq!(all, keys.keys().cloned().collect::<Vec<_>>());
    for (k, body) in &keys {
        assert_eq!(&std::fs::read(ws.path().join("flow-logs").join(k)).unwrap(), body);
    }
}

/// Pulls the demo's days 1–4 through a proxy that answers day 2's GetObject with `answer`.
fn pull_with_day_two_replaced(answer: Vec<u8>) -> (tempfile::TempDir, Run, BTreeMap<String, Vec<u8>>) {
    let bucket = unique("changed");
    let keys = upload_demo_days(&bucket);
    let day_two = keys.keys().nth(1).unwrap().rsplit('/').next().unwrap().to_string();
    let p = proxy::start(moto::endpoint(), move |r| {
        if r.method == "GET" && !r.target.contains("list-type") && r.target.contains(&day_two) { Action::Raw(answer.clone()) } else { Action::Forward }
    });
    let ws = tempdir();
    let w = ws.path().to_str().unwrap().to_string();
    let args = ["flow-logs", "--bucket", &bucket, "--prefix", "prod", "--from", "2026-10-01", "--to", "2026-10-05", "--workspace", &w, "--concurrency", "1"];
    let run = pull(&args, &p.url, ws.path());
    (ws, run, keys)
}

/// The pulled files and any temporary file left beside them.
fn pulled_and_partial(ws: &Path) -> (Vec<String>, usize) {
    let files = files_under(&ws.join("flow-logs"));
    let partial = walkdir::WalkDir::new(ws).into_iter().filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().ends_with(".part")).count();
    (files.iter().map(|f| f.strip_prefix(ws.join("flow-logs")).unwrap().to_str().unwrap().to_string()).collect(), partial)
}

#[test]
fn an_object_other_than_the_one_listed_is_refused_and_nothing_of_it_is_kept() {
    // Replaced after the listing by a 4 MiB object: refused on GetObject's Content-Length.
    let grown = vec![b'x'; 4 << 20];
    let mut answer = format!("HTTP/1.1 200 OK\r\nContent-Type: binary/octet-stream\r\nContent-Length: {}\r\n\r\n", grown.len()).into_bytes();
    answer.extend_from_slice(&grown);
    let (ws, run, keys) = pull_with_day_two_replaced(answer);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let day_two = keys.keys().nth(1).unwrap();
    let listed = keys[day_two].len();
    assert!(run.stderr.contains(&format!("{day_two}` changed since it was listed")), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("listed with {listed} bytes")) && run.stderr.contains(&format!("GetObject answered {} bytes", 4 << 20)),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("run the pull again"), "{}", run.stderr);
    let (files, partial) = pulled_and_partial(ws.path());
    let others: Vec<String> = keys.keys().filter(|k| *k != day_two).cloned().collect();
    assert_eq!((files, partial), (others, 0), "the other objects arrive whole; nothing of the changed one");

    // No length announced (chunked) and a body longer than listed: the download stops at the listed size.
    let mut answer = b"HTTP/1.1 200 OK\r\nContent-Type: binary/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..64 {
        answer.extend_from_slice(format!("{:x}\r\n", 1 << 16).as_bytes());
        answer.extend_from_slice(&vec![b'y'; 1 << 16]);
        answer.extend_from_slice(b"\r\n");
    }
    answer.extend_from_slice(b"0\r\n\r\n");
    let (ws, run, keys) = pull_with_day_two_replaced(answer);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let day_two = keys.keys().nth(1).unwrap();
    assert!(run.stderr.contains(&format!("{day_two}` changed since it was listed")) && run.stderr.contains("its body runs past that size"), "{}", run.stderr);
    let (files, partial) = pulled_and_partial(ws.path());
    assert_eq!((files.len(), partial), (keys.len() - 1, 0));
    assert!(!files.contains(day_two));
}

#[test]
fn network_pull_writes_cli_json_and_names_databases() {
    let (vpc, ids) = moto::runtime().block_on(async {
        let conf = moto::config().await;
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        let rds = aws_sdk_rds::Client::new(&conf);
        let vpc = ec2.create_vpc().cidr_block("10.20.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
        let mut subnets = Vec::new();
        for (i, az) in ["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"].iter().enumerate() {
            let sn = ec2.create_subnet().vpc_id(&vpc).cidr_block(format!("10.20.{}.0/24", i)).availability_zone(*az).send().await.unwrap();
            subnets.push(sn.subnet.unwrap().subnet_id.unwrap());
        }
        let eni = |subnet: &str, ip: &str, desc: &str| {
            let ec2 = ec2.clone();
            let (subnet, ip, desc) = (subnet.to_string(), ip.to_string(), desc.to_string());
            async move {
                ec2.create_network_interface()
                    .subnet_id(subnet)
                    .private_ip_address(ip)
                    .description(desc)
                    .send()
                    .await
                    .unwrap()
                    .network_interface
                    .unwrap()
                    .network_interface_id
                    .unwrap()
            }
        };
        let nat = eni(&subnets[0], "10.20.0.10", "Interface for NAT Gateway nat-0f00ba4").await;
        let alb = eni(&subnets[1], "10.20.1.20", "ELB app/shop-alb/50dc6c495c0c9188").await;
        let db_a = eni(&subnets[0], "10.20.0.50", "RDSNetworkInterface").await;
        let db_b = eni(&subnets[1], "10.20.1.50", "RDSNetworkInterface").await;
        ec2.assign_private_ip_addresses().network_interface_id(&nat).private_ip_addresses("10.20.0.11").send().await.unwrap();
        ec2.run_instances().image_id("ami-12c6146b").min_count(1).max_count(1).subnet_id(&subnets[2]).send().await.unwrap();
        rds.create_db_subnet_group()
            .db_subnet_group_name(format!("g-{vpc}"))
            .db_subnet_group_description("dbs")
            .subnet_ids(&subnets[0])
            .subnet_ids(&subnets[1])
            .send()
            .await
            .unwrap();
        for (id, az) in [(format!("orders-{vpc}"), "ap-northeast-2a"), (format!("reports-{vpc}"), "ap-northeast-2b")] {
            rds.create_db_instance()
                .db_instance_identifier(id)
                .db_instance_class("db.m6gd.large")
                .engine("mysql")
                .allocated_storage(100)
                .master_username("admin")
                .master_user_password("secret-password")
                .db_subnet_group_name(format!("g-{vpc}"))
                .availability_zone(az)
                .send()
                .await
                .unwrap();
        }
        (vpc, [nat, alb, db_a, db_b])
    });
    // The first two EC2 calls fail with 503: the SDK retries them.
    let p = proxy::start(moto::endpoint(), |r| if r.index < 2 { Action::Unavailable } else { Action::Forward });
    let ws = tempdir();
    let run = pull(&["network", "--vpc-id", &vpc, "--workspace", ws.path().to_str().unwrap()], &p.url, ws.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(p.injected.load(Ordering::SeqCst), 2);
    assert!(run.stdout.contains("pulled 5 network interfaces, 3 subnets"), "{}", run.stdout);
    let net = ws.path().join("network");
    let enis: serde_json::Value = serde_json::from_slice(&std::fs::read(net.join("describe-network-interfaces.json")).unwrap()).unwrap();
    let first = &enis["NetworkInterfaces"][0];
    for key in ["NetworkInterfaceId", "PrivateIpAddress", "PrivateIpAddresses", "SubnetId", "AvailabilityZone", "InterfaceType"] {
        assert!(first.get(key).is_some(), "the AWS CLI's field `{key}`");
    }
    // Read back as any network files: owners named, RDS interfaces matched to their instances.
    let mut inv = crossaz::model::inventory::Inventory::default();
    for f in crossaz::sources::expand_path(&net).unwrap() {
        crossaz::sources::network::load_file(&mut inv, &f).unwrap();
    }
    inv.finish();
    let label = |id: &str| crossaz::model::inventory::owner_entity(inv.eni(inv.eni_idx(id).unwrap())).label();
    assert_eq!(label(&ids[0]), "nat:nat-0f00ba4");
    assert_eq!(label(&ids[1]), "elb:shop-alb");
    assert_eq!(label(&ids[2]), format!("rds:orders-{vpc}"));
    assert_eq!(label(&ids[3]), format!("rds:reports-{vpc}"));
    let nat = inv.eni(inv.eni_idx(&ids[0]).unwrap());
    assert_eq!(nat.ips.len(), 2, "secondary addresses come along");
    assert_eq!(inv.zone(nat.zone).unwrap().id, "apne2-az1", "AZ IDs from the subnets and zones");
    assert_eq!(inv.databases.len(), 2);
}

#[test]
fn billing_pull_pays_once_per_day_and_reconciles_like_local_files() {
    // Three days of the demo bill, answered in two pages.
    let text = std::fs::read_to_string(demo_dir().join("billing/cost-explorer.json")).unwrap();
    let demo: serde_json::Value = serde_json::from_str(&text).unwrap();
    let days: Vec<serde_json::Value> = demo["ResultsByTime"].as_array().unwrap()[1..4].to_vec();
    let defs = demo["GroupDefinitions"].clone();
    let page1 = serde_json::json!({"GroupDefinitions": defs, "ResultsByTime": &days[..2], "DimensionValueAttributes": [], "NextPageToken": "page-2"});
    let page2 = serde_json::json!({"GroupDefinitions": defs, "ResultsByTime": &days[2..], "DimensionValueAttributes": []});
    moto::seed_cost_explorer(&serde_json::json!([page1, page2]));
    // The first request is throttled: the SDK backs off and asks again (an unanswered request is not billed).
    let p = proxy::start(moto::endpoint(), |r| if r.index == 0 { Action::Throttle } else { Action::Forward });
    let ws = tempdir();
    let w = ws.path().to_str().unwrap();
    let args = ["billing", "--from", "2026-10-02", "--to", "2026-10-05", "--workspace", w, "--region", "ap-northeast-2"];
    let run = pull(&args, &p.url, ws.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("3 days in the window, 0 already closed and cached; made 2 paid Cost Explorer requests ($0.02)"), "{}", run.stdout);
    assert_eq!(p.injected.load(Ordering::SeqCst), 1);
    let run = pull(&args, moto::endpoint(), ws.path());
    assert!(run.stdout.contains("3 days in the window, 3 already closed and cached; made 0 paid Cost Explorer requests ($0.00)"), "{}", run.stdout);
    // Reconciling with the pulled days equals reconciling with the same days of the local file.
    let mut from_ws = demo_inputs_for(demo_dir().join("flow-logs"));
    from_ws.billing = vec![ws.path().join("billing")];
    window(&mut from_ws, "2026-10-02", "2026-10-05");
    let local_dir = tempdir();
    let local_doc = serde_json::json!({"GroupDefinitions": demo["GroupDefinitions"], "ResultsByTime": days, "DimensionValueAttributes": []});
    std::fs::write(local_dir.path().join("ce.json"), local_doc.to_string()).unwrap();
    let mut local = demo_inputs_for(demo_dir().join("flow-logs"));
    local.billing = vec![local_dir.path().join("ce.json")];
    window(&mut local, "2026-10-02", "2026-10-05");
    let a = attribute(&from_ws).report.reconciliation.unwrap();
    let b = attribute(&local).report.reconciliation.unwrap();
    assert_eq!(a.days, b.days);
    assert_eq!(a.total, b.total);
    assert_eq!(a.days.len(), 3);
}

/// A generated day of flow logs (yesterday: CloudWatch Logs refuses events older than 14 days).
fn yesterday_scenario(scale: u64) -> (tempfile::TempDir, String, String) {
    let now = chrono::Utc::now().timestamp();
    let yesterday = now - now.rem_euclid(86_400) - 86_400;
    let (from, to) = (crossaz::model::time::format_date(yesterday), crossaz::model::time::format_date(yesterday + 86_400));
    let scenario = generated(crossaz::generate::Options { days: 1, scale, start: yesterday, ..crossaz::generate::Options::default() });
    (scenario, from, to)
}

/// The scenario's records by interface: (header, interface → [(start, line)]).
fn records_by_interface(scenario: &Path) -> (String, BTreeMap<String, Vec<(i64, String)>>) {
    let file = crossaz::sources::expand_path(&scenario.join("flow-logs")).unwrap().remove(0);
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&file).unwrap()), &mut text).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    let mut by_eni: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for l in lines {
        let f: Vec<&str> = l.split(' ').collect();
        by_eni.entry(f[2].to_string()).or_default().push((f[10].parse().unwrap(), l.to_string()));
    }
    (header, by_eni)
}

/// Delivers events to a log group (one stream per interface, as AWS does) and creates a flow log
/// of each format for it, as EC2 would describe them.
fn deliver_to_log_group(group: &str, by_eni: &BTreeMap<String, Vec<(i64, String)>>, formats: &[String]) {
    moto::runtime().block_on(async {
        let conf = moto::config().await;
        let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
        logs.create_log_group().log_group_name(group).send().await.unwrap();
        for (eni, events) in by_eni {
            let mut events = events.clone();
            events.sort();
            let stream = format!("{eni}-all");
            logs.create_log_stream().log_group_name(group).log_stream_name(&stream).send().await.unwrap();
            for chunk in events.chunks(5000) {
                let evs: Vec<_> = chunk
                    .iter()
                    .map(|(t, m)| aws_sdk_cloudwatchlogs::types::InputLogEvent::builder().timestamp(t * 1000).message(m).build().unwrap())
                    .collect();
                logs.put_log_events().log_group_name(group).log_stream_name(&stream).set_log_events(Some(evs)).send().await.unwrap();
            }
        }
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        for header in formats {
            let vpc = ec2.create_vpc().cidr_block("10.30.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
            let format = header.split(' ').map(|f| format!("${{{f}}}")).collect::<Vec<_>>().join(" ");
            ec2.create_flow_logs()
                .resource_ids(vpc)
                .resource_type(aws_sdk_ec2::types::FlowLogsResourceType::Vpc)
                .traffic_type(aws_sdk_ec2::types::TrafficType::All)
                .log_destination_type(aws_sdk_ec2::types::LogDestinationType::CloudWatchLogs)
                .log_group_name(group)
                .deliver_logs_permission_arn("arn:aws:iam::123456789012:role/flow-logs")
                .log_format(format)
                .send()
                .await
                .unwrap();
        }
    });
}

/// Every decompressed line of the files under `dir`, sorted.
fn lines_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for f in files_under(dir) {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&f).unwrap()), &mut text).unwrap();
        out.extend(text.lines().map(str::to_string));
    }
    out.sort();
    out
}

#[test]
fn cloudwatch_logs_pull_pages_through_a_busy_day() {
    // A busier day than the demo: more than 10,000 events, so FilterLogEvents pages.
    let (scenario, from, to) = yesterday_scenario(8);
    let (header, by_eni) = records_by_interface(scenario.path());
    let total: usize = by_eni.values().map(Vec::len).sum();
    assert!(total > 10_000, "{total} events");
    let group = unique("group");
    deliver_to_log_group(&group, &by_eni, &[header]);
    let ws = tempdir();
    let w = ws.path().to_str().unwrap();
    let run = pull(&["flow-logs", "--log-group", &group, "--from", &from, "--to", &to, "--workspace", w], moto::endpoint(), ws.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(&format!("pulled {total} events of {} streams", by_eni.len())), "{}", run.stdout);
    let requests: usize = run.stdout.rsplit('(').next().unwrap().split_whitespace().next().unwrap().parse().unwrap();
    assert!(requests >= 3, "at least two pages and the format lookup: {}", run.stdout);
    // The workspace attributes like the S3 file with the same records.
    let mut from_ws = inputs_of(scenario.path());
    from_ws.flow_logs = vec![ws.path().join("flow-logs")];
    let a = attribute(&from_ws).report;
    let b = attribute(&inputs_of(scenario.path())).report;
    assert_eq!(a.measurement.conversations, b.measurement.conversations);
    assert_eq!(a.measurement.summary.records, b.measurement.summary.records);
    assert_truth(&a, &truth(scenario.path()), "conversations");
}

#[test]
fn cloudwatch_logs_pull_keeps_memory_bounded_and_resumes_a_day_where_it_stopped() {
    let (scenario, from, to) = yesterday_scenario(16);
    let (header, by_eni) = records_by_interface(scenario.path());
    let group = unique("group");
    deliver_to_log_group(&group, &by_eni, &[header]);
    let args = |w: &str| {
        vec!["flow-logs", "--log-group", &group, "--from", &from, "--to", &to, "--workspace", w, "--buffer-bytes", "200000"]
            .into_iter()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    // Uninterrupted, with a small buffer: the files are written in pieces as the pages come.
    let whole = tempdir();
    let a = args(whole.path().to_str().unwrap());
    let run = pull(&a.iter().map(String::as_str).collect::<Vec<_>>(), moto::endpoint(), whole.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Stopped after two pages (as if killed), then run again: it resumes from the checkpoint.
    let ws = tempdir();
    let mut b = args(ws.path().to_str().unwrap());
    b.extend(["--stop-after-pages".to_string(), "2".to_string()]);
    let run = pull(&b.iter().map(String::as_str).collect::<Vec<_>>(), moto::endpoint(), ws.path());
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stderr.contains("stopped after 2 pages"), "{}", run.stderr);
    assert!(files_under(&ws.path().join("state/cloudwatch")).iter().any(|p| p.to_string_lossy().ends_with(".progress")), "a checkpoint is kept");
    let run = pull(&args(ws.path().to_str().unwrap()).iter().map(String::as_str).collect::<Vec<_>>(), moto::endpoint(), ws.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("1 resumed"), "{}", run.stdout);
    // The same records, none twice, none lost.
    assert_eq!(lines_under(&ws.path().join("flow-logs")), lines_under(&whole.path().join("flow-logs")));
    let total: usize = by_eni.values().map(Vec::len).sum();
    assert!(run.stdout.contains(&format!("pulled {total} events")), "{}", run.stdout);
}

#[test]
fn two_flow_logs_into_one_log_group_keep_their_own_formats() {
    // A format migration: the default-format flow log and the recommended one deliver to the same
    // group; an interface's stream holds both kinds of lines.
    let (scenario, from, to) = yesterday_scenario(1);
    let (header, by_eni) = records_by_interface(scenario.path());
    let default_format = crossaz::sources::flowlogs::format::DEFAULT_FORMAT.to_string();
    let both: BTreeMap<String, Vec<(i64, String)>> = by_eni
        .iter()
        .map(|(eni, events)| {
            let mut all = events.clone();
            all.extend(events.iter().map(|(t, l)| (*t, l.split(' ').take(14).collect::<Vec<_>>().join(" ").replacen("5 ", "2 ", 1))));
            (eni.clone(), all)
        })
        .collect();
    let group = unique("group");
    deliver_to_log_group(&group, &both, &[header, default_format]);
    let ws = tempdir();
    let w = ws.path().to_str().unwrap();
    let run = pull(&["flow-logs", "--log-group", &group, "--from", &from, "--to", &to, "--workspace", w], moto::endpoint(), ws.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("(2 flow logs: fl-"), "{}", run.stdout);
    // One file per stream and flow log, each with its own header.
    let files = files_under(&ws.path().join("flow-logs"));
    assert_eq!(files.len(), 2 * by_eni.len());
    // Read back, each flow counts once, from the richer log: as the single recommended file.
    let mut from_ws = inputs_of(scenario.path());
    from_ws.flow_logs = vec![ws.path().join("flow-logs")];
    let a = attribute(&from_ws).report;
    assert_truth_conversations(&a, &truth(scenario.path()));
    let total: u64 = by_eni.values().map(|v| v.len() as u64).sum();
    assert_eq!(a.measurement.summary.flow_log_overlaps.iter().map(|o| o.records).sum::<u64>(), total);
}

fn snapshot_items(path: &Path) -> Vec<serde_json::Value> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap()), &mut text).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["items"].as_array().unwrap().clone()
}

#[test]
fn k8s_pull_lists_every_page_and_writes_a_kubectl_list() {
    let source = demo_dir().join("k8s/2026-10-12T05:01:00Z.json.gz");
    let items = snapshot_items(&source);
    let api = crate::kube_api::start(items.clone());
    let ws = tempdir();
    let kc = crate::kube_api::kubeconfig(ws.path(), &api.url);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_crossaz"));
    let out = cmd
        .args(["pull", "k8s", "--kubeconfig", kc.to_str().unwrap(), "--workspace", ws.path().to_str().unwrap(), "--every", "1s", "--count", "2"])
        .env("CROSSAZ_NO_PROGRESS", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let snaps = files_under(&ws.path().join("k8s"));
    assert_eq!(snaps.len(), 2, "two snapshots, one file each: {snaps:?}");
    // Pods and slices took several pages each (7 objects a page).
    assert!(String::from_utf8_lossy(&out.stdout).contains("requests)"));
    let pages: usize = ["Node", "Pod", "Service", "EndpointSlice"].iter().map(|k| items.iter().filter(|i| i["kind"] == *k).count().div_ceil(7).max(1)).sum();
    assert!(pages > 4);
    assert_eq!(api.requests.load(Ordering::SeqCst), 2 * (pages + 1), "every page of every list and `/version`, twice");
    // Read back, each snapshot holds the same objects as the recorded one.
    let a = crossaz::sources::k8s::load_snapshot(&source).unwrap();
    let b = crossaz::sources::k8s::load_snapshot(&snaps[0]).unwrap();
    assert!(b.time.is_some(), "named by its time");
    assert_eq!(b.server_version.as_deref(), Some("v1.33.5"), "the API server's `/version`, as `kubectl version` names it");
    let names = |s: &crossaz::model::k8s::Snapshot| {
        let mut v: Vec<String> = s.pods.iter().map(|p| format!("{}/{} {:?}", p.namespace, p.name, p.ips)).collect();
        v.extend(s.nodes.iter().map(|n| n.name.clone()));
        v.extend(s.services.iter().map(|x| format!("svc {}/{}", x.namespace, x.name)));
        v.extend(s.slices.iter().map(|x| format!("slice {}/{} {}", x.namespace, x.name, x.endpoints.len())));
        v.sort();
        v
    };
    assert_eq!(names(&a), names(&b));
    // kubectl, a real client, reads the same server the same way.
    let kubectl = std::process::Command::new("kubectl").args(["--kubeconfig", kc.to_str().unwrap(), "get", "pods", "-A", "-o", "json"]).output().unwrap();
    assert!(kubectl.status.success(), "{}", String::from_utf8_lossy(&kubectl.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&kubectl.stdout).unwrap();
    let pods = snapshot_items(&snaps[1]).into_iter().filter(|i| i["kind"] == "Pod").count();
    assert_eq!(listed["items"].as_array().unwrap().len(), pods);
}

#[test]
fn k8s_pull_every_survives_api_errors_relists_on_410_and_records_what_it_missed() {
    use std::sync::atomic::AtomicUsize;
    let items = snapshot_items(&demo_dir().join("k8s/2026-10-12T05:01:00Z.json.gz"));
    let nodes = std::sync::Arc::new(AtomicUsize::new(0));
    let continued = std::sync::Arc::new(AtomicUsize::new(0));
    let (n2, c2) = (nodes.clone(), continued.clone());
    let api = crate::kube_api::start_scripted(items, move |r| {
        if r.path == "/api/v1/nodes" {
            // The second snapshot's every attempt meets an API server in trouble.
            let n = n2.fetch_add(1, Ordering::SeqCst) + 1;
            if (2..=7).contains(&n) {
                return Some(("500 Internal Server Error", "application/json", crate::kube_api::status(500, "InternalError")));
            }
        }
        if r.path == "/api/v1/pods" && r.query.contains("continue=") && c2.fetch_add(1, Ordering::SeqCst) == 0 {
            // The first snapshot's continue token has expired: the pods are listed again from the start.
            return Some(("410 Gone", "application/json", crate::kube_api::status(410, "Expired")));
        }
        None
    });
    let ws = tempdir();
    let kc = crate::kube_api::kubeconfig(ws.path(), &api.url);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_crossaz"))
        .args(["pull", "k8s", "--kubeconfig", kc.to_str().unwrap(), "--workspace", ws.path().to_str().unwrap()])
        .args(["--every", "1s", "--count", "3", "--retry-base-ms", "20"])
        .env("CROSSAZ_NO_PROGRESS", "1")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("2 snapshots written, 1 missed"), "{stdout}\n{stderr}");
    assert!(stderr.contains("warning: missed the snapshot of"), "{stderr}");
    assert_eq!(nodes.load(Ordering::SeqCst), 8, "one attempt for the first, six for the missed one (backoff within the interval), one for the third");
    assert!(continued.load(Ordering::SeqCst) >= 2, "the pods were listed again after the 410");
    let snaps = files_under(&ws.path().join("k8s"));
    assert_eq!(snaps.len(), 2);
    // The relisted snapshot is whole: as many pods as the recorded one.
    let pods = |p: &Path| snapshot_items(p).into_iter().filter(|i| i["kind"] == "Pod").count();
    assert_eq!(pods(&snaps[0]), pods(&demo_dir().join("k8s/2026-10-12T05:01:00Z.json.gz")));
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(ws.path().join("state/pull-k8s.json")).unwrap()).unwrap();
    assert_eq!(state["every"], 1);
    assert_eq!(state["failures"].as_array().unwrap().len(), 1);
    assert!(state["failures"][0]["error"].as_str().unwrap().contains("failed to list nodes"), "{state}");
}

#[test]
fn gaps_between_snapshots_longer_than_the_interval_are_reported() {
    use crossaz::sources::kube_pull::{MissedSnapshot, PullState};
    let t = 1_790_812_800;
    let times = [t, t + 300, t + 600, t + 600 + 47 * 60, t + 600 + 52 * 60];
    let state = PullState { every: 300, failures: vec![MissedSnapshot { at: "2026-10-01T00:15:00Z".into(), error: "failed to list nodes: 503".into() }] };
    let notes = crossaz::pipeline::snapshot_gaps(&times, &state, (Some(t), Some(t + 3600)));
    assert_eq!(
        notes,
        [
            "Kubernetes snapshots: 1 gaps longer than the 5 min interval (longest 47 min, 2026-10-01T00:10:00Z → 2026-10-01T00:57:00Z); `pull k8s` recorded 1 missed snapshots (first: failed to list nodes: 503): pods that came and went in a gap are not known, and their traffic may be `unattributed`"
        ]
    );
    // Outside the flow logs' window, a gap does not matter.
    assert!(crossaz::pipeline::snapshot_gaps(&times, &state, (Some(t + 3600), None)).is_empty());
    assert!(crossaz::pipeline::snapshot_gaps(&times[..3], &state, (None, None)).is_empty());
}

#[test]
fn network_pull_every_keeps_timed_snapshots_of_the_clusters_vpc() {
    // Two VPCs on one CIDR; the cluster's node runs in the second: `pull network` without
    // `--vpc-id` finds it from the nodes' providerID, and `--every` keeps a snapshot per interval.
    let (vpc, instance) = moto::runtime().block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&moto::config().await);
        let mut last = (String::new(), String::new());
        for _ in 0..2 {
            let vpc = ec2.create_vpc().cidr_block("10.30.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
            let subnet = ec2.create_subnet().vpc_id(&vpc).cidr_block("10.30.1.0/24").availability_zone("ap-northeast-2a").send().await.unwrap();
            let run = ec2
                .run_instances()
                .image_id("ami-12c6146b")
                .min_count(1)
                .max_count(1)
                .subnet_id(subnet.subnet.unwrap().subnet_id.unwrap())
                .send()
                .await
                .unwrap();
            last = (vpc, run.instances()[0].instance_id().unwrap().to_string());
        }
        last
    });
    let node = serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "ip-10-30-1-5"},
        "spec": {"providerID": format!("aws:///ap-northeast-2a/{instance}")}, "status": {}});
    let api = crate::kube_api::start(vec![node]);
    let ws = tempdir();
    let kc = crate::kube_api::kubeconfig(ws.path(), &api.url);
    let w = ws.path().to_str().unwrap();
    let run = pull(&["network", "--every", "1s", "--count", "2", "--kubeconfig", kc.to_str().unwrap(), "--workspace", w], moto::endpoint(), ws.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let snaps: Vec<PathBuf> = std::fs::read_dir(ws.path().join("network")).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    assert_eq!(snaps.len(), 2, "{snaps:?}");
    for s in &snaps {
        assert!(crossaz::model::time::parse_time(s.file_name().unwrap().to_str().unwrap()).is_some(), "named by its time: {s:?}");
        let enis: serde_json::Value = serde_json::from_slice(&std::fs::read(s.join("describe-network-interfaces.json")).unwrap()).unwrap();
        let list = enis["NetworkInterfaces"].as_array().unwrap();
        assert!(!list.is_empty() && list.iter().all(|e| e["VpcId"] == vpc.as_str()), "only the cluster's VPC: {enis}");
        assert!(list.iter().any(|e| e["Attachment"]["InstanceId"] == instance.as_str() && e["Attachment"]["AttachTime"].is_string()), "{enis}");
    }
    // Read back: the snapshots are used by time.
    let mut inv = crossaz::model::inventory::Inventory::default();
    for f in crossaz::sources::expand_path(&ws.path().join("network")).unwrap() {
        crossaz::sources::network::load_file(&mut inv, &f).unwrap();
    }
    inv.finish();
    assert_eq!(inv.interface_snapshots.len(), 2);
    // Without `--vpc-id` and without a cluster to ask, the pull says which flag to pass.
    let run = pull(&["network", "--kubeconfig", "/nonexistent/kubeconfig", "--workspace", w], moto::endpoint(), ws.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("which VPC? pass `--vpc-id`"), "{}", run.stderr);
}

#[test]
fn s3_pull_of_a_shared_bucket_keeps_the_inventorys_account_and_region() {
    let bucket = unique("central");
    let body = std::fs::read(&demo_day_files()[&2]).unwrap();
    let keys = [
        "AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/2026/10/02/a.log.gz",
        "AWSLogs/210987654321/vpcflowlogs/ap-northeast-2/2026/10/02/b.log.gz",
        "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/10/02/c.log.gz",
    ];
    moto::runtime().block_on(async {
        let s3 = moto::s3().await;
        make_bucket(&s3, &bucket).await;
        for k in keys {
            put(&s3, &bucket, k, body.clone()).await;
        }
    });
    let ws = tempdir();
    let w = ws.path().to_str().unwrap();
    one_subnet_network(ws.path());
    let args = ["flow-logs", "--bucket", &bucket, "--from", "2026-10-02", "--to", "2026-10-03", "--workspace", w];
    let run = pull(&args, moto::endpoint(), ws.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("flow logs (account 123456789012 in ap-northeast-2): 1 objects in the window, 1 downloaded"), "{}", run.stdout);
    assert!(run.stdout.contains("left out other accounts' and regions' folders: 123456789012/us-east-1, 210987654321/ap-northeast-2"), "{}", run.stdout);
    assert_eq!(files_under(&ws.path().join("flow-logs")).len(), 1);
    let mut all = args.to_vec();
    all.push("--all-accounts");
    let run = pull(&all, moto::endpoint(), ws.path());
    assert!(run.stdout.contains("flow logs (every account and region): 3 objects in the window, 2 downloaded"), "{}", run.stdout);
}

/// A workspace network of one subnet: VPC vpc-1 of account 123456789012 in ap-northeast-2.
fn one_subnet_network(ws: &Path) {
    std::fs::create_dir_all(ws.join("network")).unwrap();
    let subnets = serde_json::json!({"Subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-1", "OwnerId": "123456789012",
        "AvailabilityZone": "ap-northeast-2a", "AvailabilityZoneId": "apne2-az1", "CidrBlock": "10.0.0.0/24"}]});
    std::fs::write(ws.join("network/describe-subnets.json"), subnets.to_string()).unwrap();
}

#[test]
fn billing_pull_asks_for_the_vpc_owners_account_and_says_when_the_bill_covers_more() {
    // A Cost Explorer stand-in that records each request's body (moto answers seeded results
    // whatever the filter, so it cannot show which account was asked for).
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::<serde_json::Value>::new()));
    let seen = bodies.clone();
    let ce = crate::stub_http::serve(move |r| {
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        seen.lock().unwrap().push(body.clone());
        let start = body["TimePeriod"]["Start"].as_str().unwrap_or("2026-10-02").to_string();
        let page = serde_json::json!({"GroupDefinitions": [], "ResultsByTime": [{"TimePeriod": {"Start": start, "End": "2026-10-03"}, "Total": {}, "Groups": [], "Estimated": false}], "DimensionValueAttributes": []});
        ("200 OK", "application/x-amz-json-1.1", page.to_string())
    });
    let ws = tempdir();
    let w = ws.path().to_str().unwrap();
    one_subnet_network(ws.path());
    let vpcs = serde_json::json!({"Vpcs": [{"VpcId": "vpc-1", "OwnerId": "123456789012", "CidrBlock": "10.0.0.0/16"},
        {"VpcId": "vpc-2", "OwnerId": "123456789012", "CidrBlock": "10.0.0.0/16"}]});
    std::fs::write(ws.path().join("network/describe-vpcs.json"), vpcs.to_string()).unwrap();
    let args = ["billing", "--from", "2026-10-02", "--to", "2026-10-03", "--workspace", w, "--region", "ap-northeast-2"];
    let run = pull(&args, &ce.url, ws.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("billing (account 123456789012)"), "{}", run.stdout);
    let filter = bodies.lock().unwrap()[0]["Filter"].clone();
    let and = filter["And"].as_array().unwrap_or_else(|| panic!("{filter}"));
    assert!(and.iter().any(|e| e["Dimensions"]["Key"] == "LINKED_ACCOUNT" && e["Dimensions"]["Values"] == serde_json::json!(["123456789012"])), "{filter}");
    // Reconciled, the bill says it covers more than the flow logs: the account's other VPC.
    let notes = crossaz::pipeline::bill_scope_notes(
        &crossaz::pipeline::network_inventory(&ws.path().join("network")),
        crossaz::sources::aws::ce::read_scope(&crossaz::workspace::Workspace::new(ws.path())).as_ref(),
    );
    assert_eq!(notes, ["the account's bill also covers its other 1 VPCs in the region (vpc-2): the flow logs cover vpc-1 only, so part of the bill is theirs"]);
    // The whole organization's bill, asked for, is said to be so.
    let mut all = args.to_vec();
    all.push("--all-accounts");
    let run = pull(&all, &ce.url, ws.path());
    assert!(run.stdout.contains("billing (every linked account)"), "{}", run.stdout);
    assert!(bodies.lock().unwrap().last().unwrap()["Filter"]["And"].is_null());
    let notes = crossaz::pipeline::bill_scope_notes(
        &crossaz::pipeline::network_inventory(&ws.path().join("network")),
        crossaz::sources::aws::ce::read_scope(&crossaz::workspace::Workspace::new(ws.path())).as_ref(),
    );
    assert!(notes[0].starts_with("the bill covers every linked account the credentials see, the flow logs vpc-1"), "{notes:?}");
}

/// A Data Exports bucket: three billing periods with their manifests, and an older delivery's file
/// beside October's current one.
fn upload_cur_export(bucket: &str) -> BTreeMap<String, Vec<u8>> {
    use crossaz::generate::bill::{BillRow, CUR_EXPORT, write_cur2};
    let dir = tempdir();
    let october = std::fs::read_dir(demo_dir().join("billing/cur/crossaz-demo-cur/data/BILLING_PERIOD=2026-10")).unwrap().next().unwrap().unwrap().path();
    let row = |day: i32| BillRow {
        day,
        resource_id: "i-0aaa".into(),
        usage_type: "APN2-DataTransfer-Regional-Bytes".into(),
        operation: "InterZone-Out".into(),
        product_code: "AmazonEC2",
        usage_amount: "1.5".parse().unwrap(),
        unit: "GB",
        unblended_cost: "0.015".parse().unwrap(),
        net_cost: "0.0135".parse().unwrap(),
        description: "regional data transfer".into(),
        tags: vec![],
    };
    let day = |s: &str| crossaz::model::time::day_of(crossaz::model::time::parse_time(s).unwrap());
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (period, first) in [("2026-09", "2026-09-03"), ("2026-11", "2026-11-02")] {
        let p = dir.path().join(format!("{period}.parquet"));
        write_cur2(&p, &[row(day(first))], 0).unwrap();
        files.insert(period.into(), std::fs::read(p).unwrap());
    }
    files.insert("2026-10".into(), std::fs::read(october).unwrap());
    let mut keys = BTreeMap::new();
    moto::runtime().block_on(async {
        let s3 = moto::s3().await;
        make_bucket(&s3, bucket).await;
        for (period, body) in &files {
            let key = format!("exports/{CUR_EXPORT}/data/BILLING_PERIOD={period}/{CUR_EXPORT}-00001.snappy.parquet");
            put(&s3, bucket, &key, body.clone()).await;
            let manifest = serde_json::json!({
                "executionId": format!("exec-{period}"),
                "exportArn": format!("arn:aws:bcm-data-exports:us-east-1:123456789012:export/{CUR_EXPORT}-0b1c"),
                "columns": [{"name": "line_item_usage_type", "type": "string"}],
                "dataFiles": [format!("s3://{bucket}/{key}")],
            });
            put(&s3, bucket, &format!("exports/{CUR_EXPORT}/metadata/BILLING_PERIOD={period}/{CUR_EXPORT}-Manifest.json"), manifest.to_string().into_bytes())
                .await;
            keys.insert(key, body.clone());
        }
        // A file of an earlier delivery the manifest no longer lists.
        put(&s3, bucket, &format!("exports/{CUR_EXPORT}/data/BILLING_PERIOD=2026-10/{CUR_EXPORT}-00000.snappy.parquet"), b"stale".to_vec()).await;
    });
    keys
}

#[test]
fn cur_pull_takes_the_months_asked_from_the_manifests_and_only_what_changed() {
    use crossaz::generate::bill::CUR_EXPORT;
    let bucket = unique("cur");
    let keys = upload_cur_export(&bucket);
    let ws = tempdir();
    let w = ws.path().to_str().unwrap().to_string();
    let args = ["billing", "--source", "cur", "--bucket", &bucket, "--prefix", "exports", "--from", "2026-10-01", "--to", "2026-12-01", "--workspace", &w];
    let run = pull(&args, moto::endpoint(), ws.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("2 billing periods") && run.stdout.contains("2 data files, 2 downloaded"), "{}", run.stdout);
    let cur = ws.path().join("billing/cur");
    let local: Vec<String> = files_under(&cur).iter().map(|f| f.strip_prefix(&cur).unwrap().to_str().unwrap().to_string()).collect();
    let expected: Vec<String> = keys.keys().filter(|k| !k.contains("2026-09")).cloned().collect();
    assert_eq!(local, expected, "October and November, not September, not the stale file");
    for k in &expected {
        assert_eq!(std::fs::read(cur.join(k)).unwrap(), keys[k]);
    }
    // Again: nothing changed, nothing downloaded.
    let run = pull(&args, moto::endpoint(), ws.path());
    assert!(run.stdout.contains("0 downloaded") && run.stdout.contains("2 already up to date"), "{}", run.stdout);
    // A download cut short is taken again; a new delivery replaces October's file.
    let nov = cur.join(&expected[1]);
    let body = std::fs::read(&nov).unwrap();
    std::fs::write(&nov, &body[..body.len() / 3]).unwrap();
    let new_key = format!("exports/{CUR_EXPORT}/data/BILLING_PERIOD=2026-10/{CUR_EXPORT}-00002.snappy.parquet");
    moto::runtime().block_on(async {
        let s3 = moto::s3().await;
        put(&s3, &bucket, &new_key, keys[&expected[0]].clone()).await;
        let manifest = serde_json::json!({"executionId": "exec-2", "dataFiles": [format!("s3://{bucket}/{new_key}")]});
        put(&s3, &bucket, &format!("exports/{CUR_EXPORT}/metadata/BILLING_PERIOD=2026-10/{CUR_EXPORT}-Manifest.json"), manifest.to_string().into_bytes()).await;
    });
    let run = pull(&args, moto::endpoint(), ws.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("2 downloaded") && run.stdout.contains("1 replaced files removed"), "{}", run.stdout);
    let local: Vec<String> = files_under(&cur).iter().map(|f| f.strip_prefix(&cur).unwrap().to_str().unwrap().to_string()).collect();
    assert_eq!(local, vec![new_key.clone(), expected[1].clone()]);
    assert_eq!(std::fs::read(&nov).unwrap(), body);
    // The pulled export reconciles like the local one: October's resources.
    let read = crossaz::sources::billing_export::read(&cur.join(&new_key)).unwrap();
    let local_read = crossaz::sources::billing_export::read(
        &std::fs::read_dir(demo_dir().join("billing/cur/crossaz-demo-cur/data/BILLING_PERIOD=2026-10")).unwrap().next().unwrap().unwrap().path(),
    )
    .unwrap();
    assert_eq!(read.charges, local_read.charges);
    // What `crossaz setup` wrote in crossaz.toml is enough: no flags but the window.
    let ws2 = tempdir();
    std::fs::write(
        ws2.path().join("crossaz.toml"),
        format!("[billing]\nsource = \"cur\"\nexport = \"{CUR_EXPORT}\"\nbucket = \"{bucket}\"\nprefix = \"exports\"\n"),
    )
    .unwrap();
    let w2 = ws2.path().to_str().unwrap().to_string();
    let run = pull(&["billing", "--from", "2026-09-01", "--to", "2026-10-01", "--workspace", &w2], moto::endpoint(), ws2.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(&format!("billing export ({CUR_EXPORT}): 1 billing periods ({CUR_EXPORT} 2026-09)")), "{}", run.stdout);
    // A prefix without exports is named.
    let bad = ["billing", "--source", "cur", "--bucket", &bucket, "--prefix", "nothing-here", "--from", "2026-10-01", "--to", "2026-11-01", "--workspace", &w];
    let run = pull(&bad, moto::endpoint(), ws.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("no Data Exports manifest for 2026-10"), "{}", run.stderr);
}
