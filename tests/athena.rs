//! The Athena pre-aggregation (`queries/flow_aggregates.sql`) run in DuckDB over generated
//! Parquet flow logs with AWS's column names: it keeps every record, byte and packet, only merges
//! records that differ in what the attribution rules do not read, and keeps every listening port.

use crate::util::*;
use crossaz::generate::{FlowFormat, Options};

/// Python that makes the view `flows` over the flow logs under `dir`, as `crossaz athena setup`
/// makes its view over a bucket: AWS's Parquet columns, `log_date` the date folder of each file,
/// `log_file` the file. The Parquet files as the bench reads them (queries/flows_athena_table.sql);
/// the text files of a bucket's other flow logs (another account's, a security team's) joined by
/// column name, as one table over the bucket would hold them.
fn flows_view(dir: &std::path::Path) -> String {
    let parquet: String = crossaz::bench::FLOWS_ATHENA_TABLE_SQL.lines().filter(|l| !l.starts_with("--")).collect::<Vec<_>>().join(" ");
    let logs = dir.join("flow-logs").display().to_string();
    let parquet = parquet.replace("{flow_logs}", &logs).replace("CREATE VIEW flows AS ", "").trim_end_matches(';').to_string();
    format!(
        r#"import glob
parts = ["""{parquet}"""]
for f in sorted(glob.glob("{logs}/**/*.log.gz", recursive=True)):
    read = f"read_csv('{{f}}', delim=' ', header=true, nullstr='-', quote='', escape='')"
    cols = [d[0] for d in con.execute(f"SELECT * FROM {{read}} LIMIT 0").description]
    names = ", ".join('"' + c + '" AS ' + c.replace("-", "_") for c in cols)
    parts.append(f"SELECT {{names}}, '{{f}}' AS log_file, regexp_extract('{{f}}', '([0-9]{{{{4}}}}/[0-9]{{{{2}}}}/[0-9]{{{{2}}}})/[^/]*$', 1) AS log_date FROM {{read}}")
con.execute("CREATE VIEW flows AS " + " UNION ALL BY NAME ".join(parts))
"#
    )
}

