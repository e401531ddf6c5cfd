//! Text flow logs as AWS delivers them to S3 (plain or gzip): a header line naming the fields,
//! then one space-separated record per line. Lines are read in large blocks and split in place.

use super::format::{Field, Format, is_transit_gateway_field, suggestion};
use crate::error::InputProblem;
use crate::model::flow::{Action, Direction, FlowRecord, FlowSink, FormatTraits, LogStatus, SkipReason};
use crate::model::ip::Ip;
use flate2::read::MultiGzDecoder;
use std::io::{self, Read};
use std::path::Path;

/// What reading one file produced besides records: problems (errors) and warnings.
#[derive(Default, Debug)]
pub struct FileOutcome {
    pub problems: Vec<InputProblem>,
    pub warnings: Vec<InputProblem>,
}

struct Counting<R> {
    inner: R,
    pending: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pending += n as u64;
        Ok(n)
    }
}

const BLOCK: usize = 1 << 20;

/// The longest line read as a record: flow-log lines are a few hundred bytes, so a longer one is
/// damage (or a decompression bomb) and is skipped without being held. `CROSSAZ_MAX_LINE_BYTES`
/// sets another limit.
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 << 10;

pub fn max_line_bytes() -> usize {
    std::env::var("CROSSAZ_MAX_LINE_BYTES").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(DEFAULT_MAX_LINE_BYTES)
}

/// A gzip member inflating more than this many times is no flow-log file (they inflate 5–20×):
/// reported, and still read as a stream.
pub const MAX_INFLATE_RATIO: u64 = 200;

/// Reads a text flow-log file into `sink`. `assumed` is the format of a file without a header.
pub fn read_text_file(path: &Path, assumed: &Format, assumed_is_default: bool, sink: &mut dyn FlowSink) -> FileOutcome {
    let mut out = FileOutcome::default();
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            out.problems.push(InputProblem::new(path, None, format!("cannot open: {e}")));
            return out;
        }
    };
    let mut head = [0u8; 2];
    let mut counting = Counting { inner: file, pending: 0 };
    let n = match counting.read(&mut head) {
        Ok(n) => n,
        Err(e) => {
            out.problems.push(InputProblem::new(path, None, format!("cannot read: {e}")));
            return out;
        }
    };
    if n == 0 {
        out.problems.push(
            InputProblem::new(path, None, "the file is empty; expected flow-log records")
                .with_hint("an S3 flow-log object always has at least a header line; check that the download completed"),
        );
        return out;
    }
    let gz = n == 2 && head == [0x1f, 0x8b];
    let prefix = io::Cursor::new(head[..n].to_vec());
    let chained = prefix.chain(counting);
    let mut reader: Box<dyn Read> = if gz { Box::new(MultiGzDecoder::new(chained)) } else { Box::new(chained) };
    let mut parser = LineParser::new(path, assumed.clone(), assumed_is_default);
    sink.set_format(parser.traits());
    let limit = max_line_bytes();
    // The buffer holds whole lines of up to `limit` bytes and a block more; it never grows.
    let mut buf = vec![0u8; BLOCK.max(limit + 1) + BLOCK];
    let mut filled = 0usize;
    let mut saw_any = false;
    // Inside a line longer than the limit: its bytes are dropped until its newline.
    let mut skipping: Option<u64> = None;
    let mut inflated = 0u64;
    loop {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => {
                if let Some(len) = skipping {
                    parser.too_long(len, sink);
                } else if filled > 0 {
                    parser.line_bounded(&buf[..filled], limit, sink, &mut out);
                }
                break;
            }
            Ok(k) => {
                saw_any = true;
                inflated += k as u64;
                let end = filled + k;
                let Some(first_nl) = memchr::memchr(b'\n', &buf[filled..end]).map(|p| p + filled) else {
                    // No newline yet: a line over the limit is counted and dropped as it comes.
                    match &mut skipping {
                        Some(len) => *len += k as u64,
                        None if end > limit => skipping = Some(end as u64),
                        None => {}
                    }
                    filled = if skipping.is_some() { 0 } else { end };
                    continue;
                };
                let mut from = 0;
                if let Some(len) = skipping.take() {
                    parser.too_long(len + (first_nl - filled) as u64, sink);
                    from = first_nl + 1;
                }
                let last_nl = memchr::memrchr(b'\n', &buf[from..end]).map_or(first_nl, |p| p + from);
                if from <= last_nl {
                    let base = from;
                    for nl in memchr::memchr_iter(b'\n', &buf[base..=last_nl]).map(|p| p + base) {
                        parser.line_bounded(&buf[from..nl], limit, sink, &mut out);
                        from = nl + 1;
                    }
                }
                buf.copy_within(from.min(end)..end, 0);
                filled = end - from.min(end);
                if filled > limit {
                    skipping = Some(filled as u64);
                    filled = 0;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let partial = filled > 0 || skipping.is_some();
                if partial {
                    parser.line_no += 1;
                    sink.skip(SkipReason::Truncated, parser.line_no, "the line is cut off where the file ends", 1);
                }
                let what = if gz {
                    format!(
                        "the gzip stream is truncated or corrupt after line {} ({e}); the {} records before it were read",
                        parser.line_no - u64::from(partial),
                        parser.records
                    )
                } else {
                    format!("cannot read after line {}: {e}", parser.line_no)
                };
                out.problems.push(
                    InputProblem::new(path, Some(parser.line_no), what)
                        .with_hint("download the object again; crossaz counted every complete record before the damage"),
                );
                break;
            }
        }
    }
    if gz {
        let compressed = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0).max(1);
        if inflated / compressed > MAX_INFLATE_RATIO {
            out.warnings.push(
                InputProblem::new(
                    path,
                    None,
                    format!(
                        "the gzip file inflates {}× ({compressed} bytes to {inflated}), more than any flow-log file ({MAX_INFLATE_RATIO}× at most): a decompression bomb or a corrupt object",
                        inflated / compressed
                    ),
                )
                .with_hint("it was read as a stream and its lines were counted; check where the object came from"),
            );
        }
    }
    if !saw_any && gz {
        out.problems.push(InputProblem::new(path, None, "the gzip file holds no data"));
    } else if parser.records == 0 && parser.line_no == 0 && out.problems.is_empty() {
        out.problems.push(InputProblem::new(path, None, "the file is empty; expected flow-log records"));
    }
    out
}

