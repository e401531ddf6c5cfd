//! Allocation that sums to the bill: each resource's billed inter-AZ dollars (a CUR or FOCUS
//! export's line per resource, day and direction) split over the conversations whose bytes the
//! flow logs measured on that resource, in proportion to those bytes (docs/billing.md).

use crate::measurement::facts::{Party, ResourceFlow};
use crate::model::billing::ResourceCharge;
use crate::reconcile::by_resource::normalize_resource;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    /// `bill`: split from the export's lines; `list-price`: no export given, measured bytes priced
    /// at the report's rates.
    pub basis: String,
    /// Billed inter-AZ dollars in the window (unblended / BilledCost), and their sum over the rows.
    pub billed_usd: Decimal,
    pub allocated_usd: Decimal,
    /// Of those, dollars on resources or days with no measured bytes (rows without a client).
    pub unallocated_usd: Decimal,
    pub rows: Vec<AllocationRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AllocationRow {
    pub date: String,
    /// The account the line bills (empty for `list-price` rows).
    #[serde(default)]
    pub account: String,
    pub resource_kind: String,
    /// As the bill names it (an ID or ARN); the measured resource's ID for `list-price` rows.
    pub resource_id: String,
    pub usage_type: String,
    /// `InterZone-Out` or `InterZone-In`.
    pub operation: String,
    pub client: Party,
    pub server: Party,
    pub client_az_id: String,
    pub server_az_id: String,
    pub measured_bytes: u64,
    /// Billed dollars given to this row (unblended / BilledCost).
    pub allocated_usd: Decimal,
    /// Net unblended / EffectiveCost given to this row, when the export has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated_effective_usd: Option<Decimal>,
    /// For dollars no measured byte explains: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unallocated_reason: Option<String>,
    /// The billed resource's tags on the bill.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_tags: BTreeMap<String, String>,
}

fn op_name(out: bool) -> &'static str {
    if out { "InterZone-Out" } else { "InterZone-In" }
}

/// Splits `total` over `weights` in proportion, at 10 decimal places; the largest weight takes the
/// rounding remainder, so the parts sum to `total` exactly.
pub fn split(total: Decimal, weights: &[u64]) -> Vec<Decimal> {
    let sum: u128 = weights.iter().map(|w| u128::from(*w)).sum();
    if weights.is_empty() || sum == 0 {
        return vec![Decimal::ZERO; weights.len()];
    }
    let sum = Decimal::from(sum as u64);
    let mut parts: Vec<Decimal> = weights.iter().map(|w| (total * Decimal::from(*w) / sum).round_dp(10)).collect();
    let rest = total - parts.iter().copied().sum::<Decimal>();
    let largest = weights.iter().enumerate().max_by_key(|(i, w)| (**w, std::cmp::Reverse(*i))).map(|(i, _)| i).unwrap_or(0);
    parts[largest] += rest;
    parts
}

