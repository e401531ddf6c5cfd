//! The `--by` views: tables derived from the measurement's conversations (and the allocation),
//! rendered by every format.

use super::Report;
use crate::allocate::Allocation;
use crate::measurement::{Measurement, Side};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum By {
    Service,
    Workload,
    Namespace,
    AzPair,
    Conversation,
}

impl By {
    pub fn as_str(self) -> &'static str {
        match self {
            By::Service => "service",
            By::Workload => "workload",
            By::Namespace => "namespace",
            By::AzPair => "az-pair",
            By::Conversation => "conversation",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColType {
    Text,
    Bytes,
    Usd,
    Pct,
    Count,
}

#[derive(Clone, Debug)]
pub struct Column {
    pub name: &'static str,
    pub title: &'static str,
    pub ty: ColType,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    U64(u64),
    Dec(Decimal),
}

#[derive(Clone, Debug)]
pub struct Table {
    pub by: By,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

const fn col(name: &'static str, title: &'static str, ty: ColType) -> Column {
    Column { name, title, ty }
}

/// The row of billed dollars that no measured byte explains (`--allocate-bill`).
pub const UNALLOCATED: &str = "(unallocated)";

fn share(cost: Decimal, total: Decimal) -> Decimal {
    if total.is_zero() { Decimal::ZERO } else { (cost * Decimal::from(100) / total).round_dp(2) }
}

/// Sort rows by cost, then cross-AZ bytes (both descending), then by the text columns.
fn sort_rows(rows: &mut [Vec<Cell>], cost_col: usize, bytes_col: usize) {
    rows.sort_by(|a, b| {
        let num = |r: &Vec<Cell>, i: usize| match &r[i] {
            Cell::Dec(d) => (*d, 0),
            Cell::U64(u) => (Decimal::ZERO, *u),
            Cell::Text(_) => (Decimal::ZERO, 0),
        };
        let text = |r: &Vec<Cell>| r.iter().filter_map(|c| if let Cell::Text(t) = c { Some(t.clone()) } else { None }).collect::<Vec<_>>();
        num(b, cost_col).0.cmp(&num(a, cost_col).0).then(num(b, bytes_col).1.cmp(&num(a, bytes_col).1)).then_with(|| text(a).cmp(&text(b)))
    });
}

/// The table of one `--by` view.
pub fn view(r: &Report, by: By) -> Table {
    let (m, allocation) = (&r.measurement, r.allocation.as_ref());
    match by {
        By::Service => entity_view(m, allocation, Side::Server),
        By::Workload => entity_view(m, allocation, Side::Client),
        By::Namespace => namespace_view(m),
        By::AzPair => az_pair_view(m),
        By::Conversation => conversation_view(m, allocation),
    }
}

/// With `--allocate-bill`: the billed dollars allocated to each Service (or workload), the rest
/// under `(unallocated)`.
fn allocated_by_entity(allocation: &Allocation, side: Side) -> BTreeMap<(String, String, String), Decimal> {
    let mut allocated: BTreeMap<(String, String, String), Decimal> = BTreeMap::new();
    for row in &allocation.rows {
        let p = if side == Side::Server { &row.server } else { &row.client };
        let key = if row.unallocated_reason.is_some() {
            (String::new(), UNALLOCATED.to_string(), String::new())
        } else {
            (p.namespace.clone(), p.name.clone(), p.kind.clone())
        };
        *allocated.entry(key).or_default() += row.allocated_usd;
    }
    allocated
}

/// One row per server Service (`Side::Server`) or client workload (`Side::Client`).
fn entity_view(m: &Measurement, allocation: Option<&Allocation>, side: Side) -> Table {
    let total = m.summary.cross_az_cost_usd;
    let mut groups = m.by_entity(side);
    groups.entry((String::new(), "unattributed".into(), "unattributed".into())).or_default();
    let allocated = allocation.map(|a| allocated_by_entity(a, side)).unwrap_or_default();
    for key in allocated.keys() {
        groups.entry(key.clone()).or_default();
    }
    let mut rows: Vec<Vec<Cell>> = groups
        .into_iter()
        .map(|(key, a)| {
            let cost = m.billed_cost(a.billed);
            let alloc = allocated.get(&key).copied().unwrap_or_default();
            let (ns, name, kind) = key;
            let mut row = vec![
                Cell::Text(ns),
                Cell::Text(name),
                Cell::Text(kind),
                Cell::U64(a.billed),
                Cell::Dec(cost),
                Cell::Dec(share(cost, total)),
                Cell::U64(a.free),
                Cell::U64(a.same),
                Cell::U64(a.other),
                Cell::U64(a.peers.len() as u64),
            ];
            if allocation.is_some() {
                row.push(Cell::Dec(crate::pricing::round_usd(alloc)));
            }
            row
        })
        .collect();
    sort_rows(&mut rows, 4, 3);
    let (name, title, peers, peers_title) =
        if side == Side::Server { ("service", "Service", "clients", "Clients") } else { ("workload", "Workload", "servers", "Servers") };
    let mut t = Table {
        by: if side == Side::Server { By::Service } else { By::Workload },
        columns: vec![
            col("namespace", "Namespace", ColType::Text),
            col(name, title, ColType::Text),
            col("kind", "Kind", ColType::Text),
            col("cross_az_bytes", "Cross-AZ", ColType::Bytes),
            col("cost_usd", "Cost", ColType::Usd),
            col("share_pct", "Share", ColType::Pct),
            col("cross_az_free_bytes", "Cross-AZ free", ColType::Bytes),
            col("same_az_bytes", "Same-AZ", ColType::Bytes),
            col("internet_other_bytes", "Internet/other", ColType::Bytes),
            col(peers, peers_title, ColType::Count),
        ],
        rows,
    };
    if allocation.is_some() {
        t.columns.push(col("allocated_usd", "Allocated bill", ColType::Usd));
    }
    t
}

/// One row per namespace: what it paid for as a client and caused as a server.
fn namespace_view(m: &Measurement) -> Table {
    let total = m.summary.cross_az_cost_usd;
    let mut groups: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for c in &m.conversations {
        let billed = if c.class == "cross-az-billed" { c.bytes } else { 0 };
        groups.entry(c.client_namespace.clone()).or_default().0 += billed;
        groups.entry(c.server_namespace.clone()).or_default().1 += billed;
    }
    let mut rows: Vec<Vec<Cell>> = groups
        .into_iter()
        .map(|(ns, (b, sb))| {
            let c = m.billed_cost(b);
            vec![Cell::Text(ns), Cell::U64(b), Cell::Dec(c), Cell::Dec(share(c, total)), Cell::U64(sb), Cell::Dec(m.billed_cost(sb))]
        })
        .collect();
    sort_rows(&mut rows, 2, 1);
    Table {
        by: By::Namespace,
        columns: vec![
            col("namespace", "Namespace", ColType::Text),
            col("cross_az_bytes", "Cross-AZ as client", ColType::Bytes),
            col("cost_usd", "Cost as client", ColType::Usd),
            col("share_pct", "Share", ColType::Pct),
            col("served_cross_az_bytes", "Cross-AZ as server", ColType::Bytes),
            col("served_cost_usd", "Cost as server", ColType::Usd),
        ],
        rows,
    }
}

/// One row per direction between two AZs.
fn az_pair_view(m: &Measurement) -> Table {
    let mut groups: BTreeMap<(String, String, String, String), (u64, u64)> = BTreeMap::new();
    for c in &m.conversations {
        if c.client_az_id.is_empty() || c.server_az_id.is_empty() || c.class == "internet-other" {
            continue;
        }
        let billed = c.class == "cross-az-billed";
        for (src, dst, bytes) in [
            ((&c.client_az_id, &c.client_az), (&c.server_az_id, &c.server_az), c.bytes_to_server),
            ((&c.server_az_id, &c.server_az), (&c.client_az_id, &c.client_az), c.bytes_to_client),
        ] {
            if bytes == 0 {
                continue;
            }
            let g = groups.entry((src.0.clone(), src.1.clone(), dst.0.clone(), dst.1.clone())).or_default();
            g.0 += bytes;
            if billed {
                g.1 += bytes;
            }
        }
    }
    let mut rows: Vec<Vec<Cell>> = groups
        .into_iter()
        .map(|((si, sn, di, dn), (b, billed))| {
            vec![Cell::Text(si), Cell::Text(sn), Cell::Text(di), Cell::Text(dn), Cell::U64(b), Cell::U64(billed), Cell::Dec(m.billed_cost(billed))]
        })
        .collect();
    sort_rows(&mut rows, 6, 5);
    Table {
        by: By::AzPair,
        columns: vec![
            col("src_az_id", "From AZ ID", ColType::Text),
            col("src_az", "From AZ", ColType::Text),
            col("dst_az_id", "To AZ ID", ColType::Text),
            col("dst_az", "To AZ", ColType::Text),
            col("bytes", "Bytes", ColType::Bytes),
            col("cross_az_billed_bytes", "Billed", ColType::Bytes),
            col("cost_usd", "Cost", ColType::Usd),
        ],
        rows,
    }
}

/// One row per conversation, as the measurement holds them.
fn conversation_view(m: &Measurement, allocation: Option<&Allocation>) -> Table {
    let mut allocated: BTreeMap<(&str, &str, &str, &str, &str, &str), Decimal> = BTreeMap::new();
    for row in allocation.iter().flat_map(|a| &a.rows) {
        let key = (
            row.client.namespace.as_str(),
            row.client.name.as_str(),
            row.server.namespace.as_str(),
            row.server.name.as_str(),
            row.client_az_id.as_str(),
            row.server_az_id.as_str(),
        );
        *allocated.entry(key).or_default() += row.allocated_usd;
    }
    let rows = m
        .conversations
        .iter()
        .map(|c| {
            let key = (
                c.client_namespace.as_str(),
                c.client.as_str(),
                c.server_namespace.as_str(),
                c.server.as_str(),
                c.client_az_id.as_str(),
                c.server_az_id.as_str(),
            );
            let alloc = if c.class == "cross-az-billed" { allocated.get(&key).copied().unwrap_or_default() } else { Decimal::ZERO };
            let mut row = vec![
                Cell::Text(c.client_namespace.clone()),
                Cell::Text(c.client.clone()),
                Cell::Text(c.server_namespace.clone()),
                Cell::Text(c.server.clone()),
                Cell::Text(c.client_az.clone()),
                Cell::Text(c.server_az.clone()),
                Cell::Text(c.class.clone()),
                Cell::U64(c.bytes),
                Cell::Dec(c.cost_usd),
                Cell::Text(c.client_kind.clone()),
                Cell::Text(c.server_kind.clone()),
                Cell::Text(c.client_az_id.clone()),
                Cell::Text(c.server_az_id.clone()),
                Cell::U64(c.bytes_to_server),
                Cell::U64(c.bytes_to_client),
                Cell::Text(c.pricing_rule.clone().unwrap_or_default()),
                Cell::Text(c.free_reason.clone().unwrap_or_default()),
            ];
            if allocation.is_some() {
                row.push(Cell::Dec(crate::pricing::round_usd(alloc)));
            }
            row
        })
        .collect();
    let mut t = Table {
        by: By::Conversation,
        columns: vec![
            col("client_namespace", "Client ns", ColType::Text),
            col("client", "Client", ColType::Text),
            col("server_namespace", "Server ns", ColType::Text),
            col("server", "Server", ColType::Text),
            col("client_az", "Client AZ", ColType::Text),
            col("server_az", "Server AZ", ColType::Text),
            col("class", "Class", ColType::Text),
            col("bytes", "Bytes", ColType::Bytes),
            col("cost_usd", "Cost", ColType::Usd),
            col("client_kind", "Client kind", ColType::Text),
            col("server_kind", "Server kind", ColType::Text),
            col("client_az_id", "Client AZ ID", ColType::Text),
            col("server_az_id", "Server AZ ID", ColType::Text),
            col("bytes_to_server", "To server", ColType::Bytes),
            col("bytes_to_client", "To client", ColType::Bytes),
            col("pricing_rule", "Rule", ColType::Text),
            col("free_reason", "Free because", ColType::Text),
        ],
        rows,
    };
    if allocation.is_some() {
        t.columns.push(col("allocated_usd", "Allocated bill", ColType::Usd));
    }
    t
}
/// One row of the Service or workload view, by field.
pub struct EntityRow {
    pub namespace: String,
    pub name: String,
    pub kind: String,
    pub cross_az_bytes: u64,
    pub cost_usd: Decimal,
    pub share_pct: Decimal,
}

/// The rows of the Service (`By::Service`) or workload (`By::Workload`) view, in its order.
pub fn entity_rows(r: &Report, by: By) -> Vec<EntityRow> {
    view(r, by)
        .rows
        .into_iter()
        .filter_map(|row| match (&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]) {
            (Cell::Text(ns), Cell::Text(name), Cell::Text(kind), Cell::U64(b), Cell::Dec(c), Cell::Dec(share)) => {
                Some(EntityRow { namespace: ns.clone(), name: name.clone(), kind: kind.clone(), cross_az_bytes: *b, cost_usd: *c, share_pct: *share })
            }
            _ => None,
        })
        .collect()
}
