//! `crossaz pull flow-logs --log-group`: flow logs delivered to CloudWatch Logs (one stream per
//! interface), fetched day by day with FilterLogEvents and written as the gzip text files S3
//! delivery gives, header line included, one file per stream, day and flow log.
//!
//! Memory stays bounded: events are buffered per file up to a budget, then appended to the day's
//! partial files as gzip members, and the page token is checkpointed, so a pull stopped mid-day
//! resumes from its last checkpoint. Several flow logs delivering to one group (a format
//! migration) share streams: each event goes to the flow log whose format it has.

use super::s3::safe_relative_path;
use super::sdk_error;
use crate::error::Error;
use crate::model::time::{SECONDS_PER_DAY, Ts, day_of, day_start, format_date};
use crate::sources::flowlogs::format::{DEFAULT_FORMAT, Format};
use crate::sources::flowlogs::text::LineParser;
use crate::workspace::Workspace;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Clone, Copy)]
pub struct CwlPull {
    pub days: usize,
    pub days_cached: usize,
    pub events: u64,
    pub streams: usize,
    pub requests: usize,
    /// Days picked up from a checkpoint of an earlier, interrupted pull.
    pub resumed: usize,
}

/// A flow log delivering to the group: its id (when EC2 says), and its record format.
#[derive(Clone, Debug)]
pub struct GroupLog {
    pub id: Option<String>,
    pub format: Format,
}

/// How the pull runs (the defaults suit real use; tests shrink the budget and stop early).
#[derive(Clone, Copy, Debug)]
pub struct CwlOptions {
    /// Buffered bytes above which files are appended to and the page token checkpointed.
    pub buffer_bytes: usize,
    /// Stop (as if killed) after this many pages: for testing the resume.
    pub stop_after_pages: Option<usize>,
}

impl Default for CwlOptions {
    fn default() -> CwlOptions {
        CwlOptions { buffer_bytes: 32 << 20, stop_after_pages: None }
    }
}

/// The flow logs delivering to the group: the format given, else EC2's DescribeFlowLogs (every
/// flow log of the group, each with its format), else the default format.
pub async fn formats_of(ec2: &aws_sdk_ec2::Client, group: &str, given: Option<&str>) -> Result<(Vec<GroupLog>, usize), Error> {
    if let Some(f) = given {
        let format = Format::from_aws_string(f).map_err(|e| Error::usage(format!("invalid `--flow-log-format` `{f}`")).caused_by(e))?;
        return Ok((vec![GroupLog { id: None, format }], 0));
    }
    let filter = aws_sdk_ec2::types::Filter::builder().name("log-group-name").values(group).build();
    let out = ec2.describe_flow_logs().filter(filter).send().await.map_err(|e| sdk_error("find the flow log's format (ec2:DescribeFlowLogs)", e))?;
    let mut logs = Vec::new();
    for f in out.flow_logs() {
        let text = f.log_format().unwrap_or_default();
        let format = if text.is_empty() {
            Format::default_v2()
        } else {
            Format::from_aws_string(text).map_err(|e| Error::failure(format!("the flow log's format `{text}` is not valid")).caused_by(e))?
        };
        logs.push(GroupLog { id: f.flow_log_id().map(str::to_string), format });
    }
    if logs.is_empty() {
        logs.push(GroupLog { id: None, format: Format::from_names(DEFAULT_FORMAT.split(' ')).expect("the default format is valid") });
    }
    Ok((logs, 1))
}

