//! The per-record rules: which records count (each flow once), who the client and server are,
//! and which class and billing rule the bytes fall under. One `Accumulator` per unit of work
//! (a file or a few Parquet row groups), absorbed into one per thread; they merge at the end.

use super::coverage::{Coverage, Lossy, minute_of};
use super::resolver::{End, NO_RESOURCE, Recorder, Resolver, Site, Unattributed};
use crate::model::entity::EntityId;
use crate::model::flow::{Action, Direction, FlowRecord, FlowSink, FormatTraits, LogStatus, SkipReason};
use crate::model::inventory::{ANY_VPC, EniIdx, NO_ZONE, ZoneIdx};
use crate::model::ip::Ip;
use crate::model::time::{Ts, day_of, day_start};
use crate::pricing::transfer::RuleIdx;
use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;

/// Where bytes went, as billing sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// Between two AZs and billed (see the transfer rules).
    CrossAzBilled,
    /// Between two AZs on a path AWS does not bill (an ALB and its targets, an interface endpoint, …).
    CrossAzFree,
    SameAz,
    /// One end outside the VPC (internet, AWS public endpoints, other networks).
    InternetOther,
    /// An end whose AZ is not known.
    UnknownAz,
}

impl Class {
    pub const ALL: [Class; 5] = [Class::CrossAzBilled, Class::CrossAzFree, Class::SameAz, Class::InternetOther, Class::UnknownAz];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::CrossAzBilled => "cross-az-billed",
            Class::CrossAzFree => "cross-az-free",
            Class::SameAz => "same-az",
            Class::InternetOther => "internet-other",
            Class::UnknownAz => "unknown-az",
        }
    }
}

/// The rule of keys that are not between two AZs.
pub const NO_RULE: RuleIdx = RuleIdx::MAX;

/// One aggregation cell: a (client, server) conversation, its zones, class, rule, direction and day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub client: EntityId,
    pub server: EntityId,
    pub client_zone: ZoneIdx,
    pub server_zone: ZoneIdx,
    pub class: Class,
    /// The transfer rule that priced a cross-AZ key; [`NO_RULE`] otherwise.
    pub rule: RuleIdx,
    /// Bytes sent by the client to the server (`true`) or back (`false`).
    pub to_server: bool,
    pub day: i32,
    /// For bytes between two AZs: the resources the bill charges for sending (`InterZone-Out`)
    /// and receiving (`InterZone-In`) them; [`NO_RESOURCE`] otherwise or when not known.
    pub sender_resource: EntityId,
    pub receiver_resource: EntityId,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub records: u64,
    pub bytes: u64,
    pub packets: u64,
}

impl Tally {
    fn add(&mut self, bytes: u64, packets: u64, records: u64) {
        self.records += records;
        self.bytes += bytes;
        self.packets += packets;
    }

    pub fn merge(&mut self, o: &Tally) {
        self.records += o.records;
        self.bytes += o.bytes;
        self.packets += o.packets;
    }
}

/// Records not counted in a conversation, by why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Uncounted {
    /// The other side's record of a flow counted from the sender's egress record.
    Duplicate,
    NoData,
    SkipData,
    OutsideWindow,
    Rejected,
    /// No flow-direction and the interface is not in the inventory: cannot tell twins apart.
    DirectionUnknown,
    /// A NAT or transit gateway's own record of the internet leg; the client's interface records it too.
    GatewayInternetLeg,
    /// A record of a VPC outside the network inventory (a shared bucket holds several).
    OtherVpc,
    /// The same record from a second flow log over the same interface.
    OverlappingFlowLog,
    Skipped(SkipReason),
    /// An OK record without bytes, addresses or start time.
    MissingFields,
}

impl Uncounted {
    /// A stable machine name, as in the JSON report.
    pub fn code(self) -> &'static str {
        match self {
            Uncounted::Duplicate => "duplicate",
            Uncounted::NoData => "no-data",
            Uncounted::SkipData => "skip-data",
            Uncounted::OutsideWindow => "outside-window",
            Uncounted::Rejected => "rejected",
            Uncounted::DirectionUnknown => "direction-unknown",
            Uncounted::GatewayInternetLeg => "gateway-internet-leg",
            Uncounted::OtherVpc => "other-vpc",
            Uncounted::OverlappingFlowLog => "overlapping-flow-log",
            Uncounted::Skipped(r) => r.as_str(),
            Uncounted::MissingFields => "missing-fields",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Uncounted::Duplicate => "duplicate (other side of a counted flow)",
            Uncounted::NoData => "NODATA (no traffic in the window)",
            Uncounted::SkipData => "SKIPDATA (AWS skipped records)",
            Uncounted::OutsideWindow => "outside --from/--to",
            Uncounted::Rejected => "REJECT (blocked, not billed)",
            Uncounted::DirectionUnknown => "direction unknown (no flow-direction; interface or instance not in the inventory)",
            Uncounted::GatewayInternetLeg => "NAT/transit gateway's internet leg (counted at the client)",
            Uncounted::OtherVpc => "another VPC (not in the network inventory): not analysed",
            Uncounted::OverlappingFlowLog => "also recorded by a richer flow log over the same interface",
            Uncounted::Skipped(SkipReason::Malformed) => "malformed",
            Uncounted::Skipped(SkipReason::Truncated) => "truncated",
            Uncounted::Skipped(SkipReason::UnusableFormat) => "unusable format",
            Uncounted::Skipped(SkipReason::LineTooLong) => "line too long to be a flow-log record",
            Uncounted::MissingFields => "missing bytes, address or start",
        }
    }

    /// Problems with the input, as opposed to records that are left out by design.
    pub fn is_bad_input(self) -> bool {
        matches!(self, Uncounted::Skipped(_) | Uncounted::MissingFields)
    }
}

