//! The workspace `crossaz pull` writes and every other command reads (`--workspace`, default
//! `./crossaz-data`):
//!
//! ```text
//! flow-logs/             S3 objects under their keys (AWSLogs/…), CloudWatch Logs as cloudwatch/<group>/<stream>/<day>.log.gz
//! network/               describe-network-interfaces.json, describe-subnets.json, describe-availability-zones.json,
//!                        rds-db-instances.json, rds-db-clusters.json
//! k8s/                   <RFC 3339 time>.json.gz snapshots
//! billing/               cost-explorer/<day>.json: one Cost Explorer result per closed or estimated day
//! prices/                rds-prices.json: RDS prices from the AWS Price List (`pull prices`)
//! state/                 what pulls remember: S3 objects' ETags, closed CloudWatch days, raw Cost Explorer responses
//! ```

use std::path::{Path, PathBuf};

pub const DEFAULT: &str = "crossaz-data";

#[derive(Clone, Debug)]
pub struct Workspace {
    pub root: PathBuf,
}

impl Workspace {
    pub fn new(root: &Path) -> Workspace {
        Workspace { root: root.to_path_buf() }
    }

    pub fn flow_logs(&self) -> PathBuf {
        self.root.join("flow-logs")
    }

    pub fn network(&self) -> PathBuf {
        self.root.join("network")
    }

    pub fn k8s(&self) -> PathBuf {
        self.root.join("k8s")
    }

    pub fn billing(&self) -> PathBuf {
        self.root.join("billing")
    }

    /// `rds-prices.json`, written by `crossaz pull prices`.
    pub fn rds_prices(&self) -> PathBuf {
        self.root.join("prices").join("rds-prices.json")
    }

    pub fn state(&self) -> PathBuf {
        self.root.join("state")
    }
}
