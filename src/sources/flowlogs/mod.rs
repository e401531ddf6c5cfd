//! VPC flow logs from local files: text (plain or gzip) and Parquet, single files or the S3
//! layouts (`AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/…` and the Hive-style one).

pub mod format;
pub mod parquet;
pub mod text;

use crate::error::InputProblem;
use crate::model::time::{Ts, day_of};
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Text,
    Parquet,
}

#[derive(Clone, Debug)]
pub struct FlowFile {
    pub path: PathBuf,
    pub kind: FileKind,
    pub size: u64,
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
            d.files.push(FlowFile { path, kind, size });
        }
    }
    d
}

fn is_parquet(path: &Path) -> bool {
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
