//! The bill line by line: CUR 2.0 (Data Exports, Parquet), legacy CUR (CSV, gzip) and FOCUS 1.0 /
//! 1.2 (CSV or Parquet) read with polars' lazy, streaming engine — only the columns and the
//! regional data-transfer rows are decoded — then classified and summed per day, resource and
//! direction as exact decimals.

use crate::error::InputProblem;
use crate::model::billing::{ResourceCharge, TransferKind, classify};
use polars::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// Data Exports `CUR2.0`: snake_case columns.
    Cur2,
    /// The legacy Cost and Usage Report: `lineItem/UsageType`, …
    LegacyCur,
    /// `FOCUS_1_0_AWS` (usage type in `x_UsageType`, when the export has it).
    Focus10,
    /// `FOCUS_1_2_AWS` (usage type in `SkuMeter`).
    Focus12,
}

impl ExportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::Cur2 => "CUR 2.0",
            ExportKind::LegacyCur => "legacy CUR",
            ExportKind::Focus10 => "FOCUS 1.0",
            ExportKind::Focus12 => "FOCUS 1.2",
        }
    }
}

/// The columns of one export kind: required ones first.
struct Columns {
    amount: &'static str,
    cost: &'static str,
    start: &'static str,
    usage_type: Option<&'static str>,
    operation: Option<&'static str>,
    resource: Option<&'static str>,
    effective: Option<&'static str>,
    account: Option<&'static str>,
    region: &'static [&'static str],
    /// FOCUS 1.0 exports without `x_UsageType`: the charge's description names the transfer.
    description: Option<&'static str>,
    /// FOCUS: only `Usage` charges.
    category: Option<&'static str>,
    /// CUR: the line item type (`Usage`, `DiscountedUsage`, … or `EdpDiscount`, `Credit`, `Tax`, …).
    line_type: Option<&'static str>,
    /// The resource's tags: a map (CUR 2.0 Parquet), JSON text (FOCUS `Tags`, CUR 2.0 CSV); the
    /// legacy CUR has one `resourceTags/<key>` column per key instead.
    tags: Option<&'static str>,
}

fn columns(kind: ExportKind) -> Columns {
    match kind {
        ExportKind::Cur2 => Columns {
            amount: "line_item_usage_amount",
            cost: "line_item_unblended_cost",
            start: "line_item_usage_start_date",
            usage_type: Some("line_item_usage_type"),
            operation: Some("line_item_operation"),
            resource: Some("line_item_resource_id"),
            effective: Some("line_item_net_unblended_cost"),
            account: Some("line_item_usage_account_id"),
            region: &["product_region_code"],
            description: None,
            category: None,
            line_type: Some("line_item_line_item_type"),
            tags: Some("resource_tags"),
        },
        ExportKind::LegacyCur => Columns {
            amount: "lineItem/UsageAmount",
            cost: "lineItem/UnblendedCost",
            start: "lineItem/UsageStartDate",
            usage_type: Some("lineItem/UsageType"),
            operation: Some("lineItem/Operation"),
            resource: Some("lineItem/ResourceId"),
            effective: Some("lineItem/NetUnblendedCost"),
            account: Some("lineItem/UsageAccountId"),
            region: &["product/regionCode", "product/region"],
            description: None,
            category: None,
            line_type: Some("lineItem/LineItemType"),
            tags: None,
        },
        ExportKind::Focus10 | ExportKind::Focus12 => Columns {
            amount: "ConsumedQuantity",
            cost: "BilledCost",
            start: "ChargePeriodStart",
            usage_type: Some(if kind == ExportKind::Focus12 { "SkuMeter" } else { "x_UsageType" }),
            operation: Some("x_Operation"),
            resource: Some("ResourceId"),
            effective: Some("EffectiveCost"),
            account: Some("SubAccountId"),
            region: &["RegionId"],
            description: Some("ChargeDescription"),
            category: Some("ChargeCategory"),
            line_type: None,
            tags: Some("Tags"),
        },
    }
}

/// Which export a file's columns make.
pub fn detect(names: &[String]) -> Option<ExportKind> {
    let has = |n: &str| names.iter().any(|c| c == n);
    if has("line_item_usage_type") {
        Some(ExportKind::Cur2)
    } else if has("lineItem/UsageType") {
        Some(ExportKind::LegacyCur)
    } else if has("ChargePeriodStart") && has("SkuMeter") {
        Some(ExportKind::Focus12)
    } else if has("ChargePeriodStart") {
        Some(ExportKind::Focus10)
    } else {
        None
    }
}

