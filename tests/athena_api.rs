//! `athena setup` and `attribute --engine athena` through the real AWS SDK against moto_server:
//! the statements, polling through QUEUED/RUNNING/SUCCEEDED, and the result downloaded from S3.
//! moto does not run SQL: it answers with the result registered for the query, here the
//! pre-aggregation run in DuckDB over the scenario's flow logs. What moto does not do — a FAILED
//! query, a result in pages — comes from a stand-in in front of it (tests/proxy.rs) that answers
//! those calls in Athena's wire format and forwards the rest.

use crate::moto;
use crate::proxy::{self, Action};
use crate::util::*;
use crossaz::generate::{FlowFormat, Options};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

type Rows = Vec<Vec<Option<String>>>;

/// The scenario's pre-aggregation in DuckDB: column names and rows as Athena returns them
/// (every value a string, NULL absent).
fn duckdb_result(dir: &Path) -> (Vec<String>, Rows) {
    let (from, to, k8s) = window(dir);
    let run = crossaz(&["athena", "sql", "--from", &from, "--to", &to, "--table", "flows", "--k8s", &k8s], dir);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let script = "cols = [d[0] for d in con.execute(open(sys.argv[1]).read()).description]\n\
                  print(json.dumps({'cols': cols, 'rows': [[None if v is None else str(v) for v in r] for r in agg]}))";
    let out = crate::athena::duckdb(dir, &run.stdout, script);
    let cols = out["cols"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    let rows = out["rows"].as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(|v| v.as_str().map(str::to_string)).collect()).collect();
    (cols, rows)
}

fn window(dir: &Path) -> (String, String, String) {
    let t = truth(dir);
    let w = |k: &str| t["window"][k].as_str().unwrap().to_string();
    (w("from"), w("to"), dir.join("k8s").to_str().unwrap().to_string())
}

/// A result set's rows in Athena's JSON: the header first, as a SELECT's first page has it.
fn athena_rows(cols: &[String], rows: &[Vec<Option<String>>]) -> Vec<Value> {
    let datum = |v: &Option<String>| v.as_ref().map_or(json!({}), |s| json!({ "VarCharValue": s }));
    let mut all = vec![json!({ "Data": cols.iter().map(|c| json!({ "VarCharValue": c })).collect::<Vec<_>>() })];
    all.extend(rows.iter().map(|r| json!({ "Data": r.iter().map(datum).collect::<Vec<_>>() })));
    all
}

fn column_info(cols: &[String]) -> Vec<Value> {
    cols.iter().map(|c| json!({ "CatalogName": "hive", "Name": c, "Label": c, "Type": "varchar", "Nullable": "UNKNOWN" })).collect()
}

/// Registers the next query's result in `region` through moto's results endpoint.
fn register(region: &str, cols: &[String], rows: &[Vec<Option<String>>]) {
    let results = json!({ "region": region, "results": [{ "rows": athena_rows(cols, rows), "column_info": column_info(cols) }] });
    moto::moto_api("/moto-api/static/athena/query-results", &results);
}

/// Queries move one state every two GetQueryExecution calls: QUEUED, RUNNING, then SUCCEEDED.
fn slow_states() {
    moto::moto_api(
        "/moto-api/state-manager/set-transition",
        &json!({ "model_name": "athena::execution", "transition": { "progression": "manual", "times": 2 } }),
    );
}

fn bucket(name: &str) {
    moto::runtime().block_on(async {
        let s3 = moto::s3().await;
        let conf = aws_sdk_s3::types::CreateBucketConfiguration::builder()
            .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(moto::REGION))
            .build();
        let _ = s3.create_bucket().bucket(name).create_bucket_configuration(conf).send().await;
    });
}

