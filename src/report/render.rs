//! Renders a Report (through a `--by` view) as a terminal table, CSV, JSON or Parquet.

use super::Report;
use super::views::{By, Cell, ColType, Table, view};
use crate::error::Error;
use crate::human::group_digits;
pub use crate::human::{human_bytes, human_count, human_pct, human_usd};
use crate::pricing::round_usd;
use comfy_table::{CellAlignment, ContentArrangement, LineStyle, Table as Comfy, TableStyle};
use rust_decimal::Decimal;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
    Parquet,
    // FOCUS 1.2 allocation rows (`crossaz attribute`; docs/billing.md).
    Focus,
}

pub fn render(report: &Report, by: By, format: Format) -> Result<Vec<u8>, Error> {
    let table = view(report, by);
    match format {
        Format::Table => Ok(terminal(report, &table).into_bytes()),
        Format::Csv => csv(&table),
        Format::Json => json(report, &table),
        Format::Parquet => parquet(&table),
        Format::Focus => super::focus::render(report),
    }
}

fn cell_text(c: &Cell, ty: ColType) -> String {
    match (c, ty) {
        (Cell::Text(t), _) if t.is_empty() => "-".into(),
        (Cell::Text(t), _) => t.clone(),
        (Cell::U64(v), ColType::Bytes) => human_bytes(*v),
        (Cell::U64(v), _) => human_count(*v),
        (Cell::Dec(d), ColType::Usd) => human_usd(*d),
        (Cell::Dec(d), ColType::Pct) => human_pct(*d),
        (Cell::Dec(d), _) => d.to_string(),
    }
}

