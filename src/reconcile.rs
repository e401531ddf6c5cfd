//! Reconciliation with the bill: how much of the billed inter-AZ transfer the flow logs explain,
//! per day and in total, and the effective per-GB rate of the bill (discounts included).

pub mod by_resource;

use crate::measurement::{Day, Measurement};
use crate::model::billing::{BillLine, ResourceCharge, TransferKind, classify};
use crate::model::time::{day_start, format_date};
use crate::pricing::{GB, Rate, round_usd};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Reconciliation {
    /// Cost Explorer files read.
    pub sources: Vec<String>,
    pub days: Vec<ReconciledDay>,
    pub total: ReconciledDay,
    /// What the bill charged per GB in the window: `UnblendedCost / UsageQuantity`.
    pub effective_out_per_gb_usd: Option<Decimal>,
    pub effective_in_per_gb_usd: Option<Decimal>,
    /// Billed inter-AZ GB (average of out and in) the flow logs do not explain; negative when they explain more.
    pub unexplained_gb: Decimal,
    pub unexplained_usd: Decimal,
    /// Regional transfer billed but not inter-AZ private traffic (public or Elastic IPs, VPC peering).
    pub regional_other_usd: Decimal,
    pub likely_reasons: Vec<String>,
    pub notes: Vec<String>,
    /// From a CUR or FOCUS export: billed against measured, per resource and direction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_resource: Vec<by_resource::ResourceReconciled>,
    /// The same per day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_resource_day: Vec<by_resource::ResourceReconciled>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReconciledDay {
    /// `YYYY-MM-DD`, or `total`.
    pub date: String,
    pub billed_out_gb: Decimal,
    pub billed_out_usd: Decimal,
    pub billed_in_gb: Decimal,
    pub billed_in_usd: Decimal,
    /// Cross-AZ billed bytes the flow logs explain, in GB (2^30 bytes): billed once out and once in.
    pub explained_gb: Decimal,
    pub explained_bytes: u64,
    /// Those bytes priced both sides at the report's rates.
    pub explained_usd: Decimal,
    /// `explained_gb` over the billed GB (average of out and in), in percent.
    pub coverage_pct: Option<Decimal>,
}

fn gb(bytes: u64) -> Decimal {
    (Decimal::from(bytes) / Decimal::from(GB)).round_dp(6)
}

fn coverage(explained: Decimal, out: Decimal, inn: Decimal) -> Option<Decimal> {
    let billed = (out + inn) / Decimal::TWO;
    (!billed.is_zero()).then(|| (explained * Decimal::ONE_HUNDRED / billed).round_dp(2))
}

/// The bill's effective inter-AZ rates over the given days (all days when `days` is `None`).
pub fn effective_rate(lines: &[BillLine], days: Option<(i32, i32)>) -> Option<Rate> {
    let (mut out_gb, mut out_usd, mut in_gb, mut in_usd) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for l in lines {
        if days.is_some_and(|(from, to)| l.start_day < from || l.end_day > to) {
            continue;
        }
        match classify(&l.usage_type, &l.operation) {
            TransferKind::InterAzOut => {
                out_gb += l.usage;
                out_usd += l.cost;
            }
            TransferKind::InterAzIn => {
                in_gb += l.usage;
                in_usd += l.cost;
            }
            _ => {}
        }
    }
    if out_gb.is_zero() || in_gb.is_zero() {
        return None;
    }
    Some(Rate { out_per_gb: (out_usd / out_gb).round_dp(10), in_per_gb: (in_usd / in_gb).round_dp(10) })
}

/// Inputs the reasons draw on, beyond the report.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// Interfaces of the inventory with no record in the flow logs (id, owner).
    pub unlogged_interfaces: Vec<(String, String)>,
}

/// Per-resource charges as day lines (what Cost Explorer would show), for the account-level view.
pub fn bill_lines(charges: &[ResourceCharge]) -> Vec<BillLine> {
    let mut by: BTreeMap<(String, String, String), (Decimal, Decimal)> = BTreeMap::new();
    // Lines at $0 are paths AWS does not charge (an ALB's traffic with its targets): not billed transfer.
    for c in charges.iter().filter(|c| !c.is_free()) {
        let e = by.entry((c.date.clone(), c.usage_type.clone(), c.operation.clone().unwrap_or_default())).or_default();
        e.0 += c.usage_gb;
        // The bill's effective cost (net unblended, EffectiveCost) when the export has it.
        e.1 += c.effective_usd.unwrap_or(c.cost_usd);
    }
    by.into_iter()
        .filter_map(|((date, usage_type, operation), (usage, cost))| {
            let day = crate::model::time::parse_time(&date).map(crate::model::time::day_of)?;
            Some(BillLine { start_day: day, end_day: day + 1, usage_type, operation, usage, usage_unit: "GB".into(), cost, estimated: false })
        })
        .collect()
}

/// Whether the report covers a billed day: its window, else the days it has records for.
pub fn window_days(m: &Measurement) -> impl Fn(&str) -> bool + '_ {
    let window: Option<(String, String)> = match (&m.window.from, &m.window.to) {
        (Some(f), Some(t)) => Some((f[..10].to_string(), t[..10].to_string())),
        _ => None,
    };
    move |date: &str| match &window {
        Some((f, t)) => date >= f.as_str() && date < t.as_str(),
        None => m.daily.iter().any(|d| d.date == date),
    }
}