/// `crossaz ARGS` against `endpoint` in `region`, with test credentials.
fn crossaz_aws(args: &[&str], endpoint: &str, region: &str, cwd: &Path) -> Run {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_crossaz"));
    moto::aws_env(&mut cmd).env("AWS_REGION", region).args(args).args(["--endpoint-url", endpoint]).current_dir(cwd);
    let out = cmd.output().expect("crossaz runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `attribute --by conversation --format csv` of the scenario, from its flow logs or with `engine` arguments.
fn conversations(dir: &Path, engine: &[&str], endpoint: &str, region: &str) -> Run {
    let (from, to, k8s) = window(dir);
    let network = dir.join("network");
    let mut args =
        vec!["attribute", "--network", network.to_str().unwrap(), "--k8s", &k8s, "--from", &from, "--to", &to, "--by", "conversation", "--format", "csv"];
    let flow_logs = dir.join("flow-logs");
    if engine.is_empty() {
        args.extend(["--flow-logs", flow_logs.to_str().unwrap()]);
    }
    args.extend(engine);
    crossaz_aws(&args, endpoint, region, dir)
}

#[test]
fn athena_setup_creates_the_database_and_table() {
    let dir = tempdir();
    let region = "eu-central-1";
    bucket("crossaz-setup-results");
    slow_states();
    let args = [
        "athena",
        "setup",
        "--bucket",
        "central-flow-logs",
        "--prefix",
        "eks",
        "--format",
        "text",
        "--account",
        "123456789012,210987654321",
        "--logs-region",
        region,
        "--database",
        "flows_db",
        "--athena-output",
        "s3://crossaz-setup-results/ddl/",
    ];
    let run = crossaz_aws(&args, moto::endpoint(), region, dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("created database flows_db and table flows_db.flow_logs_text and view flows_db.flow_logs over `s3://central-flow-logs/eks/AWSLogs/`"),
        "{}",
        run.stdout
    );
    // What Athena was asked, through the SDK: the database exists, the statements ran in order.
    let (database, queries) = moto::runtime().block_on(async {
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(crossaz::sources::aws::https_client())
            .region(aws_config::Region::new(region))
            .endpoint_url(moto::endpoint())
            .credentials_provider(aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "static"))
            .load()
            .await;
        let athena = aws_sdk_athena::Client::new(&conf);
        let db = athena.get_database().catalog_name("AwsDataCatalog").database_name("flows_db").send().await.unwrap();
        let ids = athena.list_query_executions().work_group("primary").send().await.unwrap().query_execution_ids.unwrap_or_default();
        let mut queries = Vec::new();
        for id in ids {
            let q = athena.get_query_execution().query_execution_id(id).send().await.unwrap().query_execution.unwrap();
            assert_eq!(q.status.unwrap().state.unwrap().as_str(), "SUCCEEDED");
            queries.push(q.query.unwrap());
        }
        (db.database.unwrap().name, queries)
    });
    assert_eq!(database, "flows_db");
    assert_eq!(queries.len(), 3, "{queries:?}");
    let printed = crossaz(&[&args[..args.len() - 2], &["--print"]].concat(), dir.path());
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    let statements: Vec<&str> = printed.stdout.split(";\n").map(str::trim).filter(|s| !s.is_empty()).collect();
    let mut ran: Vec<&str> = queries.iter().map(|q| q.trim()).collect();
    ran.sort_by_key(|q| statements.iter().position(|s| s == q));
    assert_eq!(ran, statements, "setup runs what --print prints");
}

/// The DDL of each layout, both formats, as `--print` gives it.
#[test]
fn athena_setup_prints_each_layouts_ddl() {
    let dir = tempdir();
    for format in ["parquet", "text"] {
        for (flags, layout) in [
            (&[][..], "default_daily"),
            (&["--per-hour"][..], "default_hourly"),
            (&["--hive"][..], "hive_daily"),
            (&["--hive", "--per-hour"][..], "hive_hourly"),
        ] {
            let args = [
                &["athena", "setup", "--bucket", "central-flow-logs", "--format", format, "--account", "123456789012", "--logs-region", "eu-west-1", "--print"]
                    [..],
                flags,
            ]
            .concat();
            let run = crossaz(&args, dir.path());
            assert_eq!(run.code, 0, "{}", run.stderr);
            insta::assert_snapshot!(format!("athena_setup_{format}_{layout}"), run.stdout);
        }
    }
    let run = crossaz(&["athena", "setup", "--bucket", "b", "--format", "parquet", "--logs-region", "eu-west-1", "--print"], dir.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("pass `--account ID…`"), "{}", run.stderr);
}

/// `--engine athena` through moto: the query polled through its states, the result downloaded
/// from S3, attributed exactly as the flow logs are; the report names the query and its cost.
#[test]
fn engine_athena_through_moto_equals_the_flow_logs() {
    let dir = generated(Options { format: FlowFormat::Parquet, real_account: true, ..short(2) });
    let region = "eu-west-1";
    let (cols, rows) = duckdb_result(dir.path());
    bucket("crossaz-results-s3");
    slow_states();
    register(region, &cols, &rows);
    let local = conversations(dir.path(), &[], moto::endpoint(), region);
    assert_eq!(local.code, 0, "{}", local.stderr);
    let engine = ["--engine", "athena", "--table", "crossaz.flow_logs", "--athena-output", "s3://crossaz-results-s3/crossaz/"];
    let athena = conversations(dir.path(), &engine, moto::endpoint(), region);
    assert_eq!(athena.code, 0, "{}", athena.stderr);
    assert_eq!(athena.stdout, local.stdout);
    let states: Vec<&str> =
        athena.stderr.lines().filter(|l| l.starts_with("Athena query ")).map(|l| l.split(": ").nth(1).unwrap().split(',').next().unwrap()).collect();
    assert_eq!(states, ["QUEUED", "RUNNING", "SUCCEEDED"], "{}", athena.stderr);
    // moto reports 0 bytes scanned: the 10 MB minimum is billed.
    let cost = crossaz::pricing::athena::scan_cost(0, 5.into()).round_dp(6).normalize();
    let line = athena.stderr.lines().find(|l| l.starts_with("Athena        query")).expect("the summary names the query");
    assert!(
        line.contains(" in primary: 0 B scanned, $")
            && line.contains(&format!(
                "${cost} at $5/TB; {} result rows from s3://crossaz-results-s3/crossaz/",
                crossaz::report::render::human_count(rows.len() as u64)
            )),
        "{line}"
    );
    // From a workspace, the result is kept there; `--flow-aggregates` reads it again offline.
    register(region, &cols, &rows);
    let (from, to, _) = window(dir.path());
    let ws = dir.path().to_str().unwrap();
    let args = ["attribute", "--workspace", ws, "--from", &from, "--to", &to, "--by", "conversation", "--format", "json", "-o", "report.json"];
    let run = crossaz_aws(&[&args[..], &engine[..]].concat(), moto::endpoint(), region, dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let q = &report["inputs"]["athena"];
    let kept = dir.path().join("athena").join(format!("{}.csv", q["query_id"].as_str().unwrap()));
    assert!(kept.is_file(), "{q}");
    assert_eq!((q["workgroup"].as_str(), q["table"].as_str(), q["data_scanned_bytes"].as_u64()), (Some("primary"), Some("crossaz.flow_logs"), Some(0)));
    assert_eq!(q["result_rows"].as_u64(), Some(rows.len() as u64));
    assert_eq!(q["cost_usd"].as_str().map(|c| c.parse::<rust_decimal::Decimal>().unwrap()), Some(crossaz::pricing::athena::scan_cost(0, 5.into())));
    let offline = conversations(dir.path(), &["--flow-aggregates", kept.to_str().unwrap()], moto::endpoint(), region);
    assert_eq!(offline.stdout, local.stdout);
}

/// A stand-in for what moto lacks, in front of it: GetQueryExecution answers with `state` after
/// two polls (with `scanned` bytes), GetQueryResults in pages of `page` rows; the rest goes to moto.
fn stand_in(state: &'static str, reason: &'static str, scanned: u64, rows: Vec<Value>, cols: Vec<String>, page: usize) -> (proxy::Proxy, Arc<AtomicUsize>) {
    let pages = Arc::new(AtomicUsize::new(0));
    let polls = Arc::new(AtomicUsize::new(0));
    let served = pages.clone();
    let p = proxy::start(moto::endpoint(), move |req| {
        let body: Value = serde_json::from_str(&req.body).unwrap_or_default();
        let id = body["QueryExecutionId"].as_str().unwrap_or_default();
        match req.amz_target.as_str() {
            "AmazonAthena.GetQueryExecution" => {
                let n = polls.fetch_add(1, Ordering::SeqCst);
                let s = match n {
                    0 => "QUEUED",
                    1 => "RUNNING",
                    _ => state,
                };
                let mut status = json!({ "State": s, "SubmissionDateTime": 1_790_812_800.0 });
                if s == "FAILED" || s == "CANCELLED" {
                    status["StateChangeReason"] = json!(reason);
                    status["AthenaError"] = json!({ "ErrorCategory": 2, "ErrorType": 1301, "Retryable": false, "ErrorMessage": reason });
                }
                let q = json!({ "QueryExecution": { "QueryExecutionId": id, "StatementType": "DML", "Status": status,
                    "ResultConfiguration": { "OutputLocation": format!("s3://crossaz-results-api/{id}.csv") },
                    "Statistics": { "DataScannedInBytes": scanned, "EngineExecutionTimeInMillis": 4200 }, "WorkGroup": "primary" } });
                Action::Respond(q.to_string())
            }
            "AmazonAthena.GetQueryResults" => {
                served.fetch_add(1, Ordering::SeqCst);
                let start: usize = body["NextToken"].as_str().map_or(0, |t| t.parse().unwrap());
                let size = page.min(body["MaxResults"].as_u64().unwrap_or(1000) as usize);
                let end = (start + size).min(rows.len());
                let mut out = json!({ "ResultSet": { "Rows": rows[start..end], "ResultSetMetadata": { "ColumnInfo": column_info(&cols) } }, "UpdateCount": 0 });
                if end < rows.len() {
                    out["NextToken"] = json!(end.to_string());
                }
                Action::Respond(out.to_string())
            }
            _ => Action::Forward,
        }
    });
    (p, pages)
}

/// `--athena-fetch api` pages the result through GetQueryResults: several pages, the header only
/// on the first, the same conversations; the bytes scanned are priced.
#[test]
fn engine_athena_pages_the_result() {
    let dir = generated(Options { format: FlowFormat::Parquet, real_account: true, ..short(2) });
    let region = "eu-west-2";
    let (cols, rows) = duckdb_result(dir.path());
    let page = (rows.len() / 4 + 1).min(1000);
    let (p, pages) = stand_in("SUCCEEDED", "", 3 << 40, athena_rows(&cols, &rows), cols.clone(), page);
    let local = conversations(dir.path(), &[], moto::endpoint(), region);
    let engine = ["--engine", "athena", "--athena-fetch", "api", "--athena-usd-per-tb", "6.75"];
    let athena = conversations(dir.path(), &engine, &p.url, region);
    assert_eq!(athena.code, 0, "{}", athena.stderr);
    assert_eq!(athena.stdout, local.stdout);
    // Athena gives at most 1,000 rows a page, fewer here; the header is the first page's first row.
    let expected = (rows.len() + 1).div_ceil(page.min(1000));
    assert!(expected >= 4, "several pages");
    assert_eq!(pages.load(Ordering::SeqCst), expected, "{} rows and a header in pages of {page}", rows.len());
    let line = athena.stderr.lines().find(|l| l.starts_with("Athena        query")).unwrap();
    assert!(
        line.contains(": 3.00 TiB scanned, $20.25 at $6.75/TB;")
            && line.contains(&format!("{} result rows from GetQueryResults", crossaz::report::render::human_count(rows.len() as u64))),
        "{line}"
    );
}

/// A failed or cancelled query shows Athena's reason and what to do; nothing is attributed.
#[test]
fn a_failed_athena_query_shows_its_reason() {
    let dir = generated(Options { format: FlowFormat::Parquet, ..short(1) });
    let reason = "TABLE_NOT_FOUND: line 38:6: Table 'awsdatacatalog.crossaz.flow_logs' does not exist";
    let (p, _) = stand_in("FAILED", reason, 0, Vec::new(), Vec::new(), 1000);
    let run = conversations(dir.path(), &["--engine", "athena", "--athena-output", "s3://crossaz-results-api/"], &p.url, "eu-west-3");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("failed") && run.stderr.contains(reason), "{}", run.stderr);
    assert!(run.stderr.contains("crossaz athena setup"), "{}", run.stderr);
    // Cancelled (from the console, or by the workgroup's scan limit): its reason too.
    let reason = "Query cancelled: the workgroup's data usage control (BytesScannedCutoffPerQuery) was exceeded";
    let (p, _) = stand_in("CANCELLED", reason, 0, Vec::new(), Vec::new(), 1000);
    let run = conversations(dir.path(), &["--engine", "athena", "--athena-output", "s3://crossaz-results-api/"], &p.url, "eu-west-3");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("cancelled") && run.stderr.contains(reason), "{}", run.stderr);
    assert!(run.stderr.contains("raise `BytesScannedCutoffPerQuery`, or query a shorter window"), "{}", run.stderr);
}

