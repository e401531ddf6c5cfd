//! One flow-log field's text (as Parquet dictionaries and the pre-aggregation's CSV hold it) → its value.

use crate::model::flow::{Action, Direction, LogStatus};
use crate::model::ip::Ip;

/// `Ok(None)` for `-`, the value, or the offending text.
pub type Parsed<T> = Result<Option<T>, String>;

pub fn ip_value(s: &str) -> Parsed<Ip> {
    if s == "-" || s.is_empty() {
        return Ok(None);
    }
    Ip::parse_str(s).map(Some).ok_or_else(|| s.to_string())
}

pub fn action_value(s: &str) -> Parsed<Action> {
    match s {
        "ACCEPT" => Ok(Some(Action::Accept)),
        "REJECT" => Ok(Some(Action::Reject)),
        "-" | "" => Ok(None),
        _ => Err(s.to_string()),
    }
}

pub fn status_value(s: &str) -> Parsed<LogStatus> {
    match s {
        "OK" => Ok(Some(LogStatus::Ok)),
        "NODATA" => Ok(Some(LogStatus::NoData)),
        "SKIPDATA" => Ok(Some(LogStatus::SkipData)),
        "-" | "" => Ok(None),
        _ => Err(s.to_string()),
    }
}

pub fn direction_value(s: &str) -> Parsed<Direction> {
    match s {
        "ingress" => Ok(Some(Direction::Ingress)),
        "egress" => Ok(Some(Direction::Egress)),
        "-" | "" => Ok(None),
        _ => Err(s.to_string()),
    }
}
