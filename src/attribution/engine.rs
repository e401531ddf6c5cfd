//! The per-record rules: which records count (each flow once), who the client and server are,
//! and which class the bytes fall in. One `Accumulator` per thread; they merge at the end.

use super::resolver::{End, Resolver, Site};
use crate::model::entity::EntityId;
use crate::model::flow::{Action, Direction, FlowRecord, FlowSink, FormatTraits, LogStatus, SkipReason};
use crate::model::inventory::{EniIdx, NO_ZONE, ZoneIdx};
use crate::model::ip::Ip;
use crate::model::time::{Ts, day_of};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where bytes went, as billing sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// Between two AZs, billed $0.01/GB out at the sender and $0.01/GB in at the receiver.
    CrossAzBilled,
    /// Between two AZs but free: an Application Load Balancer and its targets.
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

/// One aggregation cell: a (client, server) conversation, its zones, class, direction and day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub client: EntityId,
    pub server: EntityId,
    pub client_zone: ZoneIdx,
    pub server_zone: ZoneIdx,
    pub class: Class,
    /// Bytes sent by the client to the server (`true`) or back (`false`).
    pub to_server: bool,
    pub day: i32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub records: u64,
    pub bytes: u64,
    pub packets: u64,
}

impl Tally {
    fn add(&mut self, bytes: u64, packets: u64) {
        self.records += 1;
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
            Uncounted::DirectionUnknown => "direction unknown (no flow-direction, interface not in inventory)",
            Uncounted::GatewayInternetLeg => "NAT/transit gateway's internet leg (counted at the client)",
            Uncounted::Skipped(SkipReason::Malformed) => "malformed",
            Uncounted::Skipped(SkipReason::Truncated) => "truncated",
            Uncounted::Skipped(SkipReason::UnusableFormat) => "unusable format",
            Uncounted::MissingFields => "missing bytes, address or start",
        }
    }

    /// Problems with the input, as opposed to records that are left out by design.
    pub fn is_bad_input(self) -> bool {
        matches!(self, Uncounted::Skipped(_) | Uncounted::MissingFields)
    }
}

/// Who sent an ingress record's traffic, on which day: its twin exists if that sender was logged then.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum SenderRef {
    Eni(EniIdx, i32),
    Ip(Ip, i32),
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

pub struct Accumulator<'r, 'a> {
    resolver: &'r Resolver<'a>,
    window: Window,
    file: u32,
    traits: FormatTraits,
    /// This file already counted among those without pkt-* fields.
    file_marked_node_level: bool,
    pub(crate) counted: FxHashMap<Key, Tally>,
    pending: FxHashMap<(Key, SenderRef), Tally>,
    /// Interfaces seen in the logs, by day: a flow log can start or stop mid-month.
    logged_enis: FxHashSet<(EniIdx, i32)>,
    logged_unknown_enis: FxHashSet<String>,
    logged_addrs: FxHashSet<(Ip, i32)>,
    pub(crate) uncounted: BTreeMap<Uncounted, Tally>,
    pub(crate) examples: BTreeMap<Uncounted, Vec<Example>>,
    pub(crate) first_start: Option<Ts>,
    pub(crate) last_start: Option<Ts>,
    pub(crate) node_level_files: FxHashSet<u32>,
    pub(crate) read: u64,
    pub(crate) progress_bytes: u64,
    last_az: Option<(String, ZoneIdx)>,
}

impl<'r, 'a> Accumulator<'r, 'a> {
    pub fn new(resolver: &'r Resolver<'a>, window: Window) -> Accumulator<'r, 'a> {
        Accumulator {
            resolver,
            window,
            file: 0,
            traits: FormatTraits::default(),
            file_marked_node_level: false,
            counted: FxHashMap::default(),
            pending: FxHashMap::default(),
            logged_enis: FxHashSet::default(),
            logged_unknown_enis: FxHashSet::default(),
            logged_addrs: FxHashSet::default(),
            uncounted: BTreeMap::new(),
            examples: BTreeMap::new(),
            first_start: None,
            last_start: None,
            node_level_files: FxHashSet::default(),
            read: 0,
            progress_bytes: 0,
            last_az: None,
        }
    }

    pub fn begin_file(&mut self, file: u32) {
        self.file = file;
        self.file_marked_node_level = false;
    }

    fn uncount(&mut self, why: Uncounted, bytes: u64, packets: u64) {
        self.uncounted.entry(why).or_default().add(bytes, packets);
    }

