//! Parquet flow logs as AWS delivers them: one column per field, named with underscores
//! (`pkt_srcaddr`), typed per the VPC user guide. Read row group by row group.

use super::format::{Field, Format};
use super::text::FileOutcome;
use crate::error::InputProblem;
use crate::model::flow::{Action, Direction, FlowRecord, FlowSink, FormatTraits, LogStatus, SkipReason};
use crate::model::ip::Ip;
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use std::fs::File;
use std::path::Path;

/// The fields the engine reads; other columns are not decoded.
const WANTED: &[Field] = &[
    Field::InterfaceId,
    Field::ResourceId,
    Field::InterfaceType,
    Field::AzId,
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
];

/// The row groups of a Parquet file, so they can be read in parallel.
pub fn row_groups(path: &Path) -> Result<(usize, u64), InputProblem> {
    let file = File::open(path).map_err(|e| InputProblem::new(path, None, format!("cannot open: {e}")))?;
    let meta = ArrowReaderMetadata::load(&file, Default::default()).map_err(|e| parquet_problem(path, &e))?;
    let md = meta.metadata();
    let rows = md.file_metadata().num_rows().max(0) as u64;
    Ok((md.num_row_groups(), rows))
}

fn parquet_problem(path: &Path, e: &dyn std::fmt::Display) -> InputProblem {
    InputProblem::new(path, None, format!("not a readable Parquet file: {e}"))
        .with_hint("Parquet flow logs are read whole; download the object again if it was cut short")
}

/// Reads the given row groups of one file into `sink`. Row numbers stand in for line numbers.
pub fn read_parquet_row_groups(path: &Path, groups: &[usize], sink: &mut dyn FlowSink) -> FileOutcome {
    let mut out = FileOutcome::default();
    if let Err(p) = read_groups(path, groups, sink, &mut out) {
        out.problems.push(p);
    }
    out
}

fn read_groups(path: &Path, groups: &[usize], sink: &mut dyn FlowSink, out: &mut FileOutcome) -> Result<(), InputProblem> {
    let file = File::open(path).map_err(|e| InputProblem::new(path, None, format!("cannot open: {e}")))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| parquet_problem(path, &e))?;
    let schema = builder.schema().clone();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let format = Format::from_names(names.iter().map(String::as_str)).map_err(|e| InputProblem::new(path, None, format!("invalid columns: {e}")))?;
    let first_row = {
        let md = builder.metadata();
        (0..groups.first().copied().unwrap_or(0)).map(|g| md.row_group(g).num_rows().max(0) as u64).sum::<u64>()
    };
    if let Some(m) = format.missing_required() {
        let rows: u64 = groups.iter().map(|&g| builder.metadata().row_group(g).num_rows().max(0) as u64).sum();
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
    sink.set_format(FormatTraits {
        has_pkt_addresses: format.has(Field::PktSrcaddr) && format.has(Field::PktDstaddr),
        has_flow_direction: format.has(Field::FlowDirection),
    });
    let wanted: Vec<(Field, usize)> = WANTED.iter().filter_map(|f| format.position(*f).map(|p| (*f, p))).collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), wanted.iter().map(|(_, p)| *p));
    let reader = builder
        .with_row_groups(groups.to_vec())
        .with_projection(mask)
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| parquet_problem(path, &e))?;
    let mut row = first_row;
    for batch in reader {
        let batch = batch.map_err(|e| {
            InputProblem::new(path, Some(row + 1), format!("cannot decode the Parquet data after row {row}: {e}"))
                .with_hint("download the object again; crossaz counted every row before the damage")
        })?;
        let cols = Columns::new(&batch, path)?;
        for i in 0..batch.num_rows() {
            row += 1;
            match cols.record(i) {
                Ok(rec) => sink.record(&rec, row),
                Err(what) => sink.skip(SkipReason::Malformed, row, &what, 1),
            }
        }
    }
    Ok(())
}

enum Col {
    Str(StringArray),
    Int(Int64Array),
    Missing,
}

struct Columns {
    cols: Vec<(Field, Col)>,
}

