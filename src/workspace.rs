//! The workspace `crossaz pull` writes and every other command reads (`--workspace`, default
//! `./crossaz-data`):
//!
//! ```text
//! flow-logs/             S3 objects under their keys (AWSLogs/…), CloudWatch Logs as cloudwatch/<group>/<stream>/<day>.log.gz
//! network/               describe-network-interfaces.json, describe-subnets.json, describe-availability-zones.json,
//!                        rds-db-instances.json, rds-db-clusters.json
//! k8s/                   <RFC 3339 time>.json.gz snapshots
//! billing/               cost-explorer/<day>.json: one Cost Explorer result per closed or estimated day
//! prices/                rds-prices.json, path-prices.json: RDS, NAT gateway and VPC endpoint prices (`pull prices`)
//! reference/             ip-ranges.json: AWS's address ranges (`pull ip-ranges`; else the bundled copy)
//! reports/               YYYY-MM.json: the Report of each reviewed month, a baseline for the next review
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

    /// CUR 2.0 / FOCUS export files, as `pull billing --source cur` downloads them.
    pub fn cur(&self) -> PathBuf {
        self.billing().join("cur")
    }

    /// `rds-prices.json`, written by `crossaz pull prices`.
    pub fn rds_prices(&self) -> PathBuf {
        self.root.join("prices").join("rds-prices.json")
    }

    /// AWS's `ip-ranges.json`, saved by `crossaz pull ip-ranges` (else the bundled copy is used).
    pub fn ip_ranges(&self) -> PathBuf {
        self.root.join("reference").join("ip-ranges.json")
    }

    /// NAT gateway and VPC endpoint prices, written by `crossaz pull prices`.
    pub fn path_prices(&self) -> PathBuf {
        self.root.join("prices").join("path-prices.json")
    }

    /// `athena/<query id>.csv`: results of `attribute --engine athena`, for `--flow-aggregates`.
    pub fn athena_results(&self) -> PathBuf {
        self.root.join("athena")
    }

    pub fn state(&self) -> PathBuf {
        self.root.join("state")
    }

    /// `reports/YYYY-MM.json`: a month's Report, kept by `review` and `attribute --month`.
    pub fn report(&self, month: &str) -> PathBuf {
        self.root.join("reports").join(format!("{month}.json"))
    }

    /// Writes a month's Report into `reports/` (atomically) and returns where.
    pub fn keep_report(&self, month: &crate::model::time::Month, report: &impl serde::Serialize) -> Result<PathBuf, crate::error::Error> {
        let path = self.report(&month.label);
        let dir = self.root.join("reports");
        fs_err::create_dir_all(&dir).map_err(|e| crate::error::Error::failure(format!("could not create `{}`", dir.display())).caused_by(e))?;
        let mut bytes = serde_json::to_vec_pretty(report).map_err(|e| crate::error::Error::failure("failed to write JSON").caused_by(e))?;
        bytes.push(b'\n');
        crate::write::atomic_write(&path, &bytes)?;
        Ok(path)
    }
}