fn terminal(report: &Report, t: &Table) -> String {
    let mut table = Comfy::new();
    let line = LineStyle::new('─', '─', '─', '─');
    table.load_style(TableStyle::new().top_border(line).header_separator(line).bottom_border(line)).set_content_arrangement(ContentArrangement::Disabled);
    table.set_header(t.columns.iter().map(|c| c.title));
    for row in &t.rows {
        table.add_row(row.iter().zip(&t.columns).map(|(c, col)| cell_text(c, col.ty)));
    }
    let mut totals: Vec<String> = Vec::new();
    for (i, col) in t.columns.iter().enumerate() {
        let s = match col.ty {
            ColType::Bytes => human_bytes(t.rows.iter().map(|r| if let Cell::U64(v) = r[i] { v } else { 0 }).sum()),
            ColType::Usd => human_usd(t.rows.iter().map(|r| if let Cell::Dec(d) = r[i] { d } else { Decimal::ZERO }).sum()),
            _ => String::new(),
        };
        totals.push(s);
    }
    if let Some(first) = totals.first_mut() {
        *first = format!("Total ({} rows)", t.rows.len());
    }
    table.add_row(totals);
    for (i, col) in t.columns.iter().enumerate() {
        if col.ty != ColType::Text
            && let Some(c) = table.column_mut(i)
        {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = format!("Cross-AZ data transfer by {}\n{table}\n\n", t.by.as_str());
    out.push_str(&summary_text(report));
    out
}

/// The summary block printed under tables and on stderr for machine formats.
pub fn summary_text(r: &Report) -> String {
    let s = &r.measurement.summary;
    let mut out = String::new();
    let w = &r.measurement.window;
    let span = match (&w.first_record, &w.last_record) {
        (Some(a), Some(b)) => format!("{a} → {b}"),
        _ => "no records".into(),
    };
    out.push_str(&format!("Window        {span}{}\n", w.hours.map(|h| format!(" ({h} h)")).unwrap_or_default()));
    if let Some(q) = &r.measurement.inputs.athena {
        out.push_str(&format!(
            "Athena        query {} in {}: {} scanned, {} at {}/TB; {} result rows from {}\n",
            q.query_id,
            q.workgroup,
            human_bytes(q.data_scanned_bytes),
            human_usd_rate(q.cost_usd.round_dp(6)),
            human_usd_rate(q.usd_per_tb),
            human_count(q.result_rows),
            q.fetched_from
        ));
    }
    out.push_str(&format!("Records       {} read, {} counted", human_count(s.records.read), human_count(s.records.counted)));
    for u in &s.records.uncounted {
        out.push_str(&format!(", {} {}", human_count(u.records), u.reason));
    }
    out.push('\n');
    let b = &s.bytes;
    out.push_str(&format!(
        "Bytes         cross-AZ billed {} · cross-AZ free {} · same-AZ {} · internet/other {} · unknown AZ {}\n",
        human_bytes(b.cross_az_billed),
        human_bytes(b.cross_az_free),
        human_bytes(b.same_az),
        human_bytes(b.internet_other),
        human_bytes(b.unknown_az)
    ));
    out.push_str(&format!(
        "Cost          {} cross-AZ ({} out + {} in per GB of 2^30 bytes)\n",
        human_usd(s.cross_az_cost_usd),
        human_usd_rate(r.measurement.pricing.out_per_gb_usd),
        human_usd_rate(r.measurement.pricing.in_per_gb_usd)
    ));
    if !s.free_by_reason.is_empty() {
        let parts: Vec<String> = s.free_by_reason.iter().map(|f| format!("{} {}", human_bytes(f.bytes), f.reason)).collect();
        out.push_str(&format!("Free paths    {} (not billed by AWS: docs/pricing.md)\n", parts.join(" · ")));
    }
    for o in &s.other_vpcs {
        out.push_str(&format!(
            "Other VPCs    {} records of {} ({}; not in the network inventory): not analysed\n",
            human_count(o.records),
            o.vpc,
            human_bytes(o.bytes)
        ));
    }
    for o in &s.flow_log_overlaps {
        out.push_str(&format!(
            "Overlap       {} records of {} ({}) also recorded by {}: counted once, from the richer log\n",
            human_count(o.records),
            o.flow_log,
            human_bytes(o.bytes),
            o.covered_by.join(", ")
        ));
    }
    let u = &s.unattributed;
    out.push_str(&format!(
        "Unattributed  {} ({} cross-AZ, {}, {}% of cost)\n",
        human_bytes(u.bytes),
        human_bytes(u.cross_az_billed_bytes),
        human_usd(u.cost_usd),
        u.share_of_cost_pct
    ));
    for reason in &u.reasons {
        out.push_str(&format!("  {} {} — {}\n", human_bytes(reason.bytes), reason.class, reason.reason));
    }
    for x in s.records.uncounted.iter().filter(|u| u.bad_input) {
        for e in &x.examples {
            out.push_str(&format!("  skipped ({}) {e}\n", x.reason));
        }
    }
    if let Some(rec) = &r.reconciliation {
        out.push_str(&reconciliation_summary(rec));
    }
    if let Some(a) = &r.allocation {
        out.push_str(&allocation_summary(a));
    }
    for a in &s.assumptions {
        out.push_str(&format!("Assumption    {a}\n"));
    }
    for n in &s.notes {
        out.push_str(&format!("Note          {n}\n"));
    }
    out
}

/// The allocation line of the summary (`--allocate-bill`).
pub fn allocation_summary(a: &crate::allocate::Allocation) -> String {
    if a.basis == "list-price" {
        return format!("Allocation    {} at list price over {} rows (no CUR or FOCUS export given)\n", human_usd(a.allocated_usd), a.rows.len());
    }
    format!(
        "Allocation    {} billed inter-AZ split over {} rows by measured bytes; {} on resources or days with no measured bytes stays `{}`\n",
        human_usd(a.billed_usd),
        a.rows.len(),
        human_usd(a.unallocated_usd),
        super::views::UNALLOCATED
    )
}

fn gb(d: Decimal) -> String {
    format!("{} GB", group_decimal(d.round_dp(1)))
}

fn group_decimal(d: Decimal) -> String {
    let s = format!("{:.1}", d.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "0"));
    format!("{}{}.{frac}", if d.is_sign_negative() && !d.is_zero() { "-" } else { "" }, group_digits(int))
}

/// The bill lines of the summary.
pub fn reconciliation_summary(rec: &crate::reconcile::Reconciliation) -> String {
    let t = &rec.total;
    let mut out = format!(
        "Bill          inter-AZ billed {} out ({}) + {} in ({}); the flow logs explain {} ({}) — coverage {}\n",
        gb(t.billed_out_gb),
        human_usd(t.billed_out_usd),
        gb(t.billed_in_gb),
        human_usd(t.billed_in_usd),
        gb(t.explained_gb),
        human_usd(t.explained_usd),
        t.coverage_pct.map(|c| format!("{c}%")).unwrap_or_else(|| "n/a".into())
    );
    out.push_str(&format!("              unexplained {} ({})\n", gb(rec.unexplained_gb), human_usd(rec.unexplained_usd)));
    for r in &rec.likely_reasons {
        out.push_str(&format!("              likely: {r}\n"));
    }
    for n in &rec.notes {
        out.push_str(&format!("              note: {n}\n"));
    }
    out
}

/// The reconciliation as its own table (`crossaz reconcile`).
pub fn reconciliation(report: &Report, format: Format) -> Result<Vec<u8>, Error> {
    let Some(rec) = &report.reconciliation else {
        return Err(Error::usage("no billing data to reconcile with")
            .hint("run `crossaz pull billing --from … --to …`, or pass `--billing` with the JSON of `aws ce get-cost-and-usage`"));
    };
    let rows: Vec<&crate::reconcile::ReconciledDay> = rec.days.iter().chain(std::iter::once(&rec.total)).collect();
    match format {
        Format::Json => {
            let mut out = serde_json::to_vec_pretty(rec).map_err(|e| Error::failure("failed to write JSON").caused_by(e))?;
            out.push(b'\n');
            Ok(out)
        }
        Format::Csv => {
            let mut w = ::csv::Writer::from_writer(Vec::new());
            let fail = |e: ::csv::Error| Error::failure("failed to write CSV").caused_by(e);
            w.write_record([
                "date",
                "billed_out_gb",
                "billed_out_usd",
                "billed_in_gb",
                "billed_in_usd",
                "explained_bytes",
                "explained_gb",
                "explained_usd",
                "coverage_pct",
            ])
            .map_err(fail)?;
            for d in rows {
                w.write_record([
                    d.date.clone(),
                    d.billed_out_gb.to_string(),
                    d.billed_out_usd.to_string(),
                    d.billed_in_gb.to_string(),
                    d.billed_in_usd.to_string(),
                    d.explained_bytes.to_string(),
                    d.explained_gb.to_string(),
                    d.explained_usd.to_string(),
                    d.coverage_pct.map(|c| c.to_string()).unwrap_or_default(),
                ])
                .map_err(fail)?;
            }
            w.into_inner().map_err(|e| Error::failure("failed to write CSV").caused_by(e.error()))
        }
        Format::Parquet | Format::Focus => Err(Error::usage("`crossaz reconcile` writes table, CSV or JSON")),
        Format::Table => {
            let mut table = Comfy::new();
            let line = LineStyle::new('─', '─', '─', '─');
            table
                .load_style(TableStyle::new().top_border(line).header_separator(line).bottom_border(line))
                .set_content_arrangement(ContentArrangement::Disabled);
            table.set_header(["Date", "Billed out", "Out $", "Billed in", "In $", "Explained", "Explained $", "Coverage"]);
            for d in rows {
                table.add_row([
                    d.date.clone(),
                    gb(d.billed_out_gb),
                    human_usd(d.billed_out_usd),
                    gb(d.billed_in_gb),
                    human_usd(d.billed_in_usd),
                    gb(d.explained_gb),
                    human_usd(d.explained_usd),
                    d.coverage_pct.map(human_pct).unwrap_or_else(|| "-".into()),
                ]);
            }
            for i in 1..8 {
                if let Some(c) = table.column_mut(i) {
                    c.set_cell_alignment(CellAlignment::Right);
                }
            }
            let mut out = format!("Inter-AZ transfer: the bill (InterZone-Out, InterZone-In) against the flow logs\n{table}\n\n");
            if let (Some(o), Some(i)) = (rec.effective_out_per_gb_usd, rec.effective_in_per_gb_usd) {
                out.push_str(&format!("Effective rate of the bill: ${} out + ${} in per GB\n", o.normalize(), i.normalize()));
            }
            out.push_str(&reconciliation_summary(rec));
            out.push_str(&format!("Billing data: {}\n", rec.sources.join(", ")));
            Ok(out.into_bytes())
        }
    }
}

fn human_usd_rate(d: Decimal) -> String {
    format!("${}", d.normalize())
}

fn csv(t: &Table) -> Result<Vec<u8>, Error> {
    csv_rows(&t.columns.iter().map(|c| c.name).collect::<Vec<_>>(), &t.rows)
}

/// Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return
/// first) gets a leading `'`, as OWASP recommends; numbers are written as they are.
pub fn csv_text(s: &str) -> std::borrow::Cow<'_, str> {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{s}").into(),
        _ => s.into(),
    }
}

