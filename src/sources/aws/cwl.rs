//! `crossaz pull flow-logs --log-group`: flow logs delivered to CloudWatch Logs (one stream per
//! interface), fetched day by day with FilterLogEvents and written as the same gzip text files
//! S3 delivery gives, header line included.

use super::s3::safe_relative_path;
use super::sdk_error;
use crate::error::Error;
use crate::model::time::{SECONDS_PER_DAY, Ts, day_of, day_start, format_date};
use crate::sources::flowlogs::format::{DEFAULT_FORMAT, Format};
use crate::workspace::Workspace;
use std::collections::BTreeMap;
use std::io::Write;

#[derive(Debug, Default, Clone, Copy)]
pub struct CwlPull {
    pub days: usize,
    pub days_cached: usize,
    pub events: u64,
    pub streams: usize,
    pub requests: usize,
}

/// The flow log's format: the one given, else the flow log delivering to the group, else the default.
pub async fn format_of(ec2: &aws_sdk_ec2::Client, group: &str, given: Option<&str>) -> Result<(String, usize), Error> {
    if let Some(f) = given {
        let parsed = Format::from_aws_string(f).map_err(|e| Error::usage(format!("invalid `--flow-log-format` `{f}`")).caused_by(e))?;
        return Ok((parsed.describe(), 0));
    }
    let filter = aws_sdk_ec2::types::Filter::builder().name("log-group-name").values(group).build();
    let out = ec2.describe_flow_logs().filter(filter).send().await.map_err(|e| sdk_error("find the flow log's format (ec2:DescribeFlowLogs)", e))?;
    let format = out.flow_logs().iter().find_map(|f| f.log_format()).map(str::to_string);
    let names = match format {
        Some(f) => Format::from_aws_string(&f).map_err(|e| Error::failure(format!("the flow log's format `{f}` is not valid")).caused_by(e))?.describe(),
        None => DEFAULT_FORMAT.to_string(),
    };
    Ok((names, 1))
}

pub async fn pull(cwl: &aws_sdk_cloudwatchlogs::Client, group: &str, header: &str, from: Ts, to: Ts, now: Ts, ws: &Workspace) -> Result<CwlPull, Error> {
    let mut summary = CwlPull::default();
    let group_dir = ws.flow_logs().join("cloudwatch").join(safe_relative_path(group));
    let state_dir = ws.state().join("cloudwatch").join(safe_relative_path(group));
    let mut streams = std::collections::BTreeSet::new();
    for day in day_of(from)..=day_of(to - 1) {
        let (start, end) = (day_start(day).max(from), (day_start(day) + SECONDS_PER_DAY).min(to));
        let done = state_dir.join(format!("{}.done", format_date(day_start(day))));
        if done.exists() {
            summary.days_cached += 1;
            continue;
        }
        let mut by_stream: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut token: Option<String> = None;
        loop {
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
            for ev in out.events() {
                if let (Some(stream), Some(msg)) = (ev.log_stream_name(), ev.message()) {
                    by_stream.entry(stream.to_string()).or_default().push(msg.trim_end().to_string());
                    summary.events += 1;
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        for (stream, lines) in &by_stream {
            let path = group_dir.join(safe_relative_path(stream)).join(format!("{}.log.gz", format_date(day_start(day))));
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let text = format!("{header}\n{}\n", lines.join("\n"));
            gz.write_all(text.as_bytes()).map_err(|e| Error::io("compress", &path, e))?;
            let bytes = gz.finish().map_err(|e| Error::io("compress", &path, e))?;
            if let Some(d) = path.parent() {
                std::fs::create_dir_all(d).map_err(|e| Error::io("create", d, e))?;
            }
            crate::report::write::atomic_write(&path, &bytes)?;
            streams.insert(stream.clone());
        }
        summary.days += 1;
        // A day is final once it is over and delivery (minutes) has caught up.
        if day_start(day) + SECONDS_PER_DAY + 3600 <= now {
            std::fs::create_dir_all(&state_dir).map_err(|e| Error::io("create", &state_dir, e))?;
            crate::report::write::atomic_write(&done, by_stream.len().to_string().as_bytes())?;
        }
    }
    summary.streams = streams.len();
    Ok(summary)
}
