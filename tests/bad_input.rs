//! Bad input: a clear error naming the file (and line), the rest still processed, nothing lost.

use crate::util::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

fn gunzip(path: &Path) -> String {
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut s).unwrap();
    s
}

fn gzip(path: &Path, text: &str) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    std::fs::write(path, gz.finish().unwrap()).unwrap();
}

fn flow_files(dir: &Path) -> Vec<PathBuf> {
    crossaz::sources::expand_path(&dir.join("flow-logs")).unwrap()
}

fn attribute_args(_dir: &Path) -> Vec<String> {
    ["attribute", "--flow-logs", "flow-logs", "--network", "network", "--k8s", "k8s", "--format", "json"].iter().map(|s| s.to_string()).collect()
}

fn run_in(dir: &Path, args: &[String]) -> Run {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    crossaz(&a, dir)
}

fn report_of(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("stdout is a JSON report ({e}): {}", run.stderr))
}

fn code_records(report: &serde_json::Value, code: &str) -> u64 {
    report["summary"]["records"]["uncounted"].as_array().unwrap().iter().find(|u| u["code"] == code).map(|u| u["records"].as_u64().unwrap()).unwrap_or(0)
}

#[test]
fn a_malformed_line_is_named_and_the_rest_counted() {
    let dir = generated(short(2));
    let file = flow_files(dir.path())[0].clone();
    let mut lines: Vec<String> = gunzip(&file).lines().map(str::to_string).collect();
    lines.insert(4, "5 123456789012 eni-0bad 10.0.64.11 not-an-ip 1 2 6 1 100 1790812800 1790812810 ACCEPT OK".into());
    gzip(&file, &(lines.join("\n") + "\n"));
    let run = run_in(dir.path(), &attribute_args(dir.path()));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let rel = file.strip_prefix(dir.path()).unwrap().display().to_string();
    assert!(run.stderr.contains("error: some input could not be read (1 records skipped"), "{}", run.stderr);
    let report = report_of(&run);
    let malformed = report["summary"]["records"]["uncounted"].as_array().unwrap().iter().find(|u| u["code"] == "malformed").unwrap();
    assert_eq!(malformed["records"], 1);
    assert_eq!(malformed["examples"][0], format!("{rel}:5 — expected 25 fields (as the header says), found 14"));
    // Every other record is counted exactly as without the bad line.
    let t = truth(dir.path());
    assert_eq!(report["summary"]["records"]["counted"], t["records"]["counted"]);
    assert_eq!(report["summary"]["records"]["read"].as_u64().unwrap(), t["records"]["total"].as_u64().unwrap() + 1);
}

#[test]
fn a_bad_value_names_the_field() {
    let dir = generated(short(1));
    let file = flow_files(dir.path())[0].clone();
    let text = gunzip(&file).replacen(" ACCEPT OK ", " ACCEPTED OK ", 1);
    gzip(&file, &text);
    let report = report_of(&run_in(dir.path(), &attribute_args(dir.path())));
    let m = report["summary"]["records"]["uncounted"].as_array().unwrap().iter().find(|u| u["code"] == "malformed").unwrap();
    assert!(m["examples"][0].as_str().unwrap().ends_with(":2 — field `action` is `ACCEPTED`: expected `ACCEPT`, `REJECT` or `-`"), "{}", m["examples"][0]);
}

#[test]
fn truncated_gzip_keeps_every_complete_record() {
    let dir = generated(short(2));
    let file = flow_files(dir.path())[1].clone();
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let run = run_in(dir.path(), &attribute_args(dir.path()));
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("the gzip stream is truncated or corrupt after line"), "{}", run.stderr);
    assert!(run.stderr.contains(&file.file_name().unwrap().to_string_lossy().to_string()));
    let report = report_of(&run);
    let read = report["summary"]["records"]["read"].as_u64().unwrap();
    let counted = report["summary"]["records"]["counted"].as_u64().unwrap();
    let uncounted: u64 = report["summary"]["records"]["uncounted"].as_array().unwrap().iter().map(|u| u["records"].as_u64().unwrap()).sum();
    assert_eq!(read, counted + uncounted, "every record read is accounted for");
    let day1 = gunzip(&flow_files(dir.path())[0]).lines().count() as u64 - 1;
    assert!(read > day1, "the first day and part of the second were read");
    assert!(code_records(&report, "truncated") <= 1);
}

#[test]
fn unknown_header_fields_warn_and_are_ignored() {
    let dir = generated(short(1));
    let file = flow_files(dir.path())[0].clone();
    let text = gunzip(&file).replacen("traffic-path", "trafic-path", 1);
    gzip(&file, &text);
    let run = run_in(dir.path(), &attribute_args(dir.path()));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains(":1`: unknown field `trafic-path` in the header, did you mean `traffic-path`?; its column is ignored"), "{}", run.stderr);
    assert_eq!(report_of(&run)["summary"]["records"]["counted"], truth(dir.path())["records"]["counted"]);
}

