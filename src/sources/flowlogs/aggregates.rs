//! `--flow-aggregates`: the result of the pre-aggregation (`queries/flow_aggregates.sql`) as Athena
//! writes it — CSV with a header, every value quoted — read row by row into the same sink as flow
//! logs, each row standing for its `records` (docs/athena.md).

use super::text::FileOutcome;
use super::values::{action_value, direction_value, ip_value, status_value};
use crate::error::InputProblem;
use crate::model::flow::{FlowRecord, FlowSink, FormatTraits, SkipReason};
use std::path::Path;

/// The result's columns; the ones crossaz needs come first.
pub const REQUIRED: [&str; 10] = ["interface_id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "start", "end", "bytes", "records"];
const OPTIONAL: [&str; 13] = [
    "account_id",
    "vpc_id",
    "subnet_id",
    "instance_id",
    "az_id",
    "flow_direction",
    "action",
    "log_status",
    "pkt_srcaddr",
    "pkt_dstaddr",
    "packets",
    "pkt_src_aws_service",
    "pkt_dst_aws_service",
];

/// Columns of the result that are not flow-log fields.
pub const EXTRA: [&str; 2] = ["records", "start_minute"];

/// A result's missing column, named with the column it was likely renamed to.
pub fn missing_column(path: &Path, missing: &str, header: &[String]) -> InputProblem {
    let close = crate::sources::renamed_column(missing, header);
    InputProblem::new(path, Some(1), format!("the flow aggregates lack the column `{missing}`{close}"))
        .with_hint(format!("expected the result of `crossaz athena sql` (columns {}, …; docs/athena.md)", REQUIRED.join(", ")))
}

/// Each row's format, read from the row: a table may hold several formats (a text table's view
/// gives every column, NULL where the format lacks it). AWS fills pkt-srcaddr and flow-direction
/// in every record that has addresses, so NULL there means the field is absent.
pub struct RowTraits {
    columns: FormatTraits,
    last: Option<FormatTraits>,
}

impl RowTraits {
    /// `columns`: which of the fields the result has as columns at all.
    pub fn new(columns: FormatTraits) -> RowTraits {
        RowTraits { columns, last: None }
    }

    /// Tells the sink the row's format when it differs from the previous row's.
    pub fn update(&mut self, r: &FlowRecord<'_>, sink: &mut dyn FlowSink) {
        let no_addresses = r.srcaddr.is_none() && r.dstaddr.is_none();
        let row = FormatTraits {
            has_pkt_addresses: r.pkt_srcaddr.is_some() || r.pkt_dstaddr.is_some() || no_addresses && self.columns.has_pkt_addresses,
            has_flow_direction: r.flow_direction.is_some() || no_addresses && self.columns.has_flow_direction,
            has_aws_service: r.pkt_src_aws_service.is_some() || r.pkt_dst_aws_service.is_some(),
        };
        if self.last != Some(row) {
            sink.set_format(row);
            self.last = Some(row);
        }
    }
}

/// Bytes of a result read as one unit of work (the environment's `CROSSAZ_AGGREGATE_CHUNK_BYTES`
/// changes it, for tests).
pub fn chunk_bytes() -> u64 {
    std::env::var("CROSSAZ_AGGREGATE_CHUNK_BYTES").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(64 << 20)
}

/// Reads the rows that start in bytes `[from, to)` of the file; the header line is read by every
/// unit, its problems reported by the first.
pub fn read_aggregates_file(path: &Path, (from, to): (u64, u64), sink: &mut dyn FlowSink) -> FileOutcome {
    let mut out = FileOutcome::default();
    match read_range(path, from, to) {
        Ok((header, body, body_start)) => read_rows(path, &header, &body, body_start, from == 0, sink, &mut out),
        Err(e) if from == 0 => out.problems.push(e),
        Err(_) => {}
    }
    out
}

/// The header's column names, and the bytes of the lines that start in `[from, to)` with where they start.
pub(crate) fn read_range(path: &Path, from: u64, to: u64) -> Result<(Vec<String>, Vec<u8>, u64), InputProblem> {
    use std::io::{BufRead, Read, Seek, SeekFrom};
    let file = std::fs::File::open(path).map_err(|e| InputProblem::new(path, None, format!("cannot open: {e}")))?;
    let mut r = std::io::BufReader::new(file);
    let mut first = Vec::new();
    r.read_until(b'\n', &mut first).map_err(|e| InputProblem::new(path, Some(1), format!("cannot read the header: {e}")))?;
    let header: Vec<String> = match csv::ReaderBuilder::new().has_headers(false).from_reader(&first[..]).records().next() {
        Some(Ok(h)) => h.iter().map(|c| c.trim().to_ascii_lowercase()).collect(),
        _ => return Err(InputProblem::new(path, Some(1), "no header line: expected the CSV Athena writes, with a header")),
    };
    let header_end = first.len() as u64;
    let start = from.max(header_end);
    if start >= to {
        return Ok((header, Vec::new(), start));
    }
    // A line under `start` that began before it is the previous unit's.
    let begin = if start > header_end {
        r.seek(SeekFrom::Start(start - 1)).map_err(|e| InputProblem::new(path, None, format!("cannot read: {e}")))?;
        let mut partial = Vec::new();
        r.read_until(b'\n', &mut partial).map_err(|e| InputProblem::new(path, None, format!("cannot read: {e}")))?;
        start - 1 + partial.len() as u64
    } else {
        start
    };
    let mut body = Vec::new();
    if begin < to {
        r.by_ref().take(to - begin).read_to_end(&mut body).map_err(|e| InputProblem::new(path, None, format!("cannot read: {e}")))?;
        // Finish the line that crosses `to`.
        if !body.is_empty() && !body.ends_with(b"\n") {
            r.read_until(b'\n', &mut body).map_err(|e| InputProblem::new(path, None, format!("cannot read: {e}")))?;
        }
    }
    Ok((header, body, begin))
}

/// The line number of byte `offset` (1-based), for messages about rows of later units.
fn line_at(path: &Path, offset: u64) -> u64 {
    1 + newlines(path, offset).unwrap_or(0)
}

/// Newlines in the first `upto` bytes of a file.
pub fn newlines(path: &Path, upto: u64) -> std::io::Result<u64> {
    use std::io::Read;
    let mut r = std::fs::File::open(path)?.take(upto);
    let (mut buf, mut n) = (vec![0u8; 1 << 20], 0u64);
    loop {
        match r.read(&mut buf)? {
            0 => return Ok(n),
            k => n += memchr::memchr_iter(b'\n', &buf[..k]).count() as u64,
        }
    }
}

/// A result of `size` bytes cut into units of work of `chunk_bytes` (at least one).
pub fn byte_ranges(size: u64) -> Vec<(u64, u64)> {
    let chunk = chunk_bytes();
    let (mut ranges, mut start) = (Vec::new(), 0);
    while start < size.max(1) {
        let end = (start + chunk).min(size);
        ranges.push((start, end));
        start = end.max(start + 1);
    }
    ranges
}

fn read_rows(path: &Path, header: &[String], body: &[u8], body_start: u64, first_unit: bool, sink: &mut dyn FlowSink, out: &mut FileOutcome) {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(body);
    // Lines are counted from this unit's first line, found once, when a row needs naming.
    let mut first_line: Option<u64> = None;
    let mut line_of = |relative: u64| relative - 1 + *first_line.get_or_insert_with(|| line_at(path, body_start));
    let at = |n: &str| header.iter().position(|c| c == n);
    if let Some(missing) = REQUIRED.iter().find(|n| at(n).is_none()) {
        if first_unit {
            out.problems.push(missing_column(path, missing, header));
        }
        return;
    }
    // Each column's place, found once: the rows are many.
    let [interface_id, srcaddr_at, dstaddr_at, srcport_at, dstport_at, protocol_at, start_at, end_at, bytes_at, records_at] = REQUIRED.map(at);
    let [_account_id, vpc_id, subnet_id, instance_id, az_id, direction_at, action_at, status_at, pkt_src_at, pkt_dst_at, packets_at, src_svc_at, dst_svc_at] =
        OPTIONAL.map(at);
    let mut traits = RowTraits::new(FormatTraits {
        has_pkt_addresses: pkt_src_at.is_some() && pkt_dst_at.is_some(),
        has_flow_direction: direction_at.is_some(),
        has_aws_service: src_svc_at.is_some() && dst_svc_at.is_some(),
    });
    let mut rec = csv::StringRecord::new();
    let mut relative = 0u64;
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                relative += 1;
                let line = line_of(e.position().map(|p| p.line()).unwrap_or(relative));
                sink.skip(SkipReason::Malformed, line, &format!("not CSV: {e}"), 1);
                continue;
            }
        }
        relative = rec.position().map(|p| p.line()).unwrap_or(relative + 1);
        let line = line_of(relative);
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).map(str::trim).filter(|v| !v.is_empty() && *v != "-");
        let number = |i: Option<usize>, name: &str| -> Result<Option<u64>, String> {
            match get(i) {
                None => Ok(None),
                Some(v) => v.parse::<u64>().map(Some).map_err(|_| format!("`{name}` is `{v}`: expected a whole number")),
            }
        };
        let parsed = (|| -> Result<_, String> {
            let records = number(records_at, "records")?.ok_or("`records` is empty: expected the group's record count")?.max(1);
            let ip = |i: Option<usize>, n: &str| {
                get(i).map(|v| ip_value(v).map_err(|t| format!("`{n}` is `{t}`: expected an address"))).transpose().map(Option::flatten)
            };
            let port = |i: Option<usize>, n: &str| {
                number(i, n).and_then(|p| p.map(|p| u16::try_from(p).map_err(|_| format!("`{n}` is `{p}`: expected a port"))).transpose())
            };
            let protocol = number(protocol_at, "protocol")?.map(|p| u8::try_from(p).map_err(|_| format!("`protocol` is `{p}`"))).transpose()?;
            let t = |i: Option<usize>, n: &str| number(i, n).map(|v| v.map(|x| x as i64));
            let action = get(action_at).map(|v| action_value(v).map_err(|t| format!("`action` is `{t}`"))).transpose()?.flatten();
            let log_status = get(status_at).map(|v| status_value(v).map_err(|t| format!("`log_status` is `{t}`"))).transpose()?.flatten();
            let flow_direction = get(direction_at).map(|v| direction_value(v).map_err(|t| format!("`flow_direction` is `{t}`"))).transpose()?.flatten();
            Ok(FlowRecord {
                interface_id: get(interface_id),
                vpc_id: get(vpc_id),
                subnet_id: get(subnet_id),
                instance_id: get(instance_id),
                az_id: get(az_id),
                srcaddr: ip(srcaddr_at, "srcaddr")?,
                dstaddr: ip(dstaddr_at, "dstaddr")?,
                pkt_srcaddr: ip(pkt_src_at, "pkt_srcaddr")?,
                pkt_dstaddr: ip(pkt_dst_at, "pkt_dstaddr")?,
                srcport: port(srcport_at, "srcport")?,
                dstport: port(dstport_at, "dstport")?,
                protocol,
                packets: number(packets_at, "packets")?,
                bytes: number(bytes_at, "bytes")?,
                start: t(start_at, "start")?,
                end: t(end_at, "end")?,
                action,
                log_status,
                flow_direction,
                pkt_src_aws_service: get(src_svc_at),
                pkt_dst_aws_service: get(dst_svc_at),
                extra_records: records - 1,
                ..FlowRecord::default()
            })
        })();
        match parsed {
            Ok(r) => {
                traits.update(&r, sink);
                sink.record(&r, line)
            }
            Err(e) => sink.skip(SkipReason::Malformed, line, &e, 1),
        }
    }
}
