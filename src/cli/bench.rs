//! `crossaz bench`: crossaz against DuckDB on the same generated flow logs (docs/benchmark.md).

use crate::bench::{self, Measure, lookup};
use crate::error::Error;
use crate::generate::FlowFormat;
use crate::pipeline;
use crate::printer::Printer;
use crate::report::render::human_count;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Flow-log records to generate (about; the generator scales its sample month).
    #[arg(long, default_value_t = 20_000_000)]
    pub records: u64,
    /// Where to keep the generated data between runs (default: `~/.cache/crossaz/bench`).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Runs per engine and format; the fastest is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// A Python with the `duckdb` package (default: `$CROSSAZ_DUCKDB_PYTHON`, else a virtualenv
    /// made once in `~/.cache/crossaz/duckdb-venv`).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Time crossaz only.
    #[arg(long)]
    pub skip_duckdb: bool,
    /// Rows of the generated CUR 2.0 file (322 columns) whose inter-AZ lines are extracted; 0 skips it.
    #[arg(long, default_value_t = 10_000_000)]
    pub cur_rows: u64,
    /// Only the CUR extraction (no flow logs).
    #[arg(long)]
    pub cur_only: bool,
    /// The month-scale soak instead of the comparison: `crossaz attribute` alone on growing months
    /// (`--soak-parquet`, `--soak-text`), with throughput and peak memory at each size.
    #[arg(long)]
    pub soak: bool,
    /// Records of the soak's Parquet months.
    #[arg(long, value_name = "N,…", value_delimiter = ',', default_values_t = [10_000_000u64, 100_000_000, 1_000_000_000])]
    pub soak_parquet: Vec<u64>,
    /// Records of the soak's gzip-text months.
    #[arg(long, value_name = "N,…", value_delimiter = ',', default_values_t = [10_000_000u64, 100_000_000, 200_000_000])]
    pub soak_text: Vec<u64>,
    /// Extract one export's inter-AZ lines and print their sums (the timed child process).
    #[arg(long, value_name = "FILE", hide = true)]
    pub scan_cur: Option<PathBuf>,
}

fn mib(b: u64) -> String {
    format!("{:.0} MiB", b as f64 / (1u64 << 20) as f64)
}

