//! Minute-by-minute coverage: which addresses (or interfaces) the flow logs saw at work when.
//! "Was the sender logged?" is asked at a record's own capture window, not per day, so a flow
//! log that starts mid-day or a SKIPDATA gap does not make the receiver's record vanish.

use crate::model::inventory::{ANY_VPC, EniIdx, Inventory};
use crate::model::ip::Ip;
use crate::model::time::Ts;
use rustc_hash::FxHashMap;
use std::hash::Hash;

const MINUTES_PER_DAY: i64 = 1440;
const WORDS: usize = 23; // 1440 bits

/// Longest span a single record may mark: a record covers at most one 10-minute aggregation
/// interval, plus AWS's lag; anything longer is bad data and marks only its start.
const MAX_SPAN_MINUTES: i64 = 20;

/// Minutes of activity per key, one bitset per key and day.
#[derive(Debug, Clone)]
pub struct Coverage<K: Hash + Eq + Copy> {
    days: FxHashMap<(K, i32), Box<[u64; WORDS]>>,
}

impl<K: Hash + Eq + Copy> Default for Coverage<K> {
    fn default() -> Coverage<K> {
        Coverage { days: FxHashMap::default() }
    }
}

pub fn minute_of(t: Ts) -> i64 {
    t.div_euclid(60)
}

impl<K: Hash + Eq + Copy> Coverage<K> {
    pub fn new() -> Coverage<K> {
        Coverage::default()
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// Marks every minute from `start` to `end` (inclusive) for `key`.
    pub fn mark(&mut self, key: K, start: Ts, end: Ts) {
        let first = minute_of(start);
        let last = minute_of(end.max(start)).min(first + MAX_SPAN_MINUTES);
        let mut m = first;
        while m <= last {
            let day = m.div_euclid(MINUTES_PER_DAY) as i32;
            let bits = self.days.entry((key, day)).or_insert_with(|| Box::new([0; WORDS]));
            let day_end = (i64::from(day) + 1) * MINUTES_PER_DAY - 1;
            while m <= last.min(day_end) {
                let b = m.rem_euclid(MINUTES_PER_DAY) as usize;
                bits[b / 64] |= 1 << (b % 64);
                m += 1;
            }
        }
    }

    pub fn has(&self, key: K, minute: i64) -> bool {
        let day = minute.div_euclid(MINUTES_PER_DAY) as i32;
        let b = minute.rem_euclid(MINUTES_PER_DAY) as usize;
        self.days.get(&(key, day)).is_some_and(|bits| bits[b / 64] & (1 << (b % 64)) != 0)
    }

    /// Active within a minute of `minute`: AWS may note the same packet up to 60 s apart on two interfaces.
    pub fn near(&self, key: K, minute: i64) -> bool {
        self.has(key, minute) || self.has(key, minute - 1) || self.has(key, minute + 1)
    }

    pub fn merge(&mut self, other: Coverage<K>) {
        for (k, bits) in other.days {
            match self.days.get_mut(&k) {
                Some(mine) => {
                    for (a, b) in mine.iter_mut().zip(bits.iter()) {
                        *a |= *b;
                    }
                }
                None => {
                    self.days.insert(k, bits);
                }
            }
        }
    }
}

/// Windows in which an interface's records are incomplete (SKIPDATA): by inventory interface,
/// whose addresses (delegated prefixes included) are looked up at the minute asked, or by the
/// addresses an interface missing from the inventory was seen using.
#[derive(Debug, Default, Clone)]
pub struct Lossy {
    by_eni: FxHashMap<EniIdx, Vec<(Ts, Ts)>>,
    by_ip: FxHashMap<Ip, Vec<(Ts, Ts)>>,
}

impl Lossy {
    pub fn add_interface(&mut self, eni: EniIdx, start: Ts, end: Ts) {
        self.by_eni.entry(eni).or_default().push((start, end.max(start)));
    }

    pub fn add_address(&mut self, ip: Ip, start: Ts, end: Ts) {
        self.by_ip.entry(ip).or_default().push((start, end.max(start)));
    }

    pub fn is_empty(&self) -> bool {
        self.by_eni.is_empty() && self.by_ip.is_empty()
    }

    /// Does a lossy window of the interface holding `ip` overlap the minute `minute`? No slack: a
    /// record just outside a window whose twin survived must stay a duplicate.
    pub fn at(&self, inv: &Inventory, ip: Ip, minute: i64) -> bool {
        let (from, to) = (minute * 60, minute * 60 + 59);
        let hit = |w: &Vec<(Ts, Ts)>| w.iter().any(|(s, e)| *s <= to && from <= *e);
        if !self.by_eni.is_empty()
            && let Some(eni) = inv.eni_of_ip_at(ip, from, ANY_VPC)
            && self.by_eni.get(&eni).is_some_and(hit)
        {
            return true;
        }
        self.by_ip.get(&ip).is_some_and(hit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_minutes_across_midnight() {
        let mut c: Coverage<u32> = Coverage::default();
        let midnight = 1_790_812_800;
        c.mark(7, midnight - 90, midnight + 30);
        assert!(c.has(7, minute_of(midnight - 90)));
        assert!(c.has(7, minute_of(midnight - 1)));
        assert!(c.has(7, minute_of(midnight)));
        assert!(!c.has(7, minute_of(midnight + 60)));
        assert!(c.near(7, minute_of(midnight + 60)));
        assert!(!c.near(7, minute_of(midnight + 120)));
        assert!(!c.has(8, minute_of(midnight)));
        let mut d: Coverage<u32> = Coverage::default();
        d.mark(8, midnight, midnight);
        c.merge(d);
        assert!(c.has(8, minute_of(midnight)));
    }

    #[test]
    fn a_bad_end_time_marks_a_bounded_span() {
        let mut c: Coverage<u32> = Coverage::default();
        c.mark(1, 0, 10 * 86_400);
        assert!(c.has(1, 20));
        assert!(!c.has(1, 21));
    }
}