/// What one export file held.
#[derive(Debug)]
pub struct ExportRead {
    pub kind: ExportKind,
    /// Inter-AZ charges per (day, account, region, resource, usage type, operation).
    pub charges: Vec<ResourceCharge>,
    /// Every row of the file, and the regional data-transfer rows among them.
    pub rows: u64,
    pub transfer_rows: u64,
    /// Regional transfer rows that are not inter-AZ (public and Elastic IPs, peering).
    pub regional_other_rows: u64,
    /// Columns decoded (of however many the file has).
    pub columns_read: usize,
    pub notes: Vec<String>,
}

/// Files an export writes: Parquet, CSV, gzip'd CSV (manifests and the rest are not read).
pub fn is_export_file(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    [".parquet", ".snappy.parquet", ".csv", ".csv.gz", ".csv.zst"].iter().any(|e| name.ends_with(e))
}

/// The row number column added to the scan (first row 0).
const ROW: &str = "__crossaz_row";

fn problem(path: &Path, what: impl Into<String>) -> InputProblem {
    InputProblem::new(path, None, what)
}

fn scan(path: &Path) -> Result<LazyFrame, InputProblem> {
    let p = PlRefPath::new(path.to_string_lossy().as_ref());
    let lf = if super::flowlogs::is_parquet(path) {
        LazyFrame::scan_parquet(p, ScanArgsParquet::default())
    } else {
        // Every column as text (no inference); FOCUS writes `NULL`, CUR leaves cells empty.
        LazyCsvReader::new(p)
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_null_values(Some(NullValues::AllColumnsSingle("NULL".into())))
            .finish()
    };
    lf.map_err(|e| problem(path, format!("cannot read as a billing export (Parquet, or CSV with a header): {e}")))
}

/// A decimal from a bill cell: `0.0007809028`, `1E-7`, or empty.
fn decimal(s: Option<&str>) -> Option<Decimal> {
    let s = s?.trim();
    if s.is_empty() {
        return None;
    }
    s.parse::<Decimal>().ok().or_else(|| Decimal::from_scientific(s).ok())
}