fn dir_size(p: &std::path::Path) -> u64 {
    walkdir::WalkDir::new(p).into_iter().filter_map(Result::ok).filter_map(|e| e.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum()
}

pub fn run(args: Args, printer: &Printer) -> Result<ExitCode, Error> {
    if let Some(f) = &args.scan_cur {
        let r = bench::scan_cur(f)?;
        let text = serde_json::to_string(&r).map_err(|e| Error::failure("cannot print the result").caused_by(e))?;
        crate::cli::common::emit(format!("{text}\n").as_bytes(), None)?;
        return Ok(ExitCode::SUCCESS);
    }
    let dir = args.dir.clone().unwrap_or_else(|| {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
        home.join(".cache/crossaz/bench")
    });
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
    let exe = std::env::current_exe().map_err(|e| Error::failure("cannot find the crossaz executable").caused_by(e))?;
    let say = |m: &str| {
        if !printer.quiet {
            eprintln!("{m}");
        }
    };
    if args.cur_only {
        let mut out = String::new();
        let ok = cur_bench(&args, &dir, &exe, &mut out, &say)?;
        crate::cli::common::emit(out.as_bytes(), None)?;
        return if ok { Ok(ExitCode::SUCCESS) } else { Err(Error::failure("the CUR extraction differs from what was written")) };
    }
    if args.soak {
        let (out, exact) = soak(&args, &dir, &exe, &say)?;
        crate::cli::common::emit(out.as_bytes(), None)?;
        return if exact {
            Ok(ExitCode::SUCCESS)
        } else {
            Err(Error::failure("crossaz differs from the generator's truth; compare its CSV files with `truth.json`"))
        };
    }
    say(&format!("generating about {} records (once; kept in `{}`)…", human_count(args.records), dir.display()));
    let bench::Dataset { dir: text, records: n_text, .. } = bench::dataset(&dir, args.records, FlowFormat::Recommended)?;
    let bench::Dataset { dir: parquet, records: n_parquet, .. } = bench::dataset(&dir, args.records, FlowFormat::Parquet)?;
    let work = dir.join(format!("work-{}", args.records));
    std::fs::create_dir_all(&work).map_err(|e| Error::io("create", &work, e))?;
    let lookup_dir = work.join("lookup");
    {
        let loaded = pipeline::load_context(&crate::cli::demo::demo_inputs(&text));
        let rules = crate::pricing::transfer::Rules::bundled();
        let res = crate::attribution::resolver::Resolver::new(&loaded.inventory, &loaded.timeline, &rules);
        lookup::export(&res, &lookup_dir).map_err(|e| Error::io("write the lookup tables to", &lookup_dir, e))?;
    }
    let python = if args.skip_duckdb { None } else { Some(bench::duckdb_python(args.python.as_deref())?) };
    let mut rows: Vec<(String, &str, u64, Measure)> = Vec::new();
    let mut identical = Vec::new();
    let mut exact = Vec::new();
    let mut athena = None;
    for (data, n, format, name) in [(&text, n_text, FlowFormat::Recommended, "gzip text"), (&parquet, n_parquet, FlowFormat::Parquet, "Parquet")] {
        let ours = work.join(format!("crossaz-{}.csv", bench::slug(format)));
        say(&format!("timing crossaz on {name}…"));
        let m = bench::best_of(args.runs, || bench::attribute_command(&exe, data, &ours))?;
        rows.push(("crossaz".into(), name, n, m));
        let a = bench::read_result(&ours, true)?;
        exact.push((name, a == bench::truth_result(data)?));
        if let Some(py) = &python {
            let theirs = work.join(format!("duckdb-{}.csv", bench::slug(format)));
            let (flows_sql, query_sql) = bench::sql_files(&work, &data.join("flow-logs"), &lookup_dir, format)?;
            say(&format!("timing DuckDB on {name}…"));
            let m = bench::best_of(args.runs, || bench::duckdb_command(py, &flows_sql, &query_sql, &theirs))?;
            rows.push(("DuckDB".into(), name, n, m));
            let b = bench::read_result(&theirs, false)?;
            identical.push((name, a == b, a.len()));
            if format == FlowFormat::Parquet {
                athena = Some(athena_bench(&args, py, &work, data, n, &exe, &a, &say)?);
            }
        }
    }
    let mut out = String::new();
    out.push_str(&format!(
        "data: {} records as gzip text ({} files, {}) and as Parquet ({}), in `{}`\n",
        human_count(n_text),
        bench::count_files(&text.join("flow-logs")),
        mib(dir_size(&text.join("flow-logs"))),
        mib(dir_size(&parquet.join("flow-logs"))),
        dir.display()
    ));
    out.push_str(&format!("machine: {} cores; best of {} runs each\n\n", bench::cores(), args.runs));
    out.push_str(&format!("{:<8}  {:<9}  {:>8}  {:>12}  {:>9}\n", "engine", "format", "seconds", "records/s", "peak RSS"));
    for (engine, format, n, m) in &rows {
        out.push_str(&format!(
            "{:<8}  {:<9}  {:>8.2}  {:>12}  {:>9}\n",
            engine,
            format,
            m.seconds,
            human_count((*n as f64 / m.seconds) as u64),
            mib(m.peak_rss_bytes)
        ));
    }
    for (format, same, services) in &identical {
        out.push_str(&format!(
            "\n{format}: crossaz and DuckDB {} ({services} servers with cross-AZ bytes)",
            if *same { "agree on every server's cross-AZ bytes" } else { "DISAGREE" }
        ));
    }
    for (format, same) in &exact {
        out.push_str(&format!("\n{format}: crossaz {} the generator's truth on every server", if *same { "equals" } else { "DIFFERS FROM" }));
    }
    out.push('\n');
    if let Some(a) = &athena {
        out.push_str(&a.text);
    }
    let cur_ok = args.cur_rows == 0 || cur_bench(&args, &dir, &exe, &mut out, &say)?;
    crate::cli::common::emit(out.as_bytes(), None)?;
    if !cur_ok {
        return Err(Error::failure("the CUR extraction differs from what was written"));
    }
    if identical.iter().any(|(_, same, _)| !same) {
        return Err(Error::failure("the DuckDB query and crossaz disagree; compare the CSV files in the work directory"));
    }
    if athena.as_ref().is_some_and(|a| !a.exact) {
        return Err(Error::failure(
            "`crossaz attribute --flow-aggregates` on the pre-aggregation's result differs from the flow logs; compare the CSV files in the work directory",
        ));
    }
    if exact.iter().any(|(_, same)| !same) {
        return Err(Error::failure("crossaz differs from the generator's truth; compare its CSV files with `truth.json`"));
    }
    Ok(ExitCode::SUCCESS)
}

struct AthenaBench {
    text: String,
    exact: bool,
}

/// The pre-aggregation of `queries/flow_aggregates.sql` in DuckDB on the Parquet dataset (rows in,
/// rows out, time), then `attribute --flow-aggregates` on its result, against `local` (the flow logs' result).
#[allow(clippy::too_many_arguments)]
fn athena_bench(
    args: &Args,
    python: &std::path::Path,
    work: &std::path::Path,
    data: &std::path::Path,
    records: u64,
    exe: &std::path::Path,
    local: &[(String, u64)],
    say: &dyn Fn(&str),
) -> Result<AthenaBench, Error> {
    let truth = data.join("truth.json");
    let t: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&truth).map_err(|e| Error::io("read", &truth, e))?)
        .map_err(|e| Error::failure(format!("cannot read `{}`", truth.display())).caused_by(e))?;
    let time = |k: &str| t["window"][k].as_str().and_then(crate::model::time::parse_time);
    let (Some(from), Some(to)) = (time("from"), time("to")) else {
        return Err(Error::failure(format!("`{}` has no window", truth.display())));
    };
    let ports = crate::cli::athena::listening_ports(&[data.join("k8s")], &Printer { quiet: true })?;
    let query = crate::athena::flow_aggregates_sql("flows", from, to, ports.as_ref())?;
    let result = work.join("flow-aggregates.csv");
    let counts_file = work.join("flow-aggregates-counts.json");
    let files = bench::aggregate_files(work, data, &query)?;
    let _ = std::fs::remove_file(&counts_file);
    say("timing the pre-aggregation in DuckDB on Parquet…");
    let agg = bench::best_of(args.runs, || {
        let mut c = bench::aggregate_command(python, &files, &result, &counts_file);
        c.stdout(Stdio::null());
        c
    })?;
    let counts: serde_json::Value = std::fs::read(&counts_file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| Error::failure(format!("DuckDB wrote no counts to `{}`", counts_file.display())))?;
    let rows_out = counts["rows"].as_u64().unwrap_or(0);
    let summed = counts["records"].as_u64().unwrap_or(0);
    let ours = work.join("crossaz-aggregates.csv");
    say("timing `crossaz attribute --flow-aggregates` on the result…");
    let m = bench::best_of(args.runs, || {
        let mut c = Command::new(exe);
        c.arg("-q").arg("attribute").arg("--flow-aggregates").arg(&result).arg("--network").arg(data.join("network"));
        c.arg("--k8s").arg(data.join("k8s")).args(["--by", "service", "--format", "csv", "--output"]).arg(&ours);
        c.stdout(Stdio::null());
        c
    })?;
    let exact = bench::read_result(&ours, true)? == local && summed == records;
    let size = std::fs::metadata(&result).map(|m| m.len()).unwrap_or(0);
    let text = format!(
        "\npre-aggregation (queries/flow_aggregates.sql) in DuckDB on Parquet: {} records in, {} rows out ({:.2}x fewer; the rows stand for {} records), {:.2} s, peak RSS {}; result {} of CSV\n\
         crossaz attribute --flow-aggregates on the result: {:.2} s, peak RSS {}; {} the flow logs' result on every server\n",
        human_count(records),
        human_count(rows_out),
        records as f64 / rows_out.max(1) as f64,
        human_count(summed),
        agg.seconds,
        mib(agg.peak_rss_bytes),
        mib(size),
        m.seconds,
        mib(m.peak_rss_bytes),
        if exact { "equals" } else { "DIFFERS FROM" }
    );
    Ok(AthenaBench { text, exact })
}

