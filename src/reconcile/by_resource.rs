//! Per-resource reconciliation: a CUR or FOCUS export's inter-AZ lines for each resource (an
//! instance, NAT gateway, load balancer, database) against the cross-AZ bytes the flow logs
//! measured on that resource's interfaces, direction by direction.

use crate::measurement::ResourceDay;
use crate::model::billing::ResourceCharge;
use crate::pricing::GB;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceReconciled {
    /// `YYYY-MM-DD` with `--by resource-day`; absent for the window's total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// As the bill names it (an ID or an ARN); the measured resource's ID when not billed.
    pub resource_id: String,
    pub resource_kind: String,
    /// `InterZone-Out` (sent) or `InterZone-In` (received).
    pub operation: String,
    pub billed_gb: Decimal,
    pub billed_usd: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_usd: Option<Decimal>,
    /// Bytes measured on the resource's interfaces in that direction; in GB of 2^30 bytes.
    pub measured_bytes: u64,
    pub measured_gb: Decimal,
    /// `measured_gb` over `billed_gb`, in percent; absent when nothing was billed.
    pub coverage_pct: Option<Decimal>,
    /// Billed GB the flow logs do not explain (negative: more measured than billed).
    pub unexplained_gb: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub likely_cause: Option<String>,
    /// The resource's tags on the bill.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// What the inventory and the flow logs say about one resource.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceFacts {
    pub kind: String,
    pub interfaces: usize,
    /// Of those, interfaces with flow-log records.
    pub logged: usize,
    /// An Application Load Balancer: its traffic with its targets is free.
    pub alb: bool,
}

#[derive(Clone, Debug, Default)]
pub struct ResourceContext {
    /// By resource ID as reports name it (instance ID, NAT gateway ID, load balancer name, …).
    pub known: BTreeMap<String, ResourceFacts>,
    /// Days with flow-log records.
    pub days_with_records: BTreeSet<String>,
}

/// The ID reports use for a billed resource: ARNs reduced to the instance, gateway, load balancer
/// or database name (`arn:aws:ec2:…:instance/i-0abc` → `i-0abc`,
/// `arn:aws:elasticloadbalancing:…:loadbalancer/net/name/0f…` → `name`, `arn:aws:rds:…:db:name` → `name`).
pub fn normalize_resource(id: &str) -> String {
    let id = id.trim();
    let Some(rest) = id.strip_prefix("arn:") else { return id.to_string() };
    // arn:partition:service:region:account:resource
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let (service, resource) = match parts.as_slice() {
        [_, service, _, _, resource] => (*service, *resource),
        _ => return id.to_string(),
    };
    match service {
        "elasticloadbalancing" => {
            let segs: Vec<&str> = resource.split('/').collect();
            match segs.as_slice() {
                ["loadbalancer", "app" | "net" | "gwy", name, ..] => name.to_string(),
                ["loadbalancer", name] => name.to_string(),
                _ => resource.to_string(),
            }
        }
        "rds" => resource.rsplit(':').next().unwrap_or(resource).to_string(),
        _ => resource.rsplit(['/', ':']).next().unwrap_or(resource).to_string(),
    }
}

/// The kind reports give a billed resource from its ID, when no measured row names it.
fn kind_of_id(id: &str) -> &'static str {
    let n = normalize_resource(id);
    if id.contains(":elasticloadbalancing:") {
        "elb"
    } else if id.contains(":rds:") {
        "rds"
    } else if id.contains(":eks:") {
        "eks"
    } else if n.starts_with("i-") {
        "ec2"
    } else if n.starts_with("nat-") {
        "nat"
    } else if n.starts_with("vpce-") {
        "vpce"
    } else if id.is_empty() {
        "none"
    } else {
        "other"
    }
}

/// The row of bytes between addresses on no interface of the inventory.
const NO_INTERFACE: &str = "(no interface)";

fn gb(bytes: u64) -> Decimal {
    (Decimal::from(bytes) / Decimal::from(GB)).round_dp(10)
}