impl Columns {
    fn new(batch: &RecordBatch, path: &Path) -> Result<Columns, InputProblem> {
        let mut cols = Vec::new();
        for (i, f) in batch.schema().fields().iter().enumerate() {
            let Some(field) = Field::from_name(f.name()) else { continue };
            let arr: &ArrayRef = batch.column(i);
            let col = if field.is_integer() {
                let c = arrow_cast::cast(arr, &DataType::Int64)
                    .map_err(|e| InputProblem::new(path, None, format!("column `{}` is not an integer: {e}", f.name())))?;
                Col::Int(c.as_primitive::<Int64Type>().clone())
            } else {
                let c = arrow_cast::cast(arr, &DataType::Utf8)
                    .map_err(|e| InputProblem::new(path, None, format!("column `{}` is not text: {e}", f.name())))?;
                Col::Str(c.as_string::<i32>().clone())
            };
            cols.push((field, col));
        }
        for f in WANTED {
            if !cols.iter().any(|(c, _)| c == f) {
                cols.push((*f, Col::Missing));
            }
        }
        Ok(Columns { cols })
    }

    fn record(&self, i: usize) -> Result<FlowRecord<'_>, String> {
        let mut r = FlowRecord::default();
        for (field, col) in &self.cols {
            match col {
                Col::Missing => {}
                Col::Str(a) => {
                    if a.is_null(i) {
                        continue;
                    }
                    let v = a.value(i);
                    if v == "-" || v.is_empty() {
                        continue;
                    }
                    let bad = |expected: &str| format!("column `{}` is `{v}`: expected {expected}", field.parquet_name());
                    match field {
                        Field::InterfaceId => r.interface_id = Some(v),
                        Field::ResourceId => r.resource_id = Some(v),
                        Field::InterfaceType => r.interface_type = Some(v),
                        Field::AzId => r.az_id = Some(v),
                        Field::Srcaddr => r.srcaddr = Some(Ip::parse_str(v).ok_or_else(|| bad("an IP address"))?),
                        Field::Dstaddr => r.dstaddr = Some(Ip::parse_str(v).ok_or_else(|| bad("an IP address"))?),
                        Field::PktSrcaddr => r.pkt_srcaddr = Some(Ip::parse_str(v).ok_or_else(|| bad("an IP address"))?),
                        Field::PktDstaddr => r.pkt_dstaddr = Some(Ip::parse_str(v).ok_or_else(|| bad("an IP address"))?),
                        Field::Action => {
                            r.action = Some(match v {
                                "ACCEPT" => Action::Accept,
                                "REJECT" => Action::Reject,
                                _ => return Err(bad("`ACCEPT` or `REJECT`")),
                            })
                        }
                        Field::LogStatus => {
                            r.log_status = Some(match v {
                                "OK" => LogStatus::Ok,
                                "NODATA" => LogStatus::NoData,
                                "SKIPDATA" => LogStatus::SkipData,
                                _ => return Err(bad("`OK`, `NODATA` or `SKIPDATA`")),
                            })
                        }
                        Field::FlowDirection => {
                            r.flow_direction = Some(match v {
                                "ingress" => Direction::Ingress,
                                "egress" => Direction::Egress,
                                _ => return Err(bad("`ingress` or `egress`")),
                            })
                        }
                        _ => {}
                    }
                }
                Col::Int(a) => {
                    if a.is_null(i) {
                        continue;
                    }
                    let v = a.value(i);
                    let bad = |expected: &str| format!("column `{}` is `{v}`: expected {expected}", field.parquet_name());
                    match field {
                        Field::Srcport => r.srcport = Some(u16::try_from(v).map_err(|_| bad("a port"))?),
                        Field::Dstport => r.dstport = Some(u16::try_from(v).map_err(|_| bad("a port"))?),
                        Field::Protocol => r.protocol = Some(u8::try_from(v).map_err(|_| bad("a protocol number"))?),
                        Field::Packets => r.packets = Some(u64::try_from(v).map_err(|_| bad("a count"))?),
                        Field::Bytes => r.bytes = Some(u64::try_from(v).map_err(|_| bad("a count"))?),
                        Field::Start => r.start = Some(if v > 100_000_000_000 { v / 1000 } else { v }),
                        Field::End => r.end = Some(if v > 100_000_000_000 { v / 1000 } else { v }),
                        Field::TrafficPath => r.traffic_path = u8::try_from(v).ok(),
                        _ => {}
                    }
                }
            }
        }
        Ok(r)
    }
}