/// CSV with a header row; text cells are neutralised for spreadsheets (`csv_text`).
pub fn csv_rows(header: &[&str], rows: &[Vec<Cell>]) -> Result<Vec<u8>, Error> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let fail = |e: ::csv::Error| Error::failure("failed to write CSV").caused_by(e);
    w.write_record(header).map_err(fail)?;
    for row in rows {
        w.write_record(row.iter().map(|c| match c {
            Cell::Text(s) => csv_text(s).into_owned(),
            Cell::U64(v) => v.to_string(),
            Cell::Dec(d) => d.to_string(),
        }))
        .map_err(fail)?;
    }
    w.into_inner().map_err(|e| Error::failure("failed to write CSV").caused_by(e.error()))
}

fn json(report: &Report, t: &Table) -> Result<Vec<u8>, Error> {
    let mut value = serde_json::to_value(report).map_err(|e| Error::failure("failed to write JSON").caused_by(e))?;
    let rows: Vec<serde_json::Value> = t
        .rows
        .iter()
        .map(|row| {
            let mut m = serde_json::Map::new();
            for (c, col) in row.iter().zip(&t.columns) {
                let v = match c {
                    Cell::Text(s) => serde_json::Value::String(s.clone()),
                    Cell::U64(v) => serde_json::Value::from(*v),
                    Cell::Dec(d) => serde_json::Value::String(d.to_string()),
                };
                m.insert(col.name.to_string(), v);
            }
            serde_json::Value::Object(m)
        })
        .collect();
    if let Some(obj) = value.as_object_mut() {
        obj.insert("view".into(), serde_json::json!({ "by": t.by.as_str(), "rows": rows }));
    }
    let mut out = serde_json::to_vec_pretty(&value).map_err(|e| Error::failure("failed to write JSON").caused_by(e))?;
    out.push(b'\n');
    Ok(out)
}

