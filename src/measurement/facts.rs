//! Facts of an attribution pass beyond the Report's tables, for the analyses: the databases'
//! and NAT gateways' bytes by day, what NAT gateways forwarded, and the billed bytes per
//! conversation on each resource (for `--allocate-bill`).

use crate::attribution::engine::Accumulator;
use crate::attribution::resolver::Resolver;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bytes between clients in one AZ and one DB interface on one day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbDay {
    pub date: String,
    pub server: String,
    pub server_az: String,
    pub bytes: u64,
}

/// Bytes a NAT gateway forwarded for one zone to one kind of far end, over the window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatFlow {
    pub nat: String,
    pub nat_az: String,
    pub client_az: String,
    /// The far end's AWS service (`S3`, `AMAZON`, …), empty when not AWS or unknown.
    pub service: String,
    pub service_region: String,
    pub far_known: bool,
    pub bytes: u64,
}

/// Bytes between a zone and a NAT gateway on one day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatDay {
    pub date: String,
    pub client_az: String,
    pub nat: String,
    pub nat_az: String,
    pub bytes: u64,
}

/// Cross-AZ billed bytes of one conversation on one resource, day and direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceFlow {
    pub date: String,
    pub resource_kind: String,
    pub resource_id: String,
    /// Sent by the resource (`InterZone-Out`) or received (`InterZone-In`).
    pub out: bool,
    pub client: Party,
    pub server: Party,
    pub client_az_id: String,
    pub server_az_id: String,
    pub bytes: u64,
}

/// A client or server as reports name it.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Party {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// Counted bytes with a database interface as the server, by day and the server's AZ.
pub fn db_days(acc: &Accumulator<'_, '_>, resolver: &Resolver<'_>) -> Vec<DbDay> {
    use crate::model::entity::EntityKind;
    use crate::model::time::{day_start, format_date};
    let mut by: BTreeMap<(i32, String, u16), u64> = BTreeMap::new();
    let entities = resolver.entities();
    for (k, t) in &acc.counted {
        let server = entities.get(k.server);
        if server.kind == EntityKind::Rds {
            *by.entry((k.day, server.label(), k.server_zone)).or_default() += t.bytes;
        }
    }
    drop(entities);
    by.into_iter().map(|((day, server, zone), bytes)| DbDay { date: format_date(day_start(day)), server, server_az: resolver.zone_name(zone), bytes }).collect()
}

/// What NAT gateways forwarded over the window: per gateway, client zone and far-end AWS service.
pub fn nat_flows(acc: &Accumulator<'_, '_>, resolver: &Resolver<'_>) -> Vec<NatFlow> {
    use crate::attribution::engine::NOT_AWS;
    let mut by: BTreeMap<(String, String, String, String, String, bool), u64> = BTreeMap::new();
    let entities = resolver.entities();
    let name = |idx: u16, of: fn(&crate::model::aws_ranges::AwsRanges, u16) -> &str| match resolver.aws_ranges {
        Some(r) if idx != NOT_AWS => of(r, idx).to_string(),
        _ => String::new(),
    };
    for (k, t) in &acc.nat_far {
        let nat = entities.get(k.nat).name.clone();
        let key = (
            nat,
            resolver.zone_name(k.nat_zone),
            resolver.zone_name(k.client_zone),
            name(k.service, |r, i| r.service(i)),
            name(k.region, |r, i| r.region(i)),
            k.far_known,
        );
        *by.entry(key).or_default() += t.bytes;
    }
    by.into_iter()
        .map(|((nat, nat_az, client_az, service, service_region, far_known), bytes)| NatFlow {
            nat,
            nat_az,
            client_az,
            service,
            service_region,
            far_known,
            bytes,
        })
        .collect()
}

/// Bytes each zone sent to and received from each NAT gateway, per day (the gateway a zone uses, day by day).
pub fn nat_days(acc: &Accumulator<'_, '_>, resolver: &Resolver<'_>) -> Vec<NatDay> {
    use crate::model::entity::EntityKind;
    use crate::model::time::{day_start, format_date};
    let mut by: BTreeMap<(i32, crate::model::inventory::ZoneIdx, String, crate::model::inventory::ZoneIdx), u64> = BTreeMap::new();
    let entities = resolver.entities();
    for (k, t) in &acc.counted {
        let server = entities.get(k.server);
        if server.kind == EntityKind::Nat {
            *by.entry((k.day, k.client_zone, server.name.clone(), k.server_zone)).or_default() += t.bytes;
        }
    }
    drop(entities);
    by.into_iter()
        .map(|((day, cz, nat, nz), bytes)| NatDay {
            date: format_date(day_start(day)),
            client_az: resolver.zone_name(cz),
            nat,
            nat_az: resolver.zone_name(nz),
            bytes,
        })
        .collect()
}

/// Cross-AZ billed bytes per conversation on each resource the bill charges, by day and direction:
/// what `--allocate-bill` splits each resource's billed dollars over.
pub fn resource_flows(acc: &Accumulator<'_, '_>, resolver: &Resolver<'_>) -> Vec<ResourceFlow> {
    use crate::attribution::engine::Class;
    use crate::attribution::resolver::NO_RESOURCE;
    use crate::model::time::{day_start, format_date};
    type Cell = (i32, u32, bool, u32, u32, u16, u16);
    let mut by: BTreeMap<Cell, u64> = BTreeMap::new();
    for (k, t) in acc.counted.iter().filter(|(k, _)| k.class == Class::CrossAzBilled) {
        for (resource, out) in [(k.sender_resource, true), (k.receiver_resource, false)] {
            *by.entry((k.day, resource, out, k.client, k.server, k.client_zone, k.server_zone)).or_default() += t.bytes;
        }
    }
    let entities = resolver.entities();
    let party = |id: u32| {
        let e = entities.get(id);
        Party { kind: e.kind.as_str().into(), namespace: e.namespace.clone(), name: e.label() }
    };
    // Entities that display alike (unattributed reasons) share a row.
    type Row = (i32, String, String, bool, Party, Party, u16, u16);
    let mut rows: BTreeMap<Row, u64> = BTreeMap::new();
    for ((day, resource, out, client, server, cz, sz), bytes) in by {
        let (kind, id) = if resource == NO_RESOURCE {
            ("unknown".to_string(), "(no interface)".to_string())
        } else {
            let e = entities.get(resource);
            (e.kind.as_str().to_string(), e.name.clone())
        };
        *rows.entry((day, kind, id, out, party(client), party(server), cz, sz)).or_default() += bytes;
    }
    drop(entities);
    rows.into_iter()
        .map(|((day, resource_kind, resource_id, out, client, server, cz, sz), bytes)| ResourceFlow {
            date: format_date(day_start(day)),
            resource_kind,
            resource_id,
            out,
            client,
            server,
            client_az_id: resolver.zone_label(cz).0,
            server_az_id: resolver.zone_label(sz).0,
            bytes,
        })
        .collect()
}