/// Up to this many `file:line` examples are kept per reason.
const EXAMPLES: usize = 5;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    pub file: u32,
    pub line: u64,
    pub detail: String,
}

/// Options that shape the pass.
#[derive(Clone, Copy, Debug, Default)]
pub struct Window {
    pub from: Option<Ts>,
    pub to: Option<Ts>,
}

/// An interface as the overlap check keys it: a hash of its id.
pub type IfaceKey = u64;

pub fn iface_key(id: &str) -> IfaceKey {
    let mut h = FxHasher::default();
    id.hash(&mut h);
    h.finish()
}

/// What a pass knows before it starts, shared by every accumulator.
#[derive(Clone, Default)]
pub struct PassContext {
    pub window: Window,
    /// Interface coverage of the richer flow logs read in earlier waves (two logs over one interface).
    pub prior_logs: std::sync::Arc<Vec<Coverage<IfaceKey>>>,
    /// Record interface coverage for later waves.
    pub track_interfaces: bool,
}

/// Tallies of records left out because they belong to another VPC.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OtherVpc {
    pub records: u64,
    pub bytes: u64,
}

/// A held-back ingress record: counted only if its sender was not logged at that minute.
type PendingKey = (Key, Ip, i64);

/// Source and destination ports of a record.
type Ports = (Option<u16>, Option<u16>);

/// A record of a flow log without pkt-* fields, held until its unit ends to meet its twin.
struct Held {
    /// Its cell by what it knows alone, and its sender's probe address (for ingress records).
    key: Key,
    probe: Ip,
    start: Ts,
    bytes: u64,
    packets: u64,
    /// Records it stands for (pre-aggregated rows stand for several).
    records: u64,
    egress: bool,
    eni: Option<EniIdx>,
    /// The other end's true address, and who held it.
    remote_ip: Ip,
    remote: End,
    ports: Ports,
    proto: u8,
    vpc: crate::model::inventory::VpcIdx,
}

pub struct Accumulator<'r, 'a> {
    resolver: &'r Resolver<'a>,
    ctx: PassContext,
    file: u32,
    traits: FormatTraits,
    /// This file already counted among those without pkt-* fields.
    file_marked_node_level: bool,
    pub(crate) counted: FxHashMap<Key, Tally>,
    pending: FxHashMap<PendingKey, Tally>,
    held: Vec<Held>,
    /// Held records whose twin was not in their unit.
    leftover: Vec<Held>,
    /// Addresses seen sending (egress records), minute by minute.
    senders: Coverage<Ip>,
    /// SKIPDATA windows, by interface.
    skipdata: Vec<(Option<EniIdx>, String, Ts, Ts)>,
    /// Addresses of interfaces missing from the inventory, as their own records show them, with
    /// the first and last time seen.
    learned_addrs: FxHashMap<(String, Ip), (Ts, Ts)>,
    /// Stand-ins for addresses on no interface of the inventory, named after the pass from the
    /// interfaces that recorded them (see [`Accumulator::settle`]).
    placeholders: FxHashMap<Ip, EntityId>,
    /// Interfaces covered by this accumulator's records (for the overlap check of later waves).
    pub(crate) interfaces: Coverage<IfaceKey>,
    logged_enis: FxHashSet<EniIdx>,
    logged_unknown_enis: FxHashSet<String>,
    pub(crate) uncounted: BTreeMap<Uncounted, Tally>,
    pub(crate) examples: BTreeMap<Uncounted, Vec<Example>>,
    pub(crate) other_vpcs: BTreeMap<String, OtherVpc>,
    /// Records left out as overlapping, by the earlier wave whose flow log covered them.
    pub(crate) overlapped_by: BTreeMap<usize, u64>,
    pub(crate) first_start: Option<Ts>,
    pub(crate) last_start: Option<Ts>,
    pub(crate) node_level_files: FxHashSet<u32>,
    pub(crate) read: u64,
    pub(crate) read_bytes: u64,
    pub(crate) progress_bytes: u64,
    /// Records that tie this unit to the inventory's VPC (a known interface, VPC or subnet), and
    /// records that name an interface the inventory does not know.
    pub(crate) in_scope_evidence: u64,
    pub(crate) unknown_evidence: u64,
    last_az: Option<(String, ZoneIdx)>,
    rules: FxHashMap<(EntityId, EntityId), RuleIdx>,
    unknown_entities: FxHashMap<String, EntityId>,
    /// Bytes NAT gateways forwarded, by gateway, the VPC side's zone and the far end's AWS service.
    pub(crate) nat_far: FxHashMap<NatFar, Tally>,
    /// Some file's format had `pkt-src-aws-service` and `pkt-dst-aws-service`.
    pub saw_aws_service_field: bool,
    /// Records and bytes of pre-aggregated rows (`--flow-aggregates`) whose addresses changed
    /// hands within their minute: attributed at the group's first start, they may belong to another
    /// pod or node (docs/athena.md).
    pub minute_uncertain: (u64, u64),
    /// AWS's ranges looked up once per far address.
    far_services: FxHashMap<Ip, (u16, u16)>,
    /// Records the row being processed stands for: 1, or a pre-aggregated row's count.
    records_now: u64,
}

