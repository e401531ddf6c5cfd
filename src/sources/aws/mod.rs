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
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
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
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https_client()).retry_config(RetryConfig::standard().with_max_attempts(5));
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

/// The SDK's HTTPS client: rustls with ring and the system's root certificates.
pub fn https_client() -> aws_sdk_s3::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
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

/// An SDK call's failure, printed the uv way: the operation, then what came back (the HTTP status,
/// the service's error code and message) or why nothing did, and a hint that fits (never credentials).
pub fn sdk_error<E: ProvideErrorMetadata + std::error::Error + 'static>(action: &str, e: SdkError<E>) -> Error {
    let failure = SdkFailure::of(&e);
    let mut err = Error::failure(format!("failed to {action}"));
    for cause in failure.causes() {
        err = err.caused_by(cause);
    }
    match failure.hint() {
        Some(h) => err.hint(h),
        None => err,
    }
}

/// What an SDK error says, without its SDK types: whether an answer came, its status, code and message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SdkFailure {
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: Option<String>,
    /// Why no answer came (no connection, a timeout) or could not be read, in the SDK's words.
    pub transport: Option<String>,
    /// The answer came but is not in the API's protocol.
    pub unreadable: bool,
}

impl SdkFailure {
    pub fn of<E: ProvideErrorMetadata + std::error::Error + 'static>(e: &SdkError<E>) -> SdkFailure {
        let status = e.raw_response().map(|r| r.status().as_u16());
        // Each cause's own words, without the SDK's debug dump that `DisplayErrorContext` appends.
        let chain = || {
            let mut words: Vec<String> = Vec::new();
            let mut next: Option<&dyn std::error::Error> = Some(e);
            while let Some(err) = next {
                let w = err.to_string();
                if !words.iter().any(|p| p.contains(&w)) {
                    words.push(w);
                }
                next = err.source();
            }
            words.join(": ")
        };
        match e {
            SdkError::ServiceError(_) => {
                SdkFailure { status, code: e.code().map(str::to_string), message: e.message().map(str::to_string), ..SdkFailure::default() }
            }
            SdkError::ResponseError(_) => SdkFailure { status, unreadable: true, ..SdkFailure::default() },
            _ => SdkFailure { transport: Some(chain()), ..SdkFailure::default() },
        }
    }

    pub fn causes(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(t) = &self.transport {
            out.push(t.clone());
        }
        if let Some(s) = self.status {
            let reason = http::StatusCode::from_u16(s).ok().and_then(|c| c.canonical_reason()).unwrap_or("");
            out.push(format!("the service answered HTTP {s} {reason}").trim_end().to_string());
        }
        match (&self.code, &self.message) {
            (Some(c), Some(m)) => out.push(format!("{c}: {m}")),
            (Some(c), None) => out.push(c.clone()),
            (None, Some(m)) => out.push(m.clone()),
            (None, None) if self.unreadable => out.push("the answer is not in this API's protocol".into()),
            (None, None) if self.status.is_some() => out.push("the answer names no error code or message".into()),
            (None, None) => {}
        }
        out
    }

    /// A hint from the status and code; None when only the caller knows what to do.
    pub fn hint(&self) -> Option<&'static str> {
        let code = self.code.as_deref().unwrap_or("").to_ascii_lowercase();
        let text = format!("{code} {}", self.transport.as_deref().unwrap_or("")).to_ascii_lowercase();
        if text.contains("credential")
            || text.contains("no providers in chain")
            || ["expiredtoken", "unrecognizedclientexception", "invalidclienttokenid", "signaturedoesnotmatch", "invalidaccesskeyid"].contains(&code.as_str())
            || self.status == Some(401)
        {
            return Some("set up credentials as for the AWS CLI (`aws configure`, `aws sso login`, `AWS_PROFILE`), or pass `--profile`");
        }
        if code.contains("accessdenied") || code.contains("unauthorized") || self.status == Some(403) {
            return Some("the credentials lack a permission: docs/iam-policy.json lists exactly the actions crossaz uses");
        }
        if self.transport.is_some() {
            return Some(if text.contains("region") {
                "pass `--region` or set `AWS_REGION`"
            } else {
                "nothing answered: check the network, and `--endpoint-url` (or `AWS_ENDPOINT_URL`) and `--region` if set"
            });
        }
        match self.status {
            Some(404) if self.code.is_none() || self.unreadable => {
                Some("the endpoint or region does not serve this API: check `--endpoint-url` (or `AWS_ENDPOINT_URL`) and `--region`")
            }
            _ if self.unreadable => Some("the endpoint does not speak this AWS API: check `--endpoint-url` (or `AWS_ENDPOINT_URL`)"),
            Some(429) => Some("AWS throttled the requests after five attempts: try again later"),
            Some(s) if s >= 500 => Some("AWS failed after five attempts: try again later"),
            _ if code.contains("throttl") => Some("AWS throttled the requests after five attempts: try again later"),
            _ => None,
        }
    }
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
    crate::write::atomic_write(path, &buf)
}

/// A tokio runtime for a pull.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| Error::failure("cannot start the async runtime").caused_by(e))
}
