//! What to read from a billing export, decided from its columns, and how a row is summed.

use crate::error::InputProblem;
use crate::model::billing::{TransferKind, classify};
use arrow_schema::DataType;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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
pub(super) struct Columns {
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

pub(super) fn columns(kind: ExportKind) -> Columns {
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

pub(super) fn problem(path: &Path, what: impl Into<String>) -> InputProblem {
    InputProblem::new(path, None, what)
}

/// A decimal from a bill cell: `0.0007809028`, `1E-7`, or empty.
pub(super) fn decimal(s: Option<&str>) -> Option<Decimal> {
    let s = s?.trim();
    if s.is_empty() {
        return None;
    }
    s.parse::<Decimal>().ok().or_else(|| Decimal::from_scientific(s).ok())
}

/// The cells a charge is summed from.
#[derive(Clone, Copy)]
pub(super) enum Cell {
    Amount,
    Cost,
    Start,
    UsageType,
    Operation,
    Resource,
    Effective,
    Account,
    Region,
    Description,
    LineType,
}
pub(super) const CELLS: usize = 11;

/// One row of an export, however the file holds it.
pub(super) trait Line {
    /// The cell as text; `None` when it is null, empty or `NULL`.
    fn cell(&self, c: Cell) -> Option<&str>;
    /// The resource's tags on this row.
    fn tags(&self) -> BTreeMap<String, String>;
    /// The line in the file (CSV), for messages.
    fn line(&self) -> Option<u64>;
}

/// A file's columns, as read from its header or Parquet schema.
pub(super) struct Header {
    pub(super) names: Vec<String>,
    /// Each column's type (Parquet); CSV's are all text.
    pub(super) types: Vec<DataType>,
}

impl Header {
    pub(super) fn has(&self, n: &str) -> bool {
        self.names.iter().any(|x| x == n)
    }
    pub(super) fn index(&self, n: &str) -> Option<usize> {
        self.names.iter().position(|x| x == n)
    }
    pub(super) fn type_of(&self, n: &str) -> Option<&DataType> {
        self.index(n).map(|i| &self.types[i])
    }
}

/// What to read from a file, decided from its header.
pub(super) struct Plan {
    pub(super) path: PathBuf,
    pub(super) kind: ExportKind,
    pub(super) csv: bool,
    /// The column of each [`Cell`], when the file has it and it is read.
    pub(super) cells: [Option<&'static str>; CELLS],
    pub(super) filter: Filter,
    pub(super) tags: Option<&'static str>,
    /// Legacy CUR's `resourceTags/<key>` columns.
    /// Legacy CUR's `resourceTags/<key>` columns: (column, key).
    pub(super) legacy_tags: Vec<(String, String)>,
    /// FOCUS 1.0 without `x_UsageType`: inter-AZ rows are told by their description.
    pub(super) by_description: bool,
    pub(super) notes: Vec<String>,
}

/// The row filter's columns: the usage type, else the consumed unit; and the charge category.
#[derive(Clone, Copy)]
pub(super) struct Filter {
    pub(super) usage_type: Option<&'static str>,
    pub(super) unit: Option<&'static str>,
    pub(super) category: Option<&'static str>,
}

impl Filter {
    pub(super) fn columns(self) -> impl Iterator<Item = &'static str> {
        [self.usage_type, self.unit, self.category].into_iter().flatten()
    }

    /// The regional data-transfer rows by usage type, or without one the GB usage rows (whose
    /// description is checked in [`Plan::absorb`]); FOCUS's `Usage` charges only.
    pub(super) fn keep(self, usage_type: Option<&str>, unit: Option<&str>, category: Option<&str>) -> bool {
        let by_type = match (self.usage_type, self.unit) {
            (Some(_), _) => usage_type.is_some_and(|u| TRANSFER_USAGE_TYPES.iter().any(|t| u.ends_with(t))),
            (None, Some(_)) => unit == Some("GB"),
            (None, None) => true,
        };
        by_type && (self.category.is_none() || category == Some("Usage"))
    }
}

/// A resource's tags written as a JSON object (FOCUS `Tags`, CUR 2.0 CSV's `resource_tags`).
pub(super) fn json_tags(text: &str) -> BTreeMap<String, String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(m)) => m.into_iter().map(|(k, v)| (k, v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect(),
        _ => BTreeMap::new(),
    }
}

const LEGACY_TAG: &str = "resourceTags/";

/// A file that cannot be read as an export at all.
pub(super) fn unreadable(path: &Path, e: &dyn std::fmt::Display) -> InputProblem {
    InputProblem::new(path, None, format!("cannot read as a billing export (Parquet, or CSV with a header): {e}"))
}

/// An export whose rows cannot be read (at `line`, in CSV).
pub(super) fn rows_unreadable(path: &Path, line: Option<u64>, kind: ExportKind, e: &dyn std::fmt::Display) -> InputProblem {
    InputProblem::new(path, line, format!("cannot read the {} export's rows: {e}", kind.as_str()))
}

/// The regional data-transfer usage types (`<PFX>-DataTransfer-Regional-Bytes`,
/// `…-DataTransfer-xAZ-In-Bytes`, `…-Out-Bytes`).
pub(super) const TRANSFER_USAGE_TYPES: [&str; 3] = ["DataTransfer-Regional-Bytes", "DataTransfer-xAZ-In-Bytes", "DataTransfer-xAZ-Out-Bytes"];

impl Plan {
    pub(super) fn new(path: &Path, csv: bool, header: &Header) -> Result<Plan, InputProblem> {
        let Some(kind) = detect(&header.names) else {
            return Err(problem(
                path,
                "not a CUR 2.0, legacy CUR or FOCUS export: none of `line_item_usage_type`, `lineItem/UsageType`, `ChargePeriodStart` is a column",
            )
            .with_hint("export CUR 2.0 or FOCUS 1.0/1.2 with AWS Data Exports (docs/reconcile.md), or pass Cost Explorer JSON with `--billing`"));
        };
        let c = columns(kind);
        let has = |n: &str| header.has(n);
        // A renamed column (schema drift) is named with the one it most likely became.
        let renamed = |want: &str| crate::sources::renamed_column(want, &header.names);
        for required in [c.amount, c.cost, c.start] {
            if !has(required) {
                return Err(problem(path, format!("the {} export lacks the column `{required}`{}", kind.as_str(), renamed(required)))
                    .with_hint("re-create the export with every column of its table (AWS Data Exports: select all columns)"));
            }
        }
        // The value columns must be numbers or text that holds numbers.
        for name in [Some(c.amount), Some(c.cost), c.effective].into_iter().flatten() {
            if let Some(t) = header.type_of(name)
                && !(t.is_numeric() || is_text(t) || *t == DataType::Null)
            {
                return Err(problem(path, format!("the {} export's `{name}` holds {t}: expected a number", kind.as_str()))
                    .with_hint("the export's schema changed, or it is not an AWS export; export it again"));
            }
        }
        let optional = |n: Option<&'static str>| n.filter(|n| has(n));
        let usage_type = optional(c.usage_type);
        let description = optional(c.description);
        if usage_type.is_none() && description.is_none() {
            let expected = c.usage_type.unwrap_or("the usage type");
            return Err(problem(path, format!("the {} export lacks `{expected}`: its inter-AZ charges cannot be told apart", kind.as_str())));
        }
        let mut notes = Vec::new();
        let resource = optional(c.resource);
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
        let cells = [
            Some(c.amount),
            Some(c.cost),
            Some(c.start),
            usage_type,
            optional(c.operation),
            resource,
            optional(c.effective),
            optional(c.account),
            c.region.iter().copied().find(|n| has(n)),
            if usage_type.is_none() { description } else { None },
            optional(c.line_type),
        ];
        Ok(Plan {
            path: path.to_path_buf(),
            kind,
            csv,
            cells,
            filter: Filter { usage_type, unit: if usage_type.is_none() { optional(Some("ConsumedUnit")) } else { None }, category: optional(c.category) },
            tags: optional(c.tags),
            legacy_tags: header.names.iter().filter_map(|n| Some((n.clone(), n.strip_prefix(LEGACY_TAG)?.to_string()))).collect(),
            by_description: usage_type.is_none(),
            notes,
        })
    }

