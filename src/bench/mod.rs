//! `crossaz bench`: generates N flow-log records as gzip text and as Parquet, then runs
//! `crossaz attribute` and DuckDB (with the equivalent SQL in `queries/`) on the same files,
//! each in its own process, and prints wall time, records per second and peak memory.

pub mod lookup;

use crate::error::Error;
use crate::generate::{self, FlowFormat, Options};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

pub const FLOWS_TEXT_SQL: &str = include_str!("../../queries/flows_text.sql");
pub const FLOWS_PARQUET_SQL: &str = include_str!("../../queries/flows_parquet.sql");
pub const ATTRIBUTE_SQL: &str = include_str!("../../queries/attribute_by_service.sql");
pub const FLOWS_ATHENA_TABLE_SQL: &str = include_str!("../../queries/flows_athena_table.sql");

/// Runs the pre-aggregation in DuckDB, writes its result as Athena writes CSV, and writes the rows
/// out and the records they stand for to the counts file (JSON).
const AGGREGATE_RUNNER: &str = r#"
import sys, json, duckdb
flows_sql, query_sql, out, counts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(open(flows_sql).read())
con.execute("COPY (" + open(query_sql).read() + ") TO '" + out + "' (HEADER, FORCE_QUOTE *)")
rows, records = con.execute("SELECT count(*), sum(records) FROM read_csv('" + out + "', header = true)").fetchone()
with open(counts, "w") as f:
    json.dump({"rows": rows, "records": int(records or 0)}, f)
"#;

/// The SQL files of the pre-aggregation of `data` (a Parquet dataset) in DuckDB.
pub fn aggregate_files(work: &Path, data: &Path, query: &str) -> Result<(PathBuf, PathBuf), Error> {
    let flows_sql = work.join("flows-athena-table.sql");
    let query_sql = work.join("flow-aggregates.sql");
    std::fs::write(&flows_sql, FLOWS_ATHENA_TABLE_SQL.replace("{flow_logs}", &data.join("flow-logs").display().to_string()))
        .map_err(|e| Error::io("write", &flows_sql, e))?;
    std::fs::write(&query_sql, query).map_err(|e| Error::io("write", &query_sql, e))?;
    Ok((flows_sql, query_sql))
}

/// The pre-aggregation in DuckDB: its result to `out`, its counts to `counts`.
pub fn aggregate_command(python: &Path, (flows_sql, query_sql): &(PathBuf, PathBuf), out: &Path, counts: &Path) -> Command {
    let mut c = Command::new(python);
    c.args(["-c", AGGREGATE_RUNNER]).arg(flows_sql).arg(query_sql).arg(out).arg(counts);
    c
}

/// Runs the SQL in DuckDB and writes `server,cross_az_bytes` as CSV.
const DUCKDB_RUNNER: &str = r#"
import sys, duckdb
flows_sql, query_sql, out = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(open(flows_sql).read())
rows = con.execute(open(query_sql).read()).fetchall()
with open(out, "w") as f:
    f.write("server,cross_az_bytes\n")
    for server, b in rows:
        f.write(f"{server},{b}\n")
"#;

/// One measured run of a child process.
#[derive(Clone, Copy, Debug)]
pub struct Measure {
    pub seconds: f64,
    pub peak_rss_bytes: u64,
}

/// The peak resident set size of a running process (`VmHWM`), which starts afresh at `exec`.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Spawns `cmd`, polls its peak memory every few milliseconds, and times it to its exit.
/// (`wait4`'s `ru_maxrss` would include the memory of this process at fork time.)
pub fn measure(cmd: &mut Command) -> Result<Measure, Error> {
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| Error::failure(format!("cannot start {cmd:?}")).caused_by(e))?;
    let mut peak = 0;
    let status = loop {
        if let Some(rss) = peak_rss(child.id()) {
            peak = peak.max(rss);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(5)),
            Err(e) => {
                return Err(Error::failure(format!("waiting for {cmd:?} failed")).caused_by(e));
            }
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    if !status.success() {
        return Err(Error::failure(format!("{cmd:?} failed ({status})")));
    }
    Ok(Measure { seconds, peak_rss_bytes: peak })
}

/// The best (fastest) of `runs` runs, with that run's peak memory.
pub fn best_of(runs: usize, mut make: impl FnMut() -> Command) -> Result<Measure, Error> {
    let mut best: Option<Measure> = None;
    for _ in 0..runs.max(1) {
        let m = measure(&mut make())?;
        if best.is_none_or(|b| m.seconds < b.seconds) {
            best = Some(m);
        }
    }
    Ok(best.expect("at least one run"))
}

/// How a format names the benchmark's files and folders.
pub fn slug(format: FlowFormat) -> &'static str {
    if format == FlowFormat::Parquet { "parquet" } else { "text" }
}