#[test]
fn an_empty_file_is_an_error_and_the_others_still_count() {
    let dir = generated(short(2));
    std::fs::write(dir.path().join("flow-logs/empty.log"), "").unwrap();
    let run = run_in(dir.path(), &attribute_args(dir.path()));
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("error: cannot read `flow-logs/empty.log`\n  Caused by: the file is empty; expected flow-log records"), "{}", run.stderr);
    assert_eq!(report_of(&run)["summary"]["records"]["counted"], truth(dir.path())["records"]["counted"]);
}

#[test]
fn broken_network_json_names_its_line() {
    let dir = generated(short(1));
    std::fs::write(dir.path().join("network/broken.json"), "{\n  \"NetworkInterfaces\": [\n    {\"NetworkInterfaceId\": \"eni-1\",,}\n  ]\n}\n").unwrap();
    let run = run_in(dir.path(), &attribute_args(dir.path()));
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("error: cannot read `network/broken.json:3`\n  Caused by: invalid JSON at column 36 (key must be a string)"), "{}", run.stderr);
    assert_eq!(report_of(&run)["summary"]["records"]["counted"], truth(dir.path())["records"]["counted"]);
}

#[test]
fn inputs_in_the_wrong_place_get_a_hint() {
    let dir = generated(short(1));
    let args: Vec<String> =
        ["attribute", "--flow-logs", "flow-logs", "--network", "network", "--k8s", "network/subnets.json"].iter().map(|s| s.to_string()).collect();
    let run = run_in(dir.path(), &args);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("this is not a Kubernetes object or list"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: this looks like `aws ec2 describe-…` output: pass it with `--network`"), "{}", run.stderr);
    let args: Vec<String> = ["attribute", "--flow-logs", "flow-logs", "--network", "k8s/2026-10-01T00:00:00Z.json.gz"].iter().map(|s| s.to_string()).collect();
    let run = run_in(dir.path(), &args);
    assert!(run.stderr.contains("hint: this looks like kubectl output: pass it with `--k8s`"), "{}", run.stderr);
}

#[test]
fn truncated_parquet_is_an_error_and_the_others_still_count() {
    let dir = generated(crossaz::generate::Options { format: crossaz::generate::FlowFormat::Parquet, ..short(2) });
    let file = flow_files(dir.path())[0].clone();
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() - 100]).unwrap();
    let run = run_in(dir.path(), &attribute_args(dir.path()));
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("not a readable Parquet file"), "{}", run.stderr);
    let read = report_of(&run)["summary"]["records"]["read"].as_u64().unwrap();
    assert!(read > 0 && read < truth(dir.path())["records"]["total"].as_u64().unwrap());
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempdir();
    for (args, msg) in [
        (vec!["attribute", "--flow-logs", "nowhere"], "error: no flow-log files to read"),
        (vec!["attribute", "--flow-logs", "x", "--from", "2026-10-02", "--to", "2026-10-01"], "`--to` must be later than `--from`"),
        (vec!["attribute", "--flow-logs", "x", "--from", "yesterday"], "`yesterday` is not a time"),
        (vec!["attribute", "--flow-logs", "x", "--format", "parquet"], "`--format parquet` needs `--output FILE`"),
        (vec!["attribute", "--flow-logs", "x", "--flow-log-format", "${version} ${bites}"], "unknown field `${bites}`, did you mean `bytes`?"),
        (vec!["attribute"], "no flow logs to read: pass `--flow-logs`, or `--workspace`"),
        (vec!["attribute", "--workspace", "nowhere"], "no workspace at `nowhere`"),
        (vec!["frobnicate"], "unrecognized subcommand"),
    ] {
        let run = crossaz(&args, dir.path());
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(msg), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn a_parquet_page_that_cannot_be_decoded_counts_its_row_groups_rows_as_skipped() {
    // The footer is intact, a data page is not: the rows the reader could not decode are counted
    // (from the row group's metadata) as skipped, so every record of the file is accounted for.
    let dir = generated(crossaz::generate::Options { format: crossaz::generate::FlowFormat::Parquet, ..short(2) });
    let file = flow_files(dir.path())[0].clone();
    let mut bytes = std::fs::read(&file).unwrap();
    let rows = {
        let f = std::fs::File::open(&file).unwrap();
        parquet::file::reader::FileReader::metadata(&parquet::file::serialized_reader::SerializedFileReader::new(f).unwrap()).file_metadata().num_rows() as u64
    };
    // Overwrite a stretch early in the first column chunk's pages (after the 4-byte magic).
    for b in &mut bytes[200..260] {
        *b = 0x5a;
    }
    std::fs::write(&file, &bytes).unwrap();
    let run = run_in(dir.path(), &attribute_args(dir.path()));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("cannot decode the Parquet data after row 0"), "{}", run.stderr);
    let report = report_of(&run);
    let total = truth(dir.path())["records"]["total"].as_u64().unwrap();
    assert_eq!(report["summary"]["records"]["read"].as_u64().unwrap(), total, "every record is read or counted as skipped");
    assert_eq!(code_records(&report, "truncated"), rows);
}