/// Each charge split over the flows measured on its resource, day and direction. A charge without
/// a resource ID (an export without them) is split over every flow of its day and direction.
pub fn allocate(flows: &[ResourceFlow], charges: &[ResourceCharge], in_window: impl Fn(&str) -> bool) -> Allocation {
    type Cell = (String, String, bool);
    let mut by_cell: BTreeMap<Cell, Vec<&ResourceFlow>> = BTreeMap::new();
    let mut by_day: BTreeMap<(String, bool), Vec<&ResourceFlow>> = BTreeMap::new();
    for f in flows {
        by_cell.entry((f.date.clone(), f.resource_id.clone(), f.out)).or_default().push(f);
        by_day.entry((f.date.clone(), f.out)).or_default().push(f);
    }
    let mut rows = Vec::new();
    let (mut billed, mut unallocated) = (Decimal::ZERO, Decimal::ZERO);
    // Lines at $0 (paths AWS does not charge) have nothing to allocate.
    for c in charges.iter().filter(|c| in_window(&c.date) && !c.is_free()) {
        let out = c.operation.as_deref() != Some("InterZone-In");
        billed += c.cost_usd;
        let targets: &[&ResourceFlow] = match &c.resource_id {
            Some(id) => by_cell.get(&(c.date.clone(), normalize_resource(id), out)).map(Vec::as_slice).unwrap_or(&[]),
            None => by_day.get(&(c.date.clone(), out)).map(Vec::as_slice).unwrap_or(&[]),
        };
        let resource_id = c.resource_id.clone().unwrap_or_default();
        let operation = c.operation.clone().unwrap_or_else(|| op_name(out).to_string());
        if targets.is_empty() {
            unallocated += c.cost_usd;
            rows.push(AllocationRow {
                date: c.date.clone(),
                account: c.account.clone(),
                resource_kind: String::new(),
                resource_id,
                usage_type: c.usage_type.clone(),
                operation,
                client: Party::default(),
                server: Party::default(),
                client_az_id: String::new(),
                server_az_id: String::new(),
                measured_bytes: 0,
                allocated_usd: c.cost_usd,
                allocated_effective_usd: c.effective_usd,
                resource_tags: c.tags.clone(),
                unallocated_reason: Some(if c.resource_id.is_some() {
                    "no cross-AZ bytes measured on this resource that day (see `crossaz reconcile --by resource`)".into()
                } else {
                    "no cross-AZ bytes measured that day".into()
                }),
            });
            continue;
        }
        let weights: Vec<u64> = targets.iter().map(|f| f.bytes).collect();
        let parts = split(c.cost_usd, &weights);
        let effective = c.effective_usd.map(|e| split(e, &weights));
        for (i, f) in targets.iter().enumerate() {
            rows.push(AllocationRow {
                date: c.date.clone(),
                account: c.account.clone(),
                resource_kind: f.resource_kind.clone(),
                resource_id: resource_id.clone(),
                usage_type: c.usage_type.clone(),
                operation: operation.clone(),
                client: f.client.clone(),
                server: f.server.clone(),
                client_az_id: f.client_az_id.clone(),
                server_az_id: f.server_az_id.clone(),
                measured_bytes: f.bytes,
                allocated_usd: parts[i],
                allocated_effective_usd: effective.as_ref().map(|e| e[i]),
                unallocated_reason: None,
                resource_tags: c.tags.clone(),
            });
        }
    }
    let allocated = rows.iter().map(|r| r.allocated_usd).sum();
    Allocation { basis: "bill".into(), billed_usd: billed, allocated_usd: allocated, unallocated_usd: unallocated, rows }
}

/// Without an export: the measured bytes priced at the report's rates (`out` for the sender's
/// side, `in` for the receiver's), as rows of the same shape.
pub fn at_list_price(flows: &[ResourceFlow], out_per_gb: Decimal, in_per_gb: Decimal, usage_type: &str) -> Allocation {
    let rows: Vec<AllocationRow> = flows
        .iter()
        .map(|f| {
            let rate = if f.out { out_per_gb } else { in_per_gb };
            let usd = (Decimal::from(f.bytes) * rate / Decimal::from(crate::pricing::GB)).round_dp(10);
            AllocationRow {
                date: f.date.clone(),
                account: String::new(),
                resource_kind: f.resource_kind.clone(),
                resource_id: f.resource_id.clone(),
                usage_type: usage_type.to_string(),
                operation: op_name(f.out).into(),
                client: f.client.clone(),
                server: f.server.clone(),
                client_az_id: f.client_az_id.clone(),
                server_az_id: f.server_az_id.clone(),
                measured_bytes: f.bytes,
                allocated_usd: usd,
                allocated_effective_usd: None,
                unallocated_reason: None,
                resource_tags: BTreeMap::new(),
            }
        })
        .collect();
    let total: Decimal = rows.iter().map(|r| r.allocated_usd).sum();
    Allocation { basis: "list-price".into(), billed_usd: total, allocated_usd: total, unallocated_usd: Decimal::ZERO, rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn split_sums_exactly() {
        let total = Decimal::from_str("0.0100000001").unwrap();
        let parts = split(total, &[1, 1, 1]);
        assert_eq!(parts.iter().copied().sum::<Decimal>(), total);
        assert_eq!(parts[1], Decimal::from_str("0.0033333334").unwrap());
        assert_eq!(split(Decimal::ONE, &[3, 1]), vec![Decimal::from_str("0.75").unwrap(), Decimal::from_str("0.25").unwrap()]);
        assert_eq!(split(Decimal::ONE, &[0, 0]), vec![Decimal::ZERO, Decimal::ZERO]);
    }
}
