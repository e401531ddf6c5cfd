//! Prices of the resources `whatif paths` adds or removes: NAT gateways and interface endpoints
//! (bundled `path-prices.json`, a source and date per row; `pull prices` and `--prices` override).

use crate::error::Error;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const FORMAT: &str = "crossaz-path-prices/1";
const BUNDLED: &str = include_str!("path-prices.json");

pub const NAT_HOUR: &str = "nat-gateway-hour";
pub const NAT_GB: &str = "nat-gateway-gb";
pub const ENDPOINT_HOUR: &str = "interface-endpoint-hour";
pub const ENDPOINT_GB: &str = "interface-endpoint-gb";
const ITEMS: [&str; 4] = [NAT_HOUR, NAT_GB, ENDPOINT_HOUR, ENDPOINT_GB];

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathPrices {
    pub format: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub about: String,
    pub prices: Vec<PathPrice>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathPrice {
    pub region: String,
    pub item: String,
    pub usd: Decimal,
    #[serde(default)]
    pub evidence: String,
    pub date: String,
    pub source: String,
}

impl PathPrices {
    pub fn bundled() -> PathPrices {
        serde_json::from_str(BUNDLED).expect("the bundled path-prices.json parses")
    }

    pub fn load(path: &Path) -> Result<PathPrices, Error> {
        let text = crate::limits::read_text(path, crate::limits::MAX_TABLE_BYTES, "a path price table")?;
        let p: PathPrices = serde_json::from_str(&text).map_err(|e| {
            Error::usage(format!("invalid price file `{}`", path.display())).caused_by(format!("line {}: {e}", e.line())).hint(format!(
                r#"expected {{"format": "{FORMAT}", "prices": [{{"region": "ap-northeast-2", "item": "nat-gateway-hour", "usd": "0.059", "date": "2026-11-01", "source": "…"}}]}} (docs/paths.md)"#
            ))
        })?;
        for row in &p.prices {
            if !ITEMS.contains(&row.item.as_str()) {
                return Err(Error::usage(format!("price file `{}`: unknown item `{}`", path.display(), row.item))
                    .hint(format!("items are {}", ITEMS.map(|i| format!("`{i}`")).join(", "))));
            }
            if row.usd.is_sign_negative() {
                return Err(Error::usage(format!("price file `{}`: the {} price of {} is negative", path.display(), row.item, row.region)));
            }
        }
        Ok(p)
    }

    /// Rows of `other` replace this table's rows for the same region and item.
    pub fn overlay(&mut self, other: PathPrices) {
        for row in other.prices {
            self.prices.retain(|r| !(r.region == row.region && r.item == row.item));
            self.prices.push(row);
        }
    }

    pub fn get(&self, region: &str, item: &str) -> Option<&PathPrice> {
        self.prices.iter().find(|r| r.region == region && r.item == item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_row_has_a_source_a_date_and_a_known_item() {
        let t = PathPrices::bundled();
        assert_eq!(t.format, FORMAT);
        for r in &t.prices {
            assert!(!r.source.is_empty() && !r.date.is_empty() && ITEMS.contains(&r.item.as_str()), "{r:?}");
        }
        assert_eq!(t.get("ap-northeast-2", NAT_HOUR).map(|r| r.usd), Some(Decimal::new(59, 3)));
    }
}
