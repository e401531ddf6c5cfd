//! The measurement: what one attribution pass found in the flow logs — the window, the prices
//! applied, the inputs read, every record accounted for, and the bytes per conversation, day and
//! billed resource. Every analysis (what-ifs, reconciliation, allocation, the review) reads it;
//! the Report (`report/`) composes it with their results.

pub mod build;
pub mod facts;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One attribution pass's result; `build.rs` makes it from the accumulator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub region: Option<String>,
    pub window: WindowInfo,
    pub pricing: PricingInfo,
    pub inputs: InputsInfo,
    pub summary: Summary,
    pub zones: Vec<ZoneInfo>,
    pub conversations: Vec<Conversation>,
    pub daily: Vec<Day>,
    /// Cross-AZ bytes per resource the bill charges (an instance, NAT gateway, load balancer,
    /// database), per day and direction: what per-resource billing lines are compared with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceDay>,
}

/// Which end of the conversations a per-entity total is taken on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The Service (or other server) that served the bytes.
    Server,
    /// The workload (or other client) that asked for them.
    Client,
}

/// One entity's bytes by class over the window, and the distinct peers it talked to.
#[derive(Clone, Debug, Default)]
pub struct EntityBytes {
    pub billed: u64,
    pub free: u64,
    pub same: u64,
    pub other: u64,
    /// (namespace, name) of each conversation's other end.
    pub peers: BTreeSet<(String, String)>,
}

impl Measurement {
    /// Bytes per (namespace, name, kind) on one side of the conversations.
    pub fn by_entity(&self, side: Side) -> BTreeMap<(String, String, String), EntityBytes> {
        let mut groups: BTreeMap<(String, String, String), EntityBytes> = BTreeMap::new();
        for c in &self.conversations {
            let ((ns, name, kind), peer) = match side {
                Side::Server => ((&c.server_namespace, &c.server, &c.server_kind), (&c.client_namespace, &c.client)),
                Side::Client => ((&c.client_namespace, &c.client, &c.client_kind), (&c.server_namespace, &c.server)),
            };
            let e = groups.entry((ns.clone(), name.clone(), kind.clone())).or_default();
            match c.class.as_str() {
                "cross-az-billed" => e.billed += c.bytes,
                "cross-az-free" => e.free += c.bytes,
                "same-az" => e.same += c.bytes,
                _ => e.other += c.bytes,
            }
            e.peers.insert((peer.0.clone(), peer.1.clone()));
        }
        groups
    }

