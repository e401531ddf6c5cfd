//! What the review's HTML and Markdown share: the figures each section shows, taken from the
//! Report and formatted as the terminal formats them.

use super::Report;
use super::render::{human_pct, human_usd};
use super::views::{By, Cell, entity_rows, view};
use crate::review::{Change, Review};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Rows shown per list; the CSV files hold all.
pub const TOP: usize = 10;
/// Series in the daily trend before the rest become "other".
pub const SERIES: usize = 5;

pub fn signed_usd(d: Decimal) -> String {
    if d > Decimal::ZERO { format!("+{}", human_usd(d)) } else { human_usd(d) }
}

pub fn signed_pct(d: Decimal) -> String {
    if d > Decimal::ZERO { format!("+{}", human_pct(d)) } else { human_pct(d) }
}

/// `+$25.10, +3.6% vs 2026-09`, or None without a baseline.
pub fn change_suffix(r: &Review) -> Option<String> {
    let b = r.baseline.as_ref()?;
    let usd = signed_usd(r.headline.change_usd?);
    Some(match r.headline.change_pct {
        Some(p) => format!("{usd}, {} vs {}", signed_pct(p), b.label),
        None => format!("{usd} vs {}", b.label),
    })
}

pub fn limit_text(limit: &str) -> String {
    if limit.ends_with('%') { limit.to_string() } else { format!("${limit}") }
}

pub fn action_title(kind: &str) -> &'static str {
    match kind {
        "topology-aware-routing" => "Topology-aware routing",
        "rds-deployment" => "RDS deployment",
        "lb-target-type" => "Load-balancer target type",
        "external-traffic-policy" => "externalTrafficPolicy: Local",
        "nat-per-az" => "NAT gateway per AZ",
        "nat-consolidate" => "Fewer NAT gateways",
        "nlb-cross-zone" => "NLB cross-zone off",
        "aws-service-endpoint" => "VPC endpoint",
        _ => "Change",
    }
}

pub fn change_name(c: &Change) -> String {
    if c.dimension == "namespace" || c.namespace.is_empty() { c.name.clone() } else { format!("{}/{}", c.namespace, c.name) }
}

/// Billed cross-AZ cost from AZ to AZ (names, or IDs where no name is known).
pub struct Matrix {
    pub zones: Vec<String>,
    pub cost: Vec<Vec<Decimal>>,
    pub bytes: Vec<Vec<u64>>,
    pub max: Decimal,
}

impl Matrix {
    pub fn of(r: &Report) -> Matrix {
        let t = view(r, By::AzPair);
        let name = |id: &str, n: &str| if n.is_empty() { id.to_string() } else { n.to_string() };
        let mut zones: Vec<String> = Vec::new();
        let mut cells: BTreeMap<(String, String), (Decimal, u64)> = BTreeMap::new();
        for row in &t.rows {
            if let (Cell::Text(si), Cell::Text(sn), Cell::Text(di), Cell::Text(dn), Cell::U64(billed), Cell::Dec(c)) =
                (&row[0], &row[1], &row[2], &row[3], &row[5], &row[6])
            {
                let (s, d) = (name(si, sn), name(di, dn));
                for z in [&s, &d] {
                    if !zones.contains(z) {
                        zones.push(z.clone());
                    }
                }
                cells.insert((s, d), (*c, *billed));
            }
        }
        zones.sort();
        let n = zones.len();
        let (mut cost, mut bytes) = (vec![vec![Decimal::ZERO; n]; n], vec![vec![0u64; n]; n]);
        let mut max = Decimal::ZERO;
        for (i, a) in zones.iter().enumerate() {
            for (j, b) in zones.iter().enumerate() {
                if let Some((c, by)) = cells.get(&(a.clone(), b.clone())) {
                    cost[i][j] = *c;
                    bytes[i][j] = *by;
                    max = max.max(*c);
                }
            }
        }
        Matrix { zones, cost, bytes, max }
    }
}

pub struct TopRow {
    pub name: String,
    pub kind: String,
    pub bytes: u64,
    pub cost: Decimal,
    pub share: Decimal,
}

