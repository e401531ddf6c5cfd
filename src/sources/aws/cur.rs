//! `crossaz pull billing --source cur`: a Data Exports export (CUR 2.0 or FOCUS) from S3 into the
//! workspace's `billing/cur/`. Each billing period's `Manifest.json`
//! (`<prefix>/<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`) names its data
//! files; only the periods asked are read, only changed files (ETag and size) downloaded, and files
//! a newer delivery replaced are removed, so a period is never counted twice.

use super::s3::{Object, download, local_copy, objects, safe_relative_path};
use super::sdk_error;
use crate::error::Error;
use crate::model::time::{Month, Ts};
use crate::workspace::Workspace;
use indicatif::ProgressBar;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Default, Clone)]
pub struct CurPull {
    /// Exports and billing periods read.
    pub exports: Vec<String>,
    pub periods: Vec<String>,
    pub listed: usize,
    pub downloaded: usize,
    pub up_to_date: usize,
    pub removed: usize,
    pub bytes: u64,
    pub requests: usize,
}

/// The fields of a Data Exports `Manifest.json` crossaz uses.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    #[serde(default)]
    data_files: Vec<String>,
}

pub struct CurSource<'a> {
    pub bucket: &'a str,
    pub prefix: &'a str,
    /// The export's name (default: every export under the prefix).
    pub export: Option<&'a str>,
    pub from: Ts,
    pub to: Ts,
}

/// Months `[from, to)` touches, as Data Exports labels billing periods (`2026-10`).
fn months(from: Ts, to: Ts) -> Vec<String> {
    let mut out = Vec::new();
    let mut m = Month::containing(from);
    while let Some(month) = m {
        if month.from >= to {
            break;
        }
        out.push(month.label.clone());
        m = Month::containing(month.to);
    }
    out
}

async fn get_text(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, requests: &mut usize) -> Result<Option<Vec<u8>>, Error> {
    *requests += 1;
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(r) => {
            let body = r.body.collect().await.map_err(|e| Error::failure(format!("failed to download `s3://{bucket}/{key}`")).caused_by(e))?;
            Ok(Some(body.into_bytes().to_vec()))
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
        Err(e) => Err(sdk_error(&format!("download `s3://{bucket}/{key}` (s3:GetObject)"), e)),
    }
}

/// Exports under the prefix: folders holding a `metadata/` folder.
async fn export_names(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str, requests: &mut usize) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).prefix(prefix).delimiter("/").into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error(&format!("list `s3://{bucket}/{prefix}` (s3:ListBucket)"), e))?;
        *requests += 1;
        out.extend(page.common_prefixes().iter().filter_map(|c| c.prefix()).map(|p| p[prefix.len()..].trim_end_matches('/').to_string()));
    }
    Ok(out)
}

pub async fn pull(s3: &aws_sdk_s3::Client, src: &CurSource<'_>, ws: &Workspace, progress: &ProgressBar) -> Result<CurPull, Error> {
    let mut summary = CurPull::default();
    let base = match src.prefix.trim_matches('/') {
        "" => String::new(),
        p => format!("{p}/"),
    };
    let exports = match src.export {
        Some(e) => vec![e.to_string()],
        None => export_names(s3, src.bucket, &base, &mut summary.requests).await?,
    };
    let periods = months(src.from, src.to);
    let mut todo: Vec<(Object, PathBuf, PathBuf)> = Vec::new();
    for export in &exports {
        let mut found = false;
        for period in &periods {
            let manifest_key = format!("{base}{export}/metadata/BILLING_PERIOD={period}/{export}-Manifest.json");
            let Some(text) = get_text(s3, src.bucket, &manifest_key, &mut summary.requests).await? else { continue };
            let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| {
                Error::failure(format!("`s3://{}/{manifest_key}` is not a Data Exports manifest", src.bucket))
                    .caused_by(e)
                    .hint("expected the JSON AWS Data Exports writes, with a `dataFiles` list (docs/billing.md)")
            })?;
            found = true;
            summary.periods.push(format!("{export} {period}"));
            // The manifest names the current files; older deliveries may still lie beside them.
            let prefix_in_bucket = format!("s3://{}/", src.bucket);
            let wanted: std::collections::BTreeSet<String> =
                manifest.data_files.iter().filter_map(|u| u.strip_prefix(&prefix_in_bucket)).map(str::to_string).collect();
            let data_prefix = format!("{base}{export}/data/BILLING_PERIOD={period}/");
            let listed = objects(s3, src.bucket, &data_prefix, &mut summary.requests).await?;
            let missing: Vec<&String> = wanted.iter().filter(|k| !listed.iter().any(|o| &o.key == *k)).collect();
            if let Some(k) = missing.first() {
                return Err(Error::failure(format!("the manifest of {export} {period} names `s3://{}/{k}`, which is not in the bucket", src.bucket))
                    .hint("the export may be being delivered right now: run the pull again in a few minutes"));
            }
            let period_dir = ws.cur().join(safe_relative_path(&data_prefix));
            let keep: Vec<PathBuf> = listed.iter().filter(|o| wanted.contains(&o.key)).map(|o| ws.cur().join(safe_relative_path(&o.key))).collect();
            summary.removed += remove_stale(&period_dir, &keep)?;
            for o in listed.into_iter().filter(|o| wanted.contains(&o.key)) {
                summary.listed += 1;
                let (local, marker, current) = local_copy(&ws.cur(), &ws.state().join("cur"), &o);
                if current {
                    summary.up_to_date += 1;
                } else {
                    todo.push((o, local, marker));
                }
            }
        }
        if found {
            summary.exports.push(export.clone());
        }
    }
    if summary.periods.is_empty() {
        return Err(Error::failure(format!("no Data Exports manifest for {} under `s3://{}/{base}`", periods.join(", "), src.bucket))
            .caused_by(format!(
                "looked for `{base}<export>/metadata/BILLING_PERIOD=<YYYY-MM>/<export>-Manifest.json` of {}",
                if exports.is_empty() { "any export".to_string() } else { exports.join(", ") }
            ))
            .hint("check `--bucket`, `--prefix` (the export's S3 prefix) and `--export`; CUR 2.0 and FOCUS exports are created in AWS Data Exports"));
    }
    progress.set_length(todo.iter().map(|(o, _, _)| o.size).sum());
    for (o, local, marker) in todo {
        download(s3, src.bucket, &o, &local, &marker, progress).await?;
        summary.downloaded += 1;
        summary.bytes += o.size;
    }
    Ok(summary)
}

/// Removes files of a billing period a newer delivery no longer lists; returns how many.
fn remove_stale(dir: &std::path::Path, keep: &[PathBuf]) -> Result<usize, Error> {
    if !dir.is_dir() {
        return Ok(0);
    }
    let mut removed = 0;
    for entry in walkdir::WalkDir::new(dir).into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()) {
        if !keep.iter().any(|k| k == entry.path()) {
            std::fs::remove_file(entry.path()).map_err(|e| Error::io("remove", entry.path(), e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_periods_of_a_window() {
        let t = |s: &str| crate::model::time::parse_time(s).unwrap();
        assert_eq!(months(t("2026-09-15"), t("2026-11-01")), ["2026-09", "2026-10"]);
        assert_eq!(months(t("2026-10-01"), t("2026-10-02")), ["2026-10"]);
        assert_eq!(months(t("2026-12-31"), t("2027-01-02")), ["2026-12", "2027-01"]);
    }
}