/// What a NAT gateway's record says about one forwarded flow: the gateway (and its zone), the
/// zone of the VPC side, and the AWS service and region of the far address
/// ([`NOT_AWS`] when it is not in AWS's ranges, or unknown without pkt-* fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NatFar {
    pub nat: EntityId,
    pub nat_zone: ZoneIdx,
    pub client_zone: ZoneIdx,
    pub service: u16,
    pub region: u16,
    /// The far address was known (the format has pkt-srcaddr/pkt-dstaddr).
    pub far_known: bool,
}

pub const NOT_AWS: u16 = u16::MAX;

impl<'r, 'a> Accumulator<'r, 'a> {
    pub fn new(resolver: &'r Resolver<'a>, ctx: PassContext) -> Accumulator<'r, 'a> {
        Accumulator {
            resolver,
            ctx,
            file: 0,
            traits: FormatTraits::default(),
            file_marked_node_level: false,
            counted: FxHashMap::default(),
            pending: FxHashMap::default(),
            held: Vec::new(),
            leftover: Vec::new(),
            senders: Coverage::new(),
            skipdata: Vec::new(),
            learned_addrs: FxHashMap::default(),
            placeholders: FxHashMap::default(),
            interfaces: Coverage::new(),
            logged_enis: FxHashSet::default(),
            logged_unknown_enis: FxHashSet::default(),
            uncounted: BTreeMap::new(),
            examples: BTreeMap::new(),
            other_vpcs: BTreeMap::new(),
            overlapped_by: BTreeMap::new(),
            first_start: None,
            last_start: None,
            node_level_files: FxHashSet::default(),
            read: 0,
            read_bytes: 0,
            progress_bytes: 0,
            in_scope_evidence: 0,
            unknown_evidence: 0,
            last_az: None,
            rules: FxHashMap::default(),
            unknown_entities: FxHashMap::default(),
            nat_far: FxHashMap::default(),
            saw_aws_service_field: false,
            minute_uncertain: (0, 0),
            far_services: FxHashMap::default(),
            records_now: 1,
        }
    }

    pub fn begin_file(&mut self, file: u32) {
        self.file = file;
        self.file_marked_node_level = false;
    }

    fn uncount(&mut self, why: Uncounted, bytes: u64, packets: u64) {
        let n = self.records_now;
        self.uncounted.entry(why).or_default().add(bytes, packets, n);
    }

    fn example(&mut self, why: Uncounted, line: u64, detail: &str) {
        let list = self.examples.entry(why).or_default();
        if list.len() < EXAMPLES {
            list.push(Example { file: self.file, line, detail: detail.to_string() });
        }
    }

    fn zone_by_id(&mut self, az: &str) -> ZoneIdx {
        if let Some((last, z)) = &self.last_az
            && last == az
        {
            return *z;
        }
        let z = self.resolver.zone_by_id(az);
        self.last_az = Some((az.to_string(), z));
        z
    }

    fn rule(&mut self, client: EntityId, server: EntityId) -> RuleIdx {
        let res = self.resolver;
        *self.rules.entry((client, server)).or_insert_with(|| res.rule(client, server))
    }

    fn learn(&mut self, interface_id: &str, ip: Ip, t: Ts) {
        match self.learned_addrs.get_mut(&(interface_id.to_string(), ip)) {
            Some((first, last)) => {
                *first = (*first).min(t);
                *last = (*last).max(t);
            }
            None => {
                self.learned_addrs.insert((interface_id.to_string(), ip), (t, t));
            }
        }
    }

    /// The stand-in for an address on no interface of the inventory.
    fn placeholder(&mut self, ip: Ip) -> EntityId {
        let res = self.resolver;
        *self.placeholders.entry(ip).or_insert_with(|| res.placeholder(ip))
    }

