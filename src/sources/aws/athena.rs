//! Amazon Athena through the SDK: runs a statement in a workgroup, follows it to its end, and
//! fetches a result as the CSV Athena writes (docs/athena.md).

use super::s3::{Object, download};
use super::sdk_error;
use crate::error::Error;
use aws_sdk_athena::Client;
use aws_sdk_athena::error::ProvideErrorMetadata;
use aws_sdk_athena::types::{QueryExecutionState, ResultConfiguration};
use indicatif::ProgressBar;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Where statements run: the workgroup, and the results location when the workgroup sets none.
pub struct Target<'a> {
    pub workgroup: &'a str,
    pub output: Option<&'a str>,
}

/// A statement that ended in `SUCCEEDED`.
#[derive(Clone, Debug)]
pub struct Finished {
    pub query_id: String,
    pub data_scanned_bytes: u64,
    pub engine_execution_ms: u64,
    /// Where Athena wrote the result (`s3://…/<query id>.csv`).
    pub output_location: Option<String>,
}

/// Starts `sql` and polls it to its end: a line per state (state, data scanned, elapsed) on
/// `progress`, or on stderr when `progress` is hidden and `report_states` is set.
pub async fn run(athena: &Client, sql: &str, target: &Target<'_>, progress: &ProgressBar, report_states: bool) -> Result<Finished, Error> {
    let mut start = athena.start_query_execution().query_string(sql).work_group(target.workgroup);
    if let Some(o) = target.output {
        start = start.result_configuration(ResultConfiguration::builder().output_location(o).build());
    }
    let started = start.send().await.map_err(|e| {
        let no_output = e.message().is_some_and(|m| m.to_ascii_lowercase().contains("output location"));
        let err = sdk_error(&format!("start an Athena query in workgroup `{}` (athena:StartQueryExecution)", target.workgroup), e);
        if no_output { err.hint("the workgroup has no query result location: set one, or pass `--athena-output s3://…/` (docs/athena.md)") } else { err }
    })?;
    let id = started.query_execution_id().ok_or_else(|| Error::failure("Athena started a query without an ID"))?.to_string();
    let clock = Instant::now();
    let mut wait = Duration::from_millis(100);
    let mut last_state = String::new();
    loop {
        let out = athena
            .get_query_execution()
            .query_execution_id(&id)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("follow Athena query {id} (athena:GetQueryExecution)"), e))?;
        let exec = out.query_execution().ok_or_else(|| Error::failure(format!("Athena gave no state for query {id}")))?;
        let status = exec.status();
        let state = status.and_then(|s| s.state()).cloned().unwrap_or(QueryExecutionState::Queued);
        let stats = exec.statistics();
        let scanned = stats.and_then(|s| s.data_scanned_in_bytes()).unwrap_or(0).max(0) as u64;
        let line = format!("Athena query {id}: {}, {} scanned, {} s", state.as_str(), indicatif::HumanBytes(scanned), clock.elapsed().as_secs());
        progress.set_message(line.clone());
        if report_states && progress.is_hidden() && state.as_str() != last_state {
            eprintln!("{line}");
        }
        last_state = state.as_str().to_string();
        match state {
            QueryExecutionState::Succeeded => {
                return Ok(Finished {
                    query_id: id,
                    data_scanned_bytes: scanned,
                    engine_execution_ms: stats.and_then(|s| s.engine_execution_time_in_millis()).unwrap_or(0).max(0) as u64,
                    output_location: exec.result_configuration().and_then(|r| r.output_location()).map(str::to_string),
                });
            }
            QueryExecutionState::Failed | QueryExecutionState::Cancelled => {
                let reason = status.and_then(|s| s.state_change_reason()).or_else(|| status.and_then(|s| s.athena_error()).and_then(|e| e.error_message()));
                let mut err = Error::failure(format!("Athena query {id} {}", state.as_str().to_ascii_lowercase()))
                    .caused_by(reason.unwrap_or("Athena gave no reason").to_string());
                let r = reason.unwrap_or_default().to_ascii_lowercase();
                err = if r.contains("table_not_found") || r.contains("does not exist") || r.contains("schema") && r.contains("not found") {
                    err.hint("create the table with `crossaz athena setup`, or pass the one you have with `--table DATABASE.TABLE`")
                } else if r.contains("column") {
                    err.hint("the table needs AWS's Parquet column names and the `log_date` partition of `crossaz athena setup` (docs/athena.md)")
                } else if r.contains("bytesscannedcutoff") || r.contains("data usage") {
                    err.hint("the workgroup's per-query scan limit stopped it: raise `BytesScannedCutoffPerQuery`, or query a shorter window")
                } else if r.contains("access denied") || r.contains("not authorized") {
                    err.hint("docs/iam-policy.json lists the Athena, Glue and S3 permissions a query needs")
                } else {
                    err.hint("the query is in the workgroup's history in the Athena console, under its ID")
                };
                return Err(err);
            }
            _ => {}
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 3 / 2).min(Duration::from_secs(2));
    }
}

