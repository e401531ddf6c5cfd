//! `crossaz pull flow-logs --bucket`: flow-log objects from S3 into the workspace, listing only the
//! date folders of the window, downloading concurrently, skipping what is already there (same ETag
//! and size), and never writing outside the workspace whatever the keys look like.

use super::sdk_error;
use crate::error::Error;
use crate::model::time::{Ts, day_of, day_start};
use crate::workspace::Workspace;
use indicatif::ProgressBar;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// A key as a relative path that cannot leave its directory: empty components are dropped; leading
/// dots (so `.` and `..`) and any byte outside `[A-Za-z0-9._=-]` are percent-encoded, so different
/// keys stay different files and none is hidden.
pub fn safe_relative_path(key: &str) -> PathBuf {
    let mut p = PathBuf::new();
    for part in key.split('/') {
        if part.is_empty() {
            continue;
        }
        let mut enc = String::new();
        for (i, b) in part.bytes().enumerate() {
            // A leading dot is encoded too: such names would be hidden (crossaz's partial downloads are).
            if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'=') || (b == b'.' && i > 0) {
                enc.push(b as char);
            } else {
                enc.push_str(&format!("%{b:02X}"));
            }
        }
        if enc.len() > 200 {
            let hash = enc.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
            enc = format!("{}~{hash:016x}", &enc[..150]);
        }
        p.push(enc);
    }
    if p.as_os_str().is_empty() {
        p.push("%2F");
    }
    p
}

#[derive(Debug, Default, Clone)]
pub struct S3Pull {
    pub listed: usize,
    pub downloaded: usize,
    pub up_to_date: usize,
    pub bytes: u64,
    pub list_requests: usize,
    /// `account/region` folders left out by `--account`/`--logs-region`.
    pub skipped_folders: Vec<String>,
}

pub(crate) struct Object {
    pub key: String,
    pub etag: String,
    pub size: u64,
}

/// Lists common prefixes one level below `prefix`.
async fn folders(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str, requests: &mut usize) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).prefix(prefix).delimiter("/").into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error(&format!("list `s3://{bucket}/{prefix}` (s3:ListBucket)"), e))?;
        *requests += 1;
        out.extend(page.common_prefixes().iter().filter_map(|c| c.prefix().map(str::to_string)));
    }
    Ok(out)
}

pub(crate) async fn objects(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str, requests: &mut usize) -> Result<Vec<Object>, Error> {
    let mut out = Vec::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).prefix(prefix).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error(&format!("list `s3://{bucket}/{prefix}` (s3:ListBucket)"), e))?;
        *requests += 1;
        for o in page.contents() {
            if let Some(key) = o.key().filter(|k| !k.ends_with('/')) {
                out.push(Object { key: key.to_string(), etag: o.e_tag().unwrap_or_default().to_string(), size: o.size().unwrap_or(0).max(0) as u64 });
            }
        }
    }
    Ok(out)
}

/// The date folders of days `first..=last` under a region folder of either layout.
fn day_prefixes(region_prefix: &str, hive: bool, first: i32, last: i32) -> Vec<String> {
    (first..=last)
        .filter_map(|d| chrono::DateTime::<chrono::Utc>::from_timestamp(day_start(d), 0))
        .map(|t| if hive { format!("{region_prefix}{}", t.format("year=%Y/month=%m/day=%d/")) } else { format!("{region_prefix}{}", t.format("%Y/%m/%d/")) })
        .collect()
}

/// The last component of a folder, without a Hive `key=`: `…/aws-region=us-east-1/` → `us-east-1`.
fn folder_name(folder: &str) -> &str {
    let last = folder.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    last.split_once('=').map_or(last, |(_, v)| v)
}

/// Finds every `…/AWSLogs/<account>/vpcflowlogs/<region>/` (and Hive-style) folder under `prefix`.
async fn region_folders(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str, requests: &mut usize) -> Result<Vec<(String, bool)>, Error> {
    let base = prefix.trim_matches('/');
    let root = match base.find("AWSLogs") {
        Some(i) => format!("{}AWSLogs/", &base[..i]),
        None if base.is_empty() => "AWSLogs/".to_string(),
        None => format!("{base}/AWSLogs/"),
    };
    let mut out = Vec::new();
    for account in folders(s3, bucket, &root, requests).await? {
        let hive = account.trim_end_matches('/').rsplit('/').next().is_some_and(|a| a.starts_with("aws-account-id="));
        let service = if hive { format!("{account}aws-service=vpcflowlogs/") } else { format!("{account}vpcflowlogs/") };
        for region in folders(s3, bucket, &service, requests).await? {
            out.push((region, hive));
        }
    }
    Ok(out)
}

