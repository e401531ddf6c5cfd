//! Pulls from AWS through the AWS SDK for Rust, into the workspace. SDK types stay in this module:
//! each pull writes the same JSON or files the AWS CLI and AWS deliveries produce, and the rest of
//! crossaz reads those.

pub mod athena;
pub mod ce;
pub mod cur;
pub mod cwl;
pub mod discover;
pub mod ec2;
pub mod pricing;
pub mod s3;

use crate::error::Error;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_types::error::display::DisplayErrorContext;
use serde_json::{Map, Value};
use std::path::Path;

/// Where and as whom to call AWS: the standard credential chain (environment, profiles including
/// SSO, web identity, instance metadata) with these overrides.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct AwsArgs {
    /// A named profile from `~/.aws/config` (default: `AWS_PROFILE`, else `default`).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// The region (default: `AWS_REGION`, else the profile's).
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Send requests here instead of AWS (default: `AWS_ENDPOINT_URL`), e.g. an AWS-compatible test server.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

/// The SDK configuration: retries with backoff on throttling and 5xx (standard mode, 5 attempts).
pub async fn sdk_config(args: &AwsArgs) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(RetryConfig::standard().with_max_attempts(5));
    if let Some(p) = &args.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &args.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(e) = &args.endpoint_url {
        loader = loader.endpoint_url(e);
    }
    loader.load().await
}

/// Whether requests go to a custom endpoint (which then needs path-style S3 addressing).
pub fn custom_endpoint(args: &AwsArgs) -> bool {
    args.endpoint_url.is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
}

/// An S3 client; path-style addressing at a custom endpoint.
pub fn s3_client(conf: &SdkConfig, args: &AwsArgs) -> aws_sdk_s3::Client {
    let mut s3conf = aws_sdk_s3::config::Builder::from(conf);
    if custom_endpoint(args) {
        s3conf = s3conf.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(s3conf.build())
}

/// An SDK error as a crossaz error, with the service's message and code (never credentials).
pub fn sdk_error<E: std::error::Error + 'static>(action: &str, e: E) -> Error {
    let text = DisplayErrorContext(&e).to_string();
    let mut err = Error::failure(format!("failed to {action}")).caused_by(text.clone());
    let lower = text.to_ascii_lowercase();
    if lower.contains("credential") || lower.contains("no providers in chain") {
        err = err.hint("set up credentials as for the AWS CLI (`aws configure`, `aws sso login`, `AWS_PROFILE`), or pass `--profile`");
    } else if lower.contains("accessdenied") || lower.contains("unauthorized") || lower.contains("not authorized") {
        err = err.hint("the credentials lack a permission: docs/iam-policy.json lists exactly the actions crossaz uses");
    } else if lower.contains("region") {
        err = err.hint("pass `--region` or set `AWS_REGION`");
    }
    err
}

/// Inserts `key: value` when there is a value, as the AWS CLI leaves absent fields out.
pub fn put(m: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        m.insert(key.to_string(), v);
    }
}

pub fn s(v: Option<&str>) -> Option<Value> {
    v.map(|x| Value::String(x.to_string()))
}

/// Writes JSON the way the AWS CLI prints it (4-space indent), atomically.
pub fn write_json(path: &Path, value: &Value) -> Result<(), Error> {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(value, &mut ser).map_err(|e| Error::failure("failed to write JSON").caused_by(e))?;
    buf.push(b'\n');
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    }
    crate::report::write::atomic_write(path, &buf)
}

/// A tokio runtime for a pull.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| Error::failure("cannot start the async runtime").caused_by(e))
}