/// The format a file's header line names, or `None` when its first line is a record.
pub fn header_format(path: &Path) -> Result<Option<Format>, InputProblem> {
    use std::io::BufRead;
    let reader = crate::sources::open_maybe_gz(path)?;
    let mut line = String::new();
    let mut r = io::BufReader::new(reader.take(64 * 1024));
    r.read_line(&mut line).map_err(|e| InputProblem::new(path, Some(1), format!("cannot read: {e}")))?;
    let first = line.split_ascii_whitespace().next().unwrap_or("");
    if !is_header_token(first.as_bytes()) {
        return Ok(None);
    }
    Ok(Format::from_names(line.split_ascii_whitespace()).ok())
}

/// Splits lines into records, following header lines as they come.
pub struct LineParser<'p> {
    path: &'p Path,
    format: Format,
    /// Why this format cannot be used, once said.
    unusable: Option<String>,
    default_format: bool,
    pub line_no: u64,
    pub records: u64,
    warned_header: bool,
}

impl<'p> LineParser<'p> {
    pub fn new(path: &'p Path, format: Format, default_format: bool) -> LineParser<'p> {
        let unusable = format.missing_required().map(|m| format!("the format lacks `{m}`"));
        LineParser { path, format, unusable, default_format, line_no: 0, records: 0, warned_header: false }
    }

    pub fn traits(&self) -> FormatTraits {
        FormatTraits {
            has_pkt_addresses: self.format.has(Field::PktSrcaddr) && self.format.has(Field::PktDstaddr),
            has_flow_direction: self.format.has(Field::FlowDirection),
            has_aws_service: self.format.has(Field::PktSrcAwsService) && self.format.has(Field::PktDstAwsService),
        }
    }

    /// Parses one data line with the current format (for tests and tools).
    pub fn parse_record<'l>(&mut self, line: &'l [u8]) -> Result<FlowRecord<'l>, String> {
        self.record(line).map_err(|e| match e {
            LineError::Count(n) => format!("expected {} fields, found {n}", self.format.len()),
            LineError::Value(m) => m,
        })
    }

    /// A line of `limit` bytes at most is read; a longer one is counted as too long.
    pub fn line_bounded(&mut self, raw: &[u8], limit: usize, sink: &mut dyn FlowSink, out: &mut FileOutcome) {
        if raw.len() > limit {
            self.too_long(raw.len() as u64, sink);
        } else {
            self.line(raw, sink, out);
        }
    }

    /// A line of `len` bytes, over the limit: skipped and counted, never held.
    pub fn too_long(&mut self, len: u64, sink: &mut dyn FlowSink) {
        self.line_no += 1;
        let what = format!("a line of {len} bytes, over the limit of {} (`CROSSAZ_MAX_LINE_BYTES`): no flow-log record is that long", max_line_bytes());
        sink.skip(SkipReason::LineTooLong, self.line_no, &what, 1);
    }

    pub fn line(&mut self, raw: &[u8], sink: &mut dyn FlowSink, out: &mut FileOutcome) {
        self.line_no += 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let Some(start) = line.iter().position(|b| !b.is_ascii_whitespace()) else {
            return;
        };
        let first_end = memchr::memchr(b' ', &line[start..]).map_or(line.len(), |p| start + p);
        let first = &line[start..first_end];
        if is_header_token(first) {
            self.header(line, sink, out);
            return;
        }
        if let Some(why) = &self.unusable {
            sink.skip(SkipReason::UnusableFormat, self.line_no, why, 1);
            if !out.problems.iter().any(|p| p.path == self.path) {
                out.problems.push(unusable_problem(self.path, self.line_no, why, &self.format));
            }
            return;
        }
        match self.record(line) {
            Ok(rec) => {
                self.records += 1;
                sink.record(&rec, self.line_no);
            }
            Err(LineError::Value(what)) => sink.skip(SkipReason::Malformed, self.line_no, &what, 1),
            Err(LineError::Count(found)) => {
                let what = if first.first() == Some(&b'{') {
                    "the line is JSON, not a flow-log record".to_string()
                } else {
                    format!(
                        "expected {} fields ({}), found {found}",
                        self.format.len(),
                        if self.default_format { "the default format" } else { "as the header says" }
                    )
                };
                let what = if self.default_format && self.line_no == 1 {
                    format!(
                        "{what}; the file has no header line, so the default format was assumed — pass `--flow-log-format` with the format string given to AWS"
                    )
                } else {
                    what
                };
                sink.skip(SkipReason::Malformed, self.line_no, &what, 1);
            }
        }
    }

    fn header(&mut self, line: &[u8], sink: &mut dyn FlowSink, out: &mut FileOutcome) {
        let text = String::from_utf8_lossy(line);
        match Format::from_names(text.split_ascii_whitespace()) {
            Ok(f) => {
                self.default_format = false;
                if f == self.format {
                    return;
                }
                if !self.warned_header {
                    for u in &f.unknown {
                        if !is_transit_gateway_field(u) {
                            out.warnings.push(InputProblem::new(
                                self.path,
                                Some(self.line_no),
                                format!("unknown field `{u}` in the header{}; its column is ignored", suggestion(u)),
                            ));
                        }
                    }
                    self.warned_header = true;
                }
                self.unusable = if f.unknown.iter().any(|u| is_transit_gateway_field(u)) {
                    Some("this is a Transit Gateway flow log, not a VPC flow log".to_string())
                } else {
                    f.missing_required().map(|m| format!("the format lacks `{m}`"))
                };
                self.format = f;
                self.default_format = false;
                sink.set_format(self.traits());
            }
            Err(e) => {
                self.unusable = Some(format!("the header is invalid: {e}"));
            }
        }
    }

    /// One pass over the line: split on spaces (runs count as one), parse the fields crossaz uses.
    fn record<'l>(&self, line: &'l [u8]) -> Result<FlowRecord<'l>, LineError> {
        let mut r = FlowRecord::default();
        let fields = &self.format.fields;
        let mut addrs: [&'l [u8]; 4] = [b"-"; 4];
        let mut first_error: Option<String> = None;
        let mut pos = 0usize;
        let mut from = 0usize;
        let ends = SpaceIter::new(line).chain(std::iter::once(line.len()));
        for end in ends {
            let v = &line[from..end];
            from = end + 1;
            if v.is_empty() {
                continue;
            }
            let field = fields.get(pos).copied().flatten();
            pos += 1;
            let Some(field) = field else { continue };
            if v == b"-" || first_error.is_some() {
                continue;
            }
            if let Err(e) = parse_field(&mut r, &mut addrs, field, v) {
                first_error = Some(e);
            }
        }
        if pos != fields.len() {
            return Err(LineError::Count(pos));
        }
        if let Some(e) = first_error {
            return Err(LineError::Value(e));
        }
        // Addresses repeat (pkt-srcaddr is usually srcaddr): parse each text once.
        let mut parsed: [Option<Ip>; 4] = [None; 4];
        for i in 0..4 {
            let v = addrs[i];
            if v == b"-" {
                continue;
            }
            parsed[i] = match (0..i).find(|&j| addrs[j] == v) {
                Some(j) => parsed[j],
                None => Some(Ip::parse(v).ok_or_else(|| LineError::Value(bad_value(ADDR_FIELDS[i], v, "an IP address")))?),
            };
        }
        [r.srcaddr, r.dstaddr, r.pkt_srcaddr, r.pkt_dstaddr] = parsed;
        Ok(r)
    }
}

