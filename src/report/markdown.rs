//! `summary.md`: the review as GitHub-flavoured Markdown, for a pull request, a ticket or a chat.
//! Same sections and figures as the HTML page; names from inputs are escaped.

use super::Report;
use super::render::{human_bytes, human_count, human_pct, human_usd};
use super::review_view::{self as rv, Matrix};
use crate::review::Review;
use std::fmt::Write;

/// Escapes text for Markdown (inline and table cells): no markup, HTML or table breaks survive.
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(ch);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Points at the CSV file that holds the rows past the first `rv::TOP`.
fn more(o: &mut String, n: usize, file: &str) {
    if n > rv::TOP {
        let _ = writeln!(o, "\n{} more in `csv/{file}`.", n - rv::TOP);
    }
}

/// A command as inline code when it can be one, else as escaped text.
/// A command as a code span; a change written as prose with `backticked` parts keeps those parts
/// as code spans (escaped as text when they hold `<`, `>` or `&`: names may be hostile).
fn code(s: &str) -> String {
    if s.contains('\n') {
        return md(s);
    }
    if !s.contains('`') {
        return format!("`{}`", s.replace('|', "\\|"));
    }
    s.split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 && !part.is_empty() && !part.contains(['<', '>', '&']) { format!("`{}`", part.replace('|', "\\|")) } else { md(part) })
        .collect()
}

pub fn render(r: &Report, review: &Review) -> String {
    let mut o = String::new();
    headline(&mut o, review);
    what_to_do(&mut o, review);
    what_changed(&mut o, review);
    where_it_goes(&mut o, r);
    chargeback(&mut o, review);
    data_quality(&mut o, r, review);
    assumptions(&mut o, r, review);
    o
}

/// The title and the headline figures.
fn headline(o: &mut String, review: &Review) {
    let h = &review.headline;
    let _ = writeln!(o, "# Cross-AZ data transfer review — {}\n", md(&review.period));
    let _ = writeln!(o, "| | |\n|---|---|");
    let _ = writeln!(
        o,
        "| **Cross-AZ cost** | **{}**{} |",
        human_usd(h.cross_az_cost_usd),
        rv::change_suffix(review).map(|c| format!(" ({})", md(&c))).unwrap_or_default()
    );
    let _ = writeln!(o, "| Cross-AZ bytes | {} |", human_bytes(h.cross_az_billed_bytes));
    let _ = writeln!(
        o,
        "| Bill explained | {} |",
        h.bill_explained_pct.map(|p| format!("{} of the inter-AZ line", human_pct(p))).unwrap_or_else(|| "no billing data given".into())
    );
    let _ = writeln!(o, "| Savings available | {} per month, from {} actions |", human_usd(h.savings_monthly_usd), review.actions.len());
    if let Some(t) = &review.threshold {
        let _ = writeln!(o, "| Threshold | increase over {}: {} |", md(&rv::limit_text(&t.limit)), if t.exceeded { "**exceeded**" } else { "not exceeded" });
    }
    o.push('\n');
}

/// The ranked actions, with their evidence.
fn what_to_do(o: &mut String, review: &Review) {
    let _ = writeln!(o, "## What to do\n");
    if review.actions.is_empty() {
        let _ = writeln!(o, "No what-if found a saving (topology-aware routing needs `--k8s`; the RDS what-if needs RDS in `--network`).\n");
    } else {
        let _ = writeln!(o, "| # | Action | Target | Saves / month | Risk | Change |\n|---:|---|---|---:|---|---|");
        for a in review.actions.iter().take(rv::TOP) {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                a.rank,
                rv::action_title(&a.kind),
                md(&a.target),
                human_usd(a.monthly_savings_usd),
                md(&a.risk),
                code(&a.change)
            );
        }
        o.push('\n');
        for a in review.actions.iter().take(rv::TOP) {
            let _ = writeln!(o, "{}. **{}**: {}", a.rank, md(&a.target), md(&a.evidence));
        }
        more(o, review.actions.len(), "actions.csv");
        o.push('\n');
    }
}

/// The period against its baseline.
fn what_changed(o: &mut String, review: &Review) {
    let _ = writeln!(o, "## What changed\n");
    match &review.baseline {
        None => {
            let _ = writeln!(o, "No baseline: nothing is compared. Pass `--baseline YYYY-MM` or `--baseline-report FILE`.\n");
        }
        Some(b) => {
            let _ = writeln!(o, "Against **{}** ({}; {}).\n", md(&b.label), human_usd(b.cross_az_cost_usd), md(&b.source));
            let moved: Vec<_> = review.changes.iter().filter(|c| c.status != "unchanged").collect();
            if moved.is_empty() {
                let _ = writeln!(o, "Nothing changed.\n");
            } else {
                let _ = writeln!(o, "| | Dimension | Name | {} | This period | Change |\n|---|---|---|---:|---:|---:|", md(&b.label));
                for c in moved.iter().take(rv::TOP) {
                    let _ = writeln!(
                        o,
                        "| {} | {} | {} | {} | {} | {} |",
                        c.status,
                        c.dimension,
                        md(&rv::change_name(c)),
                        human_usd(c.baseline_usd),
                        human_usd(c.current_usd),
                        rv::signed_usd(c.change_usd)
                    );
                }
                more(o, moved.len(), "changes.csv");
                o.push('\n');
            }
        }
    }
}

