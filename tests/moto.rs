//! An AWS-compatible server for the pull tests: `moto_server` from PyPI. `tests/run-all` starts one
//! and sets `CROSSAZ_MOTO_ENDPOINT`; run alone, a test starts its own (stopped by `timeout`).

#![allow(dead_code)]

use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub const REGION: &str = "ap-northeast-2";

pub fn endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        if let Ok(e) = std::env::var("CROSSAZ_MOTO_ENDPOINT") {
            return e;
        }
        let home = std::env::var("HOME").expect("HOME is set");
        let bin = PathBuf::from(home).join(".cache/crossaz/moto-venv/bin/moto_server");
        assert!(bin.exists(), "moto_server is not installed: run the tests with `tests/run-all`, which installs it");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // `timeout` stops the server; this process never waits for it.
        #[allow(clippy::zombie_processes)]
        Command::new("timeout")
            .args(["300", bin.to_str().unwrap(), "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return url;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("moto_server did not start on port {port}");
    })
}

/// SDK configuration for seeding: static test credentials, no retries.
pub async fn config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(crossaz::sources::aws::https_client())
        .region(Region::new(REGION))
        .endpoint_url(endpoint())
        .credentials_provider(aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "static"))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await
}

pub async fn s3() -> aws_sdk_s3::Client {
    let conf = config().await;
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build())
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap()
}

/// Environment for the crossaz child: test credentials, region, no instance metadata.
pub fn aws_env(cmd: &mut Command) -> &mut Command {
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("CROSSAZ_NO_PROGRESS", "1")
}

/// Runs `crossaz pull …` against `endpoint` (moto, or a proxy in front of it).
pub fn pull(args: &[&str], endpoint: &str, cwd: &std::path::Path) -> crate::util::Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crossaz"));
    aws_env(&mut cmd).arg("pull").args(args).args(["--endpoint-url", endpoint]).current_dir(cwd);
    let out = cmd.output().expect("crossaz runs");
    crate::util::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// POSTs JSON to one of moto's own endpoints (`/moto-api/…`).
pub fn moto_api(path: &str, body: &serde_json::Value) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), body.to_string()).unwrap();
    let url = format!("{}{path}", endpoint());
    let data = format!("@{}", file.path().display());
    let out =
        Command::new("curl").args(["-sf", "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", &data, &url]).output().expect("curl runs");
    assert!(out.status.success(), "POST {path} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Seeds Cost Explorer results (each answers one distinct request) through moto's API.
pub fn seed_cost_explorer(results: &serde_json::Value) {
    let url = format!("{}/moto-api/static/ce/cost-and-usage-results", endpoint());
    let body = serde_json::json!({ "results": results }).to_string();
    let out = Command::new("curl").args(["-sf", "-X", "POST", "-H", "Content-Type: application/json", "-d", &body, &url]).output().expect("curl runs");
    assert!(out.status.success(), "seeding Cost Explorer failed: {}", String::from_utf8_lossy(&out.stderr));
}
