//! VPC flow logs from local files: text (plain or gzip) and Parquet, single files or the S3
//! layouts (`AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/…` and the Hive-style one).

pub mod aggregates;
pub mod format;
pub mod parquet;
pub mod split;
pub mod text;
pub mod values;

use crate::error::InputProblem;
use crate::model::time::{Ts, day_of};
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Text,
    Parquet,
    /// The pre-aggregation's result (`--flow-aggregates`): CSV, one row per group of records.
    Aggregates,
    /// The same result as Parquet (Athena's UNLOAD).
    AggregatesParquet,
}

#[derive(Clone, Debug)]
pub struct FlowFile {
    pub path: PathBuf,
    pub kind: FileKind,
    pub size: u64,
    /// From an S3 object name: `{account}_vpcflowlogs_{region}_{flow-log-id}_{time}_{hash}…`.
    pub flow_log_id: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    /// For a part of a pre-aggregation result: how much its rows' fields tell.
    pub richness: Option<u32>,
}

impl FlowFile {
    pub fn new(path: PathBuf, kind: FileKind, size: u64) -> FlowFile {
        let name = S3Name::parse(&path);
        FlowFile {
            path,
            kind,
            size,
            flow_log_id: name.as_ref().map(|n| n.flow_log_id.clone()),
            account: name.as_ref().map(|n| n.account.clone()),
            region: name.map(|n| n.region),
            richness: None,
        }
    }

    /// How reports name what a file belongs to: its flow log and account, or its path.
    pub fn describe_source(&self) -> String {
        match (&self.flow_log_id, &self.account) {
            (Some(l), Some(a)) => format!("flow log {l} (account {a})"),
            _ => format!("`{}`", self.path.display()),
        }
    }
}

/// The parts of a flow-log object's name as AWS writes it to S3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Name {
    pub account: String,
    pub region: String,
    pub flow_log_id: String,
}

impl S3Name {
    pub fn parse(path: &Path) -> Option<S3Name> {
        let name = path.file_name()?.to_str()?;
        let mut parts = name.split('_');
        let account = parts.next()?;
        if parts.next()? != "vpcflowlogs" || account.is_empty() || !account.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let region = parts.next()?;
        let flow_log_id = parts.next()?;
        flow_log_id.starts_with("fl-").then(|| S3Name { account: account.to_string(), region: region.to_string(), flow_log_id: flow_log_id.to_string() })
    }
}

/// How much a file's format tells (pkt-* fields, flow-direction, az-id, …): when two flow logs
/// cover one interface, the richer one's records count.
pub fn format_richness(file: &FlowFile, assumed: &format::TextFormat) -> u32 {
    let format = match file.kind {
        FileKind::Parquet => parquet::columns(&file.path).ok(),
        FileKind::Text => text::header_format(&file.path).ok().flatten().or_else(|| Some(assumed.format.clone())),
        // One result holds every flow log the query read: it is a wave of its own.
        FileKind::Aggregates | FileKind::AggregatesParquet => return file.richness.unwrap_or(0),
    };
    format.map(|f| f.richness()).unwrap_or(0)
}

/// What discovery found: files to read, files left out by their date path, problems.
#[derive(Default, Debug)]
pub struct Discovered {
    pub files: Vec<FlowFile>,
    pub outside_window: usize,
    pub problems: Vec<InputProblem>,
}

/// Lists flow-log files under `paths`, skipping S3 date folders that cannot hold records
/// of the window (with a day of margin: a file holds records that started before its folder's day).
pub fn discover(paths: &[PathBuf], from: Option<Ts>, to: Option<Ts>) -> Discovered {
    let mut d = Discovered::default();
    // The same file named twice (a directory and its workspace, overlapping paths) is read once.
    let mut seen = std::collections::HashSet::new();
    for p in paths {
        let files = match super::expand_path(p) {
            Ok(f) => f,
            Err(e) => {
                d.problems.push(e);
                continue;
            }
        };
        for path in files {
            if !seen.insert(std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone())) {
                continue;
            }
            if let Some(day) = date_of_path(&path) {
                let too_early = to.is_some_and(|t| day > day_of(t - 1) + 1);
                let too_late = from.is_some_and(|f| day < day_of(f) - 1);
                if too_early || too_late {
                    d.outside_window += 1;
                    continue;
                }
            }
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let kind = if is_parquet(&path) { FileKind::Parquet } else { FileKind::Text };
            d.files.push(FlowFile::new(path, kind, size));
        }
    }
    d
}

/// A Parquet file, by its magic bytes (not its name).
pub fn is_parquet(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic)).is_ok() && &magic == b"PAR1"
}

/// The day an S3 key's folders name: `…/2026/10/01/…` or `…/year=2026/month=10/day=01/…`.
pub fn date_of_path(path: &Path) -> Option<i32> {
    let parts: Vec<&str> = path.iter().filter_map(|c| c.to_str()).collect();
    let num = |s: &str, len: usize| (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u32>().ok()).flatten();
    for w in parts.windows(3) {
        let (y, m, d) = match (w[0].strip_prefix("year="), w[1].strip_prefix("month="), w[2].strip_prefix("day=")) {
            (Some(y), Some(m), Some(d)) => (num(y, 4), num(m, 2), num(d, 2)),
            _ => (num(w[0], 4), num(w[1], 2), num(w[2], 2)),
        };
        if let (Some(y), Some(m), Some(d)) = (y, m, d) {
            let date = chrono::NaiveDate::from_ymd_opt(y as i32, m, d)?;
            return Some(day_of(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::parse_time;

    #[test]
    fn names_of_s3_objects() {
        let n = S3Name::parse(Path::new("x/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz")).unwrap();
        assert_eq!((n.account.as_str(), n.region.as_str(), n.flow_log_id.as_str()), ("123456789012", "us-east-1", "fl-1234abcd"));
        assert_eq!(S3Name::parse(Path::new("flows.log")), None);
    }

    #[test]
    fn dates_from_s3_layouts() {
        let d = day_of(parse_time("2026-10-03").unwrap());
        assert_eq!(date_of_path(Path::new("AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/2026/10/03/x.log.gz")), Some(d));
        assert_eq!(
            date_of_path(Path::new("AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=r/year=2026/month=10/day=03/hour=05/x.parquet")),
            Some(d)
        );
        assert_eq!(date_of_path(Path::new("flows/x.log")), None);
    }
}