/// `crossaz -q attribute --by service --format csv` on a generated month's flow logs, into `out`.
pub fn attribute_command(exe: &Path, data: &Path, out: &Path) -> Command {
    let mut c = Command::new(exe);
    c.arg("-q").arg("attribute").arg("--flow-logs").arg(data.join("flow-logs")).arg("--network").arg(data.join("network"));
    c.arg("--k8s").arg(data.join("k8s")).args(["--by", "service", "--format", "csv", "--output"]).arg(out);
    c.stdout(std::process::Stdio::null());
    c
}

/// The machine's cores, as the benchmarks print them.
pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// A generated month: where it is, its records, and whether this call generated it (not kept).
pub struct Dataset {
    pub dir: PathBuf,
    pub records: u64,
    pub generated: bool,
}

/// Generates the data set once; a `complete` marker (records and the generator's fingerprint)
/// makes an interrupted generation, or data of another generator, start over.
pub fn dataset(dir: &Path, records: u64, format: FlowFormat) -> Result<Dataset, Error> {
    let out = dir.join(format!("{}-{records}", slug(format)));
    let marker = out.join("complete");
    let mut opts = Options { format, files_per_day: 24, ..Options::default() };
    let (per_month, print) = generate::scale_one(&opts);
    let made = std::fs::read_to_string(&marker).ok().and_then(|s| {
        let (n, p) = s.trim().split_once(' ')?;
        (p.parse::<u64>().ok()? == print).then(|| n.parse::<u64>().ok())?
    });
    if let Some(n) = made {
        return Ok(Dataset { dir: out, records: n, generated: false });
    }
    let _ = std::fs::remove_dir_all(&out);
    opts.scale = ((records + per_month.max(1) / 2) / per_month.max(1)).max(1);
    let s = generate::generate(&opts, &out).map_err(|e| Error::io("write benchmark data to", &out, e))?;
    std::fs::write(&marker, format!("{} {print}", s.records)).map_err(|e| Error::io("write", &marker, e))?;
    Ok(Dataset { dir: out, records: s.records, generated: true })
}

/// `~/.cache/crossaz/duckdb-venv`, where `tests/run-all` and `crossaz bench` install DuckDB.
pub fn default_venv() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache/crossaz/duckdb-venv")
}

/// A Python with DuckDB: `--python`, `CROSSAZ_DUCKDB_PYTHON`, or a virtualenv made once.
pub fn duckdb_python(given: Option<&Path>) -> Result<PathBuf, Error> {
    if let Some(p) = given.map(Path::to_path_buf).or_else(|| std::env::var_os("CROSSAZ_DUCKDB_PYTHON").map(PathBuf::from)) {
        return Ok(p);
    }
    let venv = default_venv();
    let python = venv.join("bin/python");
    let has_duckdb = |p: &Path| Command::new(p).args(["-c", "import duckdb"]).output().is_ok_and(|o| o.status.success());
    if !has_duckdb(&python) {
        let ok = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().is_ok_and(|s| s.success())
            && Command::new(&python).args(["-m", "pip", "install", "--quiet", "duckdb"]).status().is_ok_and(|s| s.success());
        if !ok || !has_duckdb(&python) {
            return Err(Error::failure("cannot set up DuckDB for the comparison")
                .hint("install it with `python3 -m pip install duckdb` and pass `--python`, or run with `--skip-duckdb`"));
        }
    }
    Ok(python)
}

/// Writes the SQL files for one format, with paths filled in.
pub fn sql_files(work: &Path, flows: &Path, lookup: &Path, format: FlowFormat) -> Result<(PathBuf, PathBuf), Error> {
    let flows_sql = if format == FlowFormat::Parquet { FLOWS_PARQUET_SQL } else { FLOWS_TEXT_SQL };
    let a = work.join(format!("flows-{}.sql", if format == FlowFormat::Parquet { "parquet" } else { "text" }));
    let b = work.join("attribute_by_service.sql");
    std::fs::write(&a, flows_sql.replace("{flow_logs}", &flows.display().to_string())).map_err(|e| Error::io("write", &a, e))?;
    std::fs::write(&b, ATTRIBUTE_SQL.replace("{lookup}", &lookup.display().to_string())).map_err(|e| Error::io("write", &b, e))?;
    Ok((a, b))
}

pub fn duckdb_command(python: &Path, flows_sql: &Path, query_sql: &Path, out: &Path) -> Command {
    let mut c = Command::new(python);
    c.args(["-c", DUCKDB_RUNNER]).arg(flows_sql).arg(query_sql).arg(out);
    c
}

/// `server,cross_az_bytes` rows with bytes, from crossaz's `--by service` CSV or DuckDB's output.
pub fn read_result(path: &Path, crossaz_csv: bool) -> Result<Vec<(String, u64)>, Error> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| Error::failure(format!("cannot read `{}`", path.display())).caused_by(e))?;
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| Error::failure(format!("cannot read `{}`", path.display())).caused_by(e))?;
        let (server, bytes) = if crossaz_csv { (format!("{}/{}", &rec[0], &rec[1]), &rec[3]) } else { (rec[0].to_string(), &rec[1]) };
        let bytes: u64 = bytes.parse().unwrap_or(0);
        if bytes > 0 {
            rows.push((server, bytes));
        }
    }
    rows.sort();
    Ok(rows)
}