/// Runs `sql` in DuckDB with the view `flows` over the flow logs under `dir`; returns the JSON the
/// script prints.
pub fn duckdb(dir: &std::path::Path, sql: &str, script: &str) -> serde_json::Value {
    let python = std::env::var("CROSSAZ_DUCKDB_PYTHON").expect("tests/run-all sets CROSSAZ_DUCKDB_PYTHON (a Python with duckdb)");
    let sql_file = dir.join("query.sql");
    std::fs::write(&sql_file, sql).unwrap();
    let program =
        format!("import sys, json, duckdb\ncon = duckdb.connect()\n{}agg = con.execute(open(sys.argv[1]).read()).fetchall()\n{script}", flows_view(dir));
    let out = std::process::Command::new(python).arg("-c").arg(program).arg(&sql_file).output().expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_pre_aggregation_keeps_every_record_byte_and_listening_port() {
    let dir = generated(Options { format: FlowFormat::Parquet, real_account: true, ..short(3) });
    let t = truth(dir.path());
    let (from, to) = (t["window"]["from"].as_str().unwrap(), t["window"]["to"].as_str().unwrap());
    let k8s = dir.path().join("k8s");
    let run = crossaz(&["athena", "sql", "--from", from, "--to", to, "--table", "flows", "--k8s", k8s.to_str().unwrap()], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sql = run.stdout;
    // The ports crossaz keeps: those of the snapshots' EndpointSlices and NodePorts.
    let (snaps, _) = crossaz::sources::k8s::load_snapshots(&[k8s]);
    let ports = crossaz::model::timeline::Timeline::build(snaps).listening_ports().expect("every slice names its ports");
    assert!(ports.contains(&6379) && ports.contains(&53) && ports.contains(&30080), "{ports:?}");
    let listed = ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
    let script = format!(
        "raw = con.execute('SELECT count(*), sum(bytes), sum(packets) FROM flows WHERE start >= {f} AND start < {t}').fetchone()\n\
         cols = [d[0] for d in con.execute(open(sys.argv[1]).read()).description]\n\
         i = {{c: n for n, c in enumerate(cols)}}\n\
         listening = {{{listed}}}\n\
         bad = [r for r in agg if any(p is not None and p != 65535 and p not in listening and not (q is None or p <= q) for p, q in ((r[i['srcport']], r[i['dstport']]), (r[i['dstport']], r[i['srcport']])))]\n\
         print(json.dumps({{'rows_in': raw[0], 'bytes_in': int(raw[1]), 'packets_in': int(raw[2]), 'rows_out': len(agg), 'records': sum(r[i['records']] for r in agg), 'bytes': int(sum(r[i['bytes']] or 0 for r in agg)), 'packets': int(sum(r[i['packets']] or 0 for r in agg)), 'bad_ports': len(bad), 'cols': cols, 'minute_ok': all(r[i['start_minute']] <= r[i['start']] < r[i['start_minute']] + 60 for r in agg)}}))",
        f = crossaz::model::time::parse_time(from).unwrap(),
        t = crossaz::model::time::parse_time(to).unwrap(),
    );
    let out = duckdb(dir.path(), &sql, &script);
    assert_eq!(out["records"], out["rows_in"], "every record is in one group: {out}");
    assert_eq!(out["bytes"], out["bytes_in"]);
    assert_eq!(out["packets"], out["packets_in"]);
    assert_eq!(out["bad_ports"], 0, "a port is kept when it listens or is the lower one: {out}");
    assert_eq!(out["minute_ok"], true);
    // At this sample scale flows rarely share an interface-minute; the reduction at benchmark scale is in docs/athena.md.
    assert!(out["rows_out"].as_u64().unwrap() <= out["rows_in"].as_u64().unwrap(), "{out}");
    let cols: Vec<&str> = out["cols"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    for c in
        ["interface_id", "flow_direction", "pkt_srcaddr", "pkt_dstaddr", "srcport", "dstport", "start_minute", "start", "end", "bytes", "packets", "records"]
    {
        assert!(cols.contains(&c), "{c} in {cols:?}");
    }
}

/// Runs the printed query in DuckDB over the scenario's Parquet and writes the result as Athena
/// writes CSV (a header, every value quoted); returns the CSV's path.
fn aggregate(dir: &std::path::Path) -> std::path::PathBuf {
    aggregate_as(dir, false)
}

/// As `aggregate`, or as Athena's UNLOAD writes Parquet: several gzip-compressed files in a
/// folder, without an extension; returns the folder.
fn aggregate_as(dir: &std::path::Path, parquet: bool) -> std::path::PathBuf {
    let t = truth(dir);
    let (from, to) = (t["window"]["from"].as_str().unwrap(), t["window"]["to"].as_str().unwrap());
    let k8s = dir.join("k8s");
    let run = crossaz(&["athena", "sql", "--from", from, "--to", to, "--table", "flows", "--k8s", k8s.to_str().unwrap()], dir);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (out, options) = if parquet {
        (dir.join("unload"), "FORMAT PARQUET, COMPRESSION GZIP, PER_THREAD_OUTPUT, ROW_GROUP_SIZE 1000")
    } else {
        (dir.join("aggregates.csv"), "HEADER, FORCE_QUOTE *")
    };
    let script = format!(
        "con.execute('SET threads = 3')\ncon.execute(\"COPY (\" + open(sys.argv[1]).read() + \") TO '{}' ({options})\")\nprint(json.dumps({{'rows': len(agg)}}))",
        out.display()
    );
    duckdb(dir, &run.stdout, &script);
    if parquet {
        for f in std::fs::read_dir(&out).unwrap() {
            let p = f.unwrap().path();
            std::fs::rename(&p, p.with_extension("")).unwrap();
        }
    }
    out
}

/// The scenario attributed from its flow logs and from the pre-aggregation's result (CSV or Parquet).
fn local_and_aggregated(opts: Options, parquet: bool) -> (tempfile::TempDir, crossaz::report::Report, crossaz::report::Report) {
    let dir = generated(opts);
    let csv = aggregate_as(dir.path(), parquet);
    let local = attribute(&inputs_of(dir.path())).report;
    let mut agg_inputs = inputs_of(dir.path());
    agg_inputs.flow_logs.clear();
    agg_inputs.flow_aggregates = vec![csv];
    let agg = attribute(&agg_inputs).report;
    (dir, local, agg)
}

/// `--flow-aggregates` of the pre-aggregation's result attributes exactly as the flow logs do:
/// every conversation's bytes, every class, every record counted, the bytes per billed resource.
/// On the sample month, and on the month that ends with the real-account day (the demo's: node
/// churn, reused addresses, a replaced ALB interface, a Classic LB, SKIPDATA, and in the same
/// bucket another account's flow log on the same CIDR, another VPC's, and a security team's second
/// flow log over one subnet, all in the one table).
#[test]
fn flow_aggregates_equal_the_flow_logs() {
    for (real_account, parquet) in [(false, false), (true, false), (true, true)] {
        let (dir, local, agg) = local_and_aggregated(Options { format: FlowFormat::Parquet, real_account, ..Options::default() }, parquet);
        if parquet {
            let files = std::fs::read_dir(dir.path().join("unload")).unwrap().count();
            assert!(files > 1, "UNLOAD writes several files: {files}");
        }
        assert_eq!(report_conversations(&agg), report_conversations(&local), "real account: {real_account}, Parquet: {parquet}");
        assert_eq!(agg.measurement.summary.bytes, local.measurement.summary.bytes);
        assert_eq!(agg.measurement.resources, local.measurement.resources);
        assert!(agg.measurement.summary.notes.iter().any(|n| n.starts_with("pre-aggregated flow logs:")), "the aggregation's bound is stated");
        // Each flow log of the result is its own: the other account's rows on the same CIDR are
        // left out, the security team's where the richer flow log covers them.
        assert_eq!(agg.measurement.summary.records.counted, local.measurement.summary.records.counted);
        assert_eq!(agg.measurement.summary.records.read, local.measurement.summary.records.read);
        assert_eq!(agg.measurement.summary.other_vpcs, local.measurement.summary.other_vpcs);
        assert_eq!(agg.measurement.summary.flow_log_overlaps, local.measurement.summary.flow_log_overlaps);
        assert_eq!(report_records(&agg), report_records(&local));
        if real_account {
            assert!(!agg.measurement.summary.flow_log_overlaps.is_empty() && !agg.measurement.summary.other_vpcs.is_empty(), "{:?}", agg.measurement.summary);
        } else {
            assert_truth_conversations(&agg, &truth(dir.path()));
        }
    }
}

/// A result read in many byte ranges (one per unit of work, in parallel) gives the same report
/// as the flow logs: rows cut by a range belong to the range they start in.
#[test]
fn flow_aggregates_read_in_ranges_equal_the_flow_logs() {
    let dir = generated(Options { format: FlowFormat::Parquet, real_account: true, ..short(2) });
    let csv = aggregate(dir.path());
    let d = dir.path();
    let by_conversation = |source: &[&str], chunk: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_crossaz"));
        cmd.arg("attribute").args(source).args(["--network", d.join("network").to_str().unwrap(), "--k8s", d.join("k8s").to_str().unwrap()]);
        cmd.args(["--by", "conversation", "--format", "csv"]).env("CROSSAZ_NO_PROGRESS", "1");
        if let Some(c) = chunk {
            cmd.env("CROSSAZ_AGGREGATE_CHUNK_BYTES", c);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let local = by_conversation(&["--flow-logs", d.join("flow-logs").to_str().unwrap()], None);
    let size = std::fs::metadata(&csv).unwrap().len();
    for chunk in ["977", "40000"] {
        assert!(size / chunk.parse::<u64>().unwrap() > 3, "several ranges");
        assert_eq!(by_conversation(&["--flow-aggregates", csv.to_str().unwrap()], Some(chunk)), local, "ranges of {chunk} bytes");
    }
}

/// A result with a renamed column, or text where a number belongs, is named: the column, the line.
#[test]
fn bad_aggregates_are_named() {
    let dir = tempdir();
    let renamed = dir.path().join("renamed.csv");
    std::fs::write(&renamed, "\"interface_id\",\"srcaddr\",\"dstaddr\",\"srcport\",\"dstport\",\"protocol\",\"start\",\"end\",\"bytes\",\"record_count\"\n")
        .unwrap();
    let demo = demo_dir();
    let run = crossaz(&["attribute", "--flow-aggregates", renamed.to_str().unwrap(), "--network", demo.join("network").to_str().unwrap()], dir.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("lack the column `records` (the file has `record_count`: renamed?)"), "{}", run.stderr);
    let text = dir.path().join("text.csv");
    std::fs::write(
        &text,
        "\"interface_id\",\"srcaddr\",\"dstaddr\",\"srcport\",\"dstport\",\"protocol\",\"start\",\"end\",\"bytes\",\"records\",\"flow_direction\"\n\
         \"eni-1\",\"10.0.1.5\",\"10.0.2.6\",\"443\",\"40000\",\"6\",\"1790812800\",\"1790812860\",\"lots\",\"3\",\"egress\"\n",
    )
    .unwrap();
    let run = crossaz(&["attribute", "--flow-aggregates", text.to_str().unwrap(), "--format", "json"], dir.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("text.csv:2") && run.stderr.contains("`bytes` is `lots`: expected a whole number"), "{}", run.stderr);
}

/// Default-format text flow logs through the table and view of `athena setup --format text`: the
/// view's statement runs verbatim in DuckDB over the text table (DuckDB reads the files as
/// Athena's table declares them: the DDL's columns in order, `-` as NULL, the header skipped),
/// and the pre-aggregation over the view attributes exactly as the flow logs do.
#[test]
fn the_text_table_and_view_over_default_format_logs() {
    let dir = generated(Options { format: FlowFormat::Default, ..short(2) });
    let d = dir.path();
    let ddl = crossaz(&["athena", "setup", "--bucket", "b", "--format", "text", "--account", "123456789012", "--logs-region", "ap-northeast-2", "--print"], d);
    assert_eq!(ddl.code, 0, "{}", ddl.stderr);
    let statements: Vec<&str> = ddl.stdout.split(";\n").map(str::trim).filter(|s| !s.is_empty()).collect();
    assert_eq!(statements.len(), 3);
    // The text table's columns, as the DDL declares them.
    let columns: Vec<String> = statements[1]
        .lines()
        .filter_map(|l| l.trim().strip_prefix('`'))
        .map(|l| {
            let (name, ty) = l.split_once("` ").unwrap();
            let ty = match ty.trim_end_matches(',') {
                "int" => "INTEGER",
                "bigint" => "BIGINT",
                _ => "VARCHAR",
            };
            format!("'{name}': '{ty}'")
        })
        .collect();
    assert_eq!(columns.len(), 14, "the default format's fields");
    let t = truth(d);
    let (from, to) = (t["window"]["from"].as_str().unwrap(), t["window"]["to"].as_str().unwrap());
    let query = crossaz(&["athena", "sql", "--from", from, "--to", to, "--table", "crossaz.flow_logs", "--k8s", d.join("k8s").to_str().unwrap()], d);
    let out = d.join("aggregates.csv");
    let python = std::env::var("CROSSAZ_DUCKDB_PYTHON").expect("tests/run-all sets CROSSAZ_DUCKDB_PYTHON (a Python with duckdb)");
    let files = [("view.sql", statements[2]), ("query.sql", &query.stdout)];
    for (name, text) in files {
        std::fs::write(d.join(name), text).unwrap();
    }
    let program = format!(
        "import duckdb\ncon = duckdb.connect()\ncon.execute('CREATE SCHEMA crossaz')\n\
         con.execute(\"CREATE VIEW crossaz.flow_logs_text AS SELECT *, filename AS \\\"$path\\\", regexp_extract(filename, 'AWSLogs/([0-9]{{12}})/', 1) AS log_account, regexp_extract(filename, '/vpcflowlogs/([^/]+)/', 1) AS log_region, regexp_extract(filename, '([0-9]{{4}}/[0-9]{{2}}/[0-9]{{2}})/[^/]*$', 1) AS log_date FROM read_csv('{logs}/**/*.log.gz', delim = ' ', header = true, quote = '', escape = '', nullstr = '-', filename = true, columns = {{{cols}}})\")\n\
         con.execute(open('{view}').read())\n\
         con.execute(\"COPY (\" + open('{query}').read() + \") TO '{out}' (HEADER, FORCE_QUOTE *)\")\n",
        logs = d.join("flow-logs").display(),
        cols = columns.join(", "),
        view = d.join("view.sql").display(),
        query = d.join("query.sql").display(),
        out = out.display(),
    );
    let run = std::process::Command::new(python).arg("-c").arg(program).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let local = attribute(&inputs_of(d)).report;
    let mut agg_inputs = inputs_of(d);
    agg_inputs.flow_logs.clear();
    agg_inputs.flow_aggregates = vec![out];
    let agg = attribute(&agg_inputs).report;
    assert_eq!(report_conversations(&agg), report_conversations(&local));
    assert_eq!(agg.measurement.summary.bytes, local.measurement.summary.bytes);
    assert_eq!(agg.measurement.summary.records.counted, local.measurement.summary.records.counted);
    assert_eq!(agg.measurement.resources, local.measurement.resources);
}

/// Parquet results with a renamed column, or text where a number belongs, are named too.
#[test]
fn bad_parquet_aggregates_are_named() {
    let dir = tempdir();
    let python = std::env::var("CROSSAZ_DUCKDB_PYTHON").expect("tests/run-all sets CROSSAZ_DUCKDB_PYTHON (a Python with duckdb)");
    let row = "SELECT 'eni-1' AS interface_id, '10.0.1.5' AS srcaddr, '10.0.2.6' AS dstaddr, 443 AS srcport, 40000 AS dstport, 6 AS protocol, \
               1790812800::BIGINT AS start, 1790812860::BIGINT AS \"end\"";
    let renamed = dir.path().join("renamed.parquet");
    let text = dir.path().join("text.parquet");
    let program = format!(
        "import duckdb\ncon = duckdb.connect()\ncon.execute(\"\"\"COPY ({row}, 100::BIGINT AS bytes, 3::BIGINT AS record_count) TO '{}' (FORMAT PARQUET)\"\"\")\n\
         con.execute(\"\"\"COPY ({row}, 'lots' AS bytes, 3::BIGINT AS records) TO '{}' (FORMAT PARQUET)\"\"\")\n",
        renamed.display(),
        text.display()
    );
    let out = std::process::Command::new(python).arg("-c").arg(program).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let run = crossaz(&["attribute", "--flow-aggregates", renamed.to_str().unwrap(), "--format", "json"], dir.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("renamed.parquet") && run.stderr.contains("lack the column `records` (the file has `record_count`: renamed?)"),
        "{}",
        run.stderr
    );
    let run = crossaz(&["attribute", "--flow-aggregates", text.to_str().unwrap(), "--format", "json"], dir.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("text.parquet") && run.stderr.contains("column `bytes` holds Utf8: expected whole numbers"), "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["summary"]["records"]["read"], 1, "the row is counted as skipped");
}

/// An address that changes hands inside a minute: a row standing for several records that
/// straddles the change is counted in the report's bound; a row of one record, or of an address
/// held all minute, is not. The rows are built here around a change in the demo's snapshots (a pod
/// created at a second that is not a minute's first).
#[test]
fn rows_straddling_an_address_change_bound_the_error() {
    let demo = demo_dir();
    let (snaps, _) = crossaz::sources::k8s::load_snapshots(&[demo.join("k8s")]);
    let timeline = crossaz::model::timeline::Timeline::build(snaps);
    let holdings: Vec<_> = timeline.holdings().collect();
    // A change: one pod's holding ends where the next one's starts, inside a minute.
    let (ip, change) = holdings
        .iter()
        .filter(|(_, start, _, _)| start.rem_euclid(60) != 0)
        .find_map(|(ip, start, _, _)| holdings.iter().any(|(i, _, end, _)| i == ip && end == start).then_some((*ip, *start)))
        .expect("the demo replaces a pod whose address is reused");
    let minute = change - change.rem_euclid(60);
    // An address held by one pod all that minute.
    let (steady, _, _, _) = *holdings.iter().find(|(i, s, e, _)| *i != ip && *s <= minute && *e > minute + 60).unwrap();
    let dir = tempdir();
    let csv = dir.path().join("aggregates.csv");
    let row = |src: String, records: u64, bytes: u64| {
        format!(
            "\"eni-0straddle\",\"{src}\",\"10.0.250.9\",\"{src}\",\"10.0.250.9\",\"443\",\"40000\",\"6\",\"{minute}\",\"{}\",\"{bytes}\",\"{records}\",\"egress\",\"ACCEPT\",\"OK\"\n",
            minute + 30
        )
    };
    let text = format!(
        "\"interface_id\",\"srcaddr\",\"dstaddr\",\"pkt_srcaddr\",\"pkt_dstaddr\",\"srcport\",\"dstport\",\"protocol\",\"start\",\"end\",\"bytes\",\"records\",\"flow_direction\",\"action\",\"log_status\"\n{}{}{}",
        row(ip.to_string(), 3, 1000),
        row(steady.to_string(), 2, 500),
        row(ip.to_string(), 1, 7)
    );
    std::fs::write(&csv, text).unwrap();
    let day = crossaz::model::time::day_start(crossaz::model::time::day_of(minute));
    let (from, to) = (crossaz::model::time::format_time(day), crossaz::model::time::format_time(day + 86_400));
    let run = crossaz(
        &[
            "attribute",
            "--flow-aggregates",
            csv.to_str().unwrap(),
            "--network",
            demo.join("network").to_str().unwrap(),
            "--k8s",
            demo.join("k8s").to_str().unwrap(),
            "--from",
            &from,
            "--to",
            &to,
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["summary"]["records"]["read"], 6);
    let notes: Vec<&str> = report["summary"]["notes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    let note = notes.iter().find(|n| n.starts_with("pre-aggregated flow logs:")).unwrap();
    assert!(note.starts_with("pre-aggregated flow logs: 3 records (1000 bytes) are in rows whose addresses changed hands"), "{note}");
}
