//! One VPC flow-log record, as read from text or Parquet, and the sink readers feed.

use super::ip::Ip;
use super::time::Ts;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Accept,
    Reject,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogStatus {
    Ok,
    NoData,
    SkipData,
}

/// A record with every field optional, as `-` or a custom format may leave any out.
#[derive(Clone, Copy, Debug, Default)]
pub struct FlowRecord<'a> {
    pub interface_id: Option<&'a str>,
    pub resource_id: Option<&'a str>,
    pub interface_type: Option<&'a str>,
    pub az_id: Option<&'a str>,
    pub vpc_id: Option<&'a str>,
    pub subnet_id: Option<&'a str>,
    pub instance_id: Option<&'a str>,
    pub srcaddr: Option<Ip>,
    pub dstaddr: Option<Ip>,
    pub pkt_srcaddr: Option<Ip>,
    pub pkt_dstaddr: Option<Ip>,
    pub srcport: Option<u16>,
    pub dstport: Option<u16>,
    pub protocol: Option<u8>,
    pub packets: Option<u64>,
    pub bytes: Option<u64>,
    pub start: Option<Ts>,
    pub end: Option<Ts>,
    pub action: Option<Action>,
    pub log_status: Option<LogStatus>,
    pub flow_direction: Option<Direction>,
    pub traffic_path: Option<u8>,
    /// The ip-ranges.json subset of pkt-srcaddr / pkt-dstaddr (`S3`, `AMAZON`, …), when the format has it.
    pub pkt_src_aws_service: Option<&'a str>,
    pub pkt_dst_aws_service: Option<&'a str>,
    /// Records beyond this one that a pre-aggregated row stands for (`records - 1`); 0 for a record.
    pub extra_records: u64,
}

/// Why a record was not counted in a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// The line could not be parsed.
    Malformed,
    /// The file ended inside the record (truncated gzip).
    Truncated,
    /// All records of a file whose format crossaz cannot use.
    UnusableFormat,
    /// A line longer than any flow-log record (`text::max_line_bytes`): skipped unread.
    LineTooLong,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Malformed => "malformed",
            SkipReason::Truncated => "truncated",
            SkipReason::UnusableFormat => "unusable-format",
            SkipReason::LineTooLong => "line-too-long",
        }
    }
}

/// What a reader knows about the format of the records it is about to hand over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FormatTraits {
    /// The format has pkt-srcaddr and pkt-dstaddr, so pods on the recording side can be named.
    pub has_pkt_addresses: bool,
    pub has_flow_direction: bool,
    /// The format has pkt-src-aws-service and pkt-dst-aws-service.
    pub has_aws_service: bool,
}

/// Where readers deliver records; implemented by the attribution engine.
pub trait FlowSink {
    fn set_format(&mut self, traits: FormatTraits);
    fn record(&mut self, record: &FlowRecord<'_>, line: u64);
    fn skip(&mut self, reason: SkipReason, line: u64, detail: &str, records: u64);
    /// Bytes of the (compressed) input consumed, for progress.
    fn progress(&mut self, _bytes: u64) {}
}
