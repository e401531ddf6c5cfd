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
}

fn mib(b: u64) -> String {
    format!("{:.0} MiB", b as f64 / (1u64 << 20) as f64)
}

fn dir_size(p: &std::path::Path) -> u64 {
    walkdir::WalkDir::new(p).into_iter().filter_map(Result::ok).filter_map(|e| e.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum()
}

pub fn run(args: Args, printer: &Printer) -> Result<ExitCode, Error> {
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
    say(&format!("generating about {} records (once; kept in `{}`)…", human_count(args.records), dir.display()));
    let (text, n_text) = bench::dataset(&dir, args.records, FlowFormat::Recommended)?;
    let (parquet, n_parquet) = bench::dataset(&dir, args.records, FlowFormat::Parquet)?;
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
    for (data, n, format, name) in [(&text, n_text, FlowFormat::Recommended, "gzip text"), (&parquet, n_parquet, FlowFormat::Parquet, "Parquet")] {
        let ours = work.join(format!("crossaz-{}.csv", if format == FlowFormat::Parquet { "parquet" } else { "text" }));
        say(&format!("timing crossaz on {name}…"));
        let m = bench::best_of(args.runs, || {
            let mut c = Command::new(&exe);
            c.arg("-q").arg("attribute").arg("--flow-logs").arg(data.join("flow-logs")).arg("--network").arg(data.join("network"));
            c.arg("--k8s").arg(data.join("k8s")).args(["--by", "service", "--format", "csv", "--output"]).arg(&ours);
            c.stdout(Stdio::null());
            c
        })?;
        rows.push(("crossaz".into(), name, n, m));
        let a = bench::read_result(&ours, true)?;
        exact.push((name, a == bench::truth_result(data)?));
        if let Some(py) = &python {
            let theirs = work.join(format!("duckdb-{}.csv", if format == FlowFormat::Parquet { "parquet" } else { "text" }));
            let (flows_sql, query_sql) = bench::sql_files(&work, &data.join("flow-logs"), &lookup_dir, format)?;
            say(&format!("timing DuckDB on {name}…"));
            let m = bench::best_of(args.runs, || bench::duckdb_command(py, &flows_sql, &query_sql, &theirs))?;
            rows.push(("DuckDB".into(), name, n, m));
            let b = bench::read_result(&theirs, false)?;
            identical.push((name, a == b, a.len()));
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
    out.push_str(&format!("machine: {} cores; best of {} runs each\n\n", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1), args.runs));
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
    crate::cli::emit(out.as_bytes(), None)?;
    if identical.iter().any(|(_, same, _)| !same) {
        return Err(Error::failure("the DuckDB query and crossaz disagree; compare the CSV files in the work directory"));
    }
    if exact.iter().any(|(_, same)| !same) {
        return Err(Error::failure("crossaz differs from the generator's truth; compare its CSV files with `truth.json`"));
    }
    Ok(ExitCode::SUCCESS)
}