/// `measured` over `billed` GB in percent, from exact bytes.
fn coverage(measured: u64, billed_gb: Decimal) -> Option<Decimal> {
    (!billed_gb.is_zero()).then(|| (Decimal::from(measured) * Decimal::ONE_HUNDRED / (billed_gb * Decimal::from(GB))).round_dp(2))
}

#[derive(Default)]
struct Cell {
    billed_id: Option<String>,
    kind: Option<String>,
    billed_gb: Decimal,
    billed_usd: Decimal,
    effective_usd: Option<Decimal>,
    measured: u64,
    free: u64,
    billed: bool,
    tags: BTreeMap<String, String>,
}

/// One row per resource and direction (and day with `per_day`), billed or measured, largest
/// billed first. `in_window` says which billed days the report covers.
pub fn by_resource(
    measured: &[ResourceDay],
    charges: &[ResourceCharge],
    ctx: &ResourceContext,
    per_day: bool,
    in_window: impl Fn(&str) -> bool,
) -> Vec<ResourceReconciled> {
    type K = (Option<String>, String, String);
    let mut cells: BTreeMap<K, Cell> = BTreeMap::new();
    let date = |d: &str| per_day.then(|| d.to_string());
    for c in charges.iter().filter(|c| in_window(&c.date)) {
        let id = c.resource_id.as_deref().map(normalize_resource).unwrap_or_default();
        let op = c.operation.clone().unwrap_or_else(|| "InterZone-Out".into());
        let cell = cells.entry((date(&c.date), id, op)).or_default();
        cell.billed = true;
        cell.billed_id.get_or_insert_with(|| c.resource_id.clone().unwrap_or_default());
        cell.billed_gb += c.usage_gb;
        cell.billed_usd += c.cost_usd;
        cell.tags.extend(c.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        if let Some(e) = c.effective_usd {
            cell.effective_usd = Some(cell.effective_usd.unwrap_or_default() + e);
        }
    }
    for m in measured.iter().filter(|m| in_window(&m.date)) {
        let id = if m.resource_kind == "unknown" { NO_INTERFACE.to_string() } else { m.resource_id.clone() };
        let key = (date(&m.date), id, m.operation.clone());
        if m.billed_bytes == 0 && !cells.contains_key(&key) {
            continue; // Free bytes only matter against a billed line.
        }
        let cell = cells.entry(key).or_default();
        cell.kind = Some(m.resource_kind.clone());
        cell.measured += m.billed_bytes;
        cell.free += m.free_bytes;
    }
    let mut rows: Vec<ResourceReconciled> = cells
        .into_iter()
        .map(|((date, id, operation), c)| {
            let facts = ctx.known.get(&id);
            let kind = c.kind.clone().or_else(|| facts.map(|f| f.kind.clone())).unwrap_or_else(|| kind_of_id(c.billed_id.as_deref().unwrap_or("")).into());
            // A line at $0 is a path AWS does not charge: compared with the free bytes measured.
            let free_line = c.billed && c.billed_usd.is_zero() && !c.billed_gb.is_zero();
            let measured_bytes = if free_line { c.measured + c.free } else { c.measured };
            let coverage_pct = coverage(measured_bytes, c.billed_gb);
            let unexplained_gb = (c.billed_gb - gb(measured_bytes)).round_dp(10);
            let cause = likely_cause(&c, &id, date.as_deref(), facts, ctx, coverage_pct, free_line);
            ResourceReconciled {
                date,
                resource_id: c.billed_id.clone().filter(|b| !b.is_empty()).unwrap_or_else(|| id.clone()),
                resource_kind: kind,
                operation,
                billed_gb: c.billed_gb,
                billed_usd: c.billed_usd,
                effective_usd: c.effective_usd,
                measured_bytes,
                measured_gb: gb(measured_bytes),
                coverage_pct,
                unexplained_gb,
                likely_cause: cause,
                tags: c.tags,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.billed_usd
            .cmp(&a.billed_usd)
            .then(b.measured_bytes.cmp(&a.measured_bytes))
            .then_with(|| (&a.resource_id, &a.operation, &a.date).cmp(&(&b.resource_id, &b.operation, &b.date)))
    });
    rows
}

/// Below this coverage (or above its mirror), a row gets a likely cause.
const EXPLAINED_PCT: i64 = 99;

fn likely_cause(
    c: &Cell,
    id: &str,
    date: Option<&str>,
    facts: Option<&ResourceFacts>,
    ctx: &ResourceContext,
    coverage: Option<Decimal>,
    free_line: bool,
) -> Option<String> {
    if free_line {
        return Some(if facts.is_some_and(|f| f.alb) || c.kind.as_deref() == Some("elb") {
            "billed at $0: traffic between a load balancer and its targets is free (ALB), and is listed at no charge".into()
        } else {
            "billed at $0: a path AWS does not charge".into()
        });
    }
    if c.kind.as_deref() == Some("unknown") {
        return Some("addresses on no interface of the network inventory at that time: their resource is not known".into());
    }
    if !c.billed {
        return Some("measured but not on the bill: billed to another account, or the export leaves it out".into());
    }
    if id.is_empty() && c.kind.is_none() {
        return Some("the export has no resource IDs: turn on \"include resource IDs\" in the export".into());
    }
    let cov = coverage?;
    if cov >= Decimal::from(EXPLAINED_PCT) && cov <= Decimal::from(200 - EXPLAINED_PCT) {
        return None;
    }
    if cov > Decimal::ONE_HUNDRED {
        return Some("more measured than billed: the export may still be revised, or the bytes are billed to another resource".into());
    }
    if let Some(d) = date
        && !ctx.days_with_records.contains(d)
    {
        return Some("no flow-log records that day".into());
    }
    Some(match facts {
        None if c.measured == 0 => "not in the network inventory: a resource of another VPC or account, whose flow logs were not read".into(),
        None => "not in the network inventory: only its peers' records name it, so its own traffic with other peers is missing".into(),
        Some(f) if f.kind == "eks" => "EKS control-plane interfaces: their traffic with the cluster's nodes is billed to the cluster".into(),
        Some(f) if f.logged == 0 => format!("none of its {} interfaces has flow-log records: no flow log covers it", f.interfaces),
        Some(f) if f.logged < f.interfaces => {
            format!("{} of its {} interfaces have no flow-log records", f.interfaces - f.logged, f.interfaces)
        }
        Some(_) => "part of its traffic is not in the flow logs: SKIPDATA windows, or peers outside the VPC whose flows it did not log".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charge(date: &str, id: &str, op: &str, gb: i64, usd: &str) -> ResourceCharge {
        ResourceCharge {
            date: date.into(),
            account: "1".into(),
            region: "r".into(),
            resource_id: Some(id.into()).filter(|i: &String| !i.is_empty()),
            usage_type: "APN2-DataTransfer-Regional-Bytes".into(),
            operation: Some(op.into()),
            usage_gb: Decimal::from(gb),
            cost_usd: usd.parse().unwrap(),
            effective_usd: None,
            rows: 1,
            tags: Default::default(),
        }
    }

    fn measured(date: &str, kind: &str, id: &str, op: &str, gb: u64, free: u64) -> ResourceDay {
        ResourceDay {
            date: date.into(),
            resource_kind: kind.into(),
            resource_id: id.into(),
            operation: op.into(),
            billed_bytes: gb * GB,
            free_bytes: free * GB,
        }
    }

    #[test]
    fn each_gap_gets_the_cause_the_data_points_to() {
        let (d1, d2) = ("2026-10-01", "2026-10-02");
        let facts = |kind: &str, interfaces: usize, logged: usize, alb: bool| ResourceFacts { kind: kind.into(), interfaces, logged, alb };
        let ctx = ResourceContext {
            known: [
                ("i-full".to_string(), facts("ec2", 2, 2, false)),
                ("i-half".to_string(), facts("ec2", 2, 1, false)),
                ("nat-dark".to_string(), facts("nat", 1, 0, false)),
                ("alb-1".to_string(), facts("elb", 2, 2, true)),
            ]
            .into(),
            days_with_records: [d1.to_string()].into(),
        };
        let charges = vec![
            charge(d1, "i-full", "InterZone-Out", 10, "0.1"),
            charge(d1, "i-half", "InterZone-Out", 10, "0.1"),
            charge(d1, "arn:aws:ec2:r:1:natgateway/nat-dark", "InterZone-In", 4, "0.04"),
            charge(d1, "i-other", "InterZone-In", 3, "0.03"),
            charge(d1, "arn:aws:elasticloadbalancing:r:1:loadbalancer/app/alb-1/0f", "InterZone-In", 2, "0"),
            charge(d2, "i-full", "InterZone-Out", 5, "0.05"),
            charge(d1, "", "InterZone-Out", 1, "0.01"),
        ];
        let m = vec![
            measured(d1, "ec2", "i-full", "InterZone-Out", 10, 0),
            measured(d1, "ec2", "i-half", "InterZone-Out", 6, 0),
            measured(d1, "elb", "alb-1", "InterZone-In", 0, 2),
            measured(d1, "ec2", "i-extra", "InterZone-In", 1, 0),
            measured(d1, "unknown", "", "InterZone-In", 1, 0),
        ];
        let rows = by_resource(&m, &charges, &ctx, true, |_| true);
        let cause = |id: &str, date: &str| {
            rows.iter().find(|r| r.resource_id == id && r.date.as_deref() == Some(date)).unwrap_or_else(|| panic!("{id} {date}")).likely_cause.clone()
        };
        assert_eq!(cause("i-full", d1), None);
        assert_eq!(cause("i-half", d1).unwrap(), "1 of its 2 interfaces have no flow-log records");
        assert!(cause("arn:aws:ec2:r:1:natgateway/nat-dark", d1).unwrap().starts_with("none of its 1 interfaces"));
        assert!(cause("i-other", d1).unwrap().starts_with("not in the network inventory"));
        assert!(cause("arn:aws:elasticloadbalancing:r:1:loadbalancer/app/alb-1/0f", d1).unwrap().starts_with("billed at $0"));
        assert_eq!(cause("i-full", d2).unwrap(), "no flow-log records that day");
        assert!(cause("i-extra", d1).unwrap().starts_with("measured but not on the bill"));
        assert!(cause(NO_INTERFACE, d1).unwrap().starts_with("addresses on no interface"));
        assert!(cause("", d1).unwrap().starts_with("the export has no resource IDs"));
        let half = rows.iter().find(|r| r.resource_id == "i-half").unwrap();
        assert_eq!((half.coverage_pct, half.unexplained_gb), (Some(Decimal::from(60)), Decimal::from(4)));
        let alb = rows.iter().find(|r| r.resource_kind == "elb").unwrap();
        assert_eq!((alb.measured_bytes, alb.coverage_pct), (2 * GB, Some(Decimal::ONE_HUNDRED)));
        // Largest billed first.
        assert!(rows.windows(2).all(|w| w[0].billed_usd >= w[1].billed_usd));
    }

    #[test]
    fn normalizes_arns() {
        assert_eq!(normalize_resource("i-0abc"), "i-0abc");
        assert_eq!(normalize_resource("arn:aws:ec2:ap-northeast-2:123456789012:instance/i-0abc"), "i-0abc");
        assert_eq!(normalize_resource("arn:aws:ec2:ap-northeast-2:123456789012:natgateway/nat-0abc"), "nat-0abc");
        assert_eq!(normalize_resource("arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:loadbalancer/net/queue-nlb/0f1e2d"), "queue-nlb");
        assert_eq!(normalize_resource("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/classic-lb"), "classic-lb");
        assert_eq!(normalize_resource("arn:aws:rds:ap-northeast-2:123456789012:db:orders-db"), "orders-db");
        assert_eq!(normalize_resource("arn:aws:rds:ap-northeast-2:123456789012:cluster:orders"), "orders");
        assert_eq!(normalize_resource("arn:aws:eks:ap-northeast-2:123456789012:cluster/prod"), "prod");
    }
}
