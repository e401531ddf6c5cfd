//! The VPC as the EC2 API describes it: zones, subnets and network interfaces, indexed by address.

use super::entity::{Entity, EntityKind};
use super::ip::{Cidr, Ip};
use super::time::Ts;
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;

pub type ZoneIdx = u16;
pub const NO_ZONE: ZoneIdx = ZoneIdx::MAX;

/// A VPC of the inventory; [`ANY_VPC`] when a record does not say which.
pub type VpcIdx = u16;
pub const ANY_VPC: VpcIdx = VpcIdx::MAX;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// The AZ ID (`apne2-az1`): the same data center in every account.
    pub id: String,
    /// The account's name for it (`ap-northeast-2a`), when known.
    pub name: Option<String>,
    pub region: Option<String>,
}

impl Zone {
    /// How reports show a zone: its name (`ap-northeast-2a`), else its ID.
    pub fn shown(&self) -> String {
        self.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| self.id.clone())
    }
}

#[derive(Clone, Debug)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: Option<String>,
    pub cidrs: Vec<Cidr>,
    pub zone: ZoneIdx,
    /// Set by [`Inventory::finish`].
    pub vpc: VpcIdx,
}

/// What owns a network interface, read from InterfaceType, RequesterId, Description and Attachment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EniOwner {
    Instance {
        instance_id: String,
    },
    NatGateway {
        id: String,
    },
    LoadBalancer {
        kind: LbKind,
        name: String,
    },
    /// An RDS instance's interface: named once matched with `describe-db-instances` output.
    Rds {
        name: String,
        role: Option<DbRole>,
    },
    VpcEndpoint {
        id: String,
    },
    EksControlPlane {
        cluster: String,
    },
    Lambda {
        function: String,
    },
    TransitGateway {
        attachment: String,
    },
    ElastiCache {
        name: String,
    },
    /// A pod's own ENI (security groups for pods).
    Branch,
    Efs {
        file_system: String,
    },
    OpenSearch {
        domain: String,
    },
    Msk {
        cluster: String,
    },
    ClientVpn {
        endpoint: String,
    },
    Other,
}

/// What an RDS interface serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbRole {
    /// The instance of a single-AZ or Multi-AZ DB instance deployment, or a cluster's writer.
    Writer,
    /// A Multi-AZ DB cluster's reader.
    Reader,
    /// A Multi-AZ DB instance's standby (not readable).
    Standby,
}

/// An RDS DB instance from `aws rds describe-db-instances`.
#[derive(Clone, Debug, Default)]
pub struct Database {
    pub id: String,
    pub class: Option<String>,
    pub engine: Option<String>,
    pub allocated_storage_gb: Option<i64>,
    pub storage_type: Option<String>,
    pub zone_name: Option<String>,
    pub standby_zone_name: Option<String>,
    pub multi_az: bool,
    pub cluster: Option<String>,
    pub subnets: Vec<String>,
    /// Writer (true) or reader (false) of its cluster, from `describe-db-clusters`.
    pub writer: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LbKind {
    Application,
    Network,
    Gateway,
    Classic,
}

impl EniOwner {
    /// NAT and transit gateways forward packets that are addressed to somebody else.
    pub fn is_intermediary(&self) -> bool {
        matches!(self, EniOwner::NatGateway { .. } | EniOwner::TransitGateway { .. })
    }
}

#[derive(Clone, Debug)]
pub struct Eni {
    pub id: String,
    pub subnet: Option<String>,
    pub vpc: Option<String>,
    pub zone: ZoneIdx,
    pub owner: EniOwner,
    pub primary_ip: Option<Ip>,
    /// Every address of the interface, primary first.
    pub ips: Vec<Ip>,
    pub prefixes: Vec<Cidr>,
    pub description: String,
    /// Its VPC (from `VpcId` or its subnet's), set by [`Inventory::finish`].
    pub vpc_idx: VpcIdx,
    /// `Attachment.AttachTime`: the interface held its addresses from then on.
    pub attach_time: Option<Ts>,
    /// When the interface existed, from the inventory snapshots: `[valid_from, valid_to)`.
    pub valid_from: Ts,
    pub valid_to: Ts,
}

pub type EniIdx = u32;

/// An interface holding an address over `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Holding {
    from: Ts,
    to: Ts,
    eni: EniIdx,
    vpc: VpcIdx,
}