/// The AZ-to-AZ matrix and the top Services, workloads and namespaces.
fn where_it_goes(o: &mut String, r: &Report) {
    let _ = writeln!(o, "## Where it goes\n");
    let m = Matrix::of(r);
    if !m.zones.is_empty() {
        let _ = writeln!(o, "Billed cross-AZ cost from each AZ (rows) to each AZ (columns):\n");
        let _ = write!(o, "| From \\\\ To |");
        for z in &m.zones {
            let _ = write!(o, " {} |", md(z));
        }
        let _ = write!(o, "\n|---|");
        for _ in &m.zones {
            o.push_str("---:|");
        }
        o.push('\n');
        for (i, z) in m.zones.iter().enumerate() {
            let _ = write!(o, "| {} |", md(z));
            for j in 0..m.zones.len() {
                let _ = write!(o, " {} |", if i == j { "same AZ".to_string() } else { human_usd(m.cost[i][j]) });
            }
            o.push('\n');
        }
        o.push('\n');
    }
    for (title, rows) in rv::top_tables(r) {
        let _ = writeln!(o, "**{title}**\n");
        let _ = writeln!(o, "| Name | Cross-AZ | Cost | Share |\n|---|---:|---:|---:|");
        for row in rows.iter().take(5) {
            let _ = writeln!(o, "| {} | {} | {} | {} |", md(&row.name), human_bytes(row.bytes), human_usd(row.cost), human_pct(row.share));
        }
        o.push('\n');
    }
}

fn chargeback(o: &mut String, review: &Review) {
    let cb = &review.chargeback;
    let _ = writeln!(o, "## Chargeback by {}\n", md(&cb.group_by));
    let _ = writeln!(o, "| {} | Cross-AZ | Cost | Share |\n|---|---:|---:|---:|", md(&cb.group_by));
    for row in &cb.rows {
        let _ = writeln!(o, "| {} | {} | {} | {} |", md(&row.group), human_bytes(row.cross_az_billed_bytes), human_usd(row.cost_usd), human_pct(row.share_pct));
    }
    let _ = writeln!(o, "| **Total** | {} | {} | |\n", human_bytes(cb.total_bytes), human_usd(cb.total_usd));
    let _ = writeln!(o, "Rule: {}.\n", md(&cb.rule));
}

/// What was read and left out, snapshot gaps, and how much of the bill the flow logs explain.
fn data_quality(o: &mut String, r: &Report, review: &Review) {
    let _ = writeln!(o, "## Data quality\n");
    let s = &r.measurement.summary;
    let _ = writeln!(o, "- Records: {} read, {} counted", human_count(s.records.read), human_count(s.records.counted));
    for u in &s.records.uncounted {
        let _ = writeln!(o, "  - {} {} ({}){}", human_count(u.records), md(&u.reason), u.code, if u.bad_input { " — **bad input**" } else { "" });
    }
    let _ = writeln!(o, "- Unattributed: {} of the cross-AZ cost ({})", human_pct(s.unattributed.share_of_cost_pct), human_usd(s.unattributed.cost_usd));
    if review.snapshot_gaps.is_empty() {
        let _ = writeln!(o, "- Kubernetes snapshots: {} read, no gaps found", r.measurement.inputs.k8s_snapshots);
    } else {
        for g in &review.snapshot_gaps {
            let _ = writeln!(o, "- Kubernetes snapshot gap: {}", md(g));
        }
    }
    match &r.reconciliation {
        Some(rec) => {
            let (lo, hi) = rv::coverage_range(rec);
            let _ = writeln!(
                o,
                "- Coverage against the bill: {} overall; by day {} to {}",
                rec.total.coverage_pct.map(human_pct).unwrap_or_else(|| "n/a".into()),
                lo,
                hi
            );
            let gaps = rv::resource_gaps(rec);
            if !rec.by_resource.is_empty() {
                let usd: rust_decimal::Decimal = gaps.iter().map(|g| g.billed_usd).sum();
                let _ = writeln!(
                    o,
                    "- The bill per resource: {} of {} billed resource lines have a gap ({} billed on them)",
                    gaps.len(),
                    rec.by_resource.len(),
                    human_usd(usd)
                );
                for g in gaps.iter().take(3) {
                    let _ = writeln!(
                        o,
                        "  - `{}` {}: {} billed, {} explained — {}",
                        crate::reconcile::by_resource::normalize_resource(&g.resource_id),
                        g.operation,
                        human_usd(g.billed_usd),
                        g.coverage_pct.map(human_pct).unwrap_or_else(|| "n/a".into()),
                        md(g.likely_cause.as_deref().unwrap_or(""))
                    );
                }
            }
        }
        None => {
            let _ = writeln!(o, "- Coverage against the bill: no billing data given (`--billing`, or `crossaz pull billing`)");
        }
    }
    for n in &review.notes {
        let _ = writeln!(o, "- Note: {}", md(n));
    }
    o.push('\n');
}

fn assumptions(o: &mut String, r: &Report, review: &Review) {
    let _ = writeln!(o, "## Assumptions\n");
    for line in rv::assumptions(r) {
        let _ = writeln!(o, "- {}", md(&line));
    }
    let _ = writeln!(o, "- Made by {} with `{}`", md(&r.tool), review.command.replace('`', "'"));
}

#[cfg(test)]
mod tests {
    use super::md;

    #[test]
    fn names_cannot_make_markup() {
        assert_eq!(md("a|b`c`"), "a\\|b\\`c\\`");
        assert_eq!(md("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(md("[x](http://e) *y* _z_"), "\\[x\\](http://e) \\*y\\* \\_z\\_");
        assert_eq!(md("line\nbreak"), "line break");
    }
}