/// The top Services, workloads and conversations by billed cross-AZ cost.
pub fn top_tables(r: &Report) -> Vec<(&'static str, Vec<TopRow>)> {
    let from_view = |by: By| -> Vec<TopRow> {
        entity_rows(r, by)
            .into_iter()
            .filter(|e| e.cross_az_bytes > 0)
            .take(TOP)
            .map(|e| TopRow {
                name: if e.namespace.is_empty() { e.name } else { format!("{}/{}", e.namespace, e.name) },
                kind: e.kind,
                bytes: e.cross_az_bytes,
                cost: e.cost_usd,
                share: e.share_pct,
            })
            .collect()
    };
    let total = r.measurement.summary.cross_az_cost_usd;
    let convs = r
        .measurement
        .conversations
        .iter()
        .filter(|c| c.class == "cross-az-billed")
        .take(TOP)
        .map(|c| {
            let end = |ns: &str, n: &str| if ns.is_empty() { n.to_string() } else { format!("{ns}/{n}") };
            TopRow {
                name: format!("{} ({}) → {} ({})", end(&c.client_namespace, &c.client), c.client_az, end(&c.server_namespace, &c.server), c.server_az),
                kind: c.pricing_rule.clone().unwrap_or_default(),
                bytes: c.bytes,
                cost: c.cost_usd,
                share: if total.is_zero() { Decimal::ZERO } else { (c.cost_usd * Decimal::from(100) / total).round_dp(2) },
            }
        })
        .collect();
    vec![("Top Services", from_view(By::Service)), ("Top workloads", from_view(By::Workload)), ("Top conversations", convs)]
}

/// The lowest and highest daily coverage, as `97.0% (2026-10-31)`.
pub fn coverage_range(rec: &crate::reconcile::Reconciliation) -> (String, String) {
    let days: Vec<(&str, Decimal)> = rec.days.iter().filter_map(|d| d.coverage_pct.map(|c| (d.date.as_str(), c))).collect();
    let show = |x: Option<&(&str, Decimal)>| x.map(|(d, c)| format!("{} ({d})", human_pct(*c))).unwrap_or_else(|| "n/a".into());
    (show(days.iter().min_by_key(|x| x.1)), show(days.iter().max_by_key(|x| x.1)))
}

/// Rates and their source, what is free and why, what is assumed.
pub fn assumptions(r: &Report) -> Vec<String> {
    let p = &r.measurement.pricing;
    let mut out = vec![format!(
        "Rates: ${} per GB out + ${} per GB in (GB = 2^30 bytes); source: {}",
        p.out_per_gb_usd.normalize(),
        p.in_per_gb_usd.normalize(),
        p.source
    )];
    for rule in p.rules.iter().filter(|r| r.billed == "none") {
        out.push(format!("Free: {} ({} evidence) — {}", rule.id, rule.evidence, rule.source));
    }
    out.extend(r.measurement.summary.assumptions.iter().map(|a| format!("Assumed: {a}")));
    out.push("Savings are per month of 730 hours, projected from the measured window".into());
    out
}

/// The daily trend: the top Services by cost over the period, the rest as "other".
pub struct Trend {
    pub series: Vec<String>,
    /// Per day: date, cost per series (same order, "other" last), total.
    pub days: Vec<(String, Vec<Decimal>, Decimal)>,
    /// Baseline cost by day of the period (first day = index 0).
    pub baseline: Vec<Decimal>,
    pub max: Decimal,
}

pub fn trend(r: &Report, review: &Review) -> Trend {
    let name = |ns: &str, n: &str| if ns.is_empty() { n.to_string() } else { format!("{ns}/{n}") };
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for d in &r.measurement.daily {
        for s in &d.by_server {
            *totals.entry(name(&s.server_namespace, &s.server)).or_default() += s.cross_az_billed_bytes;
        }
    }
    let mut ranked: Vec<(String, u64)> = totals.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut series: Vec<String> = ranked.iter().take(SERIES).map(|(n, _)| n.clone()).collect();
    let has_other = ranked.len() > SERIES;
    if has_other {
        series.push("other".into());
    }
    let mut max = Decimal::ZERO;
    let days = r
        .measurement
        .daily
        .iter()
        .map(|d| {
            let mut v = vec![Decimal::ZERO; series.len()];
            for s in &d.by_server {
                let n = name(&s.server_namespace, &s.server);
                let i = series.iter().take(SERIES).position(|x| *x == n).unwrap_or(series.len().saturating_sub(1));
                v[i] += s.cost_usd;
            }
            max = max.max(d.cost_usd);
            (d.date.clone(), v, d.cost_usd)
        })
        .collect();
    let baseline: Vec<Decimal> = review.baseline.as_ref().map(|b| b.daily.iter().map(|d| d.cost_usd).collect()).unwrap_or_default();
    for b in &baseline {
        max = max.max(*b);
    }
    Trend { series, days, baseline, max }
}

/// The billed resource lines (window totals) the flow logs do not fully explain, largest first;
/// lines at $0 are left out.
pub fn resource_gaps(rec: &crate::reconcile::Reconciliation) -> Vec<&crate::reconcile::by_resource::ResourceReconciled> {
    rec.by_resource.iter().filter(|r| r.likely_cause.is_some() && !r.billed_usd.is_zero()).collect()
}