#[derive(Default, Debug)]
pub struct Inventory {
    pub zones: Vec<Zone>,
    pub subnets: Vec<Subnet>,
    /// Every interface of any snapshot, once, in its latest version.
    pub enis: Vec<Eni>,
    pub databases: Vec<Database>,
    /// RDS interfaces that could not be matched to one DB instance.
    pub unmatched_db_interfaces: usize,
    /// Times of the snapshots that listed interfaces (`None`: a file without a time).
    pub interface_snapshots: BTreeSet<Option<Ts>>,
    zone_by_id: FxHashMap<String, ZoneIdx>,
    zone_by_name: FxHashMap<String, ZoneIdx>,
    eni_by_id: FxHashMap<String, EniIdx>,
    /// The snapshots each interface appeared in.
    eni_seen: Vec<BTreeSet<Option<Ts>>>,
    /// Every address any version of an interface held.
    eni_addresses: Vec<BTreeSet<Ip>>,
    eni_by_ip: FxHashMap<Ip, Vec<Holding>>,
    /// Delegated prefixes and subnet blocks, widest last, searched linearly (there are few).
    eni_prefixes: Vec<(Cidr, Holding)>,
    subnet_blocks: Vec<(Cidr, usize)>,
    subnet_by_id: FxHashMap<String, usize>,
    /// The VPCs, in first-seen order ([`VpcIdx`] indexes them).
    pub vpc_ids: Vec<String>,
    /// Accounts owning the inventory's subnets (the VPC owners, whose folders hold the flow logs).
    pub owners: BTreeSet<String>,
    /// Every VPC of the account and region (`describe-vpcs`): (owner, CIDR) by id.
    pub account_vpcs: std::collections::BTreeMap<String, (Option<String>, Option<String>)>,
}

impl Inventory {
    /// Registers an AZ; a name or region learnt later fills in what was missing.
    pub fn add_zone(&mut self, id: &str, name: Option<&str>, region: Option<&str>) -> ZoneIdx {
        let idx = match self.zone_by_id.get(id) {
            Some(&i) => i,
            None => {
                let i = self.zones.len() as ZoneIdx;
                self.zones.push(Zone { id: id.to_string(), name: None, region: None });
                self.zone_by_id.insert(id.to_string(), i);
                i
            }
        };
        let zone = &mut self.zones[idx as usize];
        if let Some(n) = name {
            if zone.name.is_none() {
                zone.name = Some(n.to_string());
            }
            self.zone_by_name.entry(n.to_string()).or_insert(idx);
        }
        if zone.region.is_none() {
            zone.region = region.map(str::to_string).or_else(|| name.map(region_of_zone_name));
        }
        idx
    }

    pub fn zone_by_id(&self, id: &str) -> Option<ZoneIdx> {
        self.zone_by_id.get(id).copied()
    }

    pub fn zone_by_name(&self, name: &str) -> Option<ZoneIdx> {
        self.zone_by_name.get(name).copied()
    }

    pub fn zone(&self, idx: ZoneIdx) -> Option<&Zone> {
        self.zones.get(idx as usize)
    }

    pub fn add_subnet(&mut self, subnet: Subnet) {
        let i = match self.subnet_by_id.get(&subnet.id) {
            Some(&i) => {
                self.subnets[i] = subnet;
                i
            }
            None => {
                self.subnets.push(subnet);
                self.subnets.len() - 1
            }
        };
        self.subnet_by_id.insert(self.subnets[i].id.clone(), i);
    }

    pub fn subnet(&self, id: &str) -> Option<&Subnet> {
        self.subnet_by_id.get(id).map(|&i| &self.subnets[i])
    }

    /// Adds an interface as a snapshot taken at `snapshot` lists it; a later snapshot's version wins.
    pub fn add_eni(&mut self, eni: Eni, snapshot: Option<Ts>) {
        self.interface_snapshots.insert(snapshot);
        let i = match self.eni_by_id.get(&eni.id) {
            Some(&i) => i as usize,
            None => {
                self.eni_by_id.insert(eni.id.clone(), self.enis.len() as EniIdx);
                self.enis.push(eni.clone());
                self.eni_seen.push(BTreeSet::new());
                self.eni_addresses.push(BTreeSet::new());
                self.enis.len() - 1
            }
        };
        self.eni_addresses[i].extend(eni.ips.iter().copied());
        let newest = self.eni_seen[i].last().copied().flatten();
        let replaces = match (snapshot, newest) {
            (_, None) => true,
            (Some(t), Some(n)) => t >= n,
            (None, Some(_)) => false,
        };
        self.eni_seen[i].insert(snapshot);
        if replaces {
            self.enis[i] = eni;
        }
    }

