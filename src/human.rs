//! Numbers as people read them: bytes, dollars, percents and counts, for tables, pages and the
//! what-ifs' explanations.

use rust_decimal::Decimal;

/// `1536` → `1.5 KiB`; bytes below 1 KiB stay exact.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if b < 1024 {
        return format!("{b} B");
    }
    let mut v = b as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.2} {}", UNITS[u])
}

/// `$1,234.57` (cents, half to even).
pub fn human_usd(d: Decimal) -> String {
    let r = d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointNearestEven);
    let s = format!("{:.2}", r.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    format!("{}${}.{frac}", if r.is_sign_negative() && !r.is_zero() { "-" } else { "" }, group_digits(int))
}

/// `95.69` → `95.7%` (one decimal, half to even).
pub fn human_pct(d: Decimal) -> String {
    format!("{:.1}%", d.round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointNearestEven))
}

pub fn human_count(n: u64) -> String {
    group_digits(&n.to_string())
}

pub(crate) fn group_digits(int: &str) -> String {
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
