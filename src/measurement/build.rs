//! Builds the measurement from an attribution pass: names entities, prices bytes, and accounts
//! for every record that was read.

use super::*;
use crate::attribution::engine::{Accumulator, Class, Key, NO_RULE};
use crate::attribution::resolver::{NO_RESOURCE, Resolver, Unattributed};
use crate::model::entity::EntityKind;
use crate::model::time::{Ts, day_start, format_date, format_time};
use crate::pricing::{GB, Rates, cost, round_usd};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub struct BuildInput<'x, 'r, 'a> {
    pub acc: &'x Accumulator<'r, 'a>,
    pub resolver: &'x Resolver<'a>,
    pub files: &'x [PathBuf],
    pub rates: &'x Rates,
    pub from: Option<Ts>,
    pub to: Option<Ts>,
    pub inputs: InputsInfo,
    pub notes: Vec<String>,
    pub overlaps: &'x [crate::attribution::Overlap],
}

pub fn build(b: BuildInput<'_, '_, '_>) -> Measurement {
    let res = b.resolver;
    let region = res.inv.region();
    let rate = b.rates.for_region(region.as_deref());
    let both = rate.both_sides();
    let price = |bytes: u64, class: Class| {
        if class == Class::CrossAzBilled { cost(bytes, both) } else { Decimal::ZERO }
    };

    // Conversations: fold days and directions.
    // Keyed by what reports show, so entities that display alike (unattributed reasons) share a row.
    type ConvKey = (String, String, String, String, String, String, u16, u16, Class, u8);
    let mut convs: BTreeMap<ConvKey, (u64, u64, u64)> = BTreeMap::new();
    let mut days: BTreeMap<i32, [u64; 5]> = BTreeMap::new();
    let mut day_servers: BTreeMap<(i32, String, String, String), u64> = BTreeMap::new();
    let mut by_class = [0u64; 5];
    let mut by_rule: BTreeMap<u8, u64> = BTreeMap::new();
    let mut counted_records = 0;
    let mut per_resource: BTreeMap<(i32, u32, bool), (u64, u64)> = BTreeMap::new();
    let mut keys: Vec<(&Key, _)> = b.acc.counted.iter().collect();
    keys.sort_by_key(|(k, _)| **k);
    let entities = res.entities();
    for (k, t) in keys {
        let (c, sv) = (entities.get(k.client), entities.get(k.server));
        let key = (
            c.kind.as_str().to_string(),
            c.namespace.clone(),
            c.label(),
            sv.kind.as_str().to_string(),
            sv.namespace.clone(),
            sv.label(),
            k.client_zone,
            k.server_zone,
            k.class,
            k.rule,
        );
        if k.rule != NO_RULE {
            *by_rule.entry(k.rule).or_default() += t.bytes;
        }
        if k.class == Class::CrossAzBilled {
            *day_servers.entry((k.day, key.3.clone(), key.4.clone(), key.5.clone())).or_default() += t.bytes;
        }
        let e = convs.entry(key).or_default();
        if k.to_server {
            e.0 += t.bytes;
        } else {
            e.1 += t.bytes;
        }
        e.2 += t.records;
        counted_records += t.records;
        if matches!(k.class, Class::CrossAzBilled | Class::CrossAzFree) {
            for (resource, out) in [(k.sender_resource, true), (k.receiver_resource, false)] {
                let r = per_resource.entry((k.day, resource, out)).or_default();
                if k.class == Class::CrossAzBilled { r.0 += t.bytes } else { r.1 += t.bytes }
            }
        }
        let ci = Class::ALL.iter().position(|c| *c == k.class).unwrap_or(0);
        days.entry(k.day).or_default()[ci] += t.bytes;
        by_class[ci] += t.bytes;
    }
    let zone = |z: u16| res.zone_label(z);
    let mut conversations: Vec<Conversation> = convs
        .into_iter()
        .map(|((client_kind, client_namespace, client, server_kind, server_namespace, server, cz, sz, class, rule), (to_s, to_c, records))| {
            let (client_az_id, client_az) = zone(cz);
            let (server_az_id, server_az) = zone(sz);
            let rule_id = (rule != NO_RULE).then(|| res.rules.get(rule).id.clone());
            Conversation {
                client_kind,
                client_namespace,
                client,
                server_kind,
                server_namespace,
                server,
                client_az_id,
                client_az,
                server_az_id,
                server_az,
                class: class.as_str().into(),
                free_reason: rule_id.clone().filter(|_| class == Class::CrossAzFree),
                pricing_rule: rule_id,
                bytes_to_server: to_s,
                bytes_to_client: to_c,
                bytes: to_s + to_c,
                records,
                cost_usd: round_usd(price(to_s + to_c, class)),
            }
        })
        .collect();
    // Cost is proportional to billed bytes: sorting by them is sorting by exact cost.
    let billed = |c: &Conversation| {
        if c.class == Class::CrossAzBilled.as_str() { c.bytes } else { 0 }
    };
    conversations.sort_by(|a, b| {
        billed(b).cmp(&billed(a)).then(b.bytes.cmp(&a.bytes)).then_with(|| {
            (&a.client, &a.server, &a.client_az_id, &a.server_az_id, &a.class).cmp(&(&b.client, &b.server, &b.client_az_id, &b.server_az_id, &b.class))
        })
    });

    let total_cost = cost(by_class[0], both);
    let mut by_server: BTreeMap<i32, Vec<ServerDay>> = BTreeMap::new();
    for ((d, server_kind, server_namespace, server), bytes) in day_servers {
        by_server.entry(d).or_default().push(ServerDay {
            server_kind,
            server_namespace,
            server,
            cross_az_billed_bytes: bytes,
            cost_usd: round_usd(cost(bytes, both)),
        });
    }
    for list in by_server.values_mut() {
        list.sort_by(|a, b| {
            b.cross_az_billed_bytes.cmp(&a.cross_az_billed_bytes).then_with(|| (&a.server_namespace, &a.server).cmp(&(&b.server_namespace, &b.server)))
        });
    }
    let daily = days
        .into_iter()
        .map(|(d, c)| Day {
            by_server: by_server.remove(&d).unwrap_or_default(),
            date: format_date(day_start(d)),
            cross_az_billed_bytes: c[0],
            cross_az_free_bytes: c[1],
            same_az_bytes: c[2],
            internet_other_bytes: c[3],
            unknown_az_bytes: c[4],
            cost_usd: round_usd(cost(c[0], both)),
        })
        .collect();

    // Every record read: counted, or uncounted with a reason.
    let example_text = |e: &crate::attribution::engine::Example| {
        let path = b.files.get(e.file as usize).map(|p| p.display().to_string()).unwrap_or_default();
        format!("{path}:{} — {}", e.line, e.detail)
    };
    let uncounted: Vec<UncountedInfo> = b
        .acc
        .uncounted
        .iter()
        .map(|(why, t)| UncountedInfo {
            code: why.code().into(),
            reason: why.as_str().into(),
            records: t.records,
            bytes: t.bytes,
            bad_input: why.is_bad_input(),
            examples: b.acc.examples.get(why).map(|v| v.iter().map(example_text).collect()).unwrap_or_default(),
        })
        .collect();

    // Unattributed ends are entities named by their reason; all show as `unattributed`.
    let reason_of = |id: u32| {
        let e = entities.get(id);
        (e.kind == EntityKind::Unattributed).then(|| Unattributed::from_code(&e.name)).flatten()
    };
    let mut un_bytes = 0;
    let mut un_billed = 0;
    let mut by_reason: BTreeMap<(Unattributed, Class), u64> = BTreeMap::new();
    for (k, t) in &b.acc.counted {
        let reasons: Vec<Unattributed> = [reason_of(k.client), reason_of(k.server)].into_iter().flatten().collect();
        if reasons.is_empty() {
            continue;
        }
        un_bytes += t.bytes;
        if k.class == Class::CrossAzBilled {
            un_billed += t.bytes;
        }
        for why in reasons {
            *by_reason.entry((why, k.class)).or_default() += t.bytes;
        }
    }
    let un_cost = cost(un_billed, both);
    let share = if total_cost.is_zero() { Decimal::ZERO } else { (un_cost * Decimal::from(100) / total_cost).round_dp(2) };
    let resources = per_resource
        .into_iter()
        .map(|((day, resource, out), (billed_bytes, free_bytes))| {
            let (resource_kind, resource_id) = if resource == NO_RESOURCE {
                ("unknown".to_string(), String::new())
            } else {
                let e = entities.get(resource);
                (e.kind.as_str().to_string(), e.name.clone())
            };
            let operation = if out { "InterZone-Out" } else { "InterZone-In" }.to_string();
            ResourceDay { date: format_date(day_start(day)), resource_kind, resource_id, operation, billed_bytes, free_bytes }
        })
        .collect::<Vec<_>>();
    let mut resources = resources;
    resources.sort_by(|a, b| (&a.date, &a.resource_kind, &a.resource_id, &a.operation).cmp(&(&b.date, &b.resource_kind, &b.resource_id, &b.operation)));
    let reasons = by_reason.into_iter().map(|((why, class), bytes)| ReasonBytes { reason: why.as_str().into(), class: class.as_str().into(), bytes }).collect();

    let hours = match (b.from, b.to, b.acc.first_start, b.acc.last_start) {
        (Some(f), Some(t), _, _) if t > f => Some(((t - f) as u64).div_ceil(3600)),
        (_, _, Some(f), Some(l)) => {
            let start = f - f.rem_euclid(3600);
            let end = l + 1;
            Some(((end - start) as u64).div_ceil(3600).max(1))
        }
        _ => None,
    };
    drop(entities);
    let mut zones: Vec<ZoneInfo> = res.inv.zones.iter().map(|z| ZoneInfo { id: z.id.clone(), name: z.name.clone() }).collect();
    zones.extend(res.extra_zone_ids().into_iter().map(|id| ZoneInfo { id, name: None }));
    zones.sort_by(|a, b| a.id.cmp(&b.id));

    // The transfer rules, with the bytes each decided; assumptions that priced bytes are listed.
    let rules = rule_infos(res.rules, &by_rule);
    let free_by_reason: Vec<ReasonBytes> = res
        .rules
        .list
        .iter()
        .enumerate()
        .filter(|(i, r)| r.billed == crate::pricing::transfer::Billed::None && by_rule.contains_key(&(*i as u8)))
        .map(|(i, r)| ReasonBytes { reason: r.id.clone(), class: Class::CrossAzFree.as_str().into(), bytes: by_rule[&(i as u8)] })
        .collect();
    let assumptions: Vec<String> = res
        .rules
        .list
        .iter()
        .enumerate()
        .filter(|(i, r)| r.evidence == crate::pricing::transfer::Evidence::Assumption && by_rule.get(&(*i as u8)).is_some_and(|b| *b > 0))
        .map(|(i, r)| format!("`{}` ({} bytes): billed both sides for want of a source — {}", r.id, by_rule[&(i as u8)], r.source))
        .collect();
    let mut assumptions = assumptions;
    let processed: Vec<&str> =
        ["nat-gateway", "privatelink-interface-endpoint", "transit-gateway-attachment", "nlb", "gwlb", "alb-to-target", "clb-to-instance"]
            .into_iter()
            .filter(|id| res.rules.list.iter().position(|r| r.id == *id).is_some_and(|i| by_rule.contains_key(&(i as u8))))
            .collect();
    if !processed.is_empty() {
        assumptions.push(format!(
            "per-GB processing and capacity charges of NAT gateways, interface endpoints, transit gateways and load balancers are separate lines on the bill and are not included (paths here: {})",
            processed.join(", ")
        ));
    }
    let other_vpcs: Vec<OtherVpcInfo> = b.acc.other_vpcs.iter().map(|(vpc, o)| OtherVpcInfo { vpc: vpc.clone(), records: o.records, bytes: o.bytes }).collect();
    let flow_log_overlaps: Vec<OverlapInfo> =
        b.overlaps.iter().map(|o| OverlapInfo { flow_log: o.flow_log.clone(), covered_by: o.covered_by.clone(), records: o.records, bytes: o.bytes }).collect();

    Measurement {
        region,
        window: WindowInfo {
            from: b.from.map(format_time),
            to: b.to.map(format_time),
            first_record: b.acc.first_start.map(format_time),
            last_record: b.acc.last_start.map(format_time),
            hours,
        },
        pricing: PricingInfo { out_per_gb_usd: rate.out_per_gb, in_per_gb_usd: rate.in_per_gb, bytes_per_gb: GB, source: b.rates.source.clone(), rules },
        inputs: b.inputs,
        summary: Summary {
            records: RecordsInfo { read: b.acc.read, counted: counted_records, uncounted },
            bytes: BytesByClass {
                cross_az_billed: by_class[0],
                cross_az_free: by_class[1],
                same_az: by_class[2],
                internet_other: by_class[3],
                unknown_az: by_class[4],
            },
            cross_az_cost_usd: round_usd(total_cost),
            unattributed: UnattributedInfo {
                bytes: un_bytes,
                cross_az_billed_bytes: un_billed,
                cost_usd: round_usd(un_cost),
                share_of_cost_pct: share,
                reasons,
            },
            free_by_reason,
            other_vpcs,
            flow_log_overlaps,
            assumptions,
            notes: b.notes,
        },
        zones,
        conversations,
        daily,
        resources,
    }
}