    /// What billed cross-AZ bytes cost at this measurement's rates (both sides), to the cent.
    pub fn billed_cost(&self, bytes: u64) -> Decimal {
        crate::pricing::round_usd(crate::pricing::cost(bytes, self.pricing.both_sides()))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowInfo {
    /// `--from`/`--to` as given (RFC 3339), or null.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Start times of the first and last counted records.
    pub first_record: Option<String>,
    pub last_record: Option<String>,
    /// Hours the window spans: `--from`..`--to` when both are given, else first..last record
    /// start rounded up to whole hours.
    pub hours: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PricingInfo {
    pub out_per_gb_usd: Decimal,
    pub in_per_gb_usd: Decimal,
    pub bytes_per_gb: u64,
    pub source: String,
    /// Which cross-AZ paths AWS bills, in the order they are tried (src/pricing/transfer-rules.json).
    #[serde(default)]
    pub rules: Vec<RuleInfo>,
}

impl PricingInfo {
    /// Out + in per GB: what a billed GB between two AZs costs.
    pub fn both_sides(&self) -> Decimal {
        self.out_per_gb_usd + self.in_per_gb_usd
    }

    /// What a GB between two AZs costs on the path a transfer rule names (`default`,
    /// `rds-clients`, …): out + in when the rule bills both sides, nothing when it is free.
    pub fn per_gb(&self, rule: &str) -> Decimal {
        match self.rules.iter().find(|r| r.id == rule) {
            Some(r) if r.billed == "none" => Decimal::ZERO,
            _ => self.both_sides(),
        }
    }
}

/// One transfer rule, as the report applied it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInfo {
    pub id: String,
    /// `both` ($0.01/GB out + $0.01/GB in) or `none`.
    pub billed: String,
    /// `primary`, `secondary` or `assumption`.
    pub evidence: String,
    pub source: String,
    /// Cross-AZ bytes this rule decided in the window.
    pub bytes: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InputsInfo {
    pub flow_log_files: usize,
    pub flow_log_files_outside_window: usize,
    pub logged_interfaces: usize,
    pub network_files: usize,
    pub interfaces: usize,
    pub subnets: usize,
    pub zones: usize,
    pub k8s_snapshots: usize,
    pub pods: usize,
    pub services: usize,
    pub nodes: usize,
    /// With `--engine athena`: the query that summed the flow logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub athena: Option<AthenaQuery>,
}

/// The Athena query behind a report (`attribute --engine athena`; docs/athena.md).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AthenaQuery {
    pub query_id: String,
    pub workgroup: String,
    pub table: String,
    pub data_scanned_bytes: u64,
    pub usd_per_tb: Decimal,
    /// By the MB scanned, 10 MB minimum, TB = 2^40 bytes.
    pub cost_usd: Decimal,
    pub engine_execution_ms: u64,
    /// Rows of the result (groups of records), and where they were read.
    pub result_rows: u64,
    pub fetched_from: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub records: RecordsInfo,
    pub bytes: BytesByClass,
    pub cross_az_cost_usd: Decimal,
    pub unattributed: UnattributedInfo,
    /// Cross-AZ bytes AWS does not bill, by the rule that made them free.
    #[serde(default)]
    pub free_by_reason: Vec<ReasonBytes>,
    /// Records of VPCs outside the network inventory, by VPC (or flow log): not analysed.
    #[serde(default)]
    pub other_vpcs: Vec<OtherVpcInfo>,
    /// Records left out because a richer flow log recorded the same interface at the same time.
    #[serde(default)]
    pub flow_log_overlaps: Vec<OverlapInfo>,
    /// Billing rules without a primary source that priced bytes in this window.
    #[serde(default)]
    pub assumptions: Vec<String>,
    /// Things the reader of the report should know (missing pkt-* fields, ignored columns, …).
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherVpcInfo {
    /// A VPC id from the records' `vpc-id`, or the flow log (and account) of files without one.
    pub vpc: String,
    pub records: u64,
    pub bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverlapInfo {
    pub flow_log: String,
    pub covered_by: Vec<String>,
    pub records: u64,
    pub bytes: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordsInfo {
    pub read: u64,
    pub counted: u64,
    /// Every record read and not counted, by reason: `read = counted + Σ uncounted.records`.
    pub uncounted: Vec<UncountedInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UncountedInfo {
    /// Stable name: `duplicate`, `no-data`, `skip-data`, `outside-window`, `rejected`, `direction-unknown`,
    /// `gateway-internet-leg`, `malformed`, `truncated`, `unusable-format`, `missing-fields`.
    pub code: String,
    pub reason: String,
    pub records: u64,
    pub bytes: u64,
    /// True for problems with the input (malformed, truncated, unusable), false for records left out by design.
    pub bad_input: bool,
    /// Up to five `file:line — detail` examples.
    pub examples: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BytesByClass {
    pub cross_az_billed: u64,
    pub cross_az_free: u64,
    pub same_az: u64,
    pub internet_other: u64,
    pub unknown_az: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnattributedInfo {
    /// Counted bytes with an `unattributed` client or server.
    pub bytes: u64,
    pub cross_az_billed_bytes: u64,
    pub cost_usd: Decimal,
    /// Share of the cross-AZ cost, in percent.
    pub share_of_cost_pct: Decimal,
    pub reasons: Vec<ReasonBytes>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonBytes {
    pub reason: String,
    pub class: String,
    pub bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneInfo {
    pub id: String,
    pub name: Option<String>,
}

/// Bytes between one client and one server, by zones and class, over the whole window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub client_kind: String,
    pub client_namespace: String,
    pub client: String,
    pub server_kind: String,
    pub server_namespace: String,
    pub server: String,
    pub client_az_id: String,
    pub client_az: String,
    pub server_az_id: String,
    pub server_az: String,
    pub class: String,
    /// The transfer rule that decided a cross-AZ row (`default`, `rds-clients`, `alb-to-target`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing_rule: Option<String>,
    /// For `cross-az-free` rows: the rule that made the bytes free.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_reason: Option<String>,
    pub bytes_to_server: u64,
    pub bytes_to_client: u64,
    pub bytes: u64,
    pub records: u64,
    /// Both sides priced for `cross-az-billed`; zero for every other class.
    pub cost_usd: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Day {
    pub date: String,
    pub cross_az_billed_bytes: u64,
    pub cross_az_free_bytes: u64,
    pub same_az_bytes: u64,
    pub internet_other_bytes: u64,
    pub unknown_az_bytes: u64,
    pub cost_usd: Decimal,
    /// The day's billed cross-AZ bytes by the server that served them, largest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_server: Vec<ServerDay>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerDay {
    pub server_kind: String,
    pub server_namespace: String,
    pub server: String,
    pub cross_az_billed_bytes: u64,
    pub cost_usd: Decimal,
}

/// Cross-AZ bytes that one resource sent (`InterZone-Out`) or received (`InterZone-In`) on one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceDay {
    pub date: String,
    /// `ec2` (a node's or another instance), `nat`, `elb`, `rds`, `vpce`, `eks`, …; `unknown` when
    /// the address was on no interface of the inventory.
    pub resource_kind: String,
    /// The instance ID, NAT gateway ID, load balancer name, DB instance identifier, …
    pub resource_id: String,
    /// `InterZone-Out` or `InterZone-In`.
    pub operation: String,
    /// Bytes on paths AWS bills between AZs.
    pub billed_bytes: u64,
    /// Bytes between AZs on paths AWS does not bill (an ALB and its targets, …).
    pub free_bytes: u64,
}