/// `s3://bucket/key` → (bucket, key).
fn split_s3_uri(uri: &str) -> Option<(&str, &str)> {
    uri.strip_prefix("s3://")?.split_once('/').filter(|(b, k)| !b.is_empty() && !k.is_empty())
}

/// Downloads the result object Athena wrote to `dest`; returns its size.
pub async fn download_result(s3: &aws_sdk_s3::Client, finished: &Finished, dest: &Path, progress: &ProgressBar) -> Result<u64, Error> {
    let uri = finished.output_location.as_deref().ok_or_else(|| Error::failure(format!("Athena query {} has no result location", finished.query_id)))?;
    let (bucket, key) = split_s3_uri(uri).ok_or_else(|| Error::failure(format!("`{uri}` is not an S3 location")))?;
    let head = s3.head_object().bucket(bucket).key(key).send().await.map_err(|e| sdk_error(&format!("read the query result `{uri}` (s3:GetObject)"), e))?;
    let size = head.content_length().unwrap_or(0).max(0) as u64;
    let object = Object { key: key.to_string(), etag: head.e_tag().unwrap_or_default().to_string(), size };
    progress.set_length(size);
    let marker = dest.with_extension("etag");
    download(s3, bucket, &object, dest, &marker, progress).await?;
    let _ = std::fs::remove_file(marker);
    Ok(size)
}

/// Pages the result through GetQueryResults (1,000 rows a page) into `dest` as Athena's CSV: a
/// header, every value quoted, NULL empty. Returns the rows written, header excluded.
pub async fn page_result(athena: &Client, query_id: &str, dest: &Path, progress: &ProgressBar) -> Result<u64, Error> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io("create", dir, e))?;
    let mut out = std::io::BufWriter::new(tmp.as_file_mut());
    let mut pages = athena.get_query_results().query_execution_id(query_id).max_results(1000).into_paginator().send();
    let (mut rows, mut first_page) = (0u64, true);
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error(&format!("read the result of Athena query {query_id} (athena:GetQueryResults)"), e))?;
        let Some(set) = page.result_set() else { continue };
        let mut body = set.rows();
        if first_page {
            // The first row of a SELECT's first page is its header.
            let names: Vec<&str> = set.result_set_metadata().map(|m| m.column_info().iter().map(|c| c.name()).collect()).unwrap_or_default();
            let header: Vec<Option<&str>> = match body.first() {
                Some(r) if names.is_empty() || r.data().iter().map(|d| d.var_char_value().unwrap_or_default()).eq(names.iter().copied()) => {
                    body = &body[1..];
                    r.data().iter().map(|d| d.var_char_value()).collect()
                }
                _ => names.iter().map(|n| Some(*n)).collect(),
            };
            write_row(&mut out, header).map_err(|e| Error::io("write", dest, e))?;
            first_page = false;
        }
        for r in body {
            write_row(&mut out, r.data().iter().map(|d| d.var_char_value())).map_err(|e| Error::io("write", dest, e))?;
            rows += 1;
        }
        progress.set_position(rows);
    }
    out.flush().map_err(|e| Error::io("write", dest, e))?;
    drop(out);
    tmp.persist(dest).map_err(|e| Error::io("write", dest, e.error))?;
    Ok(rows)
}

fn write_row<'a>(out: &mut impl Write, values: impl IntoIterator<Item = Option<&'a str>>) -> std::io::Result<()> {
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        if let Some(v) = v {
            write!(out, "\"{}\"", v.replace('"', "\"\""))?;
        }
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_locations_and_rows() {
        assert_eq!(split_s3_uri("s3://results/crossaz/abc.csv"), Some(("results", "crossaz/abc.csv")));
        assert_eq!(split_s3_uri("s3://results/"), None);
        let mut out = Vec::new();
        write_row(&mut out, [Some("eni-1"), None, Some("a \"b\"")]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\"eni-1\",,\"a \"\"b\"\"\"\n");
    }
}