pub fn reconcile(m: &Measurement, lines: &[BillLine], sources: Vec<String>, ctx: &Context) -> Reconciliation {
    let explained: BTreeMap<String, &Day> = m.daily.iter().map(|d| (d.date.clone(), d)).collect();
    let in_window = window_days(m);
    let mut days: BTreeMap<String, ReconciledDay> = BTreeMap::new();
    let mut rec = Reconciliation { sources, ..Reconciliation::default() };
    let mut outside = 0usize;
    let mut multi_day = false;
    let mut regional_other = Decimal::ZERO;
    for l in lines {
        let kind = classify(&l.usage_type, &l.operation);
        if !matches!(kind, TransferKind::InterAzIn | TransferKind::InterAzOut | TransferKind::RegionalOther) {
            continue;
        }
        let date = format_date(day_start(l.start_day));
        if l.end_day - l.start_day != 1 {
            multi_day = true;
            continue;
        }
        if !in_window(&date) {
            outside += 1;
            continue;
        }
        let d = days.entry(date.clone()).or_insert_with(|| ReconciledDay { date, ..ReconciledDay::default() });
        match kind {
            TransferKind::InterAzOut => {
                d.billed_out_gb += l.usage;
                d.billed_out_usd += l.cost;
            }
            TransferKind::InterAzIn => {
                d.billed_in_gb += l.usage;
                d.billed_in_usd += l.cost;
            }
            _ => regional_other += l.cost,
        }
    }
    for (date, d) in &explained {
        if in_window(date) {
            days.entry(date.clone()).or_insert_with(|| ReconciledDay { date: date.clone(), ..ReconciledDay::default() }).explained_bytes =
                d.cross_az_billed_bytes;
        }
    }
    let mut total = ReconciledDay { date: "total".into(), ..ReconciledDay::default() };
    let mut no_records = Vec::new();
    for d in days.values_mut() {
        d.explained_gb = gb(d.explained_bytes);
        d.explained_usd = m.billed_cost(d.explained_bytes);
        d.coverage_pct = coverage(d.explained_gb, d.billed_out_gb, d.billed_in_gb);
        if d.explained_bytes == 0 && !(d.billed_out_gb + d.billed_in_gb).is_zero() {
            no_records.push(d.date.clone());
        }
        total.billed_out_gb += d.billed_out_gb;
        total.billed_out_usd += d.billed_out_usd;
        total.billed_in_gb += d.billed_in_gb;
        total.billed_in_usd += d.billed_in_usd;
        total.explained_bytes += d.explained_bytes;
    }
    total.explained_gb = gb(total.explained_bytes);
    total.explained_usd = m.billed_cost(total.explained_bytes);
    total.coverage_pct = coverage(total.explained_gb, total.billed_out_gb, total.billed_in_gb);
    let billed_gb = (total.billed_out_gb + total.billed_in_gb) / Decimal::TWO;
    rec.unexplained_gb = (billed_gb - total.explained_gb).round_dp(6);
    let eff = effective_rate(lines, None);
    if let Some(r) = eff {
        rec.effective_out_per_gb_usd = Some(r.out_per_gb.round_dp(6));
        rec.effective_in_per_gb_usd = Some(r.in_per_gb.round_dp(6));
    }
    let per_gb_both = eff.map(|r| r.both_sides()).unwrap_or(m.pricing.both_sides());
    rec.unexplained_usd = round_usd(rec.unexplained_gb * per_gb_both);
    rec.regional_other_usd = round_usd(regional_other);
    // Likely reasons, most specific first.
    if rec.unexplained_gb > Decimal::ZERO {
        if !ctx.unlogged_interfaces.is_empty() {
            let examples: Vec<String> = ctx.unlogged_interfaces.iter().take(3).map(|(id, owner)| format!("{id} ({owner})")).collect();
            rec.likely_reasons.push(format!(
                "{} interfaces of the inventory have no flow-log records (e.g. {}): their traffic is billed but not logged",
                ctx.unlogged_interfaces.len(),
                examples.join(", ")
            ));
        }
        if !no_records.is_empty() {
            rec.likely_reasons.push(format!(
                "{} billed days have no flow-log records (first: {}): flow logs missing or not delivered yet",
                no_records.len(),
                no_records[0]
            ));
        }
        rec.likely_reasons.push("traffic of other VPCs and accounts on the same bill: Cost Explorer bills the account, the flow logs cover their VPC".into());
        rec.likely_reasons.push("VPC peering and transit gateway traffic across AZs, which a single VPC's flow logs see only on their side".into());
        if !rec.regional_other_usd.is_zero() {
            rec.likely_reasons.push(format!(
                "public or Elastic IP traffic inside the region: billed as regional transfer (${} in the window, not counted above)",
                rec.regional_other_usd
            ));
        }
    } else if rec.unexplained_gb < Decimal::ZERO {
        rec.likely_reasons
            .push("the flow logs explain more than the bill: the bill may still be estimated, or part of the traffic is in another account's bill".into());
    }
    if multi_day {
        rec.notes.push("some Cost Explorer results span several days (MONTHLY granularity): only DAILY results are compared".into());
    }
    if outside > 0 {
        rec.notes.push(format!("{outside} billed lines fall outside the report's window and are left out"));
    }
    if lines.iter().any(|l| l.estimated) {
        rec.notes.push("some billed days are still estimated by Cost Explorer and may change".into());
    }
    rec.days = days.into_values().collect();
    rec.total = total;
    rec
}