/// Times the inter-AZ extraction of a generated CUR 2.0 file; false when it differs from what was written.
fn cur_bench(args: &Args, dir: &std::path::Path, exe: &std::path::Path, out: &mut String, say: &dyn Fn(&str)) -> Result<bool, Error> {
    say(&format!("generating a CUR 2.0 file of {} rows (once)…", human_count(args.cur_rows)));
    let (file, expected) = bench::cur_dataset(dir, args.cur_rows)?;
    say("timing the inter-AZ extraction…");
    let got = dir.join("cur-scan.json");
    let m = bench::best_of(args.runs, || {
        let mut c = Command::new(exe);
        c.arg("-q").arg("bench").arg("--scan-cur").arg(&file);
        c.stdout(std::fs::File::create(&got).map(Stdio::from).unwrap_or_else(|_| Stdio::null()));
        c
    })?;
    let scanned: Option<bench::CurExpected> = std::fs::read(&got).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let ok = scanned.as_ref().is_some_and(|s| {
        (s.rows, s.inter_az_rows, &s.usage_gb, &s.cost_usd) == (expected.rows, expected.inter_az_rows, &expected.usage_gb, &expected.cost_usd)
    });
    out.push_str(&format!(
        "\nCUR 2.0: {} rows × {} columns ({}); inter-AZ extraction (arrow-rs, row filter on the usage type, {} columns read): {:.2} s, {} rows/s, peak RSS {}; {} inter-AZ rows, {} GB, ${} — {} what was written\n",
        human_count(expected.rows),
        expected.columns,
        mib(std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0)),
        scanned.as_ref().map_or(0, |s| s.columns),
        m.seconds,
        human_count((expected.rows as f64 / m.seconds) as u64),
        mib(m.peak_rss_bytes),
        human_count(expected.inter_az_rows),
        expected.usage_gb.normalize(),
        expected.cost_usd.normalize(),
        if ok { "equal to" } else { "DIFFERENT FROM" }
    ));
    Ok(ok)
}