/// Positions of the spaces in a line, eight bytes at a time (fewer branches than a byte loop).
struct SpaceIter<'a> {
    line: &'a [u8],
    base: usize,
    mask: u64,
}

impl<'a> SpaceIter<'a> {
    fn new(line: &'a [u8]) -> SpaceIter<'a> {
        let mut it = SpaceIter { line, base: 0, mask: 0 };
        it.mask = it.word_mask(0);
        it
    }

    /// High bit of each byte that is a space, for the eight bytes at `at` (zero-padded at the end).
    fn word_mask(&self, at: usize) -> u64 {
        let rest = &self.line[at.min(self.line.len())..];
        let w = if rest.len() >= 8 {
            u64::from_le_bytes(rest[..8].try_into().expect("eight bytes"))
        } else {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            u64::from_le_bytes(b)
        };
        const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
        let x = w ^ 0x2020_2020_2020_2020;
        !(((x & LOW7) + LOW7) | x | LOW7)
    }
}

impl Iterator for SpaceIter<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        loop {
            if self.mask != 0 {
                let i = self.base + (self.mask.trailing_zeros() / 8) as usize;
                self.mask &= self.mask - 1;
                return (i < self.line.len()).then_some(i);
            }
            self.base += 8;
            if self.base >= self.line.len() {
                return None;
            }
            self.mask = self.word_mask(self.base);
        }
    }
}