    fn process(&mut self, r: &FlowRecord<'_>, line: u64) {
        let res = self.resolver;
        let inv = res.inv;
        let bytes = r.bytes.unwrap_or(0);
        let packets = r.packets.unwrap_or(0);
        self.read_bytes += bytes;
        // A record of another VPC is not analysed: its addresses may well coincide with ours.
        if let Some(vpc) = r.vpc_id
            && !res.vpcs.is_empty()
        {
            if !res.vpcs.contains(vpc) {
                let o = self.other_vpcs.entry(vpc.to_string()).or_default();
                o.records += self.records_now;
                o.bytes += bytes;
                return self.uncount(Uncounted::OtherVpc, bytes, packets);
            }
            self.in_scope_evidence += 1;
        } else if let Some(subnet) = r.subnet_id
            && res.subnet_ids.contains(subnet)
        {
            self.in_scope_evidence += 1;
        }
        let iface_id = r.interface_id.or(r.resource_id);
        let eni = match iface_id {
            Some(id) => {
                let idx = inv.eni_idx(id);
                match idx {
                    Some(i) => {
                        self.in_scope_evidence += 1;
                        self.logged_enis.insert(i);
                    }
                    None => {
                        self.unknown_evidence += 1;
                        if !self.logged_unknown_enis.contains(id) {
                            self.logged_unknown_enis.insert(id.to_string());
                        }
                    }
                }
                idx
            }
            None => None,
        };
        if let (Some(id), Some(s)) = (iface_id, r.start) {
            let key = iface_key(id);
            if let Some(w) = self.ctx.prior_logs.iter().position(|p| p.has(key, minute_of(s))) {
                *self.overlapped_by.entry(w).or_default() += 1;
                return self.uncount(Uncounted::OverlappingFlowLog, bytes, packets);
            }
            if self.ctx.track_interfaces {
                self.interfaces.mark(key, s, r.end.unwrap_or(s));
            }
        }
        match r.log_status {
            Some(LogStatus::NoData) => return self.uncount(Uncounted::NoData, 0, 0),
            Some(LogStatus::SkipData) => {
                if let (Some(id), Some(s)) = (iface_id, r.start) {
                    self.skipdata.push((eni, id.to_string(), s, r.end.unwrap_or(s)));
                }
                return self.uncount(Uncounted::SkipData, 0, 0);
            }
            _ => {}
        }
        let (Some(start), Some(src), Some(dst), Some(_)) = (r.start, r.srcaddr, r.dstaddr, r.bytes) else {
            let missing = [("start", r.start.is_none()), ("srcaddr", r.srcaddr.is_none()), ("dstaddr", r.dstaddr.is_none()), ("bytes", r.bytes.is_none())]
                .iter()
                .filter(|(_, m)| *m)
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join("`, `");
            self.example(Uncounted::MissingFields, line, &format!("an OK record without `{missing}`"));
            return self.uncount(Uncounted::MissingFields, bytes, packets);
        };
        if self.ctx.window.from.is_some_and(|f| start < f) || self.ctx.window.to.is_some_and(|t| start >= t) {
            return self.uncount(Uncounted::OutsideWindow, bytes, packets);
        }
        if r.extra_records > 0 {
            self.check_minute(r, start, bytes);
        }
        self.first_start = Some(self.first_start.map_or(start, |s| s.min(start)));
        self.last_start = Some(self.last_start.map_or(start, |s| s.max(start)));
        if r.action == Some(Action::Reject) {
            return self.uncount(Uncounted::Rejected, bytes, packets);
        }
        // Without flow-direction: the recording interface's (or instance's) own address is srcaddr
        // on the way out and dstaddr on the way in.
        let owns = |ip: Ip| match (eni, r.instance_id) {
            (Some(e), _) => inv.eni_has_ip(e, ip),
            (None, Some(i)) => inv.enis_of_instance(i).any(|e| inv.eni_has_ip(e, ip)),
            (None, None) => false,
        };
        let direction = r.flow_direction.or_else(|| {
            if owns(src) {
                Some(Direction::Egress)
            } else if owns(dst) {
                Some(Direction::Ingress)
            } else {
                None
            }
        });
        let Some(direction) = direction else {
            self.example(Uncounted::DirectionUnknown, line, "no `flow-direction`, and the recording interface is not in the network inventory");
            return self.uncount(Uncounted::DirectionUnknown, bytes, packets);
        };
        let intermediary = match eni {
            Some(e) => inv.eni(e).owner.is_intermediary(),
            None => {
                r.interface_type.is_some_and(|t| matches!(t, "nat_gateway" | "natGateway" | "transit_gateway" | "regional_nat_gateway"))
                    || (r.interface_id.is_none() && r.resource_id.is_some_and(|id| id.starts_with("nat-")))
            }
        };
        let end_t = r.end.unwrap_or(start);
        let pkt_src = r.pkt_srcaddr.unwrap_or(src);
        let pkt_dst = r.pkt_dstaddr.unwrap_or(dst);
        let (local_ip, remote_ip, hop_remote) = match direction {
            Direction::Egress => (pkt_src, pkt_dst, dst),
            Direction::Ingress => (pkt_dst, pkt_src, src),
        };
        if direction == Direction::Egress && !intermediary {
            // This address was logged sending now: its flows' ingress twins are duplicates.
            self.senders.mark(src, start, end_t);
            if pkt_src != src {
                self.senders.mark(pkt_src, start, end_t);
            }
        }
        if eni.is_none()
            && let Some(id) = iface_id
        {
            let own = if direction == Direction::Egress { src } else { dst };
            self.learn(id, own, start);
            if local_ip != own {
                self.learn(id, local_ip, start);
            }
        }
        let node_level = !self.traits.has_pkt_addresses;
        if node_level && !self.file_marked_node_level {
            self.node_level_files.insert(self.file);
            self.file_marked_node_level = true;
        }
        // The record's VPC: several VPCs of the inventory may use the same addresses.
        let subnet = r.subnet_id.and_then(|s| inv.subnet(s));
        let vpc = r.vpc_id.and_then(|v| inv.vpc_idx(v)).or_else(|| eni.map(|e| inv.eni(e).vpc_idx)).or_else(|| subnet.map(|s| s.vpc)).unwrap_or(ANY_VPC);
        let zone = match (r.az_id, subnet) {
            (Some(az), _) => Some(self.zone_by_id(az)),
            (None, Some(s)) if s.zone != NO_ZONE => Some(s.zone),
            _ => None,
        };
        let recorder = Recorder { interface_id: iface_id, eni, instance_id: r.instance_id, zone };
        let local = match (intermediary, eni) {
            (true, Some(e)) => {
                let mut end = res.interface_end(e);
                if let Some(z) = zone {
                    end.zone = z;
                }
                end
            }
            _ => res.local(local_ip, start, vpc, node_level, &recorder, &mut self.unknown_entities),
        };
        // The other end is the record's true address in every format: named precisely.
        let mut remote = res.resolve(remote_ip, start, vpc, false);
        if remote.site == Site::Unattributed(Unattributed::NoInterface) {
            // Perhaps an interface deleted since the inventory was taken: its own records may name it.
            remote.entity = self.placeholder(remote_ip);
        }
        if remote.site == Site::External && intermediary {
            return self.uncount(Uncounted::GatewayInternetLeg, bytes, packets);
        }
        if intermediary
            && let Some(e) = eni
            && matches!(inv.eni(e).owner, crate::model::inventory::EniOwner::NatGateway { .. })
        {
            self.note_nat_far(r, direction, local, remote.zone, local_ip);
        }
        let (sender, receiver) = match direction {
            Direction::Egress => (local, remote),
            Direction::Ingress => (remote, local),
        };
        let proto = r.protocol.unwrap_or(6);
        let ports = (r.srcport, r.dstport);
        let external = remote.site == Site::External;
        // Without pkt-* fields the recording side is only its interface: whichever pod sent.
        let vague = match (node_level, direction) {
            (false, _) => (false, false),
            (true, Direction::Egress) => (true, false),
            (true, Direction::Ingress) => (false, true),
        };
        let key = self.key(sender, receiver, (pkt_src, pkt_dst), ports, proto, vague, external, (start, vpc));
        // Each flow once: the sender's egress record, or the receiver's ingress record when the
        // sender was not logged at that moment. Nobody addresses a NAT/transit gateway itself, so
        // what one receives has no twin: the sender's record names the final destination instead.
        let counts_now = direction == Direction::Egress || external || intermediary;
        let probe = if node_level { res.primary_for(hop_remote, start, vpc) } else { hop_remote };
        if node_level && !external && !intermediary {
            // Each record knows its own side only as its interface: its twin knows the pod. Held
            // until the unit ends, to be joined with it.
            let records = self.records_now;
            self.held.push(Held {
                key,
                probe,
                start,
                bytes,
                packets,
                records,
                egress: direction == Direction::Egress,
                eni,
                remote_ip,
                remote,
                ports,
                proto,
                vpc,
            });
            return;
        }
        self.count_or_hold(counts_now, key, probe, start, bytes, packets);
    }

