//! A pre-aggregation result holds every flow log its table covers: another account's over the
//! same CIDR, a security team's over one subnet. Its `flow_log_id` column names each row's flow
//! log; a result with several is split into one CSV per flow log, so each is attributed as its own
//! flow log, as its files would be (waves by richness, another VPC's units left out).

use super::aggregates::{EXTRA, read_range};
use super::format::Format;
use crate::error::InputProblem;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One flow log's rows of a result.
#[derive(Clone, Debug)]
pub struct Part {
    pub path: PathBuf,
    pub flow_log_id: Option<String>,
    pub account: Option<String>,
    /// How much its rows' fields tell (`Format::richness` of the columns they fill).
    pub richness: u32,
}

const COLUMN: &str = "flow_log_id";

/// What one flow log's rows fill: its account and the columns with a value.
#[derive(Default)]
struct Seen {
    account: Option<String>,
    filled: BTreeSet<usize>,
}

fn richness(header: &[String], filled: &BTreeSet<usize>) -> u32 {
    let names = filled.iter().filter_map(|&i| header.get(i)).map(String::as_str).filter(|n| !EXTRA.contains(n) && *n != COLUMN);
    Format::from_names(names).map(|f| f.richness()).unwrap_or(0)
}

/// The parts of the result at `path`: itself when it names one flow log (or none), else one CSV
/// per flow log in `dir`.
pub fn split(path: &Path, parquet: bool, dir: &Path) -> Result<Vec<Part>, InputProblem> {
    if parquet { split_parquet(path, dir) } else { split_csv(path, dir) }
}

fn whole(path: &Path, header: &[String], seen: BTreeMap<String, Seen>) -> Vec<Part> {
    let (id, s) = seen.into_iter().next().map_or((None, Seen::default()), |(id, s)| (Some(id), s));
    vec![Part { path: path.to_path_buf(), flow_log_id: id, account: s.account, richness: richness(header, &s.filled) }]
}

type PartWriter = csv::Writer<std::io::BufWriter<std::fs::File>>;

/// The `n`th part of the result at `path`, in `dir`: CSV as Athena writes it, the header first.
/// Flexible: a row with a wrong field count goes to its part, where the reader names it.
fn part_writer(path: &Path, dir: &Path, n: usize, header: &[String]) -> Result<(PathBuf, PartWriter), InputProblem> {
    let out = dir.join(format!("{}-{n}.csv", path.file_name().and_then(|s| s.to_str()).unwrap_or("aggregates")));
    let file = std::fs::File::create(&out).map_err(|e| cannot(&out, e))?;
    let mut w = csv::WriterBuilder::new().quote_style(csv::QuoteStyle::Always).flexible(true).from_writer(std::io::BufWriter::new(file));
    w.write_record(header).map_err(|e| cannot(&out, e))?;
    Ok((out, w))
}

fn cannot(path: &Path, e: impl std::fmt::Display) -> InputProblem {
    InputProblem::new(path, None, format!("cannot split by flow log: {e}"))
}

fn split_csv(path: &Path, dir: &Path) -> Result<Vec<Part>, InputProblem> {
    let size = std::fs::metadata(path).map_err(|e| cannot(path, e))?.len();
    let (header, _, _) = read_range(path, 0, 0)?;
    let Some(col) = header.iter().position(|c| c == COLUMN) else {
        return Ok(vec![Part { path: path.to_path_buf(), flow_log_id: None, account: None, richness: 0 }]);
    };
    let account_at = header.iter().position(|c| c == "account_id");
    // Which flow logs, and what their rows fill: in byte ranges, in parallel.
    let seen = super::aggregates::byte_ranges(size)
        .into_par_iter()
        .map(|(from, to)| -> BTreeMap<String, Seen> {
            let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
            let Ok((_, body, _)) = read_range(path, from, to) else { return seen };
            let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&body[..]);
            let mut rec = csv::ByteRecord::new();
            while let Ok(true) = rdr.read_byte_record(&mut rec) {
                let id = String::from_utf8_lossy(rec.get(col).unwrap_or_default()).trim().to_string();
                let s = seen.entry(id).or_default();
                for (i, v) in rec.iter().enumerate() {
                    if !v.is_empty() && !s.filled.contains(&i) {
                        s.filled.insert(i);
                    }
                }
                if s.account.is_none() {
                    s.account = account_at.and_then(|a| rec.get(a)).map(|v| String::from_utf8_lossy(v).to_string()).filter(|v| !v.is_empty());
                }
            }
            seen
        })
        .reduce(BTreeMap::new, |mut a, b| {
            for (id, s) in b {
                let t = a.entry(id).or_default();
                t.filled.extend(s.filled);
                if t.account.is_none() {
                    t.account = s.account;
                }
            }
            a
        });
    if seen.len() <= 1 {
        return Ok(whole(path, &header, seen.into_iter().filter(|(id, _)| !id.is_empty()).collect()));
    }
    // Several: each flow log's rows to a file of its own, as read (a header, every value quoted).
    let mut writers: BTreeMap<Vec<u8>, PartWriter> = BTreeMap::new();
    let mut parts = Vec::new();
    for (n, (id, s)) in seen.into_iter().enumerate() {
        let (out, w) = part_writer(path, dir, n, &header)?;
        writers.insert(id.as_bytes().to_vec(), w);
        parts.push(Part { path: out, flow_log_id: Some(id).filter(|i| !i.is_empty()), account: s.account.clone(), richness: richness(&header, &s.filled) });
    }
    let file = std::fs::File::open(path).map_err(|e| cannot(path, e))?;
    // Flexible, as the parts: a row with a wrong field count is passed on, for the reader to name.
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let mut rec = csv::ByteRecord::new();
    while rdr.read_byte_record(&mut rec).map_err(|e| cannot(path, e))? {
        let id = String::from_utf8_lossy(rec.get(col).unwrap_or_default()).trim().as_bytes().to_vec();
        if let Some(w) = writers.get_mut(&id) {
            w.write_byte_record(&rec).map_err(|e| cannot(path, e))?;
        }
    }
    for (_, mut w) in writers {
        w.flush().map_err(|e| cannot(path, e))?;
    }
    Ok(parts)
}

