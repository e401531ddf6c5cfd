//! Renders the routing what-if of a Report (`crossaz whatif routing`) as a table, CSV or JSON.

use super::render::{Format, human_bytes, human_usd};
use super::{Report, WindowInfo};
use crate::error::Error;
use crate::whatif::routing::{RoutingWhatIf, ServiceRouting};
use comfy_table::{CellAlignment, ContentArrangement, LineStyle, Table as Comfy, TableStyle};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// A what-if as JSON: the Report's version, tool and window, then the what-if's own fields.
#[derive(Serialize)]
struct Document<'r, T: Serialize> {
    schema_version: u32,
    tool: &'r str,
    window: &'r WindowInfo,
    #[serde(flatten)]
    whatif: &'r T,
}

pub(super) fn whatif_json<T: Serialize>(report: &Report, whatif: &T) -> Result<Vec<u8>, Error> {
    let doc = Document { schema_version: report.schema_version, tool: &report.tool, window: &report.measurement.window, whatif };
    let mut out = serde_json::to_vec_pretty(&doc).map_err(|e| Error::failure("failed to write JSON").caused_by(e))?;
    out.push(b'\n');
    Ok(out)
}

/// The closing lines of a what-if table.
pub(super) fn assumptions_and_notes(out: &mut String, assumptions: &[String], notes: &[String]) {
    out.push_str("\nAssumptions:\n");
    for a in assumptions {
        out.push_str(&format!("  - {a}\n"));
    }
    for n in notes {
        out.push_str(&format!("note: {n}\n"));
    }
}

pub fn render(report: &Report, format: Format, top: Option<usize>) -> Result<Vec<u8>, Error> {
    let Some(r) = &report.routing else {
        return Err(Error::failure("the report has no routing what-if"));
    };
    match format {
        Format::Json => whatif_json(report, r),
        Format::Csv => csv(r),
        Format::Parquet | Format::Focus => Err(Error::usage("`crossaz whatif routing` writes table, CSV or JSON")),
        Format::Table => Ok(table(report, r, top).into_bytes()),
    }
}

fn zones_text(m: &BTreeMap<String, u64>) -> String {
    if m.is_empty() {
        return "-".into();
    }
    m.iter().map(|(z, n)| format!("{}:{n}", short_zone(z))).collect::<Vec<_>>().join(" ")
}

fn zones_full(m: &BTreeMap<String, u64>) -> String {
    m.iter().map(|(z, n)| format!("{z}:{n}")).collect::<Vec<_>>().join(" ")
}

/// `ap-northeast-2a` → `2a`, to keep rows on one line.
pub(super) fn short_zone(z: &str) -> &str {
    z.rsplit_once('-').map(|(_, s)| s).unwrap_or(z)
}

fn usd(d: Option<Decimal>) -> String {
    d.map(human_usd).unwrap_or_else(|| "-".into())
}

fn auto_cell(s: &ServiceRouting) -> String {
    match (&s.auto.reason, s.auto.hints_applied) {
        (_, true) => format!("yes {}", zones_text(&s.auto.hints_by_zone)),
        (Some(r), false) => format!("no: {r}"),
        (None, false) => "no".into(),
    }
}

pub(super) fn new_table() -> Comfy {
    let mut t = Comfy::new();
    let line = LineStyle::new('─', '─', '─', '─');
    t.load_style(TableStyle::new().top_border(line).header_separator(line).bottom_border(line)).set_content_arrangement(ContentArrangement::Disabled);
    t
}