    /// A row standing for records that started in one minute is attributed at the first start;
    /// its bytes are uncertain when one of its addresses has another pod or node later in the minute.
    fn check_minute(&mut self, r: &FlowRecord<'_>, start: Ts, bytes: u64) {
        let last = start - start.rem_euclid(60) + 59;
        let tl = self.resolver.timeline;
        let changed = [r.srcaddr, r.dstaddr, r.pkt_srcaddr, r.pkt_dstaddr]
            .into_iter()
            .flatten()
            .any(|ip| tl.pod_at(ip, start) != tl.pod_at(ip, last) || tl.node_by_ip_at(ip, start) != tl.node_by_ip_at(ip, last));
        if changed {
            self.minute_uncertain.0 += 1 + r.extra_records;
            self.minute_uncertain.1 += bytes;
        }
    }

    /// A NAT gateway's record of the VPC side of a flow: which AWS service (if any) the far end
    /// is, from the record's `pkt-*-aws-service` or else AWS's address ranges.
    fn note_nat_far(&mut self, r: &FlowRecord<'_>, direction: Direction, nat: End, client_zone: ZoneIdx, far: Ip) {
        let far_known = self.traits.has_pkt_addresses;
        let ranges = self.resolver.aws_ranges;
        let (mut service, region) = match (far_known, ranges) {
            (true, Some(a)) => *self.far_services.entry(far).or_insert_with(|| a.lookup_index(far).unwrap_or((NOT_AWS, NOT_AWS))),
            _ => (NOT_AWS, NOT_AWS),
        };
        if self.traits.has_aws_service {
            let named = match direction {
                Direction::Ingress => r.pkt_dst_aws_service,
                Direction::Egress => r.pkt_src_aws_service,
            };
            service = named.filter(|n| *n != "-").and_then(|n| ranges.and_then(|a| a.service_index(n))).unwrap_or(NOT_AWS);
        }
        let key = NatFar { nat: nat.entity, nat_zone: nat.zone, client_zone, service, region, far_known };
        self.nat_far.entry(key).or_default().add(r.bytes.unwrap_or(0), r.packets.unwrap_or(0), 1 + r.extra_records);
    }

