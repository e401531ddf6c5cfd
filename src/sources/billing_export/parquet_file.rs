//! Billing exports in Parquet (CUR 2.0, FOCUS): the row filter decodes the usage type (or unit)
//! and charge category of every row, and the other columns of the rows it keeps only.

use super::plan::{Cell, Header, Line, Plan, Sums, json_tags, rows_unreadable, unreadable};
use crate::error::InputProblem;
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray, StructArray};
use arrow_schema::{ArrowError, DataType};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowPredicateFn, ArrowReaderMetadata, ParquetRecordBatchReaderBuilder, RowFilter};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

const BATCH_ROWS: usize = 64 * 1024;

pub(super) fn read(path: &Path) -> Result<(Plan, u64, Sums), InputProblem> {
    let file = std::fs::File::open(path).map_err(|e| unreadable(path, &e))?;
    let meta = ArrowReaderMetadata::load(&file, Default::default()).map_err(|e| unreadable(path, &e))?;
    let schema = meta.schema();
    let header =
        Header { names: schema.fields().iter().map(|f| f.name().clone()).collect(), types: schema.fields().iter().map(|f| f.data_type().clone()).collect() };
    let plan = Plan::new(path, false, &header)?;
    let rows = u64::try_from(meta.metadata().file_metadata().num_rows()).unwrap_or(0);
    // Each row group on its own thread; their sums are added in file order.
    let parts: Vec<Result<Sums, InputProblem>> =
        (0..meta.metadata().num_row_groups()).into_par_iter().map(|group| read_row_group(path, &plan, &header, &meta, group)).collect();
    let mut sums = Sums::default();
    for part in parts {
        sums.merge(part?);
    }
    Ok((plan, rows, sums))
}

fn read_row_group(path: &Path, plan: &Plan, header: &Header, meta: &ArrowReaderMetadata, group: usize) -> Result<Sums, InputProblem> {
    let failed = |e: &dyn std::fmt::Display| rows_unreadable(path, None, plan.kind, e);
    let file = std::fs::File::open(path).map_err(|e| failed(&e))?;
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone()).with_row_groups(vec![group]).with_batch_size(BATCH_ROWS);
    let roots = |names: &mut dyn Iterator<Item = &str>| -> Vec<usize> {
        let mut v: Vec<usize> = names.filter_map(|n| header.index(n)).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let read: Vec<usize> = roots(&mut plan.cells.iter().flatten().copied().chain(plan.tags).chain(plan.legacy_tags.iter().map(|(n, _)| n.as_str())));
    let filtered: Vec<usize> = roots(&mut plan.filter.columns());
    let mask = ProjectionMask::roots(builder.parquet_schema(), read);
    let mut builder = builder.with_projection(mask);
    if !filtered.is_empty() {
        let filter = plan.filter;
        let predicate = ArrowPredicateFn::new(ProjectionMask::roots(builder.parquet_schema(), filtered), move |batch: RecordBatch| {
            let text = |n: Option<&str>| n.and_then(|n| batch.column_by_name(n)).map(as_text).transpose();
            let (u, n, c) = (text(filter.usage_type)?, text(filter.unit)?, text(filter.category)?);
            Ok((0..batch.num_rows()).map(|i| Some(filter.keep(optional(&u, i), optional(&n, i), optional(&c, i)))).collect::<BooleanArray>())
        });
        builder = builder.with_row_filter(RowFilter::new(vec![Box::new(predicate)]));
    }
    let reader = builder.build().map_err(|e| failed(&e))?;
    let mut sums = Sums::default();
    for batch in reader {
        let batch = batch.map_err(|e| failed(&e))?;
        let rows = Rows::new(plan, &batch).map_err(|e| failed(&e))?;
        for i in 0..batch.num_rows() {
            plan.absorb(&RowAt { rows: &rows, i }, &mut sums)?;
        }
    }
    Ok(sums)
}

/// A batch's cells as text, column by column.
struct Rows {
    cells: Vec<Option<StringArray>>,
    tags: Option<ArrayRef>,
    legacy_tags: Vec<(String, StringArray)>,
}

impl Rows {
    fn new(plan: &Plan, batch: &RecordBatch) -> Result<Rows, ArrowError> {
        let column = |n: Option<&str>| n.and_then(|n| batch.column_by_name(n)).map(as_text).transpose();
        Ok(Rows {
            cells: plan.cells.iter().map(|n| column(*n)).collect::<Result<_, _>>()?,
            tags: plan.tags.and_then(|n| batch.column_by_name(n)).cloned(),
            legacy_tags: plan
                .legacy_tags
                .iter()
                .filter_map(|(n, key)| batch.column_by_name(n).map(|a| (key, a)))
                .map(|(key, a)| Ok((key.clone(), as_text(a)?)))
                .collect::<Result<_, ArrowError>>()?,
        })
    }
}

