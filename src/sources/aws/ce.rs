//! `crossaz pull billing`: inter-AZ data transfer from Cost Explorer (GetCostAndUsage, DAILY,
//! UnblendedCost and UsageQuantity by USAGE_TYPE and OPERATION). Every request costs the user $0.01,
//! so each day is kept on disk and a closed day (no longer estimated) is never asked for again.

use super::{sdk_error, write_json};
use crate::error::Error;
use crate::model::billing::region_prefix;
use crate::model::time::{Ts, day_of, day_start, format_date};
use crate::workspace::Workspace;
use aws_sdk_costexplorer::types::{DateInterval, Dimension, DimensionValues, Expression, Granularity, GroupDefinition, GroupDefinitionType};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone, Copy)]
pub struct BillingPull {
    pub days: usize,
    pub days_cached: usize,
    pub paid_requests: usize,
}

/// The usage types of inter-AZ transfer and NAT processing in a region.
pub fn usage_types(region: &str) -> Result<Vec<String>, Error> {
    let p = region_prefix(region).ok_or_else(|| Error::usage(format!("unknown region `{region}`: cannot name its billing usage types")))?;
    let kinds = ["DataTransfer-Regional-Bytes", "DataTransfer-xAZ-In-Bytes", "DataTransfer-xAZ-Out-Bytes", "NatGateway-Bytes"];
    let mut out: Vec<String> = kinds.iter().map(|k| if p.is_empty() { format!("USE1-{k}") } else { format!("{p}-{k}") }).collect();
    if p.is_empty() {
        out.extend(kinds.iter().map(|k| k.to_string()));
    }
    Ok(out)
}

fn day_file(ws: &Workspace, day: i32) -> std::path::PathBuf {
    ws.billing().join("cost-explorer").join(format!("{}.json", format_date(day_start(day))))
}

/// Whether a cached day is final: Cost Explorer no longer marks it estimated.
fn closed(ws: &Workspace, day: i32) -> bool {
    let Ok(text) = std::fs::read_to_string(day_file(ws, day)) else {
        return false;
    };
    let Ok(v) = serde_json::from_str::<Value>(&text) else {
        return false;
    };
    v["ResultsByTime"].as_array().is_some_and(|r| !r.is_empty() && r.iter().all(|x| x["Estimated"] == json!(false)))
}

fn metrics_json(m: Option<&std::collections::HashMap<String, aws_sdk_costexplorer::types::MetricValue>>) -> Value {
    let mut out = Map::new();
    let sorted: BTreeMap<_, _> = m.into_iter().flatten().collect();
    for (k, v) in sorted {
        out.insert(k.clone(), json!({"Amount": v.amount().unwrap_or("0"), "Unit": v.unit().unwrap_or("")}));
    }
    Value::Object(out)
}

/// Which part of the bill the cached days are: one linked account, or all the caller sees.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BillingScope {
    pub account: Option<String>,
}

pub fn scope_path(ws: &Workspace) -> std::path::PathBuf {
    ws.state().join("billing-scope.json")
}

pub fn read_scope(ws: &Workspace) -> Option<BillingScope> {
    serde_json::from_slice(&std::fs::read(scope_path(ws)).ok()?).ok()
}