/// `--engine athena` needs a window and reads no local flow logs: usage errors (exit 2), before any call.
#[test]
fn engine_athena_usage_errors() {
    let dir = tempdir();
    let run = crossaz(&["attribute", "--engine", "athena", "--flow-logs", "x"], dir.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`--engine athena` reads the flow logs in Athena"), "{}", run.stderr);
    let network = demo_dir().join("network");
    let run = crossaz(&["attribute", "--engine", "athena", "--network", network.to_str().unwrap()], dir.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("pass `--month`, or `--from` and `--to`"), "{}", run.stderr);
}

/// An endpoint that does not serve Athena (moto 5.2.6 answered the SDK's JSON 1.1 requests so), one
/// that refuses the caller, and a workgroup without a result location: each failure names the
/// operation, the HTTP status, the service's code and message, and a hint that fits — never the
/// SDK's debug dump.
#[test]
fn athena_errors_name_the_operation_the_status_and_what_to_do() {
    let cases: [(&'static str, &'static str, String, &str, &str); 3] = [
        ("404 Not Found", "text/html", "<!doctype html><title>404 Not Found</title>".to_string(), "the service answered HTTP 404 Not Found", "hint: the endpoint or region does not serve this API"),
        (
            "400 Bad Request",
            "application/x-amz-json-1.1",
            json!({"__type": "AccessDeniedException", "Message": "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: athena:StartQueryExecution"}).to_string(),
            "Caused by: AccessDeniedException: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: athena:StartQueryExecution",
            "hint: the credentials lack a permission: docs/iam-policy.json",
        ),
        (
            "400 Bad Request",
            "application/x-amz-json-1.1",
            json!({"__type": "InvalidRequestException", "Message": "No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input."}).to_string(),
            "Caused by: InvalidRequestException: No output location provided.",
            "hint: the workgroup has no query result location: set one, or pass `--athena-output s3://…/`",
        ),
    ];
    for (status, content_type, body, cause, hint) in cases {
        let body = body.clone();
        let stub = crate::stub_http::serve(move |_| (status, content_type, body.clone()));
        let dir = tempdir();
        let args = ["athena", "setup", "--bucket", "b", "--format", "text", "--account", "123456789012", "--logs-region", "eu-west-1"];
        let run = crossaz_aws(&args, &stub.url, "eu-west-1", dir.path());
        assert_eq!(run.code, 1, "{status}: {}", run.stderr);
        let err = &run.stderr;
        assert!(err.contains("error: failed to start an Athena query in workgroup `primary` (athena:StartQueryExecution)"), "{status}: {err}");
        assert!(err.contains(&format!("Caused by: the service answered HTTP {status}")), "{status}: {err}");
        assert!(err.contains(cause) && err.contains(hint), "{status}: {err}");
        for dump in ["ResponseError", "Unhandled", "ServiceError {", "source:", "raw:"] {
            assert!(!err.contains(dump), "{status}: the SDK's debug dump: {err}");
        }
    }
    // Nothing listening: the connection's failure in words, no HTTP status.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let args = ["athena", "setup", "--bucket", "b", "--format", "text", "--account", "123456789012", "--logs-region", "eu-west-1"];
    let run = crossaz_aws(&args, &format!("http://{closed}"), "eu-west-1", tempdir().path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("Caused by: dispatch failure: io error") && run.stderr.contains("Connection refused"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: nothing answered: check the network, and `--endpoint-url`"), "{}", run.stderr);
    assert!(!run.stderr.contains("DispatchFailure(") && !run.stderr.contains("HTTP"), "{}", run.stderr);
}