    /// Counts a record now, or holds an ingress record back until its sender's logging is known.
    fn count_or_hold(&mut self, counts_now: bool, key: Key, probe: Ip, start: Ts, bytes: u64, packets: u64) {
        if counts_now {
            let n = self.records_now;
            self.counted.entry(key).or_default().add(bytes, packets, n);
        } else {
            let n = self.records_now;
            self.pending.entry((key, probe, minute_of(start))).or_default().add(bytes, packets, n);
        }
    }

    /// The conversation cell of bytes from `sender` to `receiver`: who serves (a Service behind
    /// either end, a port a node listens on, else the lower port), the zones, the class and rule.
    #[allow(clippy::too_many_arguments)]
    fn key(
        &mut self,
        sender: End,
        receiver: End,
        (pkt_src, pkt_dst): (Ip, Ip),
        (sport, dport): (Option<u16>, Option<u16>),
        proto: u8,
        (vague_sender, vague_receiver): (bool, bool),
        external: bool,
        (at, vpc): (Ts, crate::model::inventory::VpcIdx),
    ) -> Key {
        let day = day_of(at);
        let res = self.resolver;
        // A vague end (a record's own side without pkt-* fields) is its interface, whatever pod
        // used it: no Service is named on its node then.
        let service_of = |end: &End, vague: bool, ip: Ip, port: Option<u16>| {
            if vague && end.site == Site::Node { None } else { res.service_of(end, ip, port, proto) }
        };
        let (client, server, to_server) = if let Some(svc) = service_of(&receiver, vague_receiver, pkt_dst, dport) {
            (sender, End { entity: svc, ..receiver }, true)
        } else if let Some(svc) = service_of(&sender, vague_sender, pkt_src, sport) {
            (receiver, End { entity: svc, ..sender }, false)
        } else {
            // What a node listens on (its pods' Service ports, NodePorts), then port order: the end
            // on the lower port serves (ephemeral ports are high).
            let receiver_listens = res.listens(&receiver, dport, proto);
            let sender_listens = res.listens(&sender, sport, proto);
            let receiver_serves = match (receiver_listens, sender_listens, sport, dport) {
                (true, false, _, _) => true,
                (false, true, _, _) => false,
                (_, _, Some(s), Some(d)) => d <= s,
                _ => true,
            };
            if receiver_serves { (sender, receiver, true) } else { (receiver, sender, false) }
        };
        let (class, rule) = if external {
            (Class::InternetOther, NO_RULE)
        } else if sender.zone == NO_ZONE || receiver.zone == NO_ZONE {
            (Class::UnknownAz, NO_RULE)
        } else if sender.zone == receiver.zone {
            (Class::SameAz, NO_RULE)
        } else {
            let rule = self.rule(client.entity, server.entity);
            (if res.rules.is_free(rule) { Class::CrossAzFree } else { Class::CrossAzBilled }, rule)
        };
        let (sender_resource, receiver_resource) = if matches!(class, Class::CrossAzBilled | Class::CrossAzFree) {
            (res.billed_resource(&sender, pkt_src, at, vpc), res.billed_resource(&receiver, pkt_dst, at, vpc))
        } else {
            (NO_RESOURCE, NO_RESOURCE)
        };
        Key {
            client: client.entity,
            server: server.entity,
            client_zone: client.zone,
            server_zone: server.zone,
            class,
            rule,
            to_server,
            day,
            sender_resource,
            receiver_resource,
        }
    }

