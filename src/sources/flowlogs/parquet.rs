//! Parquet flow logs as AWS delivers them: one column per field, named with underscores
//! (`pkt_srcaddr`), typed per the VPC user guide. Text columns are read as dictionaries, so each
//! distinct address or interface id is parsed once per batch, not once per row.

use super::format::{Field, Format};
use super::text::FileOutcome;
use super::values::{Parsed, action_value, direction_value, ip_value, status_value};
use crate::error::InputProblem;
use crate::model::flow::{Action, Direction, FlowRecord, FlowSink, FormatTraits, LogStatus, SkipReason};
use crate::model::ip::Ip;
use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, Field as ArrowField, Schema};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

/// The fields the engine reads; other columns are not decoded.
const WANTED: &[Field] = &[
    Field::InterfaceId,
    Field::ResourceId,
    Field::InterfaceType,
    Field::AzId,
    Field::VpcId,
    Field::SubnetId,
    Field::InstanceId,
    Field::Srcaddr,
    Field::Dstaddr,
    Field::PktSrcaddr,
    Field::PktDstaddr,
    Field::Srcport,
    Field::Dstport,
    Field::Protocol,
    Field::Packets,
    Field::Bytes,
    Field::Start,
    Field::End,
    Field::Action,
    Field::LogStatus,
    Field::FlowDirection,
    Field::TrafficPath,
    Field::PktSrcAwsService,
    Field::PktDstAwsService,
];

/// More columns than any flow-log format has (29 fields in Parquet, 40-odd in all).
pub const MAX_COLUMNS: usize = 1024;
/// Rows a row group may claim per byte of its column chunks: a flow-log row has a start, an end and
/// byte counts that differ from row to row, so it takes bytes, not a fraction of one.
pub const MAX_ROWS_PER_BYTE: i64 = 64;

/// The row groups of a Parquet file, so they can be read in parallel. Metadata that claims more
/// columns or rows than a flow-log file can hold is refused before anything is read.
pub fn row_groups(path: &Path) -> Result<(usize, u64), InputProblem> {
    let file = File::open(path).map_err(|e| InputProblem::new(path, None, format!("cannot open: {e}")))?;
    let meta = ArrowReaderMetadata::load(&file, Default::default()).map_err(|e| parquet_problem(path, &e))?;
    let md = meta.metadata();
    check_chunks(path, md)?;
    let columns = md.file_metadata().schema_descr().num_columns();
    if columns > MAX_COLUMNS {
        return Err(InputProblem::new(path, None, format!("the Parquet metadata claims {columns} columns; a flow-log file has at most {MAX_COLUMNS}"))
            .with_hint("this is not a flow-log file, or its footer is damaged: check where the object came from"));
    }
    for (i, g) in md.row_groups().iter().enumerate() {
        let (rows, bytes) = (g.num_rows(), g.compressed_size());
        if rows < 0 || rows > MAX_ROWS_PER_BYTE * bytes.max(0) + 1024 {
            return Err(InputProblem::new(path, None, format!("row group {i} claims {rows} rows in {bytes} bytes, more than flow-log records can be")).with_hint(
                format!("a flow-log row takes bytes (at most {MAX_ROWS_PER_BYTE} rows a byte are taken as plausible); the footer is damaged or the file is not a flow log"),
            ));
        }
    }
    let rows = md.file_metadata().num_rows().max(0) as u64;
    Ok((md.num_row_groups(), rows))
}

/// The format a Parquet file's columns make.
pub fn columns(path: &Path) -> Result<Format, InputProblem> {
    let file = File::open(path).map_err(|e| InputProblem::new(path, None, format!("cannot open: {e}")))?;
    let meta = ArrowReaderMetadata::load(&file, Default::default()).map_err(|e| parquet_problem(path, &e))?;
    let names: Vec<String> = meta.schema().fields().iter().map(|f| f.name().clone()).collect();
    Format::from_names(names.iter().map(String::as_str)).map_err(|e| InputProblem::new(path, None, format!("invalid columns: {e}")))
}