/// `server,cross_az_bytes` from the generator's truth (`truth.json`): what it built, billed.
pub fn truth_result(data: &Path) -> Result<Vec<(String, u64)>, Error> {
    let path = data.join("truth.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
    let truth: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::failure(format!("cannot read `{}`", path.display())).caused_by(e))?;
    let mut by_server: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for c in truth["conversations"].as_array().into_iter().flatten().filter(|c| c["class"] == "cross-az-billed") {
        let server = format!("{}/{}", c["server_namespace"].as_str().unwrap_or(""), c["server"].as_str().unwrap_or(""));
        let bytes = c["bytes_to_server"].as_u64().unwrap_or(0) + c["bytes_to_client"].as_u64().unwrap_or(0);
        *by_server.entry(server).or_default() += bytes;
    }
    Ok(by_server.into_iter().filter(|(_, b)| *b > 0).collect())
}

pub fn count_files(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir).into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()).count()
}

/// What a generated CUR file's inter-AZ rows hold, as the generator wrote them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CurExpected {
    pub rows: u64,
    pub columns: usize,
    pub inter_az_rows: u64,
    pub usage_gb: rust_decimal::Decimal,
    pub cost_usd: rust_decimal::Decimal,
}

/// Columns beside the ones crossaz reads: a CUR 2.0 table is 300+ columns wide.
const CUR_PADDING: usize = 300;

/// A CUR 2.0 month of `rows` lines (one in 25 inter-AZ out, one in 25 in) over 4,000 resources,
/// generated once into `dir/cur-<rows>/`; returns the file and what its inter-AZ rows hold.
pub fn cur_dataset(dir: &Path, rows: u64) -> Result<(PathBuf, CurExpected), Error> {
    use crate::generate::bill::{BillRow, write_cur2_from};
    use rust_decimal::Decimal;
    let out = dir.join(format!("cur-{rows}"));
    let file = out.join("cur2-00001.snappy.parquet");
    let marker = out.join("complete.json");
    if let Some(e) = std::fs::read(&marker).ok().and_then(|b| serde_json::from_slice::<CurExpected>(&b).ok()) {
        return Ok((file, e));
    }
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| Error::io("create", &out, e))?;
    let first_day = crate::model::time::day_of(1_790_812_800);
    let mut expected = CurExpected { rows, columns: 0, inter_az_rows: 0, usage_gb: Decimal::ZERO, cost_usd: Decimal::ZERO };
    let cent = Decimal::new(1, 2);
    let made = (0..rows).map(|i| {
        let usage = Decimal::new((i % 1000 + 1) as i64, 3);
        let (usage_type, operation) = match i % 25 {
            0 => ("APN2-DataTransfer-Regional-Bytes", "InterZone-Out"),
            1 => ("APN2-DataTransfer-Regional-Bytes", "InterZone-In"),
            2 => ("APN2-DataTransfer-Regional-Bytes", "PublicIP-Out"),
            3..=9 => ("APN2-EBS:VolumeUsage.gp3", "CreateVolume-Gp3"),
            _ => ("APN2-BoxUsage:m6i.large", "RunInstances"),
        };
        if i % 25 < 2 {
            expected.inter_az_rows += 1;
            expected.usage_gb += usage;
            expected.cost_usd += usage * cent;
        }
        BillRow {
            day: first_day + (i % 30) as i32,
            resource_id: format!("i-{:017x}", i % 4000),
            usage_type: usage_type.into(),
            operation: operation.into(),
            product_code: "AmazonEC2",
            usage_amount: usage,
            unit: "GB",
            unblended_cost: usage * cent,
            net_cost: usage * cent,
            description: "generated line".into(),
            tags: vec![],
        }
    });
    let columns = write_cur2_from(&file, made, CUR_PADDING).map_err(|e| Error::io("write", &file, e))?;
    expected.columns = columns;
    let text = serde_json::to_vec(&expected).map_err(|e| Error::failure("cannot write the marker").caused_by(e))?;
    std::fs::write(&marker, text).map_err(|e| Error::io("write", &marker, e))?;
    Ok((file, expected))
}

/// Reads a billing export as `reconcile --cur` does and sums its inter-AZ charges (the
/// benchmark's child process: `crossaz bench --scan-cur FILE`).
pub fn scan_cur(path: &Path) -> Result<CurExpected, Error> {
    let r = crate::sources::billing_export::read(path).map_err(|p| Error::usage(p.to_string()))?;
    Ok(CurExpected {
        rows: r.rows,
        columns: r.columns_read,
        inter_az_rows: r.charges.iter().map(|c| c.rows).sum(),
        usage_gb: r.charges.iter().map(|c| c.usage_gb).sum(),
        cost_usd: r.charges.iter().map(|c| c.cost_usd).sum(),
    })
}