    pub(super) fn columns_read(&self) -> usize {
        self.cells.iter().flatten().count() + usize::from(self.tags.is_some()) + self.legacy_tags.len()
    }

    /// A problem at a row: its line in CSV; in Parquet, "a row's …" when `row` is set.
    fn at(&self, line: &impl Line, what: String, row: bool) -> InputProblem {
        if self.csv {
            InputProblem::new(&self.path, line.line(), what)
        } else if row {
            problem(&self.path, format!("a row's {what}"))
        } else {
            problem(&self.path, what)
        }
    }

    /// Adds one row that passed the filter.
    pub(super) fn absorb(&self, line: &impl Line, s: &mut Sums) -> Result<(), InputProblem> {
        if self.by_description && !line.cell(Cell::Description).is_some_and(|d| d.to_lowercase().contains("regional data transfer")) {
            return Ok(());
        }
        s.transfer_rows += 1;
        // Discounts, credits, refunds and taxes on these usage types are not usage: counted apart.
        if let Some(t) = line.cell(Cell::LineType).filter(|t| !USAGE_LINE_TYPES.contains(t)) {
            s.adjustments += 1;
            s.adjustment_types.insert(t.to_string());
            return Ok(());
        }
        let usage = line.cell(Cell::UsageType).unwrap_or_default();
        let operation = line.cell(Cell::Operation).unwrap_or_default();
        let direction = if self.by_description { TransferKind::InterAzOut } else { classify(usage, operation) };
        if !matches!(direction, TransferKind::InterAzIn | TransferKind::InterAzOut) {
            s.regional_other_rows += 1;
            return Ok(());
        }
        let Some(date) = line.cell(Cell::Start).map(|s| s.chars().take(10).collect::<String>()).filter(|d| d.len() == 10) else {
            return Err(self.at(line, format!("an inter-AZ row has no `{}`", self.name(Cell::Start)), false));
        };
        let op = match (self.by_description, direction) {
            (true, _) => "",
            (false, TransferKind::InterAzIn) => "InterZone-In",
            (false, _) => "InterZone-Out",
        };
        let resource = line.cell(Cell::Resource).unwrap_or_default().to_string();
        let tags = line.tags();
        if !tags.is_empty() {
            s.tags.entry(resource.clone()).or_default().extend(tags);
        }
        let text = |c: Cell| line.cell(c).unwrap_or_default().to_string();
        let key = (date, text(Cell::Account), text(Cell::Region), resource, usage.to_string(), op.to_string());
        let (a, c, e) = (self.number(line, Cell::Amount)?, self.number(line, Cell::Cost)?, self.number(line, Cell::Effective)?);
        let entry = s.by.entry(key).or_default();
        entry.0 += a.unwrap_or_default();
        entry.1 += c.unwrap_or_default();
        if let Some(v) = e {
            entry.2 = Some(entry.2.unwrap_or_default() + v);
        }
        entry.3 += 1;
        Ok(())
    }