/// Which of the group's flow logs wrote a record: the one whose format has the record's number of
/// fields and parses it; the first when none does (crossaz then reports the line as malformed).
/// `parsers` holds one parser per flow log, in the order of `logs`.
fn log_of(line: &str, logs: &[GroupLog], parsers: &mut [LineParser<'_>]) -> usize {
    if logs.len() == 1 {
        return 0;
    }
    let n = line.split_ascii_whitespace().count();
    let fits: Vec<usize> = (0..logs.len()).filter(|&i| logs[i].format.len() == n).collect();
    match fits.as_slice() {
        [one] => *one,
        [] => 0,
        many => *many.iter().find(|&&i| parsers[i].parse_record(line.as_bytes()).is_ok()).unwrap_or(&many[0]),
    }
}

/// A day's output: one partial file per (stream, flow log), written in gzip members.
struct DayFiles {
    dir: PathBuf,
    buffers: BTreeMap<(String, usize), Vec<u8>>,
    buffered: usize,
    written: BTreeMap<PathBuf, u64>,
}

/// Where a pull is in a day, saved after each flush.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Checkpoint {
    next_token: Option<String>,
    /// Partial files and the sizes they had at the checkpoint.
    files: BTreeMap<String, u64>,
    events: u64,
}

impl DayFiles {
    fn name(&self, stream: &str, log: &GroupLog, day: i32, region: &str) -> PathBuf {
        let date = format_date(day_start(day)).replace('-', "");
        let file = match &log.id {
            // Named like an S3 object, so attribution knows the flow log (and reads two in waves).
            Some(id) => format!("000000000000_vpcflowlogs_{region}_{id}_{date}T0000Z_cwl.log.gz"),
            None => format!("{}.log.gz", format_date(day_start(day))),
        };
        self.dir.join(safe_relative_path(stream)).join(file)
    }

    fn partial(path: &Path) -> PathBuf {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("day");
        path.with_file_name(format!(".{name}.partial"))
    }

