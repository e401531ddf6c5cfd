//! AWS's published address ranges (`ip-ranges.json`): which AWS service and region an address
//! belongs to, the fallback for flow logs without `pkt-src-aws-service`/`pkt-dst-aws-service`.

use super::ip::{Cidr, Ip};
use rustc_hash::FxHashMap;

/// The ranges, indexed by prefix length for longest-prefix lookups.
#[derive(Debug, Default)]
pub struct AwsRanges {
    /// `createDate` of the file, e.g. `2026-08-22-15-17-05`.
    pub created: String,
    /// Where the ranges came from (the bundled file, or the workspace's).
    pub source: String,
    services: Vec<String>,
    regions: Vec<String>,
    /// Per prefix length (in the u128 space, longest first): block start → (service, region) indexes.
    by_len: Vec<(u8, Blocks)>,
}

/// Blocks of one prefix length: their first address → (service, region) indexes.
type Blocks = FxHashMap<u128, Vec<(u16, u16)>>;

/// The service of the broad `AMAZON` set, which every other service's ranges also belong to.
pub const AMAZON: &str = "AMAZON";

impl AwsRanges {
    pub fn new(created: String, source: String) -> AwsRanges {
        AwsRanges { created, source, ..AwsRanges::default() }
    }

    pub fn add(&mut self, prefix: Cidr, service: &str, region: &str) {
        let idx = |list: &mut Vec<String>, v: &str| match list.iter().position(|x| x == v) {
            Some(i) => i as u16,
            None => {
                list.push(v.to_string());
                (list.len() - 1) as u16
            }
        };
        let (s, r) = (idx(&mut self.services, service), idx(&mut self.regions, region));
        let (base, len) = prefix.key();
        let slot = match self.by_len.iter().position(|(l, _)| *l == len) {
            Some(i) => i,
            None => {
                self.by_len.push((len, FxHashMap::default()));
                self.by_len.sort_by_key(|b| std::cmp::Reverse(b.0));
                self.by_len.iter().position(|(l, _)| *l == len).unwrap_or(0)
            }
        };
        let list = self.by_len[slot].1.entry(base).or_default();
        if !list.contains(&(s, r)) {
            list.push((s, r));
        }
    }

    pub fn len(&self) -> usize {
        self.by_len.iter().map(|(_, m)| m.values().map(Vec::len).sum::<usize>()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most specific service an address belongs to (any service before `AMAZON`, then the
    /// longest prefix), with the region of that range.
    pub fn lookup(&self, ip: Ip) -> Option<(&str, &str)> {
        self.lookup_index(ip).map(|(s, r)| (self.service(s), self.region(r)))
    }

    /// [`AwsRanges::lookup`] as indexes into the service and region names.
    pub fn lookup_index(&self, ip: Ip) -> Option<(u16, u16)> {
        let mut amazon = None;
        for (len, map) in &self.by_len {
            let mask = if *len == 0 { 0 } else { u128::MAX << (128 - u32::from(*len)) };
            let Some(list) = map.get(&(ip.0 & mask)) else { continue };
            for &(s, r) in list {
                if self.services[s as usize] != AMAZON {
                    return Some((s, r));
                }
                amazon = amazon.or(Some((s, r)));
            }
        }
        amazon
    }

    /// The index of a service name as flow logs write it (`pkt-dst-aws-service`).
    pub fn service_index(&self, name: &str) -> Option<u16> {
        self.services.iter().position(|s| s == name).map(|i| i as u16)
    }

    pub fn service(&self, idx: u16) -> &str {
        self.services.get(idx as usize).map_or("", String::as_str)
    }

    pub fn region(&self, idx: u16) -> &str {
        self.regions.get(idx as usize).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specific_service_wins_over_amazon_and_the_longest_prefix_over_a_wider_one() {
        let mut r = AwsRanges::new("2026-08-22".into(), "test".into());
        r.add(Cidr::parse("52.219.0.0/16").unwrap(), AMAZON, "ap-northeast-2");
        r.add(Cidr::parse("52.219.60.0/23").unwrap(), "S3", "ap-northeast-2");
        r.add(Cidr::parse("52.219.62.0/24").unwrap(), "EC2", "ap-northeast-2");
        r.add(Cidr::parse("2406:da12::/32").unwrap(), "EC2", "ap-northeast-2");
        let ip = |s: &str| Ip::parse_str(s).unwrap();
        assert_eq!(r.lookup(ip("52.219.60.9")), Some(("S3", "ap-northeast-2")));
        assert_eq!(r.lookup(ip("52.219.62.9")), Some(("EC2", "ap-northeast-2")));
        assert_eq!(r.lookup(ip("52.219.99.1")), Some((AMAZON, "ap-northeast-2")));
        assert_eq!(r.lookup(ip("2406:da12::5")), Some(("EC2", "ap-northeast-2")));
        assert_eq!(r.lookup(ip("203.0.113.50")), None);
        assert_eq!(r.len(), 4);
    }
}