/// A measurement of no flow logs: what-ifs that need only the cluster state render from it.
pub fn without_traffic(
    inputs: InputsInfo,
    rates: &Rates,
    transfer: &crate::pricing::transfer::Rules,
    region: Option<String>,
    notes: Vec<String>,
) -> Measurement {
    let rate = rates.for_region(region.as_deref());
    Measurement {
        region,
        window: WindowInfo { from: None, to: None, first_record: None, last_record: None, hours: None },
        pricing: PricingInfo {
            out_per_gb_usd: rate.out_per_gb,
            in_per_gb_usd: rate.in_per_gb,
            bytes_per_gb: GB,
            source: rates.source.clone(),
            rules: rule_infos(transfer, &BTreeMap::new()),
        },
        inputs,
        summary: Summary {
            records: RecordsInfo::default(),
            bytes: BytesByClass::default(),
            cross_az_cost_usd: Decimal::ZERO,
            unattributed: UnattributedInfo { bytes: 0, cross_az_billed_bytes: 0, cost_usd: Decimal::ZERO, share_of_cost_pct: Decimal::ZERO, reasons: vec![] },
            free_by_reason: vec![],
            other_vpcs: vec![],
            flow_log_overlaps: vec![],
            assumptions: vec![],
            notes,
        },
        zones: vec![],
        conversations: vec![],
        daily: vec![],
        resources: vec![],
    }
}

/// The transfer rules as the report lists them, with the cross-AZ bytes each decided.
fn rule_infos(rules: &crate::pricing::transfer::Rules, by_rule: &BTreeMap<u8, u64>) -> Vec<RuleInfo> {
    rules
        .list
        .iter()
        .enumerate()
        .map(|(i, r)| RuleInfo {
            id: r.id.clone(),
            billed: serde_plain(&r.billed),
            evidence: serde_plain(&r.evidence),
            source: r.source.clone(),
            bytes: by_rule.get(&(i as u8)).copied().unwrap_or(0),
        })
        .collect()
}

/// A unit enum's serde name (`both`, `primary`).
fn serde_plain<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}
