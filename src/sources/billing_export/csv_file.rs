//! Billing exports in CSV (legacy CUR, FOCUS, CUR 2.0), plain or gzip'd: every cell is text, and
//! `NULL` (FOCUS) or an empty cell (CUR) is no value.

use super::plan::{CELLS, Cell, Header, Line, Plan, Sums, json_tags, rows_unreadable, unreadable};
use crate::error::InputProblem;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

pub(super) fn read(path: &Path) -> Result<(Plan, u64, Sums), InputProblem> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(open(path)?);
    let names: Vec<String> = reader.headers().map_err(|e| unreadable(path, &e))?.iter().map(|n| n.trim_start_matches('\u{feff}').to_string()).collect();
    let header = Header { types: vec![arrow_schema::DataType::Utf8; names.len()], names };
    let plan = Plan::new(path, true, &header)?;
    let index = |n: Option<&str>| n.and_then(|n| header.index(n));
    let columns = Columns {
        cells: plan.cells.map(index),
        tags: index(plan.tags),
        legacy_tags: plan.legacy_tags.iter().filter_map(|(n, key)| Some((header.index(n)?, key.clone()))).collect(),
    };
    let (usage_type, unit, category) = (index(plan.filter.usage_type), index(plan.filter.unit), index(plan.filter.category));
    let mut record = csv::StringRecord::new();
    let (mut rows, mut sums) = (0u64, Sums::default());
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => rows += 1,
            Ok(false) => break,
            Err(e) => {
                return Err(rows_unreadable(path, e.position().map(|p| p.line()), plan.kind, &e)
                    .with_hint("the file is cut short or was edited; download or export it again"));
            }
        }
        let row = Row { record: &record, columns: &columns };
        if plan.filter.keep(row.at(usage_type), row.at(unit), row.at(category)) {
            plan.absorb(&row, &mut sums)?;
        }
    }
    Ok((plan, rows, sums))
}

/// The file's bytes, inflated when gzip'd; other compressions are named.
fn open(path: &Path) -> Result<Box<dyn Read>, InputProblem> {
    let file = std::fs::File::open(path).map_err(|e| InputProblem::new(path, None, format!("cannot open: {e}")))?;
    let mut file = BufReader::with_capacity(1 << 20, file);
    let magic = file.fill_buf().map_err(|e| InputProblem::new(path, None, format!("cannot read: {e}")))?;
    let other = |what: &str, how: &str| {
        InputProblem::new(path, None, format!("is {what}: a billing export is read as CSV (plain or gzip) or Parquet"))
            .with_hint(format!("{how}, then pass the CSV file"))
    };
    match magic {
        [0x1f, 0x8b, ..] => Ok(Box::new(flate2::bufread::MultiGzDecoder::new(file))),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Err(other("zstd-compressed", "decompress it with `zstd -d`")),
        [b'P', b'K', 3, 4, ..] => Err(other("a ZIP archive (the legacy CUR's ZIP compression)", "unzip it")),
        _ => Ok(Box::new(file)),
    }
}

/// Where each cell is in a record.
struct Columns {
    cells: [Option<usize>; CELLS],
    tags: Option<usize>,
    legacy_tags: Vec<(usize, String)>,
}

struct Row<'a> {
    record: &'a csv::StringRecord,
    columns: &'a Columns,
}

impl Row<'_> {
    fn at(&self, i: Option<usize>) -> Option<&str> {
        i.and_then(|i| self.record.get(i)).filter(|v| !v.is_empty() && *v != "NULL")
    }
}

impl Line for Row<'_> {
    fn cell(&self, c: Cell) -> Option<&str> {
        self.at(self.columns.cells[c as usize])
    }

    fn tags(&self) -> BTreeMap<String, String> {
        let mut out = self.at(self.columns.tags).map(json_tags).unwrap_or_default();
        for (i, k) in &self.columns.legacy_tags {
            if let Some(v) = self.at(Some(*i)) {
                out.insert(k.clone(), v.to_string());
            }
        }
        out
    }

    fn line(&self) -> Option<u64> {
        self.record.position().map(|p| p.line())
    }
}