    /// Marks that a snapshot listing interfaces was taken at `time`, even if it listed none.
    pub fn add_interface_snapshot(&mut self, time: Option<Ts>) {
        self.interface_snapshots.insert(time);
    }

    pub fn add_database(&mut self, db: Database) {
        let writer = self.databases.iter().find(|d| d.id == db.id).and_then(|d| d.writer);
        self.databases.retain(|d| d.id != db.id);
        self.databases.push(Database { writer: db.writer.or(writer), ..db });
    }

    /// Records a cluster member's role (the instance may be added before or after).
    pub fn set_cluster_role(&mut self, cluster: &str, instance: &str, writer: bool) {
        match self.databases.iter_mut().find(|d| d.id == instance) {
            Some(d) => d.writer = Some(writer),
            None => self.databases.push(Database { id: instance.to_string(), cluster: Some(cluster.to_string()), writer: Some(writer), ..Database::default() }),
        }
    }

    /// Names RDS interfaces after their DB instance: the one interface of the instance's subnet
    /// group in its AZ (a Multi-AZ instance's standby: in its second AZ).
    fn match_databases(&mut self) {
        let mut dbs = self.databases.clone();
        dbs.sort_by(|a, b| a.id.cmp(&b.id));
        let mut taken = vec![false; self.enis.len()];
        for db in &dbs {
            let mut slots = vec![(db.zone_name.clone(), if db.writer == Some(false) { DbRole::Reader } else { DbRole::Writer })];
            if db.multi_az && db.cluster.is_none() {
                slots.push((db.standby_zone_name.clone(), DbRole::Standby));
            }
            for (zone, role) in slots {
                let Some(zone) = zone.and_then(|z| self.zone_by_name(&z)) else {
                    continue;
                };
                let candidates: Vec<usize> = (0..self.enis.len())
                    .filter(|&i| {
                        let e = &self.enis[i];
                        !taken[i]
                            && matches!(&e.owner, EniOwner::Rds { name, .. } if name.is_empty())
                            && e.zone == zone
                            && (db.subnets.is_empty() || e.subnet.as_ref().is_some_and(|s| db.subnets.contains(s)))
                    })
                    .collect();
                if let [i] = candidates[..] {
                    taken[i] = true;
                    self.enis[i].owner = EniOwner::Rds { name: db.id.clone(), role: Some(role) };
                }
            }
        }
        self.unmatched_db_interfaces =
            if self.databases.is_empty() { 0 } else { self.enis.iter().filter(|e| matches!(&e.owner, EniOwner::Rds { name, .. } if name.is_empty())).count() };
    }

    /// Builds the address indexes; call once after every file is added.
    pub fn finish(&mut self) {
        // An interface whose zone was given by name only gets it from its subnet.
        for eni in &mut self.enis {
            if eni.zone == NO_ZONE
                && let Some(s) = eni.subnet.as_ref().and_then(|s| self.subnet_by_id.get(s))
            {
                eni.zone = self.subnets[*s].zone;
            }
        }
        self.match_databases();
        self.set_validity();
        self.index_vpcs();
        self.eni_by_ip.clear();
        self.eni_prefixes.clear();
        for (i, eni) in self.enis.iter().enumerate() {
            let h = Holding { from: eni.valid_from, to: eni.valid_to, eni: i as EniIdx, vpc: eni.vpc_idx };
            for ip in &self.eni_addresses[i] {
                self.eni_by_ip.entry(*ip).or_default().push(h);
            }
            for p in &eni.prefixes {
                self.eni_prefixes.push((*p, h));
            }
        }
        // Two interfaces of one VPC claiming one address: the later one holds it from its start.
        // (Other VPCs may use the same addresses: they keep theirs.)
        for list in self.eni_by_ip.values_mut() {
            list.sort_by_key(|h| (h.vpc, h.from, h.eni));
            for k in 1..list.len() {
                let next = list[k].from;
                if list[k - 1].vpc == list[k].vpc && list[k - 1].to > next {
                    list[k - 1].to = next.max(list[k - 1].from);
                }
            }
        }
        self.subnet_blocks = self.subnets.iter().enumerate().flat_map(|(i, s)| s.cidrs.iter().map(move |c| (*c, i))).collect();
        self.subnet_blocks.sort_by_key(|(c, _)| c.width());
        self.eni_prefixes.sort_by_key(|(c, _)| c.width());
    }

