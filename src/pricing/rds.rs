//! RDS on-demand prices: a bundled table (`rds-prices.json`, each price with its source and date),
//! overridden by `--prices FILE` or the workspace's `crossaz pull prices` result.

use crate::error::Error;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const FORMAT: &str = "crossaz-rds-prices/1";
const BUNDLED: &str = include_str!("rds-prices.json");

/// How an RDS database is deployed, as the Price List's `deploymentOption` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Deployment {
    /// `Single-AZ`: one instance.
    SingleAz,
    /// `Multi-AZ`: a primary and a synchronous standby that serves no reads.
    MultiAzInstance,
    /// `Multi-AZ (readable standbys)`: a writer and two readers in three AZs.
    MultiAzCluster,
}

impl Deployment {
    pub const ALL: [Deployment; 3] = [Deployment::SingleAz, Deployment::MultiAzInstance, Deployment::MultiAzCluster];

    pub fn as_str(self) -> &'static str {
        match self {
            Deployment::SingleAz => "single-az",
            Deployment::MultiAzInstance => "multi-az-instance",
            Deployment::MultiAzCluster => "multi-az-cluster",
        }
    }

    /// The Price List's `deploymentOption` attribute.
    pub fn price_list_name(self) -> &'static str {
        match self {
            Deployment::SingleAz => "Single-AZ",
            Deployment::MultiAzInstance => "Multi-AZ",
            Deployment::MultiAzCluster => "Multi-AZ (readable standbys)",
        }
    }

    pub fn from_price_list(s: &str) -> Option<Deployment> {
        Deployment::ALL.into_iter().find(|d| d.price_list_name() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstancePrice {
    pub region: String,
    pub engine: String,
    pub class: String,
    pub deployment: Deployment,
    /// For the whole deployment: a Multi-AZ price covers primary and standby, a cluster's all three.
    pub usd_per_hour: Decimal,
    pub source: String,
    pub date: String,
    /// True when computed from other prices by a documented rule rather than read from AWS.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub derived: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoragePrice {
    pub region: String,
    pub engine: String,
    pub storage_type: String,
    pub deployment: Deployment,
    /// Per GB of allocated storage per month, for the whole deployment.
    pub usd_per_gb_month: Decimal,
    pub source: String,
    pub date: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub derived: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceTable {
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub instances: Vec<InstancePrice>,
    #[serde(default)]
    pub storage: Vec<StoragePrice>,
}

impl PriceTable {
    pub fn bundled() -> PriceTable {
        serde_json::from_str(BUNDLED).expect("the bundled RDS price table is valid")
    }

    /// Reads a prices file in the bundled table's format (docs/rds.md).
    pub fn load(path: &Path) -> Result<PriceTable, Error> {
        let text = crate::limits::read_text(path, crate::limits::MAX_TABLE_BYTES, "an RDS price table")?;
        let mut t: PriceTable = serde_json::from_str(&text).map_err(|e| {
            Error::failure(format!("invalid prices file `{}` at line {}, column {}", path.display(), e.line(), e.column())).caused_by(e).hint(
                r#"expected {"instances": [{"region": "ap-northeast-2", "engine": "postgres", "class": "db.m6gd.large", "deployment": "single-az", "usd_per_hour": "0.261", "source": "…", "date": "2026-10-01"}], "storage": […]}; see docs/rds.md"#,
            )
        })?;
        for p in &mut t.instances {
            p.engine = engine_key(&p.engine).map(str::to_string).unwrap_or_else(|| p.engine.to_ascii_lowercase());
            if p.usd_per_hour.is_sign_negative() {
                return Err(Error::failure(format!(
                    "prices file `{}`: {} {} {} has a negative price",
                    path.display(),
                    p.region,
                    p.class,
                    p.deployment.as_str()
                )));
            }
        }
        for p in &mut t.storage {
            p.engine = engine_key(&p.engine).map(str::to_string).unwrap_or_else(|| p.engine.to_ascii_lowercase());
            if p.usd_per_gb_month.is_sign_negative() {
                return Err(Error::failure(format!("prices file `{}`: {} {} storage has a negative price", path.display(), p.region, p.storage_type)));
            }
        }
        Ok(t)
    }

    /// Prices in `other` replace the same (region, engine, class or storage type, deployment) here.
    pub fn overlay(&mut self, other: PriceTable) {
        for p in other.instances {
            self.instances.retain(|q| (&q.region, &q.engine, &q.class, q.deployment) != (&p.region, &p.engine, &p.class, p.deployment));
            self.instances.push(p);
        }
        for p in other.storage {
            self.storage.retain(|q| (&q.region, &q.engine, &q.storage_type, q.deployment) != (&p.region, &p.engine, &p.storage_type, p.deployment));
            self.storage.push(p);
        }
    }

    pub fn instance(&self, region: &str, engine: &str, class: &str, deployment: Deployment) -> Result<&InstancePrice, Error> {
        self.instances.iter().find(|p| p.region == region && p.engine == engine && p.class == class && p.deployment == deployment).ok_or_else(|| {
            Error::failure(format!("no price for a {} {engine} {class} in {region}", deployment.as_str())).hint(format!(
                "run `crossaz pull prices --region {region} --class {class} --engine {engine}`, or pass `--prices FILE` with it (format: docs/rds.md)"
            ))
        })
    }

    pub fn storage(&self, region: &str, engine: &str, storage_type: &str, deployment: Deployment) -> Result<&StoragePrice, Error> {
        self.storage.iter().find(|p| p.region == region && p.engine == engine && p.storage_type == storage_type && p.deployment == deployment).ok_or_else(
            || {
                Error::failure(format!("no price for {storage_type} storage of a {} {engine} database in {region}", deployment.as_str()))
                    .hint(format!("run `crossaz pull prices --region {region} --engine {engine}`, or pass `--prices FILE` with it (format: docs/rds.md)"))
            },
        )
    }
}

/// `mysql`, `postgres` (the RDS API's engine names) from either spelling; None for other engines.
pub fn engine_key(engine: &str) -> Option<&'static str> {
    match engine.to_ascii_lowercase().as_str() {
        "mysql" => Some("mysql"),
        "postgres" | "postgresql" => Some("postgres"),
        _ => None,
    }
}

/// The Price List's `databaseEngine` for an RDS engine name.
pub fn price_list_engine(engine: &str) -> Option<&'static str> {
    match engine_key(engine)? {
        "mysql" => Some("MySQL"),
        _ => Some("PostgreSQL"),
    }
}

/// Instance families a Multi-AZ DB cluster can run on (AWS, multi-az-db-clusters-concepts, 2026).
const CLUSTER_FAMILIES: [&str; 12] = ["c6gd", "m5d", "m6gd", "m6id", "m6idn", "m8gd", "r5d", "r6gd", "r6id", "r6idn", "r8gd", "x2iedn"];

/// The class a Multi-AZ DB cluster would use for `class`: itself when supported, else the same
/// family with local NVMe storage (`db.m6g.large` → `db.m6gd.large`), else None.
pub fn cluster_class(class: &str) -> Option<String> {
    let rest = class.strip_prefix("db.")?;
    let (family, size) = rest.split_once('.')?;
    if CLUSTER_FAMILIES.contains(&family) {
        return Some(class.to_string());
    }
    // Insert `d` before a trailing `n` (m6in → m6idn) or at the end (m6g → m6gd, m5 → m5d).
    let with_d = match family.strip_suffix('n') {
        Some(base) if family.len() > 3 => format!("{base}dn"),
        _ => format!("{family}d"),
    };
    CLUSTER_FAMILIES.contains(&with_d.as_str()).then(|| format!("db.{with_d}.{size}"))
}

/// Supported engines for a Multi-AZ DB cluster.
pub fn cluster_engine(engine: &str) -> bool {
    engine_key(engine).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_table_reads_and_every_price_has_a_source() {
        let t = PriceTable::bundled();
        assert_eq!(t.format, FORMAT);
        assert!(t.instances.iter().all(|p| !p.source.is_empty() && !p.date.is_empty()));
        assert!(t.storage.iter().all(|p| !p.source.is_empty() && !p.date.is_empty()));
        assert!(t.instances.iter().all(|p| engine_key(&p.engine) == Some(p.engine.as_str())));
        for p in t.instances.iter().filter(|p| p.deployment == Deployment::MultiAzCluster) {
            assert_eq!(cluster_class(&p.class).as_deref(), Some(p.class.as_str()), "{} is not a cluster class", p.class);
        }
    }

    #[test]
    fn nearest_cluster_classes() {
        assert_eq!(cluster_class("db.m6gd.large").as_deref(), Some("db.m6gd.large"));
        assert_eq!(cluster_class("db.m6g.large").as_deref(), Some("db.m6gd.large"));
        assert_eq!(cluster_class("db.r6g.2xlarge").as_deref(), Some("db.r6gd.2xlarge"));
        assert_eq!(cluster_class("db.m5.xlarge").as_deref(), Some("db.m5d.xlarge"));
        assert_eq!(cluster_class("db.m6in.large").as_deref(), Some("db.m6idn.large"));
        assert_eq!(cluster_class("db.r8g.large").as_deref(), Some("db.r8gd.large"));
        assert_eq!(cluster_class("db.t4g.micro"), None);
        assert_eq!(cluster_class("db.r7g.large"), None);
        assert_eq!(cluster_class("m6g.large"), None);
    }

    #[test]
    fn overlay_replaces_the_same_key_only() {
        let mut t = PriceTable::bundled();
        let n = t.instances.len();
        let mut o = PriceTable::default();
        let mut p = t.instance("ap-northeast-2", "postgres", "db.m6gd.large", Deployment::SingleAz).unwrap().clone();
        p.usd_per_hour = Decimal::new(3, 1);
        o.instances.push(p);
        t.overlay(o);
        assert_eq!(t.instances.len(), n);
        assert_eq!(t.instance("ap-northeast-2", "postgres", "db.m6gd.large", Deployment::SingleAz).unwrap().usd_per_hour, Decimal::new(3, 1));
        let e = t.instance("eu-west-1", "postgres", "db.m6gd.large", Deployment::SingleAz).unwrap_err().to_string();
        assert!(e.contains("db.m6gd.large") && e.contains("eu-west-1"), "{e}");
    }
}