    fn name(&self, c: Cell) -> &'static str {
        self.cells[c as usize].unwrap_or("")
    }

    /// A cell that should hold a number: named with its column and line (or row) when it does not.
    fn number(&self, line: &impl Line, c: Cell) -> Result<Option<Decimal>, InputProblem> {
        let Some(v) = line.cell(c).map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
        decimal(Some(v)).map(Some).ok_or_else(|| {
            let name = self.name(c);
            self.at(line, format!("`{name}` is `{v}`: expected a number (the {} export's {name})", self.kind.as_str()), true)
                .with_hint("the export was edited or is not an AWS export; export it again")
        })
    }
}

pub(super) fn is_text(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_text(v),
        _ => false,
    }
}

pub(super) type Key = (String, String, String, String, String, String);

/// What the rows summed so far: per key (GB, cost, effective cost, rows), and the counts.
#[derive(Default)]
pub(super) struct Sums {
    pub(super) by: BTreeMap<Key, (Decimal, Decimal, Option<Decimal>, u64)>,
    pub(super) transfer_rows: u64,
    pub(super) regional_other_rows: u64,
    pub(super) adjustments: u64,
    pub(super) adjustment_types: BTreeSet<String>,
    /// Tags of each resource, as its lines carry them.
    pub(super) tags: BTreeMap<String, BTreeMap<String, String>>,
}

impl Sums {
    /// Adds what a later part of the file summed (a later row group's tags win, as in one pass).
    pub(super) fn merge(&mut self, later: Sums) {
        for (k, v) in later.by {
            let e = self.by.entry(k).or_default();
            e.0 += v.0;
            e.1 += v.1;
            e.2 = match (e.2, v.2) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or_default() + b.unwrap_or_default()),
            };
            e.3 += v.3;
        }
        self.transfer_rows += later.transfer_rows;
        self.regional_other_rows += later.regional_other_rows;
        self.adjustments += later.adjustments;
        self.adjustment_types.extend(later.adjustment_types);
        for (r, t) in later.tags {
            self.tags.entry(r).or_default().extend(t);
        }
    }
}

/// CUR line item types that are usage (the rest — `EdpDiscount`, `Credit`, `Refund`, `Tax`, … —
/// adjust the bill and are counted apart).
pub(super) const USAGE_LINE_TYPES: [&str; 3] = ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"];