    /// Appends every buffer to its partial file as one gzip member (the header starts a new file).
    fn flush(&mut self, logs: &[GroupLog], day: i32, region: &str) -> Result<(), Error> {
        for ((stream, log), buf) in std::mem::take(&mut self.buffers) {
            let path = self.name(&stream, &logs[log], day, region);
            let partial = DayFiles::partial(&path);
            let size = self.written.get(&path).copied().unwrap_or(0);
            let mut text = Vec::new();
            if size == 0 {
                text.extend_from_slice(logs[log].format.describe().as_bytes());
                text.push(b'\n');
            }
            text.extend_from_slice(&buf);
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(&text).map_err(|e| Error::io("compress", &partial, e))?;
            let member = gz.finish().map_err(|e| Error::io("compress", &partial, e))?;
            if let Some(d) = partial.parent() {
                std::fs::create_dir_all(d).map_err(|e| Error::io("create", d, e))?;
            }
            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&partial).map_err(|e| Error::io("write", &partial, e))?;
            f.write_all(&member).and_then(|()| f.sync_all()).map_err(|e| Error::io("write", &partial, e))?;
            self.written.insert(path, size + member.len() as u64);
        }
        self.buffered = 0;
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn pull(
    cwl: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    logs: &[GroupLog],
    region: &str,
    (from, to): (Ts, Ts),
    now: Ts,
    ws: &Workspace,
    opts: CwlOptions,
) -> Result<CwlPull, Error> {
    let mut summary = CwlPull::default();
    let group_dir = ws.flow_logs().join("cloudwatch").join(safe_relative_path(group));
    let state_dir = ws.state().join("cloudwatch").join(safe_relative_path(group));
    let mut streams = std::collections::BTreeSet::new();
    let mut pages = 0usize;
    let mut parsers: Vec<LineParser<'_>> = logs.iter().map(|l| LineParser::new(Path::new(""), l.format.clone(), false)).collect();
    for day in day_of(from)..=day_of(to - 1) {
        let (start, end) = (day_start(day).max(from), (day_start(day) + SECONDS_PER_DAY).min(to));
        let date = format_date(day_start(day));
        let done = state_dir.join(format!("{date}.done"));
        if done.exists() {
            summary.days_cached += 1;
            continue;
        }
        let progress = state_dir.join(format!("{date}.progress"));
        let mut files = DayFiles { dir: group_dir.clone(), buffers: BTreeMap::new(), buffered: 0, written: BTreeMap::new() };
        let mut token: Option<String> = None;
        let mut day_events = 0u64;
        let mut read_all = false;
        // An interrupted pull left a checkpoint: partial files back to their sizes then, and on.
        if let Some(cp) = std::fs::read(&progress).ok().and_then(|b| serde_json::from_slice::<Checkpoint>(&b).ok()) {
            for (p, size) in &cp.files {
                let path = PathBuf::from(p);
                let partial = DayFiles::partial(&path);
                let f = std::fs::OpenOptions::new().write(true).open(&partial).map_err(|e| Error::io("resume", &partial, e))?;
                f.set_len(*size).map_err(|e| Error::io("resume", &partial, e))?;
                files.written.insert(path, *size);
            }
            // No next page at the checkpoint: the day was read; only the renaming was left.
            read_all = cp.next_token.is_none();
            token = cp.next_token;
            day_events = cp.events;
            summary.resumed += 1;
        } else {
            // Partial files without a checkpoint are from a pull stopped before its first one.
            clear_partials(&group_dir, &date);
        }
        if !read_all {
            loop {
                if opts.stop_after_pages.is_some_and(|n| pages >= n) {
                    return Err(Error::failure(format!("stopped after {pages} pages, as asked")).hint("run the pull again: it resumes from its checkpoint"));
                }
                let out = cwl
                    .filter_log_events()
                    .log_group_name(group)
                    .start_time(start * 1000)
                    .end_time(end * 1000 - 1)
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| sdk_error(&format!("read log group `{group}` (logs:FilterLogEvents)"), e))?;
                summary.requests += 1;
                pages += 1;
                for ev in out.events() {
                    if let (Some(stream), Some(msg)) = (ev.log_stream_name(), ev.message()) {
                        let line = msg.trim_end();
                        let log = log_of(line, logs, &mut parsers);
                        let buf = files.buffers.entry((stream.to_string(), log)).or_default();
                        buf.extend_from_slice(line.as_bytes());
                        buf.push(b'\n');
                        files.buffered += line.len() + 1;
                        day_events += 1;
                        streams.insert(stream.to_string());
                    }
                }
                let next = out.next_token().filter(|t| !t.is_empty()).map(str::to_string);
                if files.buffered >= opts.buffer_bytes || next.is_none() {
                    files.flush(logs, day, region)?;
                    let cp = Checkpoint {
                        next_token: next.clone(),
                        files: files.written.iter().map(|(p, s)| (p.to_string_lossy().into_owned(), *s)).collect(),
                        events: day_events,
                    };
                    std::fs::create_dir_all(&state_dir).map_err(|e| Error::io("create", &state_dir, e))?;
                    crate::write::atomic_write(&progress, &serde_json::to_vec(&cp).expect("serializable"))?;
                }
                match next {
                    Some(t) => token = Some(t),
                    None => break,
                }
            }
        }
        // The day is read: its partial files become the day's files.
        for path in files.written.keys() {
            std::fs::rename(DayFiles::partial(path), path).map_err(|e| Error::io("write", path, e))?;
        }
        summary.events += day_events;
        summary.days += 1;
        let _ = std::fs::remove_file(&progress);
        // A day is final once it is over and delivery (minutes) has caught up.
        if day_start(day) + SECONDS_PER_DAY + 3600 <= now {
            std::fs::create_dir_all(&state_dir).map_err(|e| Error::io("create", &state_dir, e))?;
            crate::write::atomic_write(&done, files.written.len().to_string().as_bytes())?;
        }
    }
    summary.streams = streams.len();
    Ok(summary)
}

/// Removes a day's partial files (left by a pull stopped before its first checkpoint).
fn clear_partials(group_dir: &Path, date: &str) {
    let compact = date.replace('-', "");
    for entry in walkdir::WalkDir::new(group_dir).into_iter().flatten() {
        let name = entry.file_name().to_string_lossy();
        if name.starts_with('.') && name.ends_with(".partial") && (name.contains(&compact) || name.contains(date)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