fn parquet(t: &Table) -> Result<Vec<u8>, Error> {
    use arrow_array::{ArrayRef, Decimal128Array, RecordBatch, StringArray, UInt64Array};
    use arrow_schema::{DataType, Field, Schema};
    let fail = |e: &dyn std::fmt::Display| Error::failure("failed to write Parquet").caused_by(e);
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (i, col) in t.columns.iter().enumerate() {
        let (dt, arr): (DataType, ArrayRef) = match col.ty {
            ColType::Text => {
                let v: Vec<String> = t.rows.iter().map(|r| if let Cell::Text(s) = &r[i] { s.clone() } else { String::new() }).collect();
                (DataType::Utf8, Arc::new(StringArray::from(v)))
            }
            ColType::Bytes | ColType::Count => {
                let v: Vec<u64> = t.rows.iter().map(|r| if let Cell::U64(x) = r[i] { x } else { 0 }).collect();
                (DataType::UInt64, Arc::new(UInt64Array::from(v)))
            }
            ColType::Usd | ColType::Pct => {
                let scale: u32 = if col.ty == ColType::Usd { 6 } else { 2 };
                let v: Vec<i128> = t
                    .rows
                    .iter()
                    .map(|r| {
                        let d = if let Cell::Dec(d) = r[i] { d } else { Decimal::ZERO };
                        let mut d = if col.ty == ColType::Usd { round_usd(d) } else { d.round_dp(2) };
                        d.rescale(scale);
                        d.mantissa()
                    })
                    .collect();
                let arr = Decimal128Array::from(v).with_precision_and_scale(38, scale as i8).map_err(|e| fail(&e))?;
                (DataType::Decimal128(38, scale as i8), Arc::new(arr))
            }
        };
        fields.push(Field::new(col.name, dt, false));
        arrays.push(arr);
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| fail(&e))?;
    let mut out = Vec::new();
    let props = parquet::file::properties::WriterProperties::builder().set_compression(parquet::basic::Compression::SNAPPY).build();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).map_err(|e| fail(&e))?;
    w.write(&batch).map_err(|e| fail(&e))?;
    w.close().map_err(|e| fail(&e))?;
    Ok(out)
}