fn parquet_problem(path: &Path, e: &dyn std::fmt::Display) -> InputProblem {
    InputProblem::new(path, None, format!("not a readable Parquet file: {e}"))
        .with_hint("Parquet flow logs are read whole; download the object again if it was cut short")
}

/// Column chunks must lie inside the file: a damaged footer with negative or outlying offsets
/// would make the Parquet reader panic (found by fuzzing, docs/fuzzing.md).
fn check_chunks(path: &Path, md: &parquet::file::metadata::ParquetMetaData) -> Result<(), InputProblem> {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) as i64;
    for (i, g) in md.row_groups().iter().enumerate() {
        for c in g.columns() {
            let start = c.dictionary_page_offset().unwrap_or(c.data_page_offset());
            let len = c.compressed_size();
            if start < 0 || len < 0 || c.data_page_offset() < 0 || start.checked_add(len).is_none_or(|end| end > size) {
                return Err(InputProblem::new(
                    path,
                    None,
                    format!("row group {i}: column `{}` claims bytes {start}..+{len} of a {size}-byte file", c.column_path()),
                )
                .with_hint("the footer is damaged or the file is not a flow log: download the object again"));
            }
        }
    }
    Ok(())
}

/// Reads the given row groups of one file into `sink`. Row numbers stand in for line numbers.
pub fn read_parquet_row_groups(path: &Path, groups: &[usize], sink: &mut dyn FlowSink) -> FileOutcome {
    read_row_groups(path, groups, false, sink)
}

/// Row groups of the pre-aggregation's result written as Parquet (Athena's UNLOAD): flow-log
/// columns plus `records`, each row standing for its records (docs/athena.md).
pub fn read_aggregates_parquet_row_groups(path: &Path, groups: &[usize], sink: &mut dyn FlowSink) -> FileOutcome {
    read_row_groups(path, groups, true, sink)
}

fn read_row_groups(path: &Path, groups: &[usize], aggregates: bool, sink: &mut dyn FlowSink) -> FileOutcome {
    let mut out = FileOutcome::default();
    if let Err(p) = read_groups(path, groups, aggregates, sink, &mut out) {
        out.problems.push(p);
    }
    out
}