struct RowAt<'a> {
    rows: &'a Rows,
    i: usize,
}

fn value(a: &StringArray, i: usize) -> Option<&str> {
    Some(a.value(i)).filter(|v| a.is_valid(i) && !v.is_empty())
}

fn optional(a: &Option<StringArray>, i: usize) -> Option<&str> {
    a.as_ref().and_then(|a| value(a, i))
}

impl Line for RowAt<'_> {
    fn cell(&self, c: Cell) -> Option<&str> {
        optional(&self.rows.cells[c as usize], self.i)
    }

    fn tags(&self) -> BTreeMap<String, String> {
        let mut out = match &self.rows.tags {
            Some(a) => tags_at(a, self.i),
            None => BTreeMap::new(),
        };
        for (k, a) in &self.rows.legacy_tags {
            if let Some(v) = value(a, self.i) {
                out.insert(k.clone(), v.to_string());
            }
        }
        out
    }

    fn line(&self) -> Option<u64> {
        None
    }
}

/// One row's tags: a Parquet map, a list of key/value structs, or JSON text.
fn tags_at(a: &ArrayRef, i: usize) -> BTreeMap<String, String> {
    if !a.is_valid(i) {
        return BTreeMap::new();
    }
    let pairs = |entries: &StructArray| -> BTreeMap<String, String> {
        let (Some(k), Some(v)) = (entries.column_by_name("key").or(entries.columns().first()), entries.column_by_name("value").or(entries.columns().get(1)))
        else {
            return BTreeMap::new();
        };
        let (Ok(k), Ok(v)) = (as_text(k), as_text(v)) else { return BTreeMap::new() };
        (0..k.len()).filter_map(|j| Some((value(&k, j)?.to_string(), value(&v, j)?.to_string()))).collect()
    };
    match a.data_type() {
        DataType::Map(..) => pairs(&a.as_map().value(i)),
        DataType::List(_) => a.as_list::<i32>().value(i).as_struct_opt().map(pairs).unwrap_or_default(),
        DataType::LargeList(_) => a.as_list::<i64>().value(i).as_struct_opt().map(pairs).unwrap_or_default(),
        _ => as_text(a).ok().and_then(|t| value(&t, i).map(json_tags)).unwrap_or_default(),
    }
}

/// A column as text: numbers as their shortest exact decimal, times as their UTC date.
fn as_text(a: &ArrayRef) -> Result<StringArray, ArrowError> {
    use arrow_array::types::{Float32Type, Float64Type, Int64Type};
    use arrow_schema::TimeUnit;
    let utf8 = |a: &dyn Array| arrow_cast::cast(a, &DataType::Utf8).map(|a| a.as_string::<i32>().clone());
    match a.data_type() {
        DataType::Float64 => Ok(a.as_primitive::<Float64Type>().iter().map(|v| v.map(float_text)).collect()),
        DataType::Float32 => Ok(a.as_primitive::<Float32Type>().iter().map(|v| v.map(float_text)).collect()),
        // The instant's UTC date (an export's times are UTC); no time-zone database needed.
        DataType::Timestamp(unit, _) => {
            let per_second = match unit {
                TimeUnit::Second => 1,
                TimeUnit::Millisecond => 1_000,
                TimeUnit::Microsecond => 1_000_000,
                TimeUnit::Nanosecond => 1_000_000_000,
            };
            let raw = arrow_cast::cast(a, &DataType::Int64)?;
            let date = |v: i64| chrono::DateTime::from_timestamp(v.div_euclid(per_second), 0).map(|t| t.date_naive().to_string());
            Ok(raw.as_primitive::<Int64Type>().iter().map(|v| v.and_then(date)).collect())
        }
        DataType::Date64 => utf8(&arrow_cast::cast(a, &DataType::Date32)?),
        _ => utf8(a),
    }
}

/// A float's shortest exact decimal, with `.0` on whole numbers (`0.0`, `24.0`, `0.0025`), so that
/// the amounts keep the scale they have always been reported with.
fn float_text(v: impl std::fmt::Display) -> String {
    let text = v.to_string();
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'-') { text + ".0" } else { text }
}