#[test]
fn every_failed_input_is_named_not_just_the_last() {
    let dir = tempdir();
    std::fs::write(dir.path().join("bad.json"), "{").unwrap();
    let run = crossaz(&["attribute", "--flow-logs", "/nonexistent", "--network", "bad.json"], dir.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("error: no flow-log files to read"), "{}", run.stderr);
    assert!(run.stderr.contains("Caused by: `/nonexistent`: cannot open"), "{}", run.stderr);
    assert!(run.stderr.contains("Caused by: `bad.json:1`: the JSON ends early"), "{}", run.stderr);
}

/// A gzip member of `text`.
fn gzip_member(text: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(text).unwrap();
    gz.finish().unwrap()
}

/// A decompression bomb in a flow-log file: 256 MiB of one line without a newline, from a file of
/// a few hundred KiB (concatenated gzip members, as S3 objects may be). The line is skipped and
/// counted, never held; every other record is counted as without it; the inflation is reported;
/// memory stays at the engine's working set.
#[test]
fn a_decompression_bomb_line_is_skipped_in_bounded_memory() {
    let dir = generated(short(2));
    let file = flow_files(dir.path())[0].clone();
    let lines: Vec<String> = gunzip(&file).lines().map(str::to_string).collect();
    let mut bytes = gzip_member((lines[..4].join("\n") + "\n").as_bytes());
    let mib = gzip_member(&vec![b'x'; 1 << 20]);
    for _ in 0..256 {
        bytes.extend_from_slice(&mib);
    }
    bytes.extend(gzip_member(("\n".to_string() + &lines[4..].join("\n") + "\n").as_bytes()));
    std::fs::write(&file, &bytes).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_crossaz"));
    cmd.args(attribute_args(dir.path())).current_dir(dir.path()).env("CROSSAZ_NO_PROGRESS", "1");
    let out = dir.path().join("report.json");
    cmd.args(["-o", out.to_str().unwrap()]).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    // Peak memory (VmHWM), polled until the run exits (it exits 1: the line is bad input).
    let mut child = cmd.spawn().unwrap();
    let mut peak = 0u64;
    while child.try_wait().unwrap().is_none() {
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
        let kb = status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()).unwrap_or(0);
        peak = peak.max(kb << 10);
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(peak > 0 && peak < 96 << 20, "peak RSS {} MiB", peak >> 20);
    let run = run_in(dir.path(), &attribute_args(dir.path()));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let rel = file.strip_prefix(dir.path()).unwrap().display().to_string();
    assert!(run.stderr.contains("more than any flow-log file (200× at most): a decompression bomb or a corrupt object"), "{}", run.stderr);
    let report = report_of(&run);
    let long = report["summary"]["records"]["uncounted"].as_array().unwrap().iter().find(|u| u["code"] == "line-too-long").unwrap();
    assert_eq!(long["records"], 1);
    assert_eq!(long["bad_input"], true);
    let example = long["examples"][0].as_str().unwrap();
    assert!(example.starts_with(&format!("{rel}:5 — a line of 268435456 bytes, over the limit of 65536")), "{example}");
    let t = truth(dir.path());
    assert_eq!(report["summary"]["records"]["counted"], t["records"]["counted"]);
    assert_eq!(report["summary"]["records"]["read"].as_u64().unwrap(), t["records"]["total"].as_u64().unwrap() + 1);
}

/// A long line inside a block (it has its newline) is skipped the same way; the limit is configurable.
#[test]
fn a_long_line_is_skipped_and_the_limit_configurable() {
    let dir = generated(short(2));
    let file = flow_files(dir.path())[0].clone();
    let mut lines: Vec<String> = gunzip(&file).lines().map(str::to_string).collect();
    lines.insert(3, "2 ".repeat(50_000));
    gzip(&file, &(lines.join("\n") + "\n"));
    let run = run_in(dir.path(), &attribute_args(dir.path()));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(code_records(&report_of(&run), "line-too-long"), 1);
    assert_eq!(code_records(&report_of(&run), "malformed"), 0);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_crossaz"));
    let out = cmd.args(attribute_args(dir.path())).current_dir(dir.path()).env("CROSSAZ_MAX_LINE_BYTES", "200000").output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((code_records(&report, "line-too-long"), code_records(&report, "malformed")), (0, 1), "under a higher limit it is read, and malformed");
}

