//! The bill line by line: CUR 2.0 (Data Exports, Parquet), legacy CUR (CSV, gzip) and FOCUS 1.0 /
//! 1.2 (CSV or Parquet), classified and summed per day, resource and direction as exact decimals.
//! - `plan`: the export told from its columns, the row filter, and how a row is summed.
//! - `parquet_file`: arrow-rs, as for the flow logs: only the columns used, a row filter on the
//!   usage type so that the other columns are decoded for the regional data-transfer rows only,
//!   and the row groups in parallel.
//! - `csv_file`: CSV, plain or gzip, streamed record by record, every cell as text.

use crate::error::InputProblem;
use crate::model::billing::ResourceCharge;
use std::path::Path;

mod csv_file;
mod parquet_file;
mod plan;

pub use plan::{ExportKind, detect};

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

/// Files an export writes: Parquet, CSV, gzip'd CSV, and the zstd and ZIP files that are named as
/// unreadable rather than passed over (manifests and the rest are not read).
pub fn is_export_file(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    [".parquet", ".snappy.parquet", ".csv", ".csv.gz", ".csv.zst", ".csv.zip"].iter().any(|e| name.ends_with(e))
}

/// Reads one export file: its kind from its columns, then the regional data-transfer rows.
pub fn read(path: &Path) -> Result<ExportRead, InputProblem> {
    let (plan, rows, sums) = if super::flowlogs::is_parquet(path) { parquet_file::read(path)? } else { csv_file::read(path)? };
    let columns_read = plan.columns_read();
    let mut notes = plan.notes;
    if sums.adjustments > 0 {
        notes.push(format!(
            "`{}`: {} rows of regional transfer usage types are {} lines, not usage: left out of the billed GB and dollars (the net unblended cost already carries discounts)",
            path.display(),
            sums.adjustments,
            sums.adjustment_types.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let tags = sums.tags;
    let charges = sums
        .by
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
    Ok(ExportRead { kind: plan.kind, charges, rows, transfer_rows: sums.transfer_rows, regional_other_rows: sums.regional_other_rows, columns_read, notes })
}
