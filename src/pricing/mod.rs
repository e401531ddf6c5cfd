//! Prices for data transfer. Money is `Decimal`; a GB is 2^30 bytes; a month is 730 hours.

pub mod athena;
pub mod paths;
pub mod rds;
pub mod transfer;

use crate::error::Error;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub const GB: u64 = 1 << 30;
pub const HOURS_PER_MONTH: u64 = 730;

/// Inter-AZ rates of one region, per GB in each direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    /// Charged to the sender (`InterZone-Out`).
    pub out_per_gb: Decimal,
    /// Charged to the receiver (`InterZone-In`).
    pub in_per_gb: Decimal,
}

impl Rate {
    /// What one byte between two of your own resources in different AZs costs per GB: out + in.
    pub fn both_sides(&self) -> Decimal {
        self.out_per_gb + self.in_per_gb
    }
}

/// AWS's public rate: $0.01/GB out and $0.01/GB in (see docs/pricing.md for sources).
pub const AWS_INTER_AZ: Rate = Rate { out_per_gb: Decimal::from_parts(1, 0, 0, false, 2), in_per_gb: Decimal::from_parts(1, 0, 0, false, 2) };

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rates {
    pub default: Rate,
    #[serde(default)]
    pub regions: BTreeMap<String, Rate>,
    /// Where the figures come from, printed in reports.
    #[serde(default)]
    pub source: String,
}

impl Default for Rates {
    fn default() -> Rates {
        Rates { default: AWS_INTER_AZ, regions: BTreeMap::new(), source: "AWS list price: $0.01/GB out + $0.01/GB in between AZs of a region".into() }
    }
}

impl Rates {
    /// Reads a rates file: `{"default": {"out_per_gb": "0.01", "in_per_gb": "0.01"}, "regions": {…}}`.
    pub fn load(path: &Path) -> Result<Rates, Error> {
        let text = crate::limits::read_text(path, crate::limits::MAX_TABLE_BYTES, "a rates file")?;
        let mut rates: Rates = serde_json::from_str(&text).map_err(|e| {
            Error::usage(format!("invalid rates file `{}`", path.display()))
                .caused_by(e)
                .hint(r#"expected {"default": {"out_per_gb": "0.01", "in_per_gb": "0.01"}, "regions": {"ap-northeast-2": {…}}}"#)
        })?;
        for (name, r) in std::iter::once(("default", &rates.default)).chain(rates.regions.iter().map(|(k, v)| (k.as_str(), v))) {
            if r.out_per_gb.is_sign_negative() || r.in_per_gb.is_sign_negative() {
                return Err(Error::usage(format!("rates file `{}`: the `{name}` rate is negative", path.display())));
            }
        }
        if rates.source.is_empty() {
            rates.source = format!("rates file `{}`", path.display());
        }
        Ok(rates)
    }

    pub fn for_region(&self, region: Option<&str>) -> Rate {
        region.and_then(|r| self.regions.get(r)).copied().unwrap_or(self.default)
    }
}

/// `bytes` × `per_gb` / 2^30, exact to 28 significant digits.
pub fn cost(bytes: u64, per_gb: Decimal) -> Decimal {
    Decimal::from(bytes) * per_gb / Decimal::from(GB)
}

/// A figure of a window of `hours` scaled to a 730-hour month (`value × 730 / hours`).
pub fn per_month(value: Decimal, hours: u64) -> Decimal {
    value * Decimal::from(HOURS_PER_MONTH) / Decimal::from(hours)
}

/// Rounds money for output: 6 decimal places, half to even.
pub fn round_usd(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(6, rust_decimal::RoundingStrategy::MidpointNearestEven).normalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn one_gb_both_sides_costs_two_cents() {
        assert_eq!(cost(GB, AWS_INTER_AZ.both_sides()), Decimal::from_str("0.02").unwrap());
        assert_eq!(cost(10 * GB, AWS_INTER_AZ.both_sides()), Decimal::from_str("0.2").unwrap());
        // 1 byte: 0.02 / 2^30 = 0.0000000000186264514923095703125 (rounded to 28 digits by Decimal)
        assert_eq!(round_usd(cost(1, AWS_INTER_AZ.both_sides())), Decimal::ZERO);
        assert_eq!(round_usd(cost(53_687_091_200, AWS_INTER_AZ.both_sides())), Decimal::from_str("1").unwrap());
    }

    #[test]
    fn linear_in_bytes() {
        let r = AWS_INTER_AZ.both_sides();
        assert_eq!(cost(3 * GB / 2, r), cost(GB, r) + cost(GB / 2, r));
    }
}
