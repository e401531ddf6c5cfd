//! What an Athena query costs: a price per TB scanned ($5 in most regions), billed by the MB
//! rounded up with a 10 MB minimum per query [https://aws.amazon.com/athena/pricing/]. TB and MB
//! are binary, as GB is for data transfer (docs/athena.md).

use rust_decimal::Decimal;

/// The list price per TB scanned in most regions; `--athena-usd-per-tb` sets another.
pub const DEFAULT_USD_PER_TB: &str = "5";
const MB: u64 = 1 << 20;
const MINIMUM_MB: u64 = 10;

/// The cost of a query that scanned `bytes`, exact.
pub fn scan_cost(bytes: u64, usd_per_tb: Decimal) -> Decimal {
    Decimal::from(bytes.div_ceil(MB).max(MINIMUM_MB)) * usd_per_tb / Decimal::from(MB)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_the_mb_with_a_minimum() {
        let five = Decimal::from(5);
        assert_eq!(scan_cost(1 << 40, five), five);
        assert_eq!(scan_cost(0, five), scan_cost(10 * MB, five));
        assert_eq!(scan_cost(10 * MB + 1, five), Decimal::from(11) * five / Decimal::from(MB));
        assert_eq!(scan_cost(3 << 40, Decimal::new(675, 2)).to_string(), "20.25");
    }
}