fn is_text(dt: &DataType) -> bool {
    matches!(dt, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Flow-log objects are at most 75 MB: read whole, they cost one read instead of a seek per column chunk.
const READ_WHOLE_UP_TO: u64 = 256 << 20;

fn read_groups(path: &Path, groups: &[usize], aggregates: bool, sink: &mut dyn FlowSink, out: &mut FileOutcome) -> Result<(), InputProblem> {
    let cannot = |e: std::io::Error| InputProblem::new(path, None, format!("cannot read: {e}"));
    let size = std::fs::metadata(path).map_err(cannot)?.len();
    if size <= READ_WHOLE_UP_TO {
        let data = bytes::Bytes::from(std::fs::read(path).map_err(cannot)?);
        read_groups_from(data, path, groups, aggregates, sink, out)
    } else {
        let file = File::open(path).map_err(|e| InputProblem::new(path, None, format!("cannot open: {e}")))?;
        read_groups_from(file, path, groups, aggregates, sink, out)
    }
}

fn read_groups_from<R: parquet::file::reader::ChunkReader + 'static>(
    data: R,
    path: &Path,
    groups: &[usize],
    aggregates: bool,
    sink: &mut dyn FlowSink,
    out: &mut FileOutcome,
) -> Result<(), InputProblem> {
    let plain = ArrowReaderMetadata::load(&data, Default::default()).map_err(|e| parquet_problem(path, &e))?;
    if let Err(p) = check_chunks(path, plain.metadata()) {
        let rows: u64 = groups.iter().filter_map(|&g| plain.metadata().row_groups().get(g)).map(|g| g.num_rows().max(0) as u64).sum();
        sink.skip(SkipReason::Truncated, 1, &p.what, rows);
        return Err(p);
    }
    // Ask for text columns as dictionaries: Parquet stores them so, and the reader keeps them.
    let fields: Vec<ArrowField> = plain
        .schema()
        .fields()
        .iter()
        .map(|f| {
            if is_text(f.data_type()) {
                ArrowField::new(f.name(), DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)), f.is_nullable())
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    let options = ArrowReaderOptions::new().with_schema(Arc::new(Schema::new(fields)));
    let meta = ArrowReaderMetadata::try_new(plain.metadata().clone(), options).map_err(|e| parquet_problem(path, &e))?;
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(data, meta);
    let names: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
    let records_at = names.iter().position(|n| n == "records");
    let flow_names = names.iter().map(String::as_str).filter(|n| !aggregates || !super::aggregates::EXTRA.contains(n));
    let format = Format::from_names(flow_names).map_err(|e| InputProblem::new(path, None, format!("invalid columns: {e}")))?;
    let md = builder.metadata().clone();
    let first_row: u64 = (0..groups.first().copied().unwrap_or(0)).map(|g| md.row_group(g).num_rows().max(0) as u64).sum();
    if aggregates && let Some(missing) = super::aggregates::REQUIRED.iter().find(|n| !names.iter().any(|c| c == *n)) {
        let rows: u64 = groups.iter().map(|&g| md.row_group(g).num_rows().max(0) as u64).sum();
        sink.skip(SkipReason::UnusableFormat, first_row + 1, &format!("the flow aggregates lack `{missing}`"), rows);
        return Err(super::aggregates::missing_column(path, missing, &names));
    }
    if aggregates {
        let numbers = ["srcport", "dstport", "protocol", "start", "end", "bytes", "packets", "records"];
        let plain_fields = plain.schema().fields().clone();
        if let Some(f) = plain_fields.iter().find(|f| numbers.contains(&f.name().as_str()) && !matches!(f.data_type(), DataType::Int32 | DataType::Int64)) {
            let rows: u64 = groups.iter().map(|&g| md.row_group(g).num_rows().max(0) as u64).sum();
            let why = format!("column `{}` holds {}: expected whole numbers", f.name(), f.data_type());
            sink.skip(SkipReason::UnusableFormat, first_row + 1, &why, rows);
            return Err(InputProblem::new(path, None, format!("{why}; its {rows} rows are skipped"))
                .with_hint("expected the result of `crossaz athena sql` unloaded as Parquet (docs/athena.md)"));
        }
    }
    if let Some(m) = format.missing_required() {
        let rows: u64 = groups.iter().map(|&g| md.row_group(g).num_rows().max(0) as u64).sum();
        let why = format!("the Parquet columns lack `{m}`");
        sink.skip(SkipReason::UnusableFormat, first_row + 1, &why, rows);
        return Err(InputProblem::new(path, None, format!("{why}; its {rows} records are skipped"))
            .with_hint("expected the columns AWS writes for Parquet flow logs (`interface_id`, `srcaddr`, `bytes`, …)"));
    }
    if groups.first() == Some(&0) {
        for u in &format.unknown {
            out.warnings.push(InputProblem::new(path, None, format!("unknown column `{u}`; it is ignored")));
        }
    }
    let file_traits = FormatTraits {
        has_pkt_addresses: format.has(Field::PktSrcaddr) && format.has(Field::PktDstaddr),
        has_flow_direction: format.has(Field::FlowDirection),
        has_aws_service: format.has(Field::PktSrcAwsService) && format.has(Field::PktDstAwsService),
    };
    let mut row_traits = super::aggregates::RowTraits::new(file_traits);
    if !aggregates {
        sink.set_format(file_traits);
    }
    let mut wanted: Vec<usize> = WANTED.iter().filter_map(|f| names.iter().position(|n| Field::from_name(n) == Some(*f))).collect();
    wanted.extend(records_at.filter(|_| aggregates));
    let mask = ProjectionMask::roots(builder.parquet_schema(), wanted);
    let reader = builder.with_row_groups(groups.to_vec()).with_projection(mask).with_batch_size(8 * 1024).build().map_err(|e| parquet_problem(path, &e))?;
    let total: u64 = groups.iter().map(|&g| md.row_group(g).num_rows().max(0) as u64).sum();
    let mut row = first_row;
    let mut caches = Caches::default();
    for batch in reader {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                // The rest of these row groups cannot be read: count them, from the file's metadata.
                let lost = total - (row - first_row);
                let what = format!("cannot decode the Parquet data after row {row}: {e}");
                sink.skip(SkipReason::Truncated, row + 1, &what, lost);
                return Err(InputProblem::new(path, Some(row + 1), format!("{what}; {lost} rows of its row groups are skipped"))
                    .with_hint("download the object again; crossaz counted every row before the damage"));
            }
        };
        let records = Int::new(batch.schema().index_of("records").ok().map(|i| batch.column(i)));
        let cols = Columns::new(&batch, &mut caches);
        for i in 0..batch.num_rows() {
            row += 1;
            let rec = cols.record(i).and_then(|mut rec| {
                if aggregates {
                    let n = records.get(i).ok_or("`records` is empty: expected the group's record count")?;
                    rec.extra_records = u64::try_from(n).map_err(|_| format!("`records` is `{n}`: expected a count"))?.max(1) - 1;
                    row_traits.update(&rec, sink);
                }
                Ok(rec)
            });
            match rec {
                Ok(rec) => sink.record(&rec, row),
                Err(what) => sink.skip(SkipReason::Malformed, row, &what, 1),
            }
        }
    }
    Ok(())
}

