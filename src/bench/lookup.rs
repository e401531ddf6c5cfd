//! Exports what the resolver knows as plain tables, so an SQL engine can run the same attribution
//! (`queries/attribute_by_service.sql`): who held each address when, which Service each address
//! served on which port, and each interface's zone.

use crate::attribution::resolver::{End, Resolver, Site};
use crate::model::inventory::ANY_VPC;
use crate::model::ip::Ip;
use crate::model::time::Ts;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

fn label(res: &Resolver<'_>, id: u32) -> String {
    let e = res.entity(id);
    format!("{}/{}", e.namespace, e.label())
}

fn zone(res: &Resolver<'_>, end: &End) -> String {
    res.zone_label(end.zone).0
}

fn site(end: &End) -> &'static str {
    match end.site {
        Site::Pod(_) => "pod",
        Site::Node => "node",
        Site::Peer => "peer",
        Site::Unattributed(_) => "unattributed",
        Site::External => "external",
    }
}

fn csv_writer(path: &Path, header: &str) -> std::io::Result<std::io::BufWriter<std::fs::File>> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "{header}")?;
    Ok(w)
}

/// Writes `owners.csv`, `services.csv`, `enis.csv` and `eni_ips.csv` into `dir`.
pub fn export(res: &Resolver<'_>, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let inv = res.inv;
    let tl = res.timeline;
    // Pod holdings per address; every other moment falls back to the static owner.
    let mut holdings: BTreeMap<Ip, Vec<(Ts, Ts, u32)>> = BTreeMap::new();
    for (ip, s, e, pod) in tl.holdings() {
        holdings.entry(ip).or_default().push((s, e, pod));
    }
    let mut addresses: BTreeSet<Ip> = holdings.keys().copied().collect();
    for eni in &inv.enis {
        addresses.extend(eni.ips.iter().copied());
    }
    for node in tl.nodes.values() {
        addresses.extend(node.internal_ips.iter().copied());
    }
    let mut owners = csv_writer(&dir.join("owners.csv"), "ip,from_ts,to_ts,entity,zone,site,free_client,free_any")?;
    let mut services = csv_writer(&dir.join("services.csv"), "ip,from_ts,to_ts,port,proto,service")?;
    let tile = |w: &mut dyn Write, ip: Ip, from: Ts, to: Ts, end: &End| {
        let (free_client, free_any) = res.free_with_compute(end.entity);
        writeln!(w, "{ip},{from},{to},{},{},{},{free_client},{free_any}", label(res, end.entity), zone(res, end), site(end))
    };
    for ip in &addresses {
        // The benchmark's network does not change: each address's latest owner stands for all time.
        let fixed = res.resolve_static(*ip, Ts::MAX - 1, ANY_VPC, false);
        let mut at = Ts::MIN;
        let mut list = holdings.get(ip).cloned().unwrap_or_default();
        list.sort_unstable();
        for (s, e, pod) in list {
            if s > at {
                tile(&mut owners, *ip, at, s, &fixed)?;
            }
            tile(&mut owners, *ip, s, e, &res.pod_end(*ip, pod, ANY_VPC, false))?;
            // The first binding per (port, protocol) wins, as in the engine.
            let mut seen = BTreeSet::new();
            for b in &tl.pod(pod).services {
                if let Some(port) = b.port
                    && seen.insert((port, b.proto))
                {
                    writeln!(services, "{ip},{s},{e},{port},{},{}", b.proto, label(res, res.service_entity(b.service)))?;
                }
            }
            at = e;
        }
        if at < Ts::MAX {
            tile(&mut owners, *ip, at, Ts::MAX, &fixed)?;
        }
    }
    for (ip, bindings) in tl.address_bindings() {
        let mut seen = BTreeSet::new();
        for b in bindings {
            if let Some(port) = b.port
                && seen.insert((port, b.proto))
            {
                writeln!(services, "{ip},{},{},{port},{},{}", Ts::MIN, Ts::MAX, b.proto, label(res, res.service_entity(b.service)))?;
            }
        }
    }
    for node in tl.nodes.values() {
        for ip in &node.internal_ips {
            for ((port, proto), svc) in tl.node_ports() {
                writeln!(services, "{ip},{},{},{port},{proto},{}", Ts::MIN, Ts::MAX, label(res, res.service_entity(svc)))?;
            }
        }
    }
    let mut enis = csv_writer(&dir.join("enis.csv"), "eni_id,zone,intermediary,entity")?;
    let mut eni_ips = csv_writer(&dir.join("eni_ips.csv"), "ip,eni_id")?;
    for (i, eni) in inv.enis.iter().enumerate() {
        let end = res.interface_end(i as u32);
        writeln!(enis, "{},{},{},{}", eni.id, zone(res, &end), eni.owner.is_intermediary(), label(res, end.entity))?;
        for ip in &eni.ips {
            writeln!(eni_ips, "{ip},{}", eni.id)?;
        }
    }
    for w in [&mut owners, &mut services, &mut enis, &mut eni_ips] {
        w.flush()?;
    }
    Ok(())
}