    /// The interfaces attached to an instance.
    pub fn enis_of_instance<'s>(&'s self, instance_id: &'s str) -> impl Iterator<Item = EniIdx> + 's {
        self.enis
            .iter()
            .enumerate()
            .filter(move |(_, e)| matches!(&e.owner, EniOwner::Instance { instance_id: i } if i == instance_id))
            .map(|(i, _)| i as EniIdx)
    }

    pub fn eni_idx(&self, id: &str) -> Option<EniIdx> {
        self.eni_by_id.get(id).copied()
    }

    pub fn eni(&self, idx: EniIdx) -> &Eni {
        &self.enis[idx as usize]
    }

    /// When each interface existed: from its attachment (or the snapshot before the first that
    /// lists it) until the first snapshot that no longer lists it.
    fn set_validity(&mut self) {
        let times: Vec<Ts> = self.interface_snapshots.iter().filter_map(|t| *t).collect();
        for (i, eni) in self.enis.iter_mut().enumerate() {
            let seen: Vec<Ts> = self.eni_seen[i].iter().filter_map(|t| *t).collect();
            let untimed = self.eni_seen[i].contains(&None);
            let (first, last) = match (seen.first(), seen.last()) {
                (Some(f), Some(l)) => (*f, *l),
                _ => {
                    eni.valid_from = eni.attach_time.unwrap_or(Ts::MIN);
                    eni.valid_to = Ts::MAX;
                    continue;
                }
            };
            let before = times.iter().rev().find(|t| **t < first).copied();
            eni.valid_from = match (eni.attach_time, before) {
                (Some(a), _) if a <= first => a,
                (_, Some(b)) => b,
                _ => Ts::MIN,
            };
            // A file without a time is the present: the interface still exists.
            eni.valid_to = if untimed { Ts::MAX } else { times.iter().find(|t| **t > last).copied().unwrap_or(Ts::MAX) };
        }
    }

    /// Numbers the VPCs and gives every subnet and interface its VPC's number.
    fn index_vpcs(&mut self) {
        let mut ids: Vec<String> = Vec::new();
        let idx = |id: &str, ids: &mut Vec<String>| match ids.iter().position(|v| v == id) {
            Some(i) => i as VpcIdx,
            None => {
                ids.push(id.to_string());
                (ids.len() - 1) as VpcIdx
            }
        };
        for s in &mut self.subnets {
            s.vpc = s.vpc_id.as_deref().map(|v| idx(v, &mut ids)).unwrap_or(ANY_VPC);
        }
        for e in &mut self.enis {
            let from_subnet = e.subnet.as_ref().and_then(|s| self.subnet_by_id.get(s)).and_then(|&i| self.subnets[i].vpc_id.clone());
            e.vpc_idx = e.vpc.clone().or(from_subnet).map(|v| idx(&v, &mut ids)).unwrap_or(ANY_VPC);
        }
        self.vpc_ids = ids;
    }

    /// The VPC number of a VPC id, if the inventory has it.
    pub fn vpc_idx(&self, id: &str) -> Option<VpcIdx> {
        self.vpc_ids.iter().position(|v| v == id).map(|i| i as VpcIdx)
    }

    /// The interface that holds an address now (its latest holder), as a primary/secondary IP or inside a delegated prefix.
    pub fn eni_of_ip(&self, ip: Ip) -> Option<EniIdx> {
        if let Some(list) = self.eni_by_ip.get(&ip) {
            return list.iter().max_by_key(|h| h.from).map(|h| h.eni);
        }
        self.eni_prefixes.iter().find(|(c, _)| c.contains(ip)).map(|(_, h)| h.eni)
    }

    /// The interface of VPC `vpc` (any VPC: [`ANY_VPC`]) that held an address at `t`.
    pub fn eni_of_ip_at(&self, ip: Ip, t: Ts, vpc: VpcIdx) -> Option<EniIdx> {
        let fits = |h: &Holding| h.from <= t && t < h.to && (vpc == ANY_VPC || h.vpc == vpc || h.vpc == ANY_VPC);
        if let Some(list) = self.eni_by_ip.get(&ip) {
            return list.iter().find(|h| fits(h)).map(|h| h.eni);
        }
        self.eni_prefixes.iter().find(|(c, h)| c.contains(ip) && fits(h)).map(|(_, h)| h.eni)
    }

    /// The zone of an address of a VPC: its subnet's (an address never changes AZ).
    pub fn zone_of_ip(&self, ip: Ip, vpc: VpcIdx) -> ZoneIdx {
        self.subnet_in(ip, vpc).map(|s| s.zone).unwrap_or(NO_ZONE)
    }