/// Parsed dictionary values, kept while the reader hands out the same dictionary (one per row group).
struct DictCache<T> {
    source: Option<ArrayRef>,
    parsed: Vec<T>,
}

impl<T> Default for DictCache<T> {
    fn default() -> DictCache<T> {
        DictCache { source: None, parsed: Vec::new() }
    }
}

impl<T> DictCache<T> {
    fn parsed_for(&mut self, values: &ArrayRef, parse: fn(&str) -> T) -> &[T] {
        let same = self.source.as_ref().is_some_and(|s| Arc::ptr_eq(s, values));
        if !same {
            let strings = values.as_string::<i32>();
            self.parsed = (0..strings.len()).map(|k| parse(if strings.is_null(k) { "-" } else { strings.value(k) })).collect();
            self.source = Some(values.clone());
        }
        &self.parsed
    }
}

/// A text column of one batch: dictionary keys and the dictionary's strings, or plain strings.
enum Text<'b> {
    Dict { keys: &'b [i32], nulls: Option<&'b NullBuffer>, values: &'b StringArray },
    Plain(&'b StringArray),
    Missing,
}

fn dictionary(arr: Option<&ArrayRef>) -> Option<(&[i32], Option<&NullBuffer>, &ArrayRef)> {
    let d = arr?.as_dictionary_opt::<Int32Type>()?;
    d.values().as_string_opt::<i32>()?;
    Some((d.keys().values().as_ref(), d.keys().nulls(), d.values()))
}

impl<'b> Text<'b> {
    fn new(arr: Option<&'b ArrayRef>) -> Text<'b> {
        if let Some((keys, nulls, values)) = dictionary(arr) {
            return Text::Dict { keys, nulls, values: values.as_string::<i32>() };
        }
        match arr.and_then(|a| a.as_string_opt::<i32>()) {
            Some(a) => Text::Plain(a),
            None => Text::Missing,
        }
    }

    fn get(&self, i: usize) -> Option<&'b str> {
        let s = match self {
            Text::Dict { keys, nulls, values } => {
                if nulls.is_some_and(|n| n.is_null(i)) {
                    return None;
                }
                values.value(keys[i] as usize)
            }
            Text::Plain(a) => {
                if a.is_null(i) {
                    return None;
                }
                a.value(i)
            }
            Text::Missing => return None,
        };
        (s != "-" && !s.is_empty()).then_some(s)
    }
}

/// A column whose distinct texts are parsed once per dictionary (addresses, enums).
enum Coded<'b, T> {
    Dict { keys: &'b [i32], nulls: Option<&'b NullBuffer>, parsed: &'b [T] },
    Plain(&'b StringArray, fn(&str) -> T),
    Missing,
}

impl<'b, T: Clone> Coded<'b, T> {
    fn new(arr: Option<&'b ArrayRef>, cache: &'b mut DictCache<T>, parse: fn(&str) -> T) -> Coded<'b, T> {
        if let Some((keys, nulls, values)) = dictionary(arr) {
            return Coded::Dict { keys, nulls, parsed: cache.parsed_for(values, parse) };
        }
        match arr.and_then(|a| a.as_string_opt::<i32>()) {
            Some(a) => Coded::Plain(a, parse),
            None => Coded::Missing,
        }
    }

    fn get(&self, i: usize) -> Option<T> {
        match self {
            Coded::Dict { keys, nulls, parsed } => (!nulls.is_some_and(|n| n.is_null(i))).then(|| parsed[keys[i] as usize].clone()),
            Coded::Plain(a, parse) => (!a.is_null(i)).then(|| parse(a.value(i))),
            Coded::Missing => None,
        }
    }
}

enum Int<'b> {
    I32(&'b [i32], Option<&'b NullBuffer>),
    I64(&'b [i64], Option<&'b NullBuffer>),
    Missing,
}