/// A JSON input that inflates past the limit (a bomb in a Kubernetes snapshot) is refused without
/// being held, named, and the rest is still read; the limit is configurable.
#[test]
fn an_oversized_json_document_is_refused_and_the_rest_read() {
    let dir = generated(short(1));
    let k8s = dir.path().join("k8s");
    let first = std::fs::read_dir(&k8s).unwrap().map(|e| e.unwrap().path()).min().unwrap();
    let bomb = k8s.join("2026-10-01T12:00:00Z.json.gz");
    let mut json = String::from("{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": []");
    json.push_str(&" ".repeat(4 << 20));
    json.push('}');
    std::fs::write(&bomb, gzip_member(json.as_bytes())).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_crossaz"));
    let out = cmd.args(attribute_args(dir.path())).current_dir(dir.path()).env("CROSSAZ_MAX_JSON_BYTES", "1048576").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("k8s/2026-10-01T12:00:00Z.json.gz") && stderr.contains("the document is larger than 1048576 bytes (inflated)"), "{stderr}");
    assert!(stderr.contains("set `CROSSAZ_MAX_JSON_BYTES` higher"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["records"]["counted"], truth(dir.path())["records"]["counted"], "the other snapshots still attribute");
    assert!(first.exists());
    // Under the default limit (1 GiB) the same document is read: an empty List.
    let run = run_in(dir.path(), &attribute_args(dir.path()));
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// Parquet metadata claiming more columns or rows than a flow-log file holds is refused before it
/// is read; the other files still count.
#[test]
fn parquet_with_absurd_metadata_is_refused() {
    let dir = generated(crossaz::generate::Options { format: crossaz::generate::FlowFormat::Parquet, ..short(2) });
    let python = std::env::var("CROSSAZ_DUCKDB_PYTHON").expect("tests/run-all sets CROSSAZ_DUCKDB_PYTHON (a Python with duckdb)");
    let wide = dir.path().join("flow-logs/wide.parquet");
    let tall = dir.path().join("flow-logs/tall.parquet");
    let columns: Vec<String> = (0..2000).map(|i| format!("1 AS c{i}")).collect();
    let program = format!(
        "import duckdb\ncon = duckdb.connect()\ncon.execute(\"COPY (SELECT {}) TO '{}' (FORMAT PARQUET)\")\n\
         con.execute(\"COPY (SELECT 'eni-1' AS interface_id, '10.0.1.5' AS srcaddr, '10.0.2.6' AS dstaddr, 100::BIGINT AS bytes, 1790812800::BIGINT AS start FROM range(10000000)) TO '{}' (FORMAT PARQUET, ROW_GROUP_SIZE 10000000)\")\n",
        columns.join(", "),
        wide.display(),
        tall.display()
    );
    let out = std::process::Command::new(python).arg("-c").arg(program).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let run = run_in(dir.path(), &attribute_args(dir.path()));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("wide.parquet") && run.stderr.contains("the Parquet metadata claims 2000 columns; a flow-log file has at most 1024"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("tall.parquet") && run.stderr.contains("row group 0 claims 10000000 rows in"), "{}", run.stderr);
    let report = report_of(&run);
    assert_eq!(report["summary"]["records"]["counted"], truth(dir.path())["records"]["counted"]);
}

/// Configuration and price tables far larger than any real one are refused by size, unread.
#[test]
fn oversized_configuration_and_price_tables_are_refused_unread() {
    let dir = generated(short(1));
    // Sparse files: their size is known without a byte written or read.
    let big = |name: &str, len: u64| std::fs::File::create(dir.path().join(name)).unwrap().set_len(len).unwrap();
    let attribute_with = |flag: &str, file: &str| {
        let mut args = attribute_args(dir.path());
        args.extend([flag.to_string(), file.to_string()]);
        run_in(dir.path(), &args)
    };
    big("rules.json", (64 << 20) + 1);
    let run = attribute_with("--transfer-rules", "rules.json");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`rules.json` is larger than 64 MiB: not a transfer-rules table"), "{}", run.stderr);
    big("crossaz.toml", (1 << 20) + 1);
    let run = attribute_with("--config", "crossaz.toml");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`crossaz.toml` is larger than 1 MiB: not a crossaz configuration"), "{}", run.stderr);
    // Under the limit, a table is read (and rejected for what it holds, not its size).
    std::fs::write(dir.path().join("rules.json"), "{}").unwrap();
    let run = attribute_with("--transfer-rules", "rules.json");
    assert!(run.stderr.contains("invalid transfer rules `rules.json`"), "{}", run.stderr);
}