pub async fn pull(ce: &aws_sdk_costexplorer::Client, region: &str, account: Option<&str>, from: Ts, to: Ts, ws: &Workspace) -> Result<BillingPull, Error> {
    let types = usage_types(region)?;
    let mut summary = BillingPull::default();
    // Days cached for another scope (another account, or all) are not this bill: ask again.
    let scope = BillingScope { account: account.map(str::to_string) };
    if read_scope(ws).is_some_and(|s| s != scope) {
        let dir = ws.billing().join("cost-explorer");
        if dir.is_dir() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io("clear", &dir, e))?;
        }
    }
    std::fs::create_dir_all(ws.state()).map_err(|e| Error::io("create", &ws.state(), e))?;
    crate::write::atomic_write(&scope_path(ws), &serde_json::to_vec_pretty(&scope).expect("serializable"))?;
    let days: Vec<i32> = (day_of(from)..=day_of(to - 1)).collect();
    let missing: Vec<i32> = days.iter().copied().filter(|d| !closed(ws, *d)).collect();
    summary.days = days.len();
    summary.days_cached = days.len() - missing.len();
    // Contiguous runs of days to ask for: one request (and its pages) per run.
    let mut runs: Vec<(i32, i32)> = Vec::new();
    for d in missing {
        match runs.last_mut() {
            Some((_, end)) if *end == d => *end = d + 1,
            _ => runs.push((d, d + 1)),
        }
    }
    let group_defs = json!([{"Type": "DIMENSION", "Key": "USAGE_TYPE"}, {"Type": "DIMENSION", "Key": "OPERATION"}]);
    for (start, end) in runs {
        let period = DateInterval::builder()
            .start(format_date(day_start(start)))
            .end(format_date(day_start(end)))
            .build()
            .map_err(|e| Error::failure("invalid Cost Explorer period").caused_by(e))?;
        let by_type = Expression::builder().dimensions(DimensionValues::builder().key(Dimension::UsageType).set_values(Some(types.clone())).build()).build();
        // Like with like: the account whose VPC the flow logs cover, not the whole organization.
        let filter = match account {
            Some(a) => Expression::builder()
                .and(by_type)
                .and(Expression::builder().dimensions(DimensionValues::builder().key(Dimension::LinkedAccount).values(a).build()).build())
                .build(),
            None => by_type,
        };
        let mut by_day: BTreeMap<String, (Vec<Value>, bool, String)> = BTreeMap::new();
        let mut token: Option<String> = None;
        let mut page = 0;
        loop {
            let out = ce
                .get_cost_and_usage()
                .time_period(period.clone())
                .granularity(Granularity::Daily)
                .metrics("UnblendedCost")
                .metrics("UsageQuantity")
                .group_by(GroupDefinition::builder().r#type(GroupDefinitionType::Dimension).key("USAGE_TYPE").build())
                .group_by(GroupDefinition::builder().r#type(GroupDefinitionType::Dimension).key("OPERATION").build())
                .filter(filter.clone())
                .set_next_page_token(token.take())
                .send()
                .await
                .map_err(|e| sdk_error("read the bill (ce:GetCostAndUsage)", e))?;
            summary.paid_requests += 1;
            page += 1;
            let results: Vec<Value> = out
                .results_by_time()
                .iter()
                .map(|r| {
                    let (s, e) = r.time_period().map(|t| (t.start().to_string(), t.end().to_string())).unwrap_or_default();
                    let groups: Vec<Value> = r.groups().iter().map(|g| json!({"Keys": g.keys(), "Metrics": metrics_json(g.metrics())})).collect();
                    let entry = by_day.entry(s.clone()).or_insert_with(|| (Vec::new(), r.estimated(), e.clone()));
                    entry.0.extend(groups.iter().cloned());
                    entry.1 |= r.estimated();
                    json!({"TimePeriod": {"Start": s, "End": e}, "Total": metrics_json(r.total()), "Groups": groups, "Estimated": r.estimated()})
                })
                .collect();
            // The raw response, as `aws ce get-cost-and-usage` prints it, for the record.
            let raw = json!({"GroupDefinitions": group_defs, "ResultsByTime": results, "DimensionValueAttributes": [], "NextPageToken": out.next_page_token()});
            let name = format!("{}_{}_page{page}.json", format_date(day_start(start)), format_date(day_start(end)));
            write_json(&ws.state().join("cost-explorer").join(name), &raw)?;
            match out.next_page_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        for (date, (groups, estimated, end_date)) in by_day {
            let Some(t) = crate::model::time::parse_time(&date) else {
                continue;
            };
            let doc = json!({
                "GroupDefinitions": group_defs,
                "ResultsByTime": [{"TimePeriod": {"Start": date, "End": end_date}, "Total": {}, "Groups": groups, "Estimated": estimated}],
                "DimensionValueAttributes": []
            });
            write_json(&day_file(ws, day_of(t)), &doc)?;
        }
    }
    Ok(summary)
}