/// `crossaz attribute` on months of growing size, each generated once and kept in `dir`:
/// records, seconds, records/s and peak memory, checked against the generator's truth.
fn soak(args: &Args, dir: &std::path::Path, exe: &std::path::Path, say: &dyn Fn(&str)) -> Result<(String, bool), Error> {
    let ladder =
        args.soak_parquet.iter().map(|n| (FlowFormat::Parquet, "Parquet", *n)).chain(args.soak_text.iter().map(|n| (FlowFormat::Recommended, "gzip text", *n)));
    let mut out =
        format!("soak: `crossaz attribute --by service` on one month (31 days, 24 files a day), {} cores, best of {} runs\n\n", bench::cores(), args.runs);
    out.push_str(&format!(
        "{:<9}  {:>13}  {:>6}  {:>10}  {:>9}  {:>8}  {:>12}  {:>9}  {:>6}  {}\n",
        "format", "records", "files", "data", "generated", "seconds", "records/s", "peak RSS", "rows", "truth"
    ));
    let mut all_exact = true;
    let mut curve: Vec<(&str, u64, u64)> = Vec::new();
    for (format, name, records) in ladder {
        say(&format!("soak: generating about {} records as {name} (once; kept in `{}`)…", human_count(records), dir.display()));
        let started = std::time::Instant::now();
        let bench::Dataset { dir: data, records: n, generated: made } = bench::dataset(dir, records, format)?;
        let generated = started.elapsed().as_secs_f64();
        let ours = dir.join(format!("soak-{}-{records}.csv", bench::slug(format)));
        say(&format!("soak: timing crossaz on {} records as {name}…", human_count(n)));
        let m = bench::best_of(args.runs, || bench::attribute_command(exe, &data, &ours))?;
        let rows = csv::Reader::from_path(&ours).map(|mut r| r.records().count()).unwrap_or(0);
        let exact = bench::read_result(&ours, true)? == bench::truth_result(&data)?;
        all_exact &= exact;
        curve.push((name, n, m.peak_rss_bytes));
        out.push_str(&format!(
            "{:<9}  {:>13}  {:>6}  {:>10}  {:>9}  {:>8.2}  {:>12}  {:>9}  {:>6}  {}\n",
            name,
            human_count(n),
            bench::count_files(&data.join("flow-logs")),
            mib(dir_size(&data.join("flow-logs"))),
            if !made { "kept".to_string() } else { format!("{generated:.0} s") },
            m.seconds,
            human_count((n as f64 / m.seconds) as u64),
            mib(m.peak_rss_bytes),
            rows,
            if exact { "equal" } else { "DIFFERENT" }
        ));
    }
    for name in ["Parquet", "gzip text"] {
        let points: Vec<_> = curve.iter().filter(|c| c.0 == name).collect();
        if let (Some(first), Some(last)) = (points.first(), points.last())
            && points.len() > 1
        {
            out.push_str(&format!(
                "\n{name}: {:.1}x the records, {:.2}x the peak memory ({} to {})",
                last.1 as f64 / first.1.max(1) as f64,
                last.2 as f64 / first.2.max(1) as f64,
                mib(first.2),
                mib(last.2)
            ));
        }
    }
    out.push('\n');
    Ok((out, all_exact))
}