    /// Joins the held records of flow logs without pkt-* fields with their twins: the sender's
    /// egress record knows the receiver's address, the receiver's ingress record the sender's;
    /// together they name both pods. The egress record counts; its twin is the duplicate. Records
    /// without a twin in the unit keep what they know alone (their own side by its node).
    /// Returns the records left without a twin.
    fn join_held(&mut self, held: Vec<Held>) -> Vec<Held> {
        if held.is_empty() {
            return held;
        }
        let res = self.resolver;
        // Ingress records by (ports, protocol, receiving interface).
        let mut ingress: FxHashMap<(Ports, u8, EniIdx), Vec<usize>> = FxHashMap::default();
        for (i, h) in held.iter().enumerate() {
            if let (false, Some(e)) = (h.egress, h.eni) {
                ingress.entry((h.ports, h.proto, e)).or_default().push(i);
            }
        }
        let mut used = vec![false; held.len()];
        for (i, e) in held.iter().enumerate() {
            let (true, Some(sender_eni)) = (e.egress, e.eni) else { continue };
            let Some(receiver_eni) = res.inv.eni_of_ip_at(e.remote_ip, e.start, e.vpc) else { continue };
            let Some(cands) = ingress.get(&(e.ports, e.proto, receiver_eni)) else { continue };
            let twin = cands
                .iter()
                .copied()
                .filter(|&j| !used[j] && (held[j].start - e.start).abs() <= 120)
                .filter(|&j| res.inv.eni_of_ip_at(held[j].remote_ip, held[j].start, e.vpc) == Some(sender_eni))
                .min_by_key(|&j| ((held[j].start - e.start).abs(), j));
            let Some(j) = twin else { continue };
            used[i] = true;
            used[j] = true;
            let (sender, receiver) = (held[j].remote, e.remote);
            let key = self.key(sender, receiver, (held[j].remote_ip, e.remote_ip), e.ports, e.proto, (false, false), false, (e.start, e.vpc));
            self.counted.entry(key).or_default().add(e.bytes, e.packets, e.records);
            self.uncounted.entry(Uncounted::Duplicate).or_default().add(held[j].bytes, held[j].packets, held[j].records);
        }
        held.into_iter().zip(used).filter(|(_, u)| !u).map(|(h, _)| h).collect()
    }

    /// Records without a twin count with what they know alone.
    fn count_alone(&mut self, held: Vec<Held>) {
        for h in held {
            self.records_now = h.records;
            self.count_or_hold(h.egress, h.key, h.probe, h.start, h.bytes, h.packets);
        }
        self.records_now = 1;
    }

    /// Ends a unit of work: ingress records whose sender this unit saw sending in the same minute
    /// are duplicates (unless the unit holds SKIPDATA, whose windows are settled with everything
    /// else). A sender seen only a minute apart waits for the end: another unit (another
    /// interface's file) may hold a SKIPDATA window that starts between the two.
    pub fn close_unit(&mut self) {
        // Twins in other units (another file, another flow log) are looked for at the end.
        let held = std::mem::take(&mut self.held);
        let rest = self.join_held(held);
        self.leftover.extend(rest);
        if !self.skipdata.is_empty() {
            return;
        }
        let senders = &self.senders;
        let mut dup = Tally::default();
        self.pending.retain(|(_, probe, minute), t| {
            if senders.has(*probe, *minute) {
                dup.merge(t);
                false
            } else {
                true
            }
        });
        if dup.records > 0 {
            self.uncounted.entry(Uncounted::Duplicate).or_default().merge(&dup);
        }
    }

    /// Turns a unit judged to belong to another VPC into one tally (keeping input problems).
    pub fn discard_as_other_vpc(&mut self, name: &str) {
        let bad: u64 = self.uncounted.iter().filter(|(u, _)| u.is_bad_input()).map(|(_, t)| t.records).sum();
        let bad_bytes: u64 = self.uncounted.iter().filter(|(u, _)| u.is_bad_input()).map(|(_, t)| t.bytes).sum();
        let records = self.read - bad;
        let bytes = self.read_bytes - bad_bytes;
        self.counted.clear();
        self.nat_far.clear();
        self.pending.clear();
        self.held.clear();
        self.leftover.clear();
        self.senders = Coverage::new();
        self.skipdata.clear();
        self.learned_addrs.clear();
        self.placeholders.clear();
        self.interfaces = Coverage::new();
        self.logged_enis.clear();
        self.logged_unknown_enis.clear();
        self.uncounted.retain(|u, _| u.is_bad_input());
        self.examples.retain(|u, _| u.is_bad_input());
        self.other_vpcs.clear();
        self.first_start = None;
        self.last_start = None;
        self.node_level_files.clear();
        self.uncounted.insert(Uncounted::OtherVpc, Tally { records, bytes, packets: 0 });
        self.other_vpcs.insert(name.to_string(), OtherVpc { records, bytes });
    }

    /// Folds another accumulator into this one.
    pub fn merge(&mut self, o: Accumulator<'r, 'a>) {
        for (k, v) in o.counted {
            self.counted.entry(k).or_default().merge(&v);
        }
        self.saw_aws_service_field |= o.saw_aws_service_field;
        self.minute_uncertain.0 += o.minute_uncertain.0;
        self.minute_uncertain.1 += o.minute_uncertain.1;
        for (k, v) in o.nat_far {
            self.nat_far.entry(k).or_default().merge(&v);
        }
        for (k, v) in o.pending {
            self.pending.entry(k).or_default().merge(&v);
        }
        self.leftover.extend(o.leftover);
        self.senders.merge(o.senders);
        self.skipdata.extend(o.skipdata);
        for ((id, ip), (first, last)) in o.learned_addrs {
            self.learn(&id, ip, first);
            self.learn(&id, ip, last);
        }
        self.placeholders.extend(o.placeholders);
        self.interfaces.merge(o.interfaces);
        self.logged_enis.extend(o.logged_enis);
        self.logged_unknown_enis.extend(o.logged_unknown_enis);
        for (k, v) in o.uncounted {
            self.uncounted.entry(k).or_default().merge(&v);
        }
        for (k, list) in o.examples {
            let mine = self.examples.entry(k).or_default();
            for e in list {
                if mine.len() < EXAMPLES {
                    mine.push(e);
                }
            }
        }
        for (k, v) in o.overlapped_by {
            *self.overlapped_by.entry(k).or_default() += v;
        }
        for (k, v) in o.other_vpcs {
            let e = self.other_vpcs.entry(k).or_default();
            e.records += v.records;
            e.bytes += v.bytes;
        }
        self.first_start = match (self.first_start, o.first_start) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_start = match (self.last_start, o.last_start) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.node_level_files.extend(o.node_level_files);
        self.read += o.read;
        self.read_bytes += o.read_bytes;
        self.progress_bytes += o.progress_bytes;
        self.in_scope_evidence += o.in_scope_evidence;
        self.unknown_evidence += o.unknown_evidence;
    }

