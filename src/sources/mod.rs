//! Readers for what users already have: flow logs, EC2 network JSON, kubectl JSON.
//! Everything AWS- or Kubernetes-shaped is parsed here and handed on as `model` types.

pub mod aws;
pub mod billing;
pub mod billing_export;
pub mod flowlogs;
pub mod http;
pub mod ip_ranges;
pub mod k8s;
pub mod kube_pull;
pub mod network;

use crate::error::InputProblem;
use flate2::read::MultiGzDecoder;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// Opens a file, inflating it when it is gzip (by magic bytes, not by name).
pub fn open_maybe_gz(path: &Path) -> Result<Box<dyn Read + Send>, InputProblem> {
    let mut file = std::fs::File::open(path).map_err(|e| InputProblem::new(path, None, format!("cannot open: {e}")))?;
    let mut magic = [0u8; 2];
    let n = read_fully(&mut file, &mut magic).map_err(|e| InputProblem::new(path, None, format!("cannot read: {e}")))?;
    use std::io::Seek;
    file.seek(std::io::SeekFrom::Start(0)).map_err(|e| InputProblem::new(path, None, format!("cannot read: {e}")))?;
    let reader = BufReader::with_capacity(1 << 20, file);
    if n == 2 && magic == [0x1f, 0x8b] { Ok(Box::new(MultiGzDecoder::new(reader))) } else { Ok(Box::new(reader)) }
}

fn read_fully(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The largest JSON document read whole (after inflating): far above a large cluster's kubectl
/// List (hundreds of MB for tens of thousands of pods); `CROSSAZ_MAX_JSON_BYTES` sets another.
pub const DEFAULT_MAX_JSON_BYTES: u64 = 1 << 30;

pub fn max_json_bytes() -> u64 {
    std::env::var("CROSSAZ_MAX_JSON_BYTES").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(DEFAULT_MAX_JSON_BYTES)
}

/// Reads a whole (maybe gzip) JSON file into memory, up to `max_json_bytes`: a larger one (a
/// decompression bomb, a wrong file) is refused without being held.
pub fn read_all(path: &Path) -> Result<Vec<u8>, InputProblem> {
    let limit = max_json_bytes();
    let mut r = open_maybe_gz(path)?.take(limit + 1);
    let mut buf = Vec::new();
    r.read_to_end(&mut buf).map_err(|e| {
        let what = if e.kind() == std::io::ErrorKind::UnexpectedEof { "the gzip stream is truncated".to_string() } else { format!("cannot read: {e}") };
        InputProblem::new(path, None, what)
    })?;
    if buf.len() as u64 > limit {
        return Err(InputProblem::new(path, None, format!("the document is larger than {limit} bytes (inflated), the most crossaz reads whole"))
            .with_hint("if it is a real document, set `CROSSAZ_MAX_JSON_BYTES` higher; else check where the file came from"));
    }
    Ok(buf)
}

/// Expands a path into files: itself, or every regular file below it in name order.
pub fn expand_path(path: &Path) -> Result<Vec<PathBuf>, InputProblem> {
    let meta = std::fs::metadata(path).map_err(|e| InputProblem::new(path, None, format!("cannot open: {e}")))?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(path).follow_links(true).sort_by_file_name() {
        let entry = entry.map_err(|e| InputProblem::new(path, None, format!("cannot list directory: {e}")))?;
        if entry.file_type().is_file() {
            let name = entry.file_name().to_string_lossy();
            if !name.starts_with('.') {
                files.push(entry.into_path());
            }
        }
    }
    Ok(files)
}

/// ` (the file has `x`: renamed?)` for a column `want` that a file lacks, naming the column it most
/// likely became: the nearest by spelling (case aside, at most 3 edits), else one that extends its
/// stem or that it extends (`record_count` for `records`); empty when none is close.
pub fn renamed_column(want: &str, names: &[String]) -> String {
    let lower = want.to_lowercase();
    let stem = lower.trim_end_matches('s');
    let by_spelling = names.iter().map(|n| (strsim::levenshtein(&n.to_lowercase(), &lower), n)).filter(|(d, _)| *d > 0 && *d <= 3).min().map(|(_, n)| n);
    let by_stem = || names.iter().find(|n| n.to_lowercase() != lower && (n.to_lowercase().starts_with(stem) || lower.starts_with(&n.to_lowercase())));
    by_spelling.or_else(by_stem).map(|n| format!(" (the file has `{n}`: renamed?)")).unwrap_or_default()
}

/// Describes a serde_json error with its line, for `InputProblem`s.
pub fn json_problem(path: &Path, err: &serde_json::Error, expected: &str) -> InputProblem {
    let text = err.to_string();
    let text = text.split(" at line ").next().unwrap_or(&text);
    let what = match err.classify() {
        serde_json::error::Category::Eof => format!("the JSON ends early; expected {expected}"),
        serde_json::error::Category::Syntax => format!("invalid JSON at column {} ({text}); expected {expected}", err.column()),
        _ => format!("unexpected JSON at column {} ({text}); expected {expected}", err.column()),
    };
    InputProblem::new(path, Some(err.line() as u64), what)
}
