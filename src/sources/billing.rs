//! The JSON printed by `aws ce get-cost-and-usage` (or saved by `crossaz pull billing`) → bill lines.

use super::{json_problem, read_all};
use crate::error::InputProblem;
use crate::model::billing::BillLine;
use crate::model::time::{day_of, parse_time};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    #[serde(default)]
    group_definitions: Vec<GroupDefinition>,
    results_by_time: Option<Vec<ResultByTime>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupDefinition {
    key: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResultByTime {
    time_period: TimePeriod,
    #[serde(default)]
    groups: Vec<Group>,
    #[serde(default)]
    estimated: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TimePeriod {
    start: String,
    end: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Group {
    keys: Vec<String>,
    #[serde(default)]
    metrics: BTreeMap<String, Metric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Metric {
    amount: String,
    #[serde(default)]
    unit: String,
}

const EXPECTED: &str = "the JSON printed by `aws ce get-cost-and-usage` (a top-level `ResultsByTime` array)";

/// What a Cost Explorer file held.
#[derive(Debug, Default)]
pub struct BillingFile {
    pub lines: Vec<BillLine>,
    /// Set when the groups are not by USAGE_TYPE and OPERATION: nothing to reconcile with.
    pub not_by_usage_type: bool,
}

pub fn load_file(path: &Path) -> Result<BillingFile, InputProblem> {
    let bytes = read_all(path)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(InputProblem::new(path, None, format!("the file is empty; expected {EXPECTED}")));
    }
    let r: Response = serde_json::from_slice(&bytes).map_err(|e| json_problem(path, &e, EXPECTED))?;
    let Some(results) = r.results_by_time else {
        return Err(InputProblem::new(path, None, format!("no `ResultsByTime`; expected {EXPECTED}"))
            .with_hint("save the output of `aws ce get-cost-and-usage --group-by Type=DIMENSION,Key=USAGE_TYPE Type=DIMENSION,Key=OPERATION …`, or run `crossaz pull billing`"));
    };
    let ut = r.group_definitions.iter().position(|g| g.key == "USAGE_TYPE");
    let op = r.group_definitions.iter().position(|g| g.key == "OPERATION");
    let mut out = BillingFile { not_by_usage_type: ut.is_none(), ..BillingFile::default() };
    let Some(ut) = ut else { return Ok(out) };
    for res in results {
        let bad_date = |d: &str| InputProblem::new(path, None, format!("`TimePeriod` date `{d}` is not YYYY-MM-DD"));
        let start = parse_time(&res.time_period.start).ok_or_else(|| bad_date(&res.time_period.start))?;
        let end = parse_time(&res.time_period.end).ok_or_else(|| bad_date(&res.time_period.end))?;
        for g in res.groups {
            let amount = |name: &str| -> Result<(Decimal, String), InputProblem> {
                match g.metrics.get(name) {
                    Some(m) => Decimal::from_str(&m.amount)
                        .or_else(|_| Decimal::from_scientific(&m.amount))
                        .map(|d| (d, m.unit.clone()))
                        .map_err(|_| InputProblem::new(path, None, format!("`{name}` amount `{}` is not a number", m.amount))),
                    None => Ok((Decimal::ZERO, String::new())),
                }
            };
            let (usage, usage_unit) = amount("UsageQuantity")?;
            let (cost, _) = amount("UnblendedCost")?;
            out.lines.push(BillLine {
                start_day: day_of(start),
                end_day: day_of(end),
                usage_type: g.keys.get(ut).cloned().unwrap_or_default(),
                operation: op.and_then(|o| g.keys.get(o).cloned()).unwrap_or_default(),
                usage,
                usage_unit,
                cost,
                estimated: res.estimated,
            });
        }
    }
    Ok(out)
}