    fn example(&mut self, why: Uncounted, line: u64, detail: &str) {
        let list = self.examples.entry(why).or_default();
        if list.len() < EXAMPLES {
            list.push(Example { file: self.file, line, detail: detail.to_string() });
        }
    }

    fn zone_by_id(&mut self, az: &str) -> Option<ZoneIdx> {
        if let Some((last, z)) = &self.last_az
            && last == az
        {
            return Some(*z);
        }
        let z = self.resolver.inv.zone_by_id(az)?;
        self.last_az = Some((az.to_string(), z));
        Some(z)
    }

    fn process(&mut self, r: &FlowRecord<'_>, line: u64) {
        let inv = self.resolver.inv;
        let eni = match (r.interface_id, r.resource_id) {
            (Some(id), _) | (None, Some(id)) => {
                let idx = inv.eni_idx(id);
                match idx {
                    Some(i) => {
                        if let Some(t) = r.start {
                            self.logged_enis.insert((i, day_of(t)));
                        }
                    }
                    None if !self.logged_unknown_enis.contains(id) => {
                        self.logged_unknown_enis.insert(id.to_string());
                    }
                    None => {}
                }
                idx
            }
            (None, None) => None,
        };
        let bytes = r.bytes.unwrap_or(0);
        let packets = r.packets.unwrap_or(0);
        match r.log_status {
            Some(LogStatus::NoData) => return self.uncount(Uncounted::NoData, 0, 0),
            Some(LogStatus::SkipData) => return self.uncount(Uncounted::SkipData, 0, 0),
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
        if self.window.from.is_some_and(|f| start < f) || self.window.to.is_some_and(|t| start >= t) {
            return self.uncount(Uncounted::OutsideWindow, bytes, packets);
        }
        self.first_start = Some(self.first_start.map_or(start, |s| s.min(start)));
        self.last_start = Some(self.last_start.map_or(start, |s| s.max(start)));
        if r.action == Some(Action::Reject) {
            return self.uncount(Uncounted::Rejected, bytes, packets);
        }
        let direction = r.flow_direction.or_else(|| {
            let e = eni?;
            if inv.eni_has_ip(e, src) {
                Some(Direction::Egress)
            } else if inv.eni_has_ip(e, dst) {
                Some(Direction::Ingress)
            } else {
                None
            }
        });
        let Some(direction) = direction else {
            return self.uncount(Uncounted::DirectionUnknown, bytes, packets);
        };
        let intermediary = match eni {
            Some(e) => inv.eni(e).owner.is_intermediary(),
            None => {
                r.interface_type.is_some_and(|t| matches!(t, "nat_gateway" | "natGateway" | "transit_gateway" | "regional_nat_gateway"))
                    || (r.interface_id.is_none() && r.resource_id.is_some_and(|id| id.starts_with("nat-")))
            }
        };
        let day = day_of(start);
        // Fast path: the sender's interface is already known to be logged that day, so its egress
        // record counts this flow and this ingress record is its twin.
        if direction == Direction::Ingress
            && !intermediary
            && let Some(sender) = inv.eni_of_ip(src)
            && self.logged_enis.contains(&(sender, day))
        {
            return self.uncount(Uncounted::Duplicate, bytes, packets);
        }
        let pkt_src = r.pkt_srcaddr.unwrap_or(src);
        let pkt_dst = r.pkt_dstaddr.unwrap_or(dst);
        let (local_ip, remote_ip, hop_remote) = match direction {
            Direction::Egress => (pkt_src, pkt_dst, dst),
            Direction::Ingress => (pkt_dst, pkt_src, src),
        };
        let node_level = !self.traits.has_pkt_addresses;
        if node_level && !self.file_marked_node_level {
            self.node_level_files.insert(self.file);
            self.file_marked_node_level = true;
        }
        let res = self.resolver;
        let mut local = match (intermediary, eni) {
            (true, Some(e)) => res.interface_end(e),
            _ => res.resolve(local_ip, start, node_level),
        };
        if let Some(z) = r.az_id.and_then(|az| self.zone_by_id(az)) {
            local.zone = z;
        }
        let remote = res.resolve(remote_ip, start, node_level);
        if direction == Direction::Egress && local.eni.is_none() {
            // The sender's own address: lets an ingress twin find it when the inventory lacks this interface.
            self.logged_addrs.insert((local_ip, day));
        }
        if remote.site == Site::External && intermediary {
            return self.uncount(Uncounted::GatewayInternetLeg, bytes, packets);
        }
        let (sender, receiver) = match direction {
            Direction::Egress => (&local, &remote),
            Direction::Ingress => (&remote, &local),
        };
        let proto = r.protocol.unwrap_or(6);
        // Per node, the recording side's address is its interface's, whatever pod sent: no Services on nodes then.
        let service_of = |end: &End, ip: Ip, port: Option<u16>| {
            if node_level && end.site == Site::Node { None } else { res.service_of(end, ip, port, proto) }
        };
        let (client, server, to_server) = if let Some(svc) = service_of(receiver, pkt_dst, r.dstport) {
            (*sender, End { entity: svc, ..*receiver }, true)
        } else if let Some(svc) = service_of(sender, pkt_src, r.srcport) {
            (*receiver, End { entity: svc, ..*sender }, false)
        } else {
            // No Service: the end on the lower port serves (ephemeral ports are 32768 and up).
            let receiver_serves = match (r.srcport, r.dstport) {
                (Some(s), Some(d)) => d <= s,
                _ => true,
            };
            if receiver_serves { (*sender, *receiver, true) } else { (*receiver, *sender, false) }
        };
        let class = if remote.site == Site::External {
            Class::InternetOther
        } else if local.zone == NO_ZONE || remote.zone == NO_ZONE {
            Class::UnknownAz
        } else if local.zone == remote.zone {
            Class::SameAz
        } else if res.is_alb(client.entity) {
            Class::CrossAzFree
        } else {
            Class::CrossAzBilled
        };
        let key = Key { client: client.entity, server: server.entity, client_zone: client.zone, server_zone: server.zone, class, to_server, day };
        // Each flow once: the sender's egress record, or the receiver's ingress record when the
        // sender's interface is not logged. Nobody addresses a NAT/transit gateway itself, so what
        // one receives has no twin: the sender's record names the final destination instead.
        let counts_now = direction == Direction::Egress || remote.site == Site::External || intermediary;
        if counts_now {
            self.counted.entry(key).or_default().add(bytes, packets);
        } else {
            let sender_ref = match inv.eni_of_ip(hop_remote) {
                Some(e) => SenderRef::Eni(e, day),
                None => SenderRef::Ip(hop_remote, day),
            };
            self.pending.entry((key, sender_ref)).or_default().add(bytes, packets);
        }
    }

    /// Folds another thread's accumulator into this one.
    pub fn merge(&mut self, o: Accumulator<'r, 'a>) {
        for (k, v) in o.counted {
            self.counted.entry(k).or_default().merge(&v);
        }
        for (k, v) in o.pending {
            self.pending.entry(k).or_default().merge(&v);
        }
        self.logged_enis.extend(o.logged_enis);
        self.logged_unknown_enis.extend(o.logged_unknown_enis);
        self.logged_addrs.extend(o.logged_addrs);
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
        self.progress_bytes += o.progress_bytes;
    }

    /// Settles the ingress records held back: counted when their sender's interface was not logged.
    pub fn settle(&mut self) {
        for ((key, sender), tally) in std::mem::take(&mut self.pending) {
            let logged = match sender {
                SenderRef::Eni(e, day) => self.logged_enis.contains(&(e, day)),
                SenderRef::Ip(ip, day) => self.logged_addrs.contains(&(ip, day)),
            };
            if logged {
                self.uncounted.entry(Uncounted::Duplicate).or_default().merge(&tally);
            } else {
                self.counted.entry(key).or_default().merge(&tally);
            }
        }
        self.examples.values_mut().for_each(|v| v.sort_by_key(|e| (e.file, e.line)));
    }

    /// Interfaces of the inventory seen in the logs (on any day).
    pub fn logged_inventory_interfaces(&self) -> FxHashSet<EniIdx> {
        self.logged_enis.iter().map(|(e, _)| *e).collect()
    }

    pub fn logged_interfaces(&self) -> usize {
        let known: FxHashSet<EniIdx> = self.logged_enis.iter().map(|(e, _)| *e).collect();
        known.len() + self.logged_unknown_enis.len()
    }
}

impl FlowSink for Accumulator<'_, '_> {
    fn set_format(&mut self, traits: FormatTraits) {
        self.traits = traits;
    }

    fn record(&mut self, record: &FlowRecord<'_>, line: u64) {
        self.read += 1;
        self.process(record, line);
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