/// What to pull: a bucket and prefix, the window, how many downloads at once.
#[derive(Clone, Debug)]
pub struct S3Source<'a> {
    pub bucket: &'a str,
    pub prefix: &'a str,
    pub from: Ts,
    pub to: Ts,
    pub concurrency: usize,
    /// Only these accounts' and this region's folders (empty / `None`: all).
    pub accounts: &'a [String],
    pub region: Option<&'a str>,
}

pub async fn pull(s3: &aws_sdk_s3::Client, src: &S3Source<'_>, ws: &Workspace, progress: &ProgressBar) -> Result<S3Pull, Error> {
    let S3Source { bucket, prefix, from, to, concurrency, accounts, region } = *src;
    let mut summary = S3Pull::default();
    let all = region_folders(s3, bucket, prefix, &mut summary.list_requests).await?;
    // A central bucket holds many accounts' and regions' VPCs: keep the inventory's.
    let mut regions = Vec::new();
    for (folder, hive) in all {
        let r = folder_name(&folder).to_string();
        let account_folder = folder.trim_end_matches('/').rsplitn(3, '/').nth(2).map(folder_name).unwrap_or("").to_string();
        if (accounts.is_empty() || accounts.contains(&account_folder)) && region.is_none_or(|x| x == r) {
            regions.push((folder, hive));
        } else {
            summary.skipped_folders.push(format!("{account_folder}/{r}"));
        }
    }
    if regions.is_empty() && !summary.skipped_folders.is_empty() {
        return Err(Error::usage(format!("no flow logs of the chosen accounts and region under `s3://{bucket}/{}`", prefix.trim_matches('/')))
            .caused_by(format!("the bucket holds {}", summary.skipped_folders.join(", ")))
            .hint("pass `--account` and `--logs-region` (their defaults come from the workspace's network inventory)"));
    }
    if regions.is_empty() {
        return Err(Error::failure(format!("no flow logs under `s3://{bucket}/{}`", prefix.trim_matches('/')))
            .hint("expected `AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/` or the Hive-style `AWSLogs/aws-account-id=…/aws-service=vpcflowlogs/…`; check `--bucket` and `--prefix`"));
    }
    // A file is named by the end of its 5-minute window: records of a day can sit in the next day's folder.
    let (first, last) = (day_of(from), day_of(to - 1) + 1);
    let mut wanted = Vec::new();
    for (region, hive) in &regions {
        for day in day_prefixes(region, *hive, first, last) {
            wanted.extend(objects(s3, bucket, &day, &mut summary.list_requests).await?);
        }
    }
    summary.listed = wanted.len();
    let mut todo = Vec::new();
    for o in wanted {
        let (local, marker, current) = local_copy(&ws.flow_logs(), &ws.state().join("s3"), &o);
        if current {
            summary.up_to_date += 1;
        } else {
            todo.push((o, local, marker));
        }
    }
    progress.set_length(todo.iter().map(|(o, _, _)| o.size).sum());
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (o, local, marker) in todo {
        let (s3, bucket, limit, progress) = (s3.clone(), bucket.to_string(), limit.clone(), progress.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.map_err(|e| Error::failure("download queue closed").caused_by(e))?;
            download(&s3, &bucket, &o, &local, &marker, &progress).await.map(|()| o.size)
        });
    }
    let mut first_error = None;
    while let Some(done) = tasks.join_next().await {
        match done.map_err(|e| Error::failure("a download task failed").caused_by(e)).and_then(|r| r) {
            Ok(size) => {
                summary.downloaded += 1;
                summary.bytes += size;
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}

/// Where an object goes under `root`, its ETag marker under `state`, and whether the copy there is
/// current (same ETag and size).
pub(crate) fn local_copy(root: &Path, state: &Path, o: &Object) -> (PathBuf, PathBuf, bool) {
    let rel = safe_relative_path(&o.key);
    let local = root.join(&rel);
    let marker = state.join(&rel).with_extension("etag");
    let current = std::fs::read_to_string(&marker).ok().is_some_and(|m| m == format!("{} {}", o.etag, o.size))
        && std::fs::metadata(&local).is_ok_and(|m| m.len() == o.size);
    (local, marker, current)
}

/// Streams one object to a temporary file beside its destination, renames it into place, then
/// records its ETag and size. A pull stopped at any point leaves whole files only.
pub(crate) async fn download(s3: &aws_sdk_s3::Client, bucket: &str, o: &Object, local: &Path, marker: &Path, progress: &ProgressBar) -> Result<(), Error> {
    let dir = local.parent().unwrap_or(Path::new("."));
    tokio::fs::create_dir_all(dir).await.map_err(|e| Error::io("create", dir, e))?;
    let resp =
        s3.get_object().bucket(bucket).key(&o.key).send().await.map_err(|e| sdk_error(&format!("download `s3://{bucket}/{}` (s3:GetObject)", o.key), e))?;
    // The object must be the one listed: its size and ETag, and no byte more than listed.
    let changed = |now: String| {
        Error::failure(format!("`s3://{bucket}/{}` changed since it was listed", o.key))
            .caused_by(format!("listed with {} bytes and ETag {}; {now}", o.size, o.etag))
            .hint("run the pull again: it lists the bucket afresh")
    };
    if let Some(len) = resp.content_length().filter(|l| *l as u64 != o.size) {
        return Err(changed(format!("GetObject answered {len} bytes")));
    }
    if let Some(etag) = resp.e_tag().filter(|e| !o.etag.is_empty() && *e != o.etag) {
        return Err(changed(format!("GetObject answered ETag {etag}")));
    }
    let name = local.file_name().and_then(|n| n.to_str()).unwrap_or("object");
    let tmp = dir.join(format!(".{name}.{}.part", std::process::id()));
    let mut file = tokio::fs::File::create(&tmp).await.map_err(|e| Error::io("create", &tmp, e))?;
    let mut body = resp.body;
    let mut written = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| Error::failure(format!("failed to download `s3://{bucket}/{}`", o.key)).caused_by(e))?;
        if written + chunk.len() as u64 > o.size {
            drop(file);
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(changed("its body runs past that size".into()));
        }
        file.write_all(&chunk).await.map_err(|e| Error::io("write", &tmp, e))?;
        written += chunk.len() as u64;
        progress.inc(chunk.len() as u64);
    }
    file.sync_all().await.map_err(|e| Error::io("write", &tmp, e))?;
    drop(file);
    if written != o.size {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(changed(format!("its body ended after {written} bytes")));
    }
    tokio::fs::rename(&tmp, local).await.map_err(|e| Error::io("write", local, e))?;
    if let Some(d) = marker.parent() {
        tokio::fs::create_dir_all(d).await.map_err(|e| Error::io("create", d, e))?;
    }
    crate::write::atomic_write(marker, format!("{} {}", o.etag, o.size).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_of_both_layouts() {
        assert_eq!(folder_name("p/AWSLogs/123/vpcflowlogs/ap-northeast-2/"), "ap-northeast-2");
        assert_eq!(folder_name("AWSLogs/aws-account-id=123/aws-service=vpcflowlogs/aws-region=us-east-1/"), "us-east-1");
    }

    #[test]
    fn keys_never_leave_the_directory() {
        assert_eq!(safe_relative_path("AWSLogs/1/vpcflowlogs/r/2026/10/01/a_b-c.log.gz"), PathBuf::from("AWSLogs/1/vpcflowlogs/r/2026/10/01/a_b-c.log.gz"));
        assert_eq!(safe_relative_path("../../etc/passwd"), PathBuf::from("%2E./%2E./etc/passwd"));
        assert_eq!(safe_relative_path("/abs//x/./y"), PathBuf::from("abs/x/%2E/y"));
        assert_eq!(safe_relative_path("a b/ü?*"), PathBuf::from("a%20b/%C3%BC%3F%2A"));
        assert_eq!(safe_relative_path("..."), PathBuf::from("%2E.."));
        assert_eq!(safe_relative_path(".hidden"), PathBuf::from("%2Ehidden"));
        assert_eq!(safe_relative_path("/"), PathBuf::from("%2F"));
        let long = "x".repeat(300);
        let p = safe_relative_path(&long);
        assert!(p.to_str().unwrap().len() < 200);
        for c in safe_relative_path("a/../../b/%2E%2E").components() {
            assert!(matches!(c, std::path::Component::Normal(_)));
        }
    }
}
