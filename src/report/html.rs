//! `index.html`: the review as one self-contained page (inline CSS and SVG, no script, no
//! request). maud escapes every name that comes from the inputs.

use super::Report;
use super::render::{human_bytes, human_count, human_pct, human_usd};
use super::review_view::{self as rv, Matrix, Trend};
use crate::review::Review;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

const CSS: &str = include_str!("review.css");
/// Okabe–Ito colours, safe for colour-blind readers; each series also has its own pattern.
const COLOURS: [&str; 6] = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#999999"];

pub fn render(r: &Report, review: &Review) -> String {
    let h = &review.headline;
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'";
                title { "Cross-AZ review — " (review.period) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { "Cross-AZ data transfer review " span.period { (review.period) } }
                    p.sub { (r.measurement.region.as_deref().unwrap_or("region unknown")) " · " (window_text(r)) " · " (r.tool) }
                }
                main {
                    section #headline aria-labelledby="h-headline" {
                        h2 #h-headline .visually-hidden { "Headline" }
                        div.cards {
                            div.card.main {
                                div.label { "Cross-AZ cost" }
                                div.figure data-field="cross_az_cost_usd" data-value=(h.cross_az_cost_usd) { (human_usd(h.cross_az_cost_usd)) }
                                div.delta data-field="change_usd" data-value=(opt(h.change_usd)) {
                                    @match rv::change_suffix(review) { Some(c) => (c), None => "no baseline: nothing compared" }
                                }
                            }
                            div.card {
                                div.label { "Cross-AZ bytes" }
                                div.figure data-field="cross_az_billed_bytes" data-value=(h.cross_az_billed_bytes) { (human_bytes(h.cross_az_billed_bytes)) }
                                div.delta { (human_count(h.cross_az_billed_bytes)) " bytes billed both ways" }
                            }
                            div.card {
                                div.label { "Bill explained" }
                                div.figure data-field="bill_explained_pct" data-value=(opt(h.bill_explained_pct)) {
                                    @match h.bill_explained_pct { Some(p) => (human_pct(p)), None => "—" }
                                }
                                div.delta { @if h.bill_explained_pct.is_some() { "of the bill's inter-AZ line" } @else { "no billing data given" } }
                            }
                            div.card {
                                div.label { "Savings available" }
                                div.figure data-field="savings_monthly_usd" data-value=(h.savings_monthly_usd) { (human_usd(h.savings_monthly_usd)) }
                                div.delta { "per month, from " (review.actions.len()) " actions" }
                            }
                        }
                        @if let Some(t) = &review.threshold {
                            p.threshold.exceeded[t.exceeded] data-field="threshold_exceeded" data-value=(t.exceeded) {
                                "Threshold: an increase over " (rv::limit_text(&t.limit)) " is " @if t.exceeded { strong { "exceeded" } } @else { "not exceeded" } "."
                            }
                        }
                    }
                    (actions(review))
                    (changes(review))
                    (where_it_goes(r, review))
                    (chargeback(review))
                    (data_quality(r, review))
                    (assumptions(r, review))
                }
            }
        }
    }
    .into_string()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn window_text(r: &Report) -> String {
    match (&r.measurement.window.from, &r.measurement.window.to, &r.measurement.window.first_record, &r.measurement.window.last_record) {
        (Some(f), Some(t), _, _) => format!("{f} → {t}"),
        (_, _, Some(a), Some(b)) => format!("records {a} → {b}"),
        _ => "no records".into(),
    }
}