    /// The subnet of VPC `vpc` (or of any VPC) whose block holds `ip`.
    pub fn subnet_in(&self, ip: Ip, vpc: VpcIdx) -> Option<&Subnet> {
        self.subnet_blocks
            .iter()
            .find(|(c, i)| c.contains(ip) && (vpc == ANY_VPC || self.subnets[*i].vpc == vpc || self.subnets[*i].vpc == ANY_VPC))
            .map(|(_, i)| &self.subnets[*i])
    }

    /// The VPCs of the inventory.
    pub fn vpcs(&self) -> BTreeSet<&str> {
        self.subnets.iter().filter_map(|s| s.vpc_id.as_deref()).chain(self.enis.iter().filter_map(|e| e.vpc.as_deref())).collect()
    }

    pub fn eni_count(&self) -> usize {
        self.enis.len()
    }

    pub fn subnet_of_ip(&self, ip: Ip) -> Option<&Subnet> {
        self.subnet_blocks.iter().find(|(c, _)| c.contains(ip)).map(|(_, i)| &self.subnets[*i])
    }

    /// Does this interface own the address (so a record on it names itself)?
    pub fn eni_has_ip(&self, eni: EniIdx, ip: Ip) -> bool {
        self.eni_addresses[eni as usize].contains(&ip) || self.eni(eni).prefixes.iter().any(|p| p.contains(ip))
    }

    pub fn has_network(&self) -> bool {
        !self.enis.is_empty() || !self.subnets.is_empty()
    }

    /// The single region of the inventory, if the zones agree on one.
    pub fn region(&self) -> Option<String> {
        let mut regions: Vec<&str> = self.zones.iter().filter_map(|z| z.region.as_deref()).collect();
        regions.sort_unstable();
        regions.dedup();
        (regions.len() == 1).then(|| regions[0].to_string())
    }
}

/// `ap-northeast-2a` → `ap-northeast-2` (local zones such as `us-east-1-bos-1a` keep their parent region).
pub fn region_of_zone_name(name: &str) -> String {
    let parts: Vec<&str> = name.split('-').collect();
    if parts.len() >= 3 {
        let region_part = parts[2].trim_end_matches(|c: char| c.is_ascii_alphabetic());
        return format!("{}-{}-{}", parts[0], parts[1], region_part);
    }
    name.trim_end_matches(|c: char| c.is_ascii_alphabetic()).to_string()
}

/// Names an interface's owner the way reports show it.
pub fn owner_entity(eni: &Eni) -> Entity {
    match &eni.owner {
        EniOwner::Instance { instance_id } => Entity::new(EntityKind::Ec2, "", instance_id),
        EniOwner::NatGateway { id } => Entity::new(EntityKind::Nat, "", id),
        EniOwner::LoadBalancer { name, .. } => Entity::new(EntityKind::Elb, "", name),
        EniOwner::Rds { name, .. } if !name.is_empty() => Entity::new(EntityKind::Rds, "", name),
        EniOwner::Rds { .. } => Entity::new(EntityKind::Rds, "", &eni.id),
        EniOwner::VpcEndpoint { id } => Entity::new(EntityKind::Vpce, "", id),
        EniOwner::EksControlPlane { cluster } => Entity::new(EntityKind::Eks, "", cluster),
        EniOwner::Lambda { function } => Entity::new(EntityKind::Lambda, "", function),
        EniOwner::TransitGateway { attachment } => Entity::new(EntityKind::Tgw, "", attachment),
        EniOwner::ElastiCache { name } => Entity::new(EntityKind::Elasticache, "", name),
        EniOwner::Efs { file_system } => Entity::new(EntityKind::Efs, "", file_system),
        EniOwner::OpenSearch { domain } => Entity::new(EntityKind::Opensearch, "", domain),
        EniOwner::Msk { cluster } => Entity::new(EntityKind::Msk, "", cluster),
        EniOwner::ClientVpn { endpoint } => Entity::new(EntityKind::ClientVpn, "", endpoint),
        EniOwner::Branch | EniOwner::Other => Entity::new(EntityKind::Eni, "", &eni.id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_from_zone_name() {
        assert_eq!(region_of_zone_name("ap-northeast-2a"), "ap-northeast-2");
        assert_eq!(region_of_zone_name("us-east-1-bos-1a"), "us-east-1");
    }
}
