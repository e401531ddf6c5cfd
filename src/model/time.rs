//! Times are Unix seconds (`i64`), as in flow logs. Parsing and printing go through chrono.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

pub type Ts = i64;

pub const SECONDS_PER_DAY: i64 = 86_400;

/// Parses an RFC 3339 time (`2026-10-01T12:00:00Z`) or a UTC date (`2026-10-01` = midnight).
pub fn parse_time(s: &str) -> Option<Ts> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Some(t.and_utc().timestamp());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp());
    }
    None
}

/// Parses the time a snapshot file is named with: `2026-10-01T12:00:00Z.json[.gz]`.
/// `-` may stand for `:` in the time part, since some file systems reject colons.
pub fn parse_file_time(stem: &str) -> Option<Ts> {
    if let Some(t) = parse_time(stem) {
        return Some(t);
    }
    let (date, time) = stem.split_once('T')?;
    let time = time.replace('-', ":");
    parse_time(&format!("{date}T{time}"))
}

pub fn format_time(ts: Ts) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_else(|| ts.to_string())
}

pub fn format_date(ts: Ts) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0).map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_else(|| ts.to_string())
}

/// A UTC calendar month: `2026-10` is [2026-10-01, 2026-11-01).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Month {
    pub label: String,
    pub from: Ts,
    pub to: Ts,
}

impl Month {
    pub fn parse(s: &str) -> Option<Month> {
        let (y, m) = s.trim().split_once('-')?;
        let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
        if y < 1970 || !(1..=12).contains(&m) || s.trim().len() != 7 {
            return None;
        }
        let start = NaiveDate::from_ymd_opt(y, m, 1)?;
        let next = if m == 12 { NaiveDate::from_ymd_opt(y + 1, 1, 1)? } else { NaiveDate::from_ymd_opt(y, m + 1, 1)? };
        let ts = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
        Some(Month { label: format!("{y:04}-{m:02}"), from: ts(start)?, to: ts(next)? })
    }

    /// The month a moment falls in.
    pub fn containing(ts: Ts) -> Option<Month> {
        Month::parse(&DateTime::<Utc>::from_timestamp(ts, 0)?.format("%Y-%m").to_string())
    }

    /// The month exactly covered by `[from, to)`, if the window is one.
    pub fn of_window(from: Ts, to: Ts) -> Option<Month> {
        Month::containing(from).filter(|m| m.from == from && m.to == to)
    }

    pub fn previous(&self) -> Option<Month> {
        Month::containing(self.from - 1)
    }
}

/// Days since 1970-01-01 (UTC).
pub fn day_of(ts: Ts) -> i32 {
    ts.div_euclid(SECONDS_PER_DAY) as i32
}

pub fn day_start(day: i32) -> Ts {
    i64::from(day) * SECONDS_PER_DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_utc_calendar_months() {
        let m = Month::parse("2026-10").unwrap();
        assert_eq!((m.from, m.to), (1_790_812_800, 1_790_812_800 + 31 * SECONDS_PER_DAY));
        assert_eq!(Month::parse("2026-12").unwrap().to, parse_time("2027-01-01").unwrap());
        assert_eq!(m.previous().unwrap().label, "2026-09");
        assert_eq!(Month::containing(m.to - 1), Some(m.clone()));
        assert_eq!(Month::of_window(m.from, m.to), Some(m.clone()));
        assert_eq!(Month::of_window(m.from, m.to - 1), None);
        for bad in ["2026-13", "2026-1", "26-10", "2026/10", "2026-00"] {
            assert_eq!(Month::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_times() {
        assert_eq!(parse_time("2026-10-01T00:00:00Z"), Some(1_790_812_800));
        assert_eq!(parse_time("2026-10-01"), Some(1_790_812_800));
        assert_eq!(parse_time("2026-10-01T09:00:00+09:00"), Some(1_790_812_800));
        assert_eq!(parse_file_time("2026-10-01T00-00-00Z"), Some(1_790_812_800));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(format_time(1_790_812_800), "2026-10-01T00:00:00Z");
        assert_eq!(format_date(day_start(day_of(1_790_812_800 + 5))), "2026-10-01");
    }
}