fn actions(review: &Review) -> Markup {
    html! {
        section #actions aria-labelledby="h-actions" {
            h2 #h-actions { "What to do" }
            @if review.actions.is_empty() {
                p { "No what-if found a saving. Topology-aware routing needs the cluster's state (" code { "--k8s" } "); the RDS what-if needs RDS in " code { "--network" } "." }
            } @else {
                div.scroll {
                    table {
                        caption { "Actions ranked by what they save per month" }
                        colgroup { col.rank; col.action; col.target; col.saves; col.risk; col.change; }
                        thead { tr { th scope="col" { "#" } th scope="col" { "Action" } th scope="col" { "Target" } th.num scope="col" { "Saves / month" } th scope="col" { "Risk" } th scope="col" { "Change and evidence" } } }
                        tbody {
                            @for a in &review.actions {
                                tr {
                                    td.num data-label="#" { (a.rank) }
                                    td data-label="Action" { (rv::action_title(&a.kind)) }
                                    th scope="row" data-label="Target" { (a.target) }
                                    td.num data-label="Saves / month" data-field="action_savings" data-value=(a.monthly_savings_usd) { (human_usd(a.monthly_savings_usd)) }
                                    td data-label="Risk" { (with_code(&a.risk)) }
                                    td data-label="Change" {
                                        @if a.change.contains('`') { p.change { (with_code(&a.change)) } } @else { code.cmd { (a.change) } }
                                        p.evidence { (with_code(&a.evidence)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Text whose `backticked` parts are code (the network-path changes name annotations and commands that way).
fn with_code(s: &str) -> Markup {
    html! {
        @for (i, part) in s.split('`').enumerate() {
            @if i % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

fn changes(review: &Review) -> Markup {
    let moved: Vec<_> = review.changes.iter().filter(|c| c.status != "unchanged").collect();
    html! {
        section #changes aria-labelledby="h-changes" {
            h2 #h-changes { "What changed" }
            @match &review.baseline {
                None => p.note { "No baseline: nothing is compared. Pass " code { "--baseline YYYY-MM" } " or " code { "--baseline-report FILE" } "." },
                Some(b) => {
                    p { "Against " strong { (b.label) } " (" (human_usd(b.cross_az_cost_usd)) ", " (human_bytes(b.cross_az_billed_bytes)) "; read from " code { (b.source) } ")." }
                    @if moved.is_empty() { p { "Nothing changed." } } @else {
                        div.scroll {
                            table {
                                caption { "Services, workloads and namespaces by the change in their cross-AZ cost" }
                                thead { tr { th scope="col" { "Status" } th scope="col" { "Dimension" } th scope="col" { "Name" } th.num scope="col" { (b.label) } th.num scope="col" { "This period" } th.num scope="col" { "Change" } } }
                                tbody {
                                    @for c in moved.iter().take(rv::TOP * 2) {
                                        tr {
                                            td { span class={"status " (c.status)} { (c.status) } }
                                            td { (c.dimension) }
                                            th scope="row" { (rv::change_name(c)) }
                                            td.num { (human_usd(c.baseline_usd)) }
                                            td.num { (human_usd(c.current_usd)) }
                                            td.num { (rv::signed_usd(c.change_usd)) }
                                        }
                                    }
                                }
                            }
                        }
                        @if moved.len() > rv::TOP * 2 { p.note { (moved.len() - rv::TOP * 2) " more in " code { "csv/changes.csv" } "." } }
                    }
                }
            }
        }
    }
}

fn where_it_goes(r: &Report, review: &Review) -> Markup {
    let m = Matrix::of(r);
    let t = rv::trend(r, review);
    html! {
        section #where aria-labelledby="h-where" {
            h2 #h-where { "Where it goes" }
            h3 { "Between zones" }
            @if m.zones.is_empty() { p { "No traffic between known zones." } } @else {
                div.scroll {
                    table.heat {
                        caption { "Billed cross-AZ cost from each zone (rows) to each zone (columns); darker is more" }
                        thead { tr { th scope="col" { "From \\ To" } @for z in &m.zones { th scope="col" { (z) } } } }
                        tbody {
                            @for (i, z) in m.zones.iter().enumerate() {
                                tr {
                                    th scope="row" { (z) }
                                    @for j in 0..m.zones.len() {
                                        @if i == j { td.same { "same AZ" } } @else {
                                            td class={"h" (heat_level(m.cost[i][j], m.max))} tabindex="0" title=(format!("{} → {}: {} ({})", z, m.zones[j], human_usd(m.cost[i][j]), human_bytes(m.bytes[i][j]))) {
                                                (human_usd(m.cost[i][j]))
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h3 { "Day by day" }
            (trend_chart(&t, review))
            @let tops = rv::top_tables(r);
            div.columns {
                @for (title, rows) in tops.iter().take(2) { (top_table(title, rows)) }
            }
            @for (title, rows) in tops.iter().skip(2) { (top_table(title, rows)) }
        }
    }
}

fn top_table(title: &str, rows: &[rv::TopRow]) -> Markup {
    html! {
        div.scroll {
            table {
                caption { (title) }
                thead { tr { th scope="col" { "Name" } th.num scope="col" { "Cross-AZ" } th.num scope="col" { "Cost" } th.num scope="col" { "Share" } } }
                tbody {
                    @for row in rows {
                        tr { th scope="row" { (row.name) " " span.kind { (row.kind) } } td.num { (human_bytes(row.bytes)) } td.num { (human_usd(row.cost)) } td.num { (human_pct(row.share)) } }
                    }
                }
            }
        }
    }
}

fn heat_level(c: Decimal, max: Decimal) -> u32 {
    if max.is_zero() || c.is_zero() {
        return 0;
    }
    let f = (c / max).to_f64().unwrap_or(0.0);
    ((f * 4.0).ceil() as u32).clamp(1, 4)
}

fn y(v: Decimal, max: Decimal, top: f64, height: f64) -> f64 {
    let f = if max.is_zero() { 0.0 } else { (v / max).to_f64().unwrap_or(0.0) };
    top + height * (1.0 - f)
}

fn trend_chart(t: &Trend, review: &Review) -> Markup {
    let (w, left, top, plot_h) = (760.0, 64.0, 40.0, 200.0);
    let n = t.days.len().max(1) as f64;
    let slot = (w - left - 8.0) / n;
    let bar = (slot * 0.75).max(1.0);
    let max = if t.max.is_zero() { Decimal::ONE } else { t.max };
    let ticks: Vec<Decimal> = (0..=4).map(|i| (max * Decimal::from(i) / Decimal::from(4)).round_dp(2)).collect();
    let baseline_points: String = t
        .baseline
        .iter()
        .enumerate()
        .take(t.days.len().max(t.baseline.len()))
        .map(|(i, v)| format!("{:.1},{:.1}", left + slot * (i as f64 + 0.5), y(*v, max, top, plot_h)))
        .collect::<Vec<_>>()
        .join(" ");
    let label = review.baseline.as_ref().map(|b| b.label.clone());
    html! {
        figure.chart {
            svg viewBox=(format!("0 0 {w} {}", top + plot_h + 40.0)) role="img" aria-labelledby="trend-title trend-desc" {
                title #trend-title { "Daily cross-AZ cost, stacked by the top Services" }
                desc #trend-desc { "One bar per day; the table below gives every value." @if let Some(l) = &label { " The dashed line is " (l) ", day by day." } }
                defs {
                    @for (i, c) in COLOURS.iter().enumerate() {
                        pattern id=(format!("p{i}")) patternUnits="userSpaceOnUse" width="6" height="6" {
                            rect width="6" height="6" fill=(c) {}
                            (pattern_marks(i))
                        }
                    }
                }
                @for tick in &ticks {
                    line.grid x1=(left) x2=(w - 8.0) y1=(format!("{:.1}", y(*tick, max, top, plot_h))) y2=(format!("{:.1}", y(*tick, max, top, plot_h))) {}
                    text.axis x=(left - 6.0) y=(format!("{:.1}", y(*tick, max, top, plot_h) + 4.0)) text-anchor="end" { (human_usd(*tick)) }
                }
                @for (d, (date, values, total)) in t.days.iter().enumerate() {
                    g.day tabindex="0" aria-label=(format!("{date}: {}", human_usd(*total))) {
                        @let x = left + slot * d as f64 + (slot - bar) / 2.0;
                        @for (i, v, y1, y0) in stack(values, max, top, plot_h) {
                            rect x=(format!("{x:.1}")) y=(format!("{y1:.1}")) width=(format!("{bar:.1}")) height=(format!("{:.1}", (y0 - y1).max(0.0))) fill=(format!("url(#p{})", colour_index(i, t))) {
                                title { (date) " · " (t.series[i]) ": " (human_usd(v)) }
                            }
                        }
                        text.tip x=(left) y="16" { (date) ": " (human_usd(*total)) @for (i, v) in values.iter().enumerate() { @if !v.is_zero() { " · " (t.series[i]) " " (human_usd(*v)) } } }
                        @if d % 7 == 0 { text.axis x=(format!("{:.1}", x + bar / 2.0)) y=(top + plot_h + 16.0) text-anchor="middle" { (date.get(5..).unwrap_or(date)) } }
                    }
                }
                @if !baseline_points.is_empty() {
                    polyline.baseline points=(baseline_points) fill="none" {}
                }
            }
            figcaption {
                ul.legend {
                    @for (i, s) in t.series.iter().enumerate() {
                        li { svg.swatch viewBox="0 0 14 14" aria-hidden="true" { rect width="14" height="14" fill=(format!("url(#p{})", colour_index(i, t))) {} } (s) }
                    }
                    @if let Some(l) = &label { li { svg.swatch viewBox="0 0 14 14" aria-hidden="true" { line x1="0" y1="7" x2="14" y2="7" class="baseline" {} } (l) " (baseline, per day)" } }
                }
            }
        }
        div.scroll.data {
            table {
                caption { "Daily cross-AZ cost by Service (the chart's data)" }
                thead { tr { th scope="col" { "Date" } @for s in &t.series { th.num scope="col" { (s) } } th.num scope="col" { "Total" } @if let Some(l) = &label { th.num scope="col" { (l) " (same day)" } } } }
                tbody {
                    @for (d, (date, values, total)) in t.days.iter().enumerate() {
                        tr {
                            th scope="row" { (date) }
                            @for v in values { td.num { (human_usd(*v)) } }
                            td.num { (human_usd(*total)) }
                            @if label.is_some() { td.num { @match t.baseline.get(d) { Some(b) => (human_usd(*b)), None => "—" } } }
                        }
                    }
                }
            }
        }
    }
}

/// A day's stacked segments: (series, value, top y, bottom y), zero values left out.
fn stack(values: &[Decimal], max: Decimal, top: f64, height: f64) -> Vec<(usize, Decimal, f64, f64)> {
    let mut acc = Decimal::ZERO;
    let mut out = Vec::new();
    for (i, v) in values.iter().enumerate().filter(|(_, v)| !v.is_zero()) {
        out.push((i, *v, y(acc + *v, max, top, height), y(acc, max, top, height)));
        acc += *v;
    }
    out
}

/// "other" keeps the grey colour whatever the number of series.
fn colour_index(i: usize, t: &Trend) -> usize {
    if t.series.get(i).is_some_and(|s| s == "other") { COLOURS.len() - 1 } else { i % (COLOURS.len() - 1) }
}

/// A pattern per series, so colour is never the only cue.
fn pattern_marks(i: usize) -> Markup {
    let stroke = "rgba(255,255,255,0.75)";
    html! {
        @match i {
            0 => {},
            1 => path d="M0,6 L6,0" stroke=(stroke) stroke-width="1.2" {},
            2 => circle cx="3" cy="3" r="1.3" fill=(stroke) {},
            3 => path d="M0,3 L6,3" stroke=(stroke) stroke-width="1.2" {},
            4 => path d="M0,0 L6,6 M6,0 L0,6" stroke=(stroke) stroke-width="1" {},
            _ => path d="M3,0 L3,6" stroke=(stroke) stroke-width="1.2" {},
        }
    }
}

fn chargeback(review: &Review) -> Markup {
    let cb = &review.chargeback;
    let max = cb.rows.iter().map(|r| r.cost_usd).max().unwrap_or_default();
    html! {
        section #chargeback aria-labelledby="h-chargeback" {
            h2 #h-chargeback { "Chargeback by " (cb.group_by) }
            div.scroll {
                table {
                    caption { "The period's cross-AZ cost allocated by " (cb.group_by) }
                    thead { tr { th scope="col" { (cb.group_by) } th.num scope="col" { "Cross-AZ" } td.barcell {} th.num scope="col" { "Cost" } th.num scope="col" { "Share" } th scope="col" { "Workloads and Services" } } }
                    tbody {
                        @for row in &cb.rows {
                            tr {
                                th scope="row" { (row.group) }
                                td.num { (human_bytes(row.cross_az_billed_bytes)) }
                                td.barcell aria-hidden="true" {
                                    span.bar style=(format!("width:{:.1}%", if max.is_zero() { 0.0 } else { (row.cost_usd / max).to_f64().unwrap_or(0.0) * 100.0 })) {}
                                }
                                td.num data-field="chargeback_usd" data-value=(row.cost_usd) { (human_usd(row.cost_usd)) }
                                td.num { (human_pct(row.share_pct)) }
                                td.members { (row.members.iter().take(8).cloned().collect::<Vec<_>>().join(", ")) @if row.members.len() > 8 { " and " (row.members.len() - 8) " more" } }
                            }
                        }
                    }
                    tfoot { tr { th scope="row" { "Total" } td.num { (human_bytes(cb.total_bytes)) } td {} td.num { (human_usd(cb.total_usd)) } td {} td {} } }
                }
            }
            p.note { "Rule: " (cb.rule) "." }
        }
    }
}

fn data_quality(r: &Report, review: &Review) -> Markup {
    let s = &r.measurement.summary;
    html! {
        section #quality aria-labelledby="h-quality" {
            h2 #h-quality { "Data quality" }
            div.scroll {
                table {
                    caption { "Every record read: counted, or skipped with its reason" }
                    thead { tr { th scope="col" { "Records" } th.num scope="col" { "Count" } th.num scope="col" { "Bytes" } th scope="col" { "Kind" } } }
                    tbody {
                        tr { th scope="row" { "read" } td.num data-field="records_read" data-value=(s.records.read) { (human_count(s.records.read)) } td {} td {} }
                        tr { th scope="row" { "counted" } td.num { (human_count(s.records.counted)) } td {} td {} }
                        @for u in &s.records.uncounted {
                            tr { th scope="row" { (u.reason) " " span.kind { (u.code) } } td.num { (human_count(u.records)) } td.num { (human_bytes(u.bytes)) } td { @if u.bad_input { strong { "bad input" } } @else { "left out by design" } } }
                        }
                    }
                }
            }
            p { "Unattributed: " strong { (human_pct(s.unattributed.share_of_cost_pct)) } " of the cross-AZ cost (" (human_usd(s.unattributed.cost_usd)) ")." }
            @if review.snapshot_gaps.is_empty() { p { "Kubernetes snapshots: " (r.measurement.inputs.k8s_snapshots) " read, no gaps found." } } @else {
                ul { @for g in &review.snapshot_gaps { li { "Kubernetes snapshot gap: " (g) } } }
            }
            @match &r.reconciliation {
                None => p { "Coverage against the bill: no billing data given (" code { "--billing" } ", or " code { "crossaz pull billing" } ")." },
                Some(rec) => {
                    div.scroll.data {
                        table {
                            caption { "Coverage against the bill, day by day" }
                            thead { tr { th scope="col" { "Date" } th.num scope="col" { "Billed out $" } th.num scope="col" { "Billed in $" } th.num scope="col" { "Explained $" } th.num scope="col" { "Coverage" } } }
                            tbody {
                                @for d in rec.days.iter().chain(std::iter::once(&rec.total)) {
                                    tr { th scope="row" { (d.date) } td.num { (human_usd(d.billed_out_usd)) } td.num { (human_usd(d.billed_in_usd)) } td.num { (human_usd(d.explained_usd)) } td.num { @match d.coverage_pct { Some(c) => (human_pct(c)), None => "—" } } }
                                }
                            }
                        }
                    }
                    @let gaps = rv::resource_gaps(rec);
                    @if !rec.by_resource.is_empty() {
                        @if gaps.is_empty() {
                            p { "The bill per resource (CUR/FOCUS): every billed resource is explained by its measured bytes." }
                        } @else {
                            div.scroll.data {
                                table {
                                    caption { "The bill per resource: where the gaps are (" code { "crossaz reconcile --by resource" } ")" }
                                    thead { tr { th scope="col" { "Resource" } th scope="col" { "Operation" } th.num scope="col" { "Billed $" } th.num scope="col" { "Coverage" } th scope="col" { "Likely cause" } } }
                                    tbody {
                                        @for g in &gaps {
                                            tr {
                                                th scope="row" { (crate::reconcile::by_resource::normalize_resource(&g.resource_id)) }
                                                td { (g.operation) }
                                                td.num data-field="resource_gap_usd" data-value=(g.billed_usd) { (human_usd(g.billed_usd)) }
                                                td.num { @match g.coverage_pct { Some(c) => (human_pct(c)), None => "—" } }
                                                td { (g.likely_cause.clone().unwrap_or_default()) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !review.notes.is_empty() || !s.notes.is_empty() {
                ul.notes { @for n in review.notes.iter().chain(&s.notes) { li { (n) } } }
            }
        }
    }
}

fn assumptions(r: &Report, review: &Review) -> Markup {
    html! {
        section #assumptions aria-labelledby="h-assumptions" {
            h2 #h-assumptions { "Assumptions" }
            ul { @for a in rv::assumptions(r) { li { (a) } } }
            p { "Made by " (r.tool) " (report schema " (r.schema_version) ") with:" }
            pre { code data-field="command" { (review.command) } }
        }
    }
}