pub(super) fn align_right(t: &mut Comfy, cols: &[usize]) {
    for i in cols {
        if let Some(c) = t.column_mut(*i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn table(report: &Report, r: &RoutingWhatIf, top: Option<usize>) -> String {
    let mode = r.same_zone_mode.as_str();
    let mut out = format!("Topology-aware routing: what Auto and {mode} would do, per Service\n");
    match (r.traffic_measured, r.window_hours) {
        (true, Some(h)) => out.push_str(&format!(
            "Traffic: {h} h of flow logs ({} – {}), scaled to a 730-hour month at ${}/GB (out + in)\n",
            report.measurement.window.first_record.as_deref().unwrap_or("?"),
            report.measurement.window.last_record.as_deref().unwrap_or("?"),
            r.price_per_gb_usd
        )),
        (true, None) => out.push_str("Traffic: no counted flow-log records: nothing to price\n"),
        (false, _) => out.push_str("Traffic: no flow logs given: hint simulation only (add --flow-logs and --network to price it)\n"),
    }
    let shares: Vec<String> = r.cluster.cpu_share_by_zone.iter().map(|(z, s)| format!("{z} {:.1}%", s * 100.0)).collect();
    match &r.cluster.refusal {
        None => out.push_str(&format!("Zones' allocatable CPU share (what Auto balances hints to): {}\n", shares.join(", "))),
        Some(code) => out.push_str(&format!("Auto cannot hint any Service in this cluster: {code}\n")),
    }
    if let Some(s) = &r.snapshot {
        out.push_str(&format!("Cluster state: snapshot {s}\n"));
    }
    out.push('\n');

    let shown: Vec<&ServiceRouting> = r
        .services
        .iter()
        .filter(|s| !r.traffic_measured || s.today.cross_az_bytes.unwrap_or(0) > 0 || s.active_mode != "none")
        .take(top.unwrap_or(usize::MAX))
        .collect();
    let mut t = new_table();
    if r.traffic_measured {
        t.set_header(["Service", "Now", "Today $/mo", "Auto (hints by zone)", "Auto saves", &format!("{mode} saves"), "Risk", "Recommendation"]);
        for s in &shown {
            t.add_row([
                format!("{}/{}", s.namespace, s.service),
                s.active_mode.clone(),
                usd(s.today.monthly_usd),
                auto_cell(s),
                if s.auto.hints_applied { usd(s.auto.monthly_savings_usd) } else { "-".into() },
                usd(s.prefer_close.monthly_savings_usd),
                s.prefer_close.risk.clone().unwrap_or_else(|| "-".into()),
                s.recommendation.clone(),
            ]);
        }
        t.add_row([
            format!("Total ({} Services)", r.services.len()),
            String::new(),
            usd(r.total.today_monthly_usd),
            String::new(),
            usd(r.total.auto_monthly_savings_usd),
            usd(r.total.prefer_close_monthly_savings_usd),
            String::new(),
            format!("recommended: {}/month", usd(r.total.recommended_monthly_savings_usd)),
        ]);
        align_right(&mut t, &[2, 4, 5]);
    } else {
        t.set_header(["Service", "Now", "Ready endpoints", "Auto (hints by zone)", &format!("{mode}: zones going cluster-wide"), "Recommendation"]);
        for s in &shown {
            t.add_row([
                format!("{}/{}", s.namespace, s.service),
                s.active_mode.clone(),
                zones_text(&s.ready_endpoints_by_zone),
                auto_cell(s),
                if s.prefer_close.fallback_zones.is_empty() { "none".into() } else { s.prefer_close.fallback_zones.join(", ") },
                s.recommendation.clone(),
            ]);
        }
    }
    out.push_str(&format!("{t}\n"));
    let hidden = r.services.len() - shown.len();
    if hidden > 0 {
        out.push_str(&format!("{hidden} more Services not shown (no measured cross-AZ traffic, or beyond the top rows): see `--format json`\n"));
    }

    let fixes: Vec<String> =
        shown.iter().filter(|s| s.applicable).filter_map(|s| s.auto.suggestion.as_ref().map(|f| format!("  {}/{}: {f}", s.namespace, s.service))).collect();
    if !fixes.is_empty() {
        out.push_str("\nAuto refused — the smallest change that makes it apply:\n");
        out.push_str(&fixes.join("\n"));
        out.push('\n');
    }
    let verify: Vec<String> = shown
        .iter()
        .filter(|s| s.active_mode != "none")
        .filter_map(|s| {
            let (m, e) = (s.today.same_zone_share_measured?, s.today.same_zone_share_expected?);
            Some(format!(
                "  {}/{} ({}): {:.1}% of bytes stayed in-zone, the mode should give {:.1}%",
                s.namespace,
                s.service,
                s.active_mode,
                m * 100.0,
                e * 100.0
            ))
        })
        .collect();
    if !verify.is_empty() {
        out.push_str("\nActive modes, measured against what they should give:\n");
        out.push_str(&verify.join("\n"));
        out.push('\n');
    }
    let unsteerable: u64 = shown.iter().filter_map(|s| s.today.unsteerable_cross_az_bytes).sum();
    if unsteerable > 0 {
        out.push_str(&format!("\nNot steerable by routing (load balancers, NAT, unknown zone): {} of the cross-AZ bytes shown\n", human_bytes(unsteerable)));
    }
    assumptions_and_notes(&mut out, &r.assumptions, &r.notes);
    out
}

fn csv(r: &RoutingWhatIf) -> Result<Vec<u8>, Error> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let fail = |e: ::csv::Error| Error::failure("failed to write CSV").caused_by(e);
    w.write_record([
        "namespace",
        "service",
        "active_mode",
        "applicable",
        "ready_endpoints_by_zone",
        "today_cross_az_bytes",
        "today_monthly_usd",
        "auto_hints_applied",
        "auto_reason",
        "auto_hints_by_zone",
        "auto_projected_cross_az_bytes",
        "auto_monthly_savings_usd",
        "auto_suggestion",
        "prefer_close_projected_cross_az_bytes",
        "prefer_close_monthly_savings_usd",
        "prefer_close_risk",
        "prefer_close_load_max_over_mean",
        "recommended_mode",
        "recommended_monthly_savings_usd",
        "recommendation",
    ])
    .map_err(fail)?;
    let opt = |v: Option<String>| v.unwrap_or_default();
    for s in &r.services {
        w.write_record([
            s.namespace.clone(),
            s.service.clone(),
            s.active_mode.clone(),
            s.applicable.to_string(),
            zones_full(&s.ready_endpoints_by_zone),
            opt(s.today.cross_az_bytes.map(|b| b.to_string())),
            opt(s.today.monthly_usd.map(|d| d.to_string())),
            s.auto.hints_applied.to_string(),
            opt(s.auto.reason.clone()),
            zones_full(&s.auto.hints_by_zone),
            opt(s.auto.projected_cross_az_bytes.map(|b| b.to_string())),
            opt(s.auto.monthly_savings_usd.map(|d| d.to_string())),
            opt(s.auto.suggestion.clone()),
            opt(s.prefer_close.projected_cross_az_bytes.map(|b| b.to_string())),
            opt(s.prefer_close.monthly_savings_usd.map(|d| d.to_string())),
            opt(s.prefer_close.risk.clone()),
            opt(s.prefer_close.load_max_over_mean.map(|v| v.to_string())),
            opt(s.recommended_mode.clone()),
            opt(s.recommended_monthly_savings_usd.map(|d| d.to_string())),
            s.recommendation.clone(),
        ])
        .map_err(fail)?;
    }
    w.into_inner().map_err(|e| Error::failure("failed to write CSV").caused_by(e.error()))
}