/// `crossaz reconcile --by resource` (or `resource-day`): the bill per resource against the flow logs.
pub fn reconciliation_by_resource(report: &Report, per_day: bool, format: Format) -> Result<Vec<u8>, Error> {
    let rows = match &report.reconciliation {
        Some(rec) if per_day => &rec.by_resource_day,
        Some(rec) => &rec.by_resource,
        None => {
            return Err(Error::usage("no billing export to reconcile with")
                .hint("pass `--cur` with a CUR 2.0 or FOCUS export, or `crossaz pull billing --source cur` into the workspace"));
        }
    };
    let opt = |d: Option<Decimal>| d.map(|d| d.normalize().to_string()).unwrap_or_default();
    match format {
        Format::Json => {
            let mut out = serde_json::to_vec_pretty(rows).map_err(|e| Error::failure("failed to write JSON").caused_by(e))?;
            out.push(b'\n');
            Ok(out)
        }
        Format::Csv => {
            let mut w = ::csv::Writer::from_writer(Vec::new());
            let fail = |e: ::csv::Error| Error::failure("failed to write CSV").caused_by(e);
            let mut header = vec![
                "resource_id",
                "operation",
                "billed_gb",
                "billed_usd",
                "measured_gb",
                "coverage",
                "resource_kind",
                "effective_usd",
                "measured_bytes",
                "unexplained_gb",
                "likely_cause",
                "tags",
            ];
            if per_day {
                header.insert(0, "date");
            }
            w.write_record(&header).map_err(fail)?;
            for r in rows {
                let mut rec = vec![
                    r.resource_id.clone(),
                    r.operation.clone(),
                    r.billed_gb.normalize().to_string(),
                    r.billed_usd.normalize().to_string(),
                    r.measured_gb.normalize().to_string(),
                    opt(r.coverage_pct),
                    r.resource_kind.clone(),
                    opt(r.effective_usd),
                    r.measured_bytes.to_string(),
                    r.unexplained_gb.normalize().to_string(),
                    r.likely_cause.clone().unwrap_or_default(),
                    if r.tags.is_empty() { String::new() } else { serde_json::to_string(&r.tags).unwrap_or_default() },
                ];
                if per_day {
                    rec.insert(0, r.date.clone().unwrap_or_default());
                }
                w.write_record(&rec).map_err(fail)?;
            }
            w.into_inner().map_err(|e| Error::failure("failed to write CSV").caused_by(e.error()))
        }
        Format::Parquet | Format::Focus => Err(Error::usage("`crossaz reconcile` writes table, CSV or JSON")),
        Format::Table => Ok(resource_table(rows, per_day).into_bytes()),
    }
}

/// The per-resource reconciliation as a terminal table, with its totals.
pub fn resource_table(rows: &[crate::reconcile::by_resource::ResourceReconciled], per_day: bool) -> String {
    let mut table = Comfy::new();
    let line = LineStyle::new('─', '─', '─', '─');
    table.load_style(TableStyle::new().top_border(line).header_separator(line).bottom_border(line)).set_content_arrangement(ContentArrangement::Disabled);
    let mut header = vec!["Resource", "Kind", "Operation", "Billed", "Billed $", "Measured", "Coverage", "Likely cause"];
    if per_day {
        header.insert(0, "Date");
    }
    table.set_header(header);
    for r in rows {
        let mut row = vec![
            crate::reconcile::by_resource::normalize_resource(&r.resource_id),
            r.resource_kind.clone(),
            r.operation.clone(),
            gb(r.billed_gb),
            human_usd(r.billed_usd),
            gb(r.measured_gb),
            r.coverage_pct.map(human_pct).unwrap_or_else(|| "-".into()),
            r.likely_cause.clone().unwrap_or_default(),
        ];
        if per_day {
            row.insert(0, r.date.clone().unwrap_or_default());
        }
        table.add_row(row);
    }
    let first = usize::from(per_day);
    for i in first + 3..first + 7 {
        if let Some(c) = table.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let billed: Decimal = rows.iter().map(|r| r.billed_gb).sum();
    let billed_usd: Decimal = rows.iter().map(|r| r.billed_usd).sum();
    let measured: Decimal = rows.iter().filter(|r| !r.billed_gb.is_zero()).map(|r| r.measured_gb).sum();
    let unexplained: Decimal = rows.iter().filter(|r| r.unexplained_gb > Decimal::ZERO).map(|r| r.unexplained_gb).sum();
    format!(
        "Inter-AZ transfer per resource: the bill (CUR/FOCUS) against the bytes measured on each resource's interfaces\n{table}\n\nThese rows: billed {} ({}) in and out; measured on billed resources {}; unexplained {} on {} rows\n",
        gb(billed),
        human_usd(billed_usd),
        gb(measured),
        gb(unexplained),
        rows.iter().filter(|r| r.likely_cause.is_some()).count()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn human_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.50 KiB");
        assert_eq!(human_bytes(1 << 30), "1.00 GiB");
        assert_eq!(human_usd(Decimal::from_str("1234.565").unwrap()), "$1,234.56");
        assert_eq!(human_usd(Decimal::from_str("0.004").unwrap()), "$0.00");
        assert_eq!(human_count(1234567), "1,234,567");
        assert_eq!(human_pct(Decimal::from_str("95.69").unwrap()), "95.7%");
        assert_eq!(human_pct(Decimal::from_str("0.05").unwrap()), "0.0%");
        for (cell, safe) in [("=1+2", "'=1+2"), ("+x", "'+x"), ("-x", "'-x"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("shop", "shop")] {
            assert_eq!(csv_text(cell), safe);
        }
    }
}