pub enum LineError {
    /// The number of fields found.
    Count(usize),
    Value(String),
}

const ADDR_FIELDS: [Field; 4] = [Field::Srcaddr, Field::Dstaddr, Field::PktSrcaddr, Field::PktDstaddr];

fn bad_value(field: Field, v: &[u8], expected: &str) -> String {
    format!("field `{}` is `{}`: expected {expected}", field.name(), String::from_utf8_lossy(v))
}

fn parse_field<'l>(r: &mut FlowRecord<'l>, addrs: &mut [&'l [u8]; 4], field: Field, v: &'l [u8]) -> Result<(), String> {
    let bad = |expected: &str| bad_value(field, v, expected);
    let text = || utf8(v).ok_or_else(|| bad("text"));
    match field {
        Field::InterfaceId => r.interface_id = Some(text()?),
        Field::ResourceId => r.resource_id = Some(text()?),
        Field::InterfaceType => r.interface_type = Some(text()?),
        Field::AzId => r.az_id = Some(text()?),
        Field::VpcId => r.vpc_id = Some(text()?),
        Field::SubnetId => r.subnet_id = Some(text()?),
        Field::InstanceId => r.instance_id = Some(text()?),
        Field::PktSrcAwsService => r.pkt_src_aws_service = Some(text()?),
        Field::PktDstAwsService => r.pkt_dst_aws_service = Some(text()?),
        Field::Srcaddr => addrs[0] = v,
        Field::Dstaddr => addrs[1] = v,
        Field::PktSrcaddr => addrs[2] = v,
        Field::PktDstaddr => addrs[3] = v,
        Field::Srcport => r.srcport = Some(parse_uint(v).and_then(|x| u16::try_from(x).ok()).ok_or_else(|| bad("a port (0–65535)"))?),
        Field::Dstport => r.dstport = Some(parse_uint(v).and_then(|x| u16::try_from(x).ok()).ok_or_else(|| bad("a port (0–65535)"))?),
        Field::Protocol => r.protocol = Some(parse_uint(v).and_then(|x| u8::try_from(x).ok()).ok_or_else(|| bad("a protocol number (0–255)"))?),
        Field::Packets => r.packets = Some(parse_uint(v).ok_or_else(|| bad("a whole number"))?),
        Field::Bytes => r.bytes = Some(parse_uint(v).ok_or_else(|| bad("a whole number"))?),
        Field::Start => r.start = Some(parse_epoch(v).ok_or_else(|| bad("Unix seconds"))?),
        Field::End => r.end = Some(parse_epoch(v).ok_or_else(|| bad("Unix seconds"))?),
        Field::TrafficPath => r.traffic_path = Some(parse_uint(v).and_then(|x| u8::try_from(x).ok()).ok_or_else(|| bad("a number 1–8"))?),
        Field::Action => {
            r.action = Some(match v {
                b"ACCEPT" => Action::Accept,
                b"REJECT" => Action::Reject,
                _ => return Err(bad("`ACCEPT`, `REJECT` or `-`")),
            })
        }
        Field::LogStatus => {
            r.log_status = Some(match v {
                b"OK" => LogStatus::Ok,
                b"NODATA" => LogStatus::NoData,
                b"SKIPDATA" => LogStatus::SkipData,
                _ => return Err(bad("`OK`, `NODATA` or `SKIPDATA`")),
            })
        }
        Field::FlowDirection => {
            r.flow_direction = Some(match v {
                b"ingress" => Direction::Ingress,
                b"egress" => Direction::Egress,
                _ => return Err(bad("`ingress`, `egress` or `-`")),
            })
        }
        // Fields crossaz does not use are not checked.
        _ => {}
    }
    Ok(())
}