fn split_parquet(path: &Path, dir: &Path) -> Result<Vec<Part>, InputProblem> {
    use arrow_array::Array;
    use parquet::arrow::ProjectionMask;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let builder = || ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).map_err(|e| cannot(path, e))?).map_err(|e| cannot(path, e));
    let first = builder()?;
    let header: Vec<String> = first.schema().fields().iter().map(|f| f.name().clone()).collect();
    let Some(col) = header.iter().position(|c| c == COLUMN) else {
        return Ok(vec![Part { path: path.to_path_buf(), flow_log_id: None, account: None, richness: 0 }]);
    };
    let options = arrow_cast::display::FormatOptions::default();
    let id_at = |b: &arrow_array::RecordBatch, c: usize, f: &arrow_cast::display::ArrayFormatter<'_>, row: usize| {
        if b.column(c).is_null(row) { String::new() } else { f.value(row).to_string() }
    };
    // Which flow logs: the one column.
    let mask = ProjectionMask::roots(first.parquet_schema(), [col]);
    let mut ids: BTreeSet<String> = BTreeSet::new();
    for b in first.with_projection(mask).build().map_err(|e| cannot(path, e))? {
        let b = b.map_err(|e| cannot(path, e))?;
        let f = formatters(&b, &options, path)?;
        for row in 0..b.num_rows() {
            ids.insert(id_at(&b, 0, &f[0], row));
        }
    }
    if ids.len() <= 1 {
        let id = ids.into_iter().next().filter(|i| !i.is_empty());
        return Ok(vec![Part { path: path.to_path_buf(), flow_log_id: id, account: None, richness: 0 }]);
    }
    // Several: each flow log's rows to a CSV of its own, batch by batch.
    let account_at = header.iter().position(|c| c == "account_id");
    let mut writers = BTreeMap::new();
    for (n, id) in ids.iter().enumerate() {
        let (out, w) = part_writer(path, dir, n, &header)?;
        writers.insert(id.clone(), (out, w, Seen::default()));
    }
    let mut values: Vec<String> = Vec::new();
    for b in builder()?.build().map_err(|e| cannot(path, e))? {
        let b = b.map_err(|e| cannot(path, e))?;
        let f = formatters(&b, &options, path)?;
        for row in 0..b.num_rows() {
            let Some((_, w, seen)) = writers.get_mut(&id_at(&b, col, &f[col], row)) else { continue };
            values.clear();
            for (i, c) in b.columns().iter().enumerate() {
                if c.is_null(row) {
                    values.push(String::new());
                } else {
                    seen.filled.insert(i);
                    values.push(f[i].value(row).to_string());
                }
            }
            if seen.account.is_none() {
                seen.account = account_at.map(|a| values[a].clone()).filter(|v| !v.is_empty());
            }
            w.write_record(&values).map_err(|e| cannot(path, e))?;
        }
    }
    let mut parts = Vec::new();
    for (id, (out, mut w, seen)) in writers {
        w.flush().map_err(|e| cannot(&out, e))?;
        parts.push(Part { path: out, flow_log_id: Some(id).filter(|i| !i.is_empty()), account: seen.account, richness: richness(&header, &seen.filled) });
    }
    Ok(parts)
}

fn formatters<'a>(
    b: &'a arrow_array::RecordBatch,
    options: &arrow_cast::display::FormatOptions<'a>,
    path: &Path,
) -> Result<Vec<arrow_cast::display::ArrayFormatter<'a>>, InputProblem> {
    b.columns().iter().map(|c| arrow_cast::display::ArrayFormatter::try_new(c.as_ref(), options).map_err(|e| cannot(path, e))).collect()
}
