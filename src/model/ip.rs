//! Compact IP addresses: IPv4 is stored IPv4-mapped in a `u128`, so both families share one key type.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Ip(pub u128);

const V4_MAPPED: u128 = 0xffff_0000_0000;

impl Ip {
    pub fn from_v4(octets: [u8; 4]) -> Ip {
        Ip(V4_MAPPED | u128::from(u32::from_be_bytes(octets)))
    }

    pub fn is_v4(self) -> bool {
        self.0 >> 32 == 0xffff
    }

    /// Parses a textual address; the IPv4 path avoids UTF-8 checks and allocation.
    pub fn parse(s: &[u8]) -> Option<Ip> {
        if let Some(ip) = parse_v4(s) {
            return Some(ip);
        }
        let text = std::str::from_utf8(s).ok()?;
        match text.parse::<IpAddr>().ok()? {
            IpAddr::V4(v4) => Some(Ip::from_v4(v4.octets())),
            IpAddr::V6(v6) => Some(Ip(u128::from(v6))),
        }
    }

    pub fn parse_str(s: &str) -> Option<Ip> {
        Ip::parse(s.as_bytes())
    }

    pub fn to_ipaddr(self) -> IpAddr {
        if self.is_v4() { IpAddr::V4(Ipv4Addr::from(self.0 as u32)) } else { IpAddr::V6(Ipv6Addr::from(self.0)) }
    }
}

fn parse_v4(s: &[u8]) -> Option<Ip> {
    if s.len() < 7 || s.len() > 15 {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut part = 0usize;
    let mut value: u32 = 0;
    let mut digits = 0;
    for &b in s {
        match b {
            b'0'..=b'9' => {
                value = value * 10 + u32::from(b - b'0');
                digits += 1;
                if digits > 3 || value > 255 {
                    return None;
                }
            }
            b'.' => {
                if digits == 0 || part == 3 {
                    return None;
                }
                octets[part] = value as u8;
                part += 1;
                value = 0;
                digits = 0;
            }
            _ => return None,
        }
    }
    if part != 3 || digits == 0 {
        return None;
    }
    octets[3] = value as u8;
    Some(Ip::from_v4(octets))
}

impl fmt::Display for Ip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_ipaddr().fmt(f)
    }
}

/// A CIDR block (`10.0.0.0/16`, `2001:db8::/56`, a `/28` delegated prefix).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Cidr {
    base: u128,
    mask: u128,
    /// Prefix length in the address family's own terms.
    pub len: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, len) = s.split_once('/')?;
        let ip = Ip::parse_str(addr)?;
        let len: u8 = len.parse().ok()?;
        let bits = if ip.is_v4() {
            if len > 32 {
                return None;
            }
            96 + u32::from(len)
        } else {
            if len > 128 {
                return None;
            }
            u32::from(len)
        };
        let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
        Some(Cidr { base: ip.0 & mask, mask, len })
    }

    pub fn contains(&self, ip: Ip) -> bool {
        ip.0 & self.mask == self.base
    }

    /// The block's first address and its prefix length in the u128 space (v4 blocks count 96 more).
    pub fn key(&self) -> (u128, u8) {
        (self.base, self.mask.count_ones() as u8)
    }

    /// Number of host bits in the u128 space: a larger value means a wider block.
    pub fn width(&self) -> u32 {
        self.mask.count_zeros()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v4_and_v6() {
        assert_eq!(Ip::parse(b"10.0.1.5").unwrap().to_string(), "10.0.1.5");
        assert!(Ip::parse(b"10.0.1.5").unwrap().is_v4());
        let v6 = Ip::parse(b"2001:db8:1234:a100:8d6e:3477:df66:f105").unwrap();
        assert!(!v6.is_v4());
        assert_eq!(v6.to_string(), "2001:db8:1234:a100:8d6e:3477:df66:f105");
        for bad in ["", "-", "10.0.1", "10.0.1.256", "10..1.2", "1.2.3.4.5", "a.b.c.d", "0001.2.3.4"] {
            assert_eq!(Ip::parse(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn cidr_contains() {
        let c = Cidr::parse("10.0.64.0/19").unwrap();
        assert!(c.contains(Ip::parse(b"10.0.64.1").unwrap()));
        assert!(c.contains(Ip::parse(b"10.0.95.255").unwrap()));
        assert!(!c.contains(Ip::parse(b"10.0.96.0").unwrap()));
        let p = Cidr::parse("10.0.1.16/28").unwrap();
        assert!(p.contains(Ip::parse(b"10.0.1.31").unwrap()));
        assert!(!p.contains(Ip::parse(b"10.0.1.32").unwrap()));
        let v6 = Cidr::parse("2001:db8:1234:1a00::/56").unwrap();
        assert!(v6.contains(Ip::parse(b"2001:db8:1234:1a00::1").unwrap()));
        assert!(!v6.contains(Ip::parse(b"10.0.0.1").unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
    }
}