fn is_header_token(t: &[u8]) -> bool {
    t.starts_with(b"${") || (t.first().is_some_and(u8::is_ascii_alphabetic) && Field::from_bytes(t).is_some())
}

fn unusable_problem(path: &Path, line: u64, why: &str, format: &Format) -> InputProblem {
    let hint = if why.contains("Transit Gateway") {
        "crossaz reads VPC flow logs; leave Transit Gateway flow logs out of `--flow-logs`".to_string()
    } else {
        format!(
            "records of format `{}` cannot be attributed; recreate the flow log with the recommended format (see docs/flow-log-format.md)",
            format.describe()
        )
    };
    InputProblem::new(path, Some(line), format!("{why}; its records are skipped")).with_hint(hint)
}

fn utf8(v: &[u8]) -> Option<&str> {
    std::str::from_utf8(v).ok()
}

pub fn parse_uint(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 20 {
        return None;
    }
    let mut x: u64 = 0;
    for &b in v {
        if !b.is_ascii_digit() {
            return None;
        }
        x = x.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(x)
}

/// Unix seconds; millisecond values (as some exporters write) are scaled down.
fn parse_epoch(v: &[u8]) -> Option<i64> {
    let x = i64::try_from(parse_uint(v)?).ok()?;
    Some(if x > 100_000_000_000 { x / 1000 } else { x })
}