/// Reads one export file: its kind from its columns, then the regional data-transfer rows.
pub fn read(path: &Path) -> Result<ExportRead, InputProblem> {
    let mut lf = scan(path)?;
    let schema = lf.collect_schema().map_err(|e| problem(path, format!("cannot read its columns: {e}")))?;
    let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
    let Some(kind) = detect(&names) else {
        return Err(problem(
            path,
            "not a CUR 2.0, legacy CUR or FOCUS export: none of `line_item_usage_type`, `lineItem/UsageType`, `ChargePeriodStart` is a column",
        )
        .with_hint("export CUR 2.0 or FOCUS 1.0/1.2 with AWS Data Exports (docs/reconcile.md), or pass Cost Explorer JSON with `--billing`"));
    };
    let c = columns(kind);
    let has = |n: &str| names.iter().any(|x| x == n);
    // A renamed column (schema drift) is named with the one it most likely became.
    let renamed = |want: &str| crate::sources::renamed_column(want, &names);
    for required in [c.amount, c.cost, c.start] {
        if !has(required) {
            return Err(problem(path, format!("the {} export lacks the column `{required}`{}", kind.as_str(), renamed(required)))
                .with_hint("re-create the export with every column of its table (AWS Data Exports: select all columns)"));
        }
    }
    // The value columns must be numbers or text that holds numbers.
    for name in [Some(c.amount), Some(c.cost), c.effective].into_iter().flatten() {
        if let Some(t) = schema.get(name)
            && !(t.is_primitive_numeric() || t.is_decimal() || matches!(t, DataType::String | DataType::Null))
        {
            return Err(problem(path, format!("the {} export's `{name}` holds {t}: expected a number", kind.as_str()))
                .with_hint("the export's schema changed, or it is not an AWS export; export it again"));
        }
    }
    let usage_type = c.usage_type.filter(|n| has(n));
    let description = c.description.filter(|n| has(n));
    if usage_type.is_none() && description.is_none() {
        let expected = c.usage_type.unwrap_or("the usage type");
        return Err(problem(path, format!("the {} export lacks `{expected}`: its inter-AZ charges cannot be told apart", kind.as_str())));
    }
    let mut notes = Vec::new();
    let resource = c.resource.filter(|n| has(n));
    if resource.is_none() {
        let want = c.resource.unwrap_or("");
        notes.push(format!(
            "`{}` has no resource IDs (`{want}`{}): charges are per account and day only — enable \"include resource IDs\" in the export",
            path.display(),
            renamed(want)
        ));
    }
    if usage_type.is_none() {
        notes.push(format!(
            "`{}` ({}) has no `{}` column: inter-AZ charges are recognised from `{}` and their direction (in or out) is unknown",
            path.display(),
            kind.as_str(),
            c.usage_type.unwrap_or(""),
            description.unwrap_or("")
        ));
    }
    // Columns another export type names: a file mixing them is not what its type says.
    for other in [ExportKind::Cur2, ExportKind::LegacyCur, ExportKind::Focus10].into_iter().filter(|k| columns(*k).start != c.start) {
        let o = columns(other);
        let theirs = [Some(o.amount), Some(o.cost), Some(o.start), o.usage_type, o.operation, o.resource];
        if let Some(n) = theirs.into_iter().flatten().find(|n| has(n)) {
            notes.push(format!(
                "`{}` is a {} export by its columns, yet has `{n}`, a {} column: it was ignored — check that the file is one export, unedited",
                path.display(),
                kind.as_str(),
                other.as_str()
            ));
        }
    }
    let optional = |n: Option<&'static str>| n.filter(|n| has(n));
    let region = c.region.iter().copied().find(|n| has(n));
    // Text columns are taken as they are (a cast would keep the filter from reaching the scan).
    let text = |n: &str| if schema.get(n) == Some(&DataType::String) { col(n) } else { col(n).cast(DataType::String) };
    // The regional data-transfer rows by usage type (`<PFX>-DataTransfer-Regional-Bytes`,
    // `…-DataTransfer-xAZ-In-Bytes`, `…-Out-Bytes`); without one, the GB usage rows, whose
    // description is checked below.
    let mut filter = match usage_type {
        Some(u) => {
            let u = text(u);
            let ends = |s: &str| u.clone().str().ends_with(lit(s));
            ends("DataTransfer-Regional-Bytes").or(ends("DataTransfer-xAZ-In-Bytes")).or(ends("DataTransfer-xAZ-Out-Bytes"))
        }
        None => match optional(Some("ConsumedUnit")) {
            Some(unit) => text(unit).eq(lit("GB")),
            None => lit(true),
        },
    };
    if let Some(cat) = optional(c.category) {
        filter = filter.and(text(cat).eq(lit("Usage")));
    }
    let fields: Vec<(&str, Option<&str>)> = vec![
        ("amount", Some(c.amount)),
        ("cost", Some(c.cost)),
        ("start", Some(c.start)),
        ("usage_type", usage_type),
        ("operation", optional(c.operation)),
        ("resource", resource),
        ("effective", optional(c.effective)),
        ("account", optional(c.account)),
        ("region", region),
        ("description", if usage_type.is_none() { description } else { None }),
        ("line_type", optional(c.line_type)),
    ];
    // Timestamps (CUR 2.0 Parquet) become their UTC date; text stays text.
    let is_time = |n: &str| schema.get(n).is_some_and(|t| matches!(t, DataType::Datetime(..) | DataType::Date));
    let mut exprs: Vec<Expr> = vec![col(ROW)];
    exprs.extend(
        fields.iter().filter_map(|(alias, n)| n.map(|n| if is_time(n) { col(n).cast(DataType::Date).cast(DataType::String) } else { text(n) }.alias(*alias))),
    );
    if let Some(t) = optional(c.tags) {
        exprs.push(if schema.get(t).is_some_and(|d| matches!(d, DataType::List(_))) { col(t) } else { text(t) }.alias("tags"));
    }
    exprs.extend(names.iter().filter_map(|n| n.strip_prefix(LEGACY_TAG).map(|k| text(n).alias(format!("{TAG_PREFIX}{k}")))));
    let columns_read = exprs.len() - 1;
    let rows = lf
        .clone()
        .select([len().alias("n")])
        .collect_with_engine(Engine::Streaming)
        .map(|r| r.unwrap_single())
        .ok()
        .and_then(|df| df.column("n").ok().and_then(|c| c.get(0).ok()).and_then(|v| v.extract::<u64>()))
        .unwrap_or(0);
    // The rows arrive in batches and are summed as they come: memory stays flat however long the file.
    let sums = std::sync::Arc::new(std::sync::Mutex::new(Sums::default()));
    let ctx = BatchContext {
        path: path.to_path_buf(),
        kind,
        csv: !super::flowlogs::is_parquet(path),
        by_description: usage_type.is_none(),
        start: c.start,
        amount: c.amount,
        cost: c.cost,
        effective: c.effective.unwrap_or(""),
    };
    let csv = ctx.csv;
    let sink = sums.clone();
    let callback = PlanCallback::new(move |df: DataFrame| {
        let mut s = sink.lock().expect("never poisoned");
        if s.error.is_none()
            && let Err(e) = ctx.absorb(&df, &mut s)
        {
            s.error = Some(e);
        }
        Ok(s.error.is_some())
    });
    // Line numbers for CSV's messages; Parquet's filter goes down into the scan, which then decodes
    // the other columns of matching rows only.
    let lf = if csv { lf.with_row_index(ROW, None) } else { lf.with_column(lit(NULL).cast(DataType::UInt64).alias(ROW)) };
    lf.filter(filter)
        .select(exprs)
        .sink_batches(callback, true, std::num::NonZeroUsize::new(64 * 1024))
        .and_then(|lf| lf.collect_with_engine(Engine::Streaming))
        .map_err(|e| problem(path, format!("cannot read the {} export's rows: {e}", kind.as_str())))?;
    let sums = std::mem::take(&mut *sums.lock().expect("never poisoned"));
    if let Some(e) = sums.error {
        return Err(e);
    }
    let (by, transfer_rows, regional_other_rows, tags) = (sums.by, sums.transfer_rows, sums.regional_other_rows, sums.tags);
    if sums.adjustments > 0 {
        notes.push(format!(
            "`{}`: {} rows of regional transfer usage types are {} lines, not usage: left out of the billed GB and dollars (the net unblended cost already carries discounts)",
            path.display(),
            sums.adjustments,
            sums.adjustment_types.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let charges = by
        .into_iter()
        .map(|((date, account, region, resource_id, usage_type, operation), (usage_gb, cost_usd, effective_usd, rows))| ResourceCharge {
            date,
            account,
            region,
            tags: tags.get(&resource_id).cloned().unwrap_or_default(),
            resource_id: Some(resource_id).filter(|r| !r.is_empty()),
            usage_type,
            operation: Some(operation).filter(|o| !o.is_empty()),
            usage_gb,
            cost_usd,
            effective_usd,
            rows,
        })
        .collect();
    Ok(ExportRead { kind, charges, rows, transfer_rows, regional_other_rows, columns_read, notes })
}

type Key = (String, String, String, String, String, String);

/// What the batches summed so far: per key (GB, cost, effective cost, rows), and the first error.
#[derive(Default)]
struct Sums {
    by: BTreeMap<Key, (Decimal, Decimal, Option<Decimal>, u64)>,
    transfer_rows: u64,
    regional_other_rows: u64,
    adjustments: u64,
    adjustment_types: std::collections::BTreeSet<String>,
    /// Tags of each resource, as its lines carry them.
    tags: BTreeMap<String, BTreeMap<String, String>>,
    error: Option<InputProblem>,
}

const LEGACY_TAG: &str = "resourceTags/";
/// Legacy tag columns as the batches name them.
const TAG_PREFIX: &str = "tag:";

/// One row's resource tags: from a map (list of key/value structs), JSON text, or legacy columns.
fn row_tags(df: &DataFrame, i: usize) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Ok(c) = df.column("tags") {
        if let Ok(list) = c.list() {
            if let Some(entries) = list.get_as_series(i)
                && let Ok(st) = entries.struct_()
                && let (Ok(k), Ok(v)) = (st.field_by_name("key"), st.field_by_name("value"))
                && let (Ok(k), Ok(v)) = (k.str(), v.str())
            {
                for j in 0..k.len() {
                    if let (Some(k), Some(v)) = (k.get(j), v.get(j)) {
                        out.insert(k.to_string(), v.to_string());
                    }
                }
            }
        } else if let Ok(text) = c.str()
            && let Some(t) = text.get(i)
            && let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(t)
        {
            for (k, v) in m {
                out.insert(k, v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
            }
        }
    }
    for c in df.columns().iter().filter(|c| c.name().starts_with(TAG_PREFIX)) {
        if let Some(v) = c.str().ok().and_then(|s| s.get(i)).filter(|v| !v.is_empty()) {
            out.insert(c.name()[TAG_PREFIX.len()..].to_string(), v.to_string());
        }
    }
    out
}

/// CUR line item types that are usage (the rest — `EdpDiscount`, `Credit`, `Refund`, `Tax`, … —
/// adjust the bill and are counted apart).
const USAGE_LINE_TYPES: [&str; 3] = ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"];

/// What summing a batch needs to know about its file.
struct BatchContext {
    path: std::path::PathBuf,
    kind: ExportKind,
    csv: bool,
    /// FOCUS 1.0 without `x_UsageType`: inter-AZ rows are told by their description.
    by_description: bool,
    start: &'static str,
    amount: &'static str,
    cost: &'static str,
    effective: &'static str,
}

impl BatchContext {
    fn absorb(&self, df: &DataFrame, s: &mut Sums) -> Result<(), InputProblem> {
        let get = |name: &str| df.column(name).ok().and_then(|c| c.str().ok().cloned());
        let (amount, cost, start) = (get("amount"), get("cost"), get("start"));
        let (ut, op, res, eff, acct, reg) = (get("usage_type"), get("operation"), get("resource"), get("effective"), get("account"), get("region"));
        let desc = get("description");
        let line_type = get("line_type");
        let row_numbers = df.column(ROW).ok().and_then(|c| c.cast(&DataType::UInt64).ok()).and_then(|c| c.u64().ok().cloned());
        let row_of = |i: usize| row_numbers.as_ref().and_then(|r| r.get(i)).unwrap_or(i as u64);
        // A cell that should hold a number and does not: named with its column and line (or row).
        let number = |col: &Option<StringChunked>, name: &str, i: usize| -> Result<Option<Decimal>, InputProblem> {
            let Some(v) = col.as_ref().and_then(|c| c.get(i)).map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
            match decimal(Some(v)) {
                Some(d) => Ok(Some(d)),
                None => {
                    let what = format!("`{name}` is `{v}`: expected a number (the {} export's {name})", self.kind.as_str());
                    Err(if self.csv { InputProblem::new(&self.path, Some(row_of(i) + 2), what) } else { problem(&self.path, format!("a row's {what}")) }
                        .with_hint("the export was edited or is not an AWS export; export it again"))
                }
            }
        };
        let cell = |col: &Option<StringChunked>, i: usize| col.as_ref().and_then(|c| c.get(i)).map(str::to_string);
        for i in 0..df.height() {
            if self.by_description && !cell(&desc, i).is_some_and(|d| d.to_lowercase().contains("regional data transfer")) {
                continue;
            }
            s.transfer_rows += 1;
            // Discounts, credits, refunds and taxes on these usage types are not usage: counted apart.
            if let Some(t) = cell(&line_type, i).filter(|t| !USAGE_LINE_TYPES.contains(&t.as_str())) {
                s.adjustments += 1;
                s.adjustment_types.insert(t);
                continue;
            }
            let usage = cell(&ut, i).unwrap_or_default();
            let operation = cell(&op, i).unwrap_or_default();
            let direction = if self.by_description { TransferKind::InterAzOut } else { classify(&usage, &operation) };
            if !matches!(direction, TransferKind::InterAzIn | TransferKind::InterAzOut) {
                s.regional_other_rows += 1;
                continue;
            }
            let Some(date) = cell(&start, i).map(|s| s.chars().take(10).collect::<String>()).filter(|d| d.len() == 10) else {
                let what = format!("an inter-AZ row has no `{}`", self.start);
                return Err(if self.csv { InputProblem::new(&self.path, Some(row_of(i) + 2), what) } else { problem(&self.path, what) });
            };
            let op = if self.by_description {
                String::new()
            } else if direction == TransferKind::InterAzIn {
                "InterZone-In".into()
            } else {
                "InterZone-Out".into()
            };
            let resource = cell(&res, i).unwrap_or_default();
            let tags = row_tags(df, i);
            if !tags.is_empty() {
                s.tags.entry(resource.clone()).or_default().extend(tags);
            }
            let key = (date, cell(&acct, i).unwrap_or_default(), cell(&reg, i).unwrap_or_default(), resource, usage, op);
            let (a, c, e) = (number(&amount, self.amount, i)?, number(&cost, self.cost, i)?, number(&eff, self.effective, i)?);
            let entry = s.by.entry(key).or_default();
            entry.0 += a.unwrap_or_default();
            entry.1 += c.unwrap_or_default();
            if let Some(v) = e {
                entry.2 = Some(entry.2.unwrap_or_default() + v);
            }
            entry.3 += 1;
        }
        Ok(())
    }
}