impl<'b> Int<'b> {
    fn new(arr: Option<&'b ArrayRef>) -> Int<'b> {
        let Some(a) = arr else { return Int::Missing };
        if let Some(x) = a.as_primitive_opt::<Int32Type>() {
            return Int::I32(x.values().as_ref(), x.nulls());
        }
        if let Some(x) = a.as_primitive_opt::<Int64Type>() {
            return Int::I64(x.values().as_ref(), x.nulls());
        }
        Int::Missing
    }

    fn get(&self, i: usize) -> Option<i64> {
        match self {
            Int::I32(v, n) => (!n.is_some_and(|n| n.is_null(i))).then(|| i64::from(v[i])),
            Int::I64(v, n) => (!n.is_some_and(|n| n.is_null(i))).then(|| v[i]),
            Int::Missing => None,
        }
    }
}

/// Parsed values kept across the batches of one reader.
#[derive(Default)]
struct Caches {
    addrs: [DictCache<Parsed<Ip>>; 4],
    action: DictCache<Parsed<Action>>,
    log_status: DictCache<Parsed<LogStatus>>,
    flow_direction: DictCache<Parsed<Direction>>,
}

struct Columns<'b> {
    interface_id: Text<'b>,
    resource_id: Text<'b>,
    interface_type: Text<'b>,
    az_id: Text<'b>,
    vpc_id: Text<'b>,
    subnet_id: Text<'b>,
    instance_id: Text<'b>,
    src_service: Text<'b>,
    dst_service: Text<'b>,
    addrs: [Coded<'b, Parsed<Ip>>; 4],
    action: Coded<'b, Parsed<Action>>,
    log_status: Coded<'b, Parsed<LogStatus>>,
    flow_direction: Coded<'b, Parsed<Direction>>,
    ints: [Int<'b>; 8],
}

const INT_FIELDS: [Field; 8] = [Field::Srcport, Field::Dstport, Field::Protocol, Field::Packets, Field::Bytes, Field::Start, Field::End, Field::TrafficPath];
const ADDR_FIELDS: [Field; 4] = [Field::Srcaddr, Field::Dstaddr, Field::PktSrcaddr, Field::PktDstaddr];

impl<'b> Columns<'b> {
    fn new(batch: &'b RecordBatch, caches: &'b mut Caches) -> Columns<'b> {
        let schema = batch.schema();
        let col = |f: Field| schema.fields().iter().position(|c| Field::from_name(c.name()) == Some(f)).map(|i| batch.column(i));
        let [a0, a1, a2, a3] = &mut caches.addrs;
        Columns {
            interface_id: Text::new(col(Field::InterfaceId)),
            resource_id: Text::new(col(Field::ResourceId)),
            interface_type: Text::new(col(Field::InterfaceType)),
            az_id: Text::new(col(Field::AzId)),
            vpc_id: Text::new(col(Field::VpcId)),
            subnet_id: Text::new(col(Field::SubnetId)),
            instance_id: Text::new(col(Field::InstanceId)),
            src_service: Text::new(col(Field::PktSrcAwsService)),
            dst_service: Text::new(col(Field::PktDstAwsService)),
            addrs: [
                Coded::new(col(ADDR_FIELDS[0]), a0, ip_value),
                Coded::new(col(ADDR_FIELDS[1]), a1, ip_value),
                Coded::new(col(ADDR_FIELDS[2]), a2, ip_value),
                Coded::new(col(ADDR_FIELDS[3]), a3, ip_value),
            ],
            action: Coded::new(col(Field::Action), &mut caches.action, action_value),
            log_status: Coded::new(col(Field::LogStatus), &mut caches.log_status, status_value),
            flow_direction: Coded::new(col(Field::FlowDirection), &mut caches.flow_direction, direction_value),
            ints: INT_FIELDS.map(|f| Int::new(col(f))),
        }
    }

    fn record(&self, i: usize) -> Result<FlowRecord<'b>, String> {
        fn take<T>(v: Option<Parsed<T>>, field: Field, expected: &str) -> Result<Option<T>, String> {
            match v {
                None | Some(Ok(None)) => Ok(None),
                Some(Ok(x)) => Ok(x),
                Some(Err(text)) => Err(format!("column `{}` is `{text}`: expected {expected}", field.parquet_name())),
            }
        }
        let int = |k: usize| self.ints[k].get(i);
        let bad_int = |k: usize, v: i64, expected: &str| format!("column `{}` is `{v}`: expected {expected}", INT_FIELDS[k].parquet_name());
        let small = |k: usize, max: i64, expected: &str| -> Result<Option<i64>, String> {
            match int(k) {
                Some(v) if !(0..=max).contains(&v) => Err(bad_int(k, v, expected)),
                v => Ok(v),
            }
        };
        let epoch = |v: i64| if v > 100_000_000_000 { v / 1000 } else { v };
        let mut addrs = [None; 4];
        for (k, a) in self.addrs.iter().enumerate() {
            addrs[k] = take(a.get(i), ADDR_FIELDS[k], "an IP address")?;
        }
        Ok(FlowRecord {
            interface_id: self.interface_id.get(i),
            resource_id: self.resource_id.get(i),
            interface_type: self.interface_type.get(i),
            az_id: self.az_id.get(i),
            vpc_id: self.vpc_id.get(i),
            subnet_id: self.subnet_id.get(i),
            instance_id: self.instance_id.get(i),
            srcaddr: addrs[0],
            dstaddr: addrs[1],
            pkt_srcaddr: addrs[2],
            pkt_dstaddr: addrs[3],
            srcport: small(0, 65535, "a port")?.map(|v| v as u16),
            dstport: small(1, 65535, "a port")?.map(|v| v as u16),
            protocol: small(2, 255, "a protocol number")?.map(|v| v as u8),
            packets: small(3, i64::MAX, "a count")?.map(|v| v as u64),
            bytes: small(4, i64::MAX, "a count")?.map(|v| v as u64),
            start: int(5).map(epoch),
            end: int(6).map(epoch),
            traffic_path: small(7, 255, "a number 1–8")?.map(|v| v as u8),
            action: take(self.action.get(i), Field::Action, "`ACCEPT` or `REJECT`")?,
            log_status: take(self.log_status.get(i), Field::LogStatus, "`OK`, `NODATA` or `SKIPDATA`")?,
            flow_direction: take(self.flow_direction.get(i), Field::FlowDirection, "`ingress` or `egress`")?,
            pkt_src_aws_service: self.src_service.get(i),
            pkt_dst_aws_service: self.dst_service.get(i),
            extra_records: 0,
        })
    }
}
