//! Renders the network-path what-if of a Report (`crossaz whatif paths`) as a table, CSV or JSON.

use super::Report;
use super::render::{Format, csv_rows, human_bytes, human_usd};
use super::render_routing::{align_right, assumptions_and_notes, new_table, whatif_json};
use super::views::Cell;
use crate::error::Error;
use crate::whatif::paths::PathsWhatIf;

pub fn render(report: &Report, format: Format) -> Result<Vec<u8>, Error> {
    let Some(p) = &report.paths else {
        return Err(Error::failure("the report has no network-path what-if"));
    };
    match format {
        Format::Json => whatif_json(report, p),
        Format::Csv => csv(p),
        Format::Parquet | Format::Focus => Err(Error::usage("`crossaz whatif paths` writes table, CSV or JSON")),
        Format::Table => Ok(table(p, None).into_bytes()),
    }
}

/// The changes, largest saving first; `top` keeps only the first rows with a positive saving.
pub fn table(p: &PathsWhatIf, top: Option<usize>) -> String {
    let mut t = new_table();
    t.set_header(["kind", "target", "cross-AZ bytes", "saves / month", "risk", "change"]);
    let rows: Vec<_> = match top {
        Some(n) => p.changes.iter().filter(|c| c.monthly_savings_usd > rust_decimal::Decimal::ZERO).take(n).collect(),
        None => p.changes.iter().collect(),
    };
    for c in &rows {
        let risk = c.risk.split(':').next().unwrap_or("");
        t.add_row([
            c.kind.clone(),
            c.target.clone(),
            human_bytes(c.measured_cross_az_bytes),
            human_usd(c.monthly_savings_usd),
            risk.to_string(),
            first_clause(&c.change),
        ]);
    }
    align_right(&mut t, &[2, 3]);
    let hours = p.window_hours.map_or("?".to_string(), |h| h.to_string());
    let mut out = format!("Network paths: what each change would save per 730-hour month, from {hours} hours of flow logs\n{t}\n");
    out.push_str(&format!("Total of the savings: {} per month\n", human_usd(p.total_monthly_savings_usd)));
    if top.is_some() {
        return out;
    }
    for c in &p.changes {
        out.push_str(&format!(
            "\n{} {}: {}\n  change: {}\n  risk: {}\n  evidence: {}\n",
            c.kind,
            c.target,
            human_usd(c.monthly_savings_usd),
            c.change,
            c.risk,
            c.evidence
        ));
        if let Some(b) = c.break_even_gb_per_month {
            out.push_str(&format!("  break-even: {b} GB per month\n"));
        }
        if let Some(a) = &c.alternative {
            out.push_str(&format!("  alternative: {a}\n"));
        }
    }
    for n in &p.not_estimated {
        out.push_str(&format!("\nnot estimated ({}): {}\n", n.kind, n.reason));
    }
    out.push_str(&format!(
        "\nRegional NAT gateways: {}\nAWS services recognised from {}\nPrices: {}\n",
        p.regional_nat_gateways, p.aws_services_from, p.prices_source
    ));
    assumptions_and_notes(&mut out, &p.assumptions, &p.notes);
    out
}

/// The change's first clause, at most 64 characters, for the table cell (the full text follows the table).
fn first_clause(s: &str) -> String {
    let cut = s.find(" (").or_else(|| s.find("; ")).unwrap_or(s.len());
    let clause = &s[..cut];
    if clause.chars().count() <= 64 { clause.to_string() } else { format!("{}…", clause.chars().take(63).collect::<String>()) }
}

fn csv(p: &PathsWhatIf) -> Result<Vec<u8>, Error> {
    let header = [
        "kind",
        "target",
        "client_az",
        "measured_cross_az_bytes",
        "nat_processed_bytes",
        "monthly_savings_usd",
        "monthly_cost_today_usd",
        "added_monthly_usd",
        "break_even_gb_per_month",
        "risk",
        "change",
        "alternative",
        "evidence",
    ];
    let rows: Vec<Vec<Cell>> = p
        .changes
        .iter()
        .map(|c| {
            vec![
                Cell::Text(c.kind.clone()),
                Cell::Text(c.target.clone()),
                Cell::Text(c.client_az.clone().unwrap_or_default()),
                Cell::U64(c.measured_cross_az_bytes),
                c.nat_processed_bytes.map_or(Cell::Text(String::new()), Cell::U64),
                Cell::Dec(c.monthly_savings_usd),
                Cell::Dec(c.monthly_cost_today_usd),
                Cell::Dec(c.added_monthly_usd),
                c.break_even_gb_per_month.map_or(Cell::Text(String::new()), Cell::Dec),
                Cell::Text(c.risk.clone()),
                Cell::Text(c.change.clone()),
                Cell::Text(c.alternative.clone().unwrap_or_default()),
                Cell::Text(c.evidence.clone()),
            ]
        })
        .collect();
    csv_rows(&header, &rows)
}