    /// The SKIPDATA windows, by the interfaces that reported them.
    fn lossy(&self) -> Lossy {
        let mut lossy = Lossy::default();
        for (eni, id, s, e) in &self.skipdata {
            match eni {
                Some(i) => lossy.add_interface(*i, *s, *e),
                None => {
                    for (_, ip) in self.learned_addrs.keys().filter(|(i, _)| i == id) {
                        lossy.add_address(*ip, *s, *e);
                    }
                }
            }
        }
        lossy
    }

    /// Settles the ingress records held back: a duplicate when its sender was logged sending at
    /// that minute and the sender's records are complete there; counted otherwise.
    pub fn settle(&mut self) {
        let leftover = std::mem::take(&mut self.leftover);
        let alone = self.join_held(leftover);
        self.count_alone(alone);
        let lossy = self.lossy();
        for ((key, probe, minute), tally) in std::mem::take(&mut self.pending) {
            if self.senders.near(probe, minute) && !lossy.at(self.resolver.inv, probe, minute) {
                self.uncounted.entry(Uncounted::Duplicate).or_default().merge(&tally);
            } else {
                self.counted.entry(key).or_default().merge(&tally);
            }
        }
        self.examples.values_mut().for_each(|v| v.sort_by_key(|e| (e.file, e.line)));
        self.name_placeholders();
    }

    /// Names each stand-in address after the interface missing from the inventory whose own
    /// records held it that day, or `unattributed` when no record did.
    fn name_placeholders(&mut self) {
        if self.placeholders.is_empty() {
            return;
        }
        let res = self.resolver;
        let mut holders: FxHashMap<Ip, Vec<(Ts, Ts, &str)>> = FxHashMap::default();
        for ((id, ip), (first, last)) in &self.learned_addrs {
            holders.entry(*ip).or_default().push((*first, *last, id.as_str()));
        }
        holders.values_mut().for_each(|l| l.sort());
        let by_entity: FxHashMap<EntityId, Ip> = self.placeholders.iter().map(|(ip, e)| (*e, *ip)).collect();
        let mut names: FxHashMap<(EntityId, i32), EntityId> = FxHashMap::default();
        let mut name = |e: EntityId, day: i32| -> EntityId {
            let Some(ip) = by_entity.get(&e) else { return e };
            *names.entry((e, day)).or_insert_with(|| {
                let (from, to) = (day_start(day), day_start(day + 1));
                match holders.get(ip).into_iter().flatten().find(|(f, l, _)| *f < to && *l >= from) {
                    Some((_, _, id)) => res.unknown_interface(id),
                    None => res.no_interface(),
                }
            })
        };
        for (k, t) in std::mem::take(&mut self.counted) {
            let key = Key { client: name(k.client, k.day), server: name(k.server, k.day), ..k };
            self.counted.entry(key).or_default().merge(&t);
        }
        self.placeholders.clear();
    }

    /// Interfaces of the inventory seen in the logs.
    pub fn logged_inventory_interfaces(&self) -> &FxHashSet<EniIdx> {
        &self.logged_enis
    }

    /// Interfaces seen in the logs that the inventory does not list.
    pub fn unknown_interfaces(&self) -> &FxHashSet<String> {
        &self.logged_unknown_enis
    }

    pub fn logged_interfaces(&self) -> usize {
        self.logged_enis.len() + self.logged_unknown_enis.len()
    }
}

impl FlowSink for Accumulator<'_, '_> {
    fn set_format(&mut self, traits: FormatTraits) {
        self.traits = traits;
        self.saw_aws_service_field |= traits.has_aws_service;
    }

    fn record(&mut self, record: &FlowRecord<'_>, line: u64) {
        self.records_now = 1 + record.extra_records;
        self.read += self.records_now;
        self.process(record, line);
        self.records_now = 1;
    }

    fn skip(&mut self, reason: SkipReason, line: u64, detail: &str, records: u64) {
        self.read += records;
        let why = Uncounted::Skipped(reason);
        self.example(why, line, detail);
        let t = self.uncounted.entry(why).or_default();
        t.records += records;
    }

    fn progress(&mut self, bytes: u64) {
        self.progress_bytes += bytes;
    }
}

/// Paths of the files, indexed by the `file` numbers in examples.
pub type FileTable = Vec<PathBuf>;
