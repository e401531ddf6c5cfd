//! Who held each pod IP when, and which Service (and port) each pod backed, from a series of
//! Kubernetes snapshots. A pod holds its IP from its creation until the earliest of: its last
//! container finishing, its deletion, the first snapshot it is missing from, or the next pod
//! taking the same IP.

use super::entity::{Entity, EntityKind};
use super::ip::Ip;
use super::k8s::{EndpointSlice, Node, Pod, Proto, Snapshot};
use super::time::Ts;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

pub type PodIdx = u32;
pub type ServiceIdx = u32;

#[derive(Clone, Debug)]
pub struct PodLife {
    pub uid: String,
    pub namespace: String,
    pub name: String,
    pub workload: Entity,
    pub node: Option<String>,
    pub ips: Vec<Ip>,
    pub host_network: bool,
    pub start: Ts,
    pub end: Ts,
    pub services: Vec<Binding>,
}

/// A Service port a pod (or address) backs; `port: None` matches every port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Binding {
    pub service: ServiceIdx,
    pub port: Option<u16>,
    pub proto: Proto,
}

#[derive(Clone, Copy, Debug)]
struct Holding {
    start: Ts,
    end: Ts,
    pod: PodIdx,
}

#[derive(Default, Debug)]
pub struct Timeline {
    pub snapshot_times: Vec<Ts>,
    pub pods: Vec<PodLife>,
    /// (namespace, name) of each Service seen in any snapshot or EndpointSlice.
    pub services: Vec<(String, String)>,
    service_index: FxHashMap<(String, String), ServiceIdx>,
    holders: FxHashMap<Ip, Vec<Holding>>,
    /// The latest version of each node.
    pub nodes: BTreeMap<String, Node>,
    /// Which node held each InternalIP when: a replaced node's address goes to other interfaces.
    node_by_ip: FxHashMap<Ip, Vec<(Ts, Ts, String)>>,
    /// Ports pods listen on behind each node (their Services' target ports), for flow logs without pkt-* fields.
    node_ports_listening: FxHashMap<String, Vec<(u16, Proto)>>,
    node_by_instance: FxHashMap<String, String>,
    /// Endpoints that are not pod IPs: hostNetwork pods (node IPs) and selector-less Services.
    address_bindings: FxHashMap<Ip, Vec<Binding>>,
    node_ports: FxHashMap<(u16, Proto), ServiceIdx>,
    /// The last snapshot, whole, for what-if simulations of the current state.
    pub latest: Option<Snapshot>,
    /// Labels of each workload (its latest pod's) and Service (its latest version), for chargeback.
    pub labels: BTreeMap<Entity, BTreeMap<String, String>>,
    pub pods_without_ip: usize,
}

/// A pod as the snapshots showed it: its latest copy, where it was first and last seen, and its
/// addresses with the order they were first seen in.
struct Seen {
    pod: Pod,
    first_idx: usize,
    last_idx: usize,
    ips: Vec<(u64, Ip)>,
}

/// Builds a [`Timeline`] from snapshots given one at a time, in time order. It keeps the latest
/// copy of each pod, node and Service, and each distinct EndpointSlice with the times it was
/// seen, so memory follows what changed, not how many snapshots were read.
#[derive(Default)]
pub struct TimelineBuilder {
    t: Timeline,
    /// Each snapshot's time, by its index.
    times: Vec<Option<Ts>>,
    /// Pods by identity (uid; name and creation time for snapshots without uids).
    pods: BTreeMap<String, Seen>,
    ip_order: u64,
    /// (first snapshot index, last snapshot index) of each node.
    node_seen: BTreeMap<String, (usize, usize)>,
    /// Each distinct EndpointSlice: the order it was first seen in, and every time it was seen.
    slices: FxHashMap<EndpointSlice, (usize, Vec<Ts>)>,
}

impl TimelineBuilder {
    pub fn add(&mut self, snap: Snapshot) {
        let idx = self.times.len();
        self.times.push(snap.time);
        let t = &mut self.t;
        for node in &snap.nodes {
            t.nodes.insert(node.name.clone(), node.clone());
            self.node_seen.entry(node.name.clone()).and_modify(|s| s.1 = idx).or_insert((idx, idx));
        }
        for svc in &snap.services {
            t.labels.insert(Entity::new(EntityKind::Service, svc.namespace.clone(), svc.name.clone()), svc.labels.clone());
            let s = t.service_idx(&svc.namespace, &svc.name);
            for p in &svc.ports {
                if let Some(np) = p.node_port {
                    t.node_ports.insert((np, p.protocol), s);
                }
            }
        }
        for pod in &snap.pods {
            let seen = match self.pods.entry(pod.identity()) {
                std::collections::btree_map::Entry::Occupied(e) => {
                    let seen = e.into_mut();
                    seen.pod = pod.clone();
                    seen.last_idx = idx;
                    seen
                }
                std::collections::btree_map::Entry::Vacant(e) => e.insert(Seen { pod: pod.clone(), first_idx: idx, last_idx: idx, ips: Vec::new() }),
            };
            for ip in &pod.ips {
                if !seen.ips.iter().any(|(_, x)| x == ip) {
                    seen.ips.push((self.ip_order, *ip));
                    self.ip_order += 1;
                }
            }
        }
        let at = snap.time.unwrap_or(Ts::MAX - 1);
        for slice in &snap.slices {
            let order = self.slices.len();
            match self.slices.get_mut(slice) {
                Some((_, times)) => times.push(at),
                None => {
                    self.slices.insert(slice.clone(), (order, vec![at]));
                }
            }
        }
        t.latest = Some(snap);
    }

    /// Snapshots without uids: a pod takes the uid another snapshot shows for its name and
    /// creation time, and its sightings join that uid's.
    fn join_uidless_pods(&mut self) {
        let uid_of: FxHashMap<(&str, &str, Ts), &str> =
            self.pods.values().filter_map(|s| Some(((s.pod.namespace.as_str(), s.pod.name.as_str(), s.pod.created?), s.pod.uid.as_deref()?))).collect();
        let renamed: Vec<(String, String)> = self
            .pods
            .iter()
            .filter(|(_, seen)| seen.pod.uid.is_none())
            .filter_map(|(id, s)| Some((id.clone(), uid_of.get(&(s.pod.namespace.as_str(), s.pod.name.as_str(), s.pod.created?))?.to_string())))
            .collect();
        for (id, uid) in renamed {
            let Some(seen) = self.pods.remove(&id) else { continue };
            let Some(other) = self.pods.get_mut(&uid) else { continue };
            other.first_idx = other.first_idx.min(seen.first_idx);
            if seen.last_idx > other.last_idx {
                other.pod = seen.pod;
                other.last_idx = seen.last_idx;
            }
            for (order, ip) in seen.ips {
                match other.ips.iter_mut().find(|(_, x)| *x == ip) {
                    Some(first) => first.0 = first.0.min(order),
                    None => other.ips.push((order, ip)),
                }
            }
            other.ips.sort_unstable();
        }
    }

    pub fn finish(mut self) -> Timeline {
        self.join_uidless_pods();
        let TimelineBuilder { mut t, times, pods, node_seen, slices, .. } = self;
        let time = |i: usize| times.get(i).copied().flatten();
        t.snapshot_times = times.iter().flatten().copied().collect();
        for node in t.nodes.values() {
            let (first, last) = node_seen.get(&node.name).copied().unwrap_or((0, 0));
            // From its creation (or the snapshot before it was first seen) until the first snapshot without it.
            let before = first.checked_sub(1).and_then(time);
            let from = node.created.or(before).unwrap_or(Ts::MIN);
            let to = time(last + 1).unwrap_or(Ts::MAX);
            for ip in &node.internal_ips {
                t.node_by_ip.entry(*ip).or_default().push((from, to.max(from), node.name.clone()));
            }
            if let Some(i) = &node.instance_id {
                t.node_by_instance.insert(i.clone(), node.name.clone());
            }
        }
        for list in t.node_by_ip.values_mut() {
            list.sort();
            for k in 1..list.len() {
                let next = list[k].0;
                if list[k - 1].1 > next {
                    list[k - 1].1 = next.max(list[k - 1].0);
                }
            }
        }
        let mut uid_index: FxHashMap<String, PodIdx> = FxHashMap::default();
        let mut name_index: FxHashMap<(String, String), Vec<PodIdx>> = FxHashMap::default();
        // A workload's labels are its latest-started pod's.
        let mut label_start: BTreeMap<Entity, Ts> = BTreeMap::new();
        for (uid, seen) in pods {
            let ips: Vec<Ip> = seen.ips.into_iter().map(|(_, ip)| ip).collect();
            let pod = seen.pod;
            let start = pod.created.or(time(seen.first_idx)).unwrap_or(Ts::MIN);
            let mut end = time(seen.last_idx + 1).unwrap_or(Ts::MAX);
            if pod.is_terminal()
                && let Some(f) = pod.finished
            {
                end = end.min(f);
            }
            if let Some(d) = pod.deleted {
                end = end.min(d);
            }
            if ips.is_empty() {
                t.pods_without_ip += 1;
            }
            let workload = workload_of(&pod);
            if label_start.get(&workload).is_none_or(|s| *s <= start) {
                label_start.insert(workload.clone(), start);
                t.labels.insert(workload.clone(), pod.labels.clone());
            }
            let idx = t.pods.len() as PodIdx;
            uid_index.insert(uid.clone(), idx);
            name_index.entry((pod.namespace.clone(), pod.name.clone())).or_default().push(idx);
            t.pods.push(PodLife {
                uid,
                workload,
                namespace: pod.namespace,
                name: pod.name,
                node: pod.node_name,
                ips,
                host_network: pod.host_network,
                start,
                end: end.max(start),
                services: Vec::new(),
            });
        }
        for (idx, pod) in t.pods.iter().enumerate() {
            if pod.host_network {
                continue;
            }
            for ip in &pod.ips {
                t.holders.entry(*ip).or_default().push(Holding { start: pod.start, end: pod.end, pod: idx as PodIdx });
            }
        }
        for list in t.holders.values_mut() {
            list.sort_by_key(|h| (h.start, h.pod));
            for i in 1..list.len() {
                let next_start = list[i].start;
                if list[i - 1].end > next_start {
                    list[i - 1].end = next_start;
                }
            }
        }
        // Service membership, from every EndpointSlice at every time it was seen.
        let mut slices: Vec<(EndpointSlice, (usize, Vec<Ts>))> = slices.into_iter().collect();
        slices.sort_by_key(|(_, (order, _))| *order);
        for (slice, (_, seen_at)) in &slices {
            for &at in seen_at {
                let Some(svc_name) = &slice.service else {
                    continue;
                };
                let svc = t.service_idx(&slice.namespace, svc_name);
                let ports: Vec<(Option<u16>, Proto)> = if slice.ports.is_empty() {
                    vec![(None, super::k8s::TCP), (None, super::k8s::UDP)]
                } else {
                    slice.ports.iter().map(|p| (p.port, p.protocol)).collect()
                };
                for ep in &slice.endpoints {
                    let by_ref = ep.target_uid.as_ref().and_then(|u| uid_index.get(u).copied()).or_else(|| {
                        let ns = ep.target_namespace.clone().unwrap_or_else(|| slice.namespace.clone());
                        let name = ep.target_name.clone()?;
                        if ep.target_kind.as_deref().is_some_and(|k| k != "Pod") {
                            return None;
                        }
                        name_index.get(&(ns, name)).and_then(|v| named_pod_at(&t.pods, v, at))
                    });
                    for addr in &ep.addresses {
                        let pod = by_ref.or_else(|| t.pod_at(*addr, at));
                        match pod.map(|p| &mut t.pods[p as usize]) {
                            Some(p) if !p.host_network => {
                                for &(port, proto) in &ports {
                                    let b = Binding { service: svc, port, proto };
                                    if !p.services.contains(&b) {
                                        p.services.push(b);
                                    }
                                }
                            }
                            _ => {
                                let list = t.address_bindings.entry(*addr).or_default();
                                for &(port, proto) in &ports {
                                    let b = Binding { service: svc, port, proto };
                                    if !list.contains(&b) {
                                        list.push(b);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Deterministic choice when several Services match: order by (namespace, name).
        let order: Vec<(String, String)> = t.services.clone();
        let key = |b: &Binding| (order[b.service as usize].clone(), b.port, b.proto);
        for p in &mut t.pods {
            p.services.sort_by_key(key);
        }
        for list in t.address_bindings.values_mut() {
            list.sort_by_key(key);
        }
        // What each node listens on: its pods' Service ports, hostNetwork endpoints, every NodePort.
        let mut listening: FxHashMap<String, Vec<(u16, Proto)>> = FxHashMap::default();
        for p in &t.pods {
            if let Some(node) = &p.node {
                let list = listening.entry(node.clone()).or_default();
                list.extend(p.services.iter().filter_map(|b| Some((b.port?, b.proto))));
            }
        }
        for node in t.nodes.values() {
            let list = listening.entry(node.name.clone()).or_default();
            for ip in &node.internal_ips {
                list.extend(t.address_bindings.get(ip).into_iter().flatten().filter_map(|b| Some((b.port?, b.proto))));
            }
            list.extend(t.node_ports.keys().copied());
        }
        for list in listening.values_mut() {
            list.sort_unstable();
            list.dedup();
        }
        t.node_ports_listening = listening;
        t
    }
}

impl Timeline {
    /// A timeline from every snapshot at once (in time order).
    pub fn build(snapshots: Vec<Snapshot>) -> Timeline {
        let mut b = TimelineBuilder::default();
        for snap in snapshots {
            b.add(snap);
        }
        b.finish()
    }

    fn service_idx(&mut self, ns: &str, name: &str) -> ServiceIdx {
        let key = (ns.to_string(), name.to_string());
        if let Some(&i) = self.service_index.get(&key) {
            return i;
        }
        let i = self.services.len() as ServiceIdx;
        self.services.push(key.clone());
        self.service_index.insert(key, i);
        i
    }

    /// Every (address, start, end, pod) holding, for exporting the timeline.
    pub fn holdings(&self) -> impl Iterator<Item = (Ip, Ts, Ts, PodIdx)> + '_ {
        self.holders.iter().flat_map(|(ip, list)| list.iter().map(move |h| (*ip, h.start, h.end, h.pod)))
    }

    /// Endpoints that are not pod IPs, with the Services they back.
    pub fn address_bindings(&self) -> impl Iterator<Item = (Ip, &[Binding])> + '_ {
        self.address_bindings.iter().map(|(ip, b)| (*ip, b.as_slice()))
    }

    pub fn node_ports(&self) -> impl Iterator<Item = ((u16, Proto), ServiceIdx)> + '_ {
        self.node_ports.iter().map(|(k, v)| (*k, *v))
    }

    /// The pod that held `ip` at time `t`.
    pub fn pod_at(&self, ip: Ip, t: Ts) -> Option<PodIdx> {
        self.holders.get(&ip)?.iter().find(|h| h.start <= t && t < h.end).map(|h| h.pod)
    }

    pub fn pod(&self, idx: PodIdx) -> &PodLife {
        &self.pods[idx as usize]
    }

    /// The node whose InternalIP `ip` was at `t`.
    pub fn node_by_ip_at(&self, ip: Ip, t: Ts) -> Option<&str> {
        self.node_by_ip.get(&ip)?.iter().find(|(f, to, _)| *f <= t && t < *to).map(|(_, _, n)| n.as_str())
    }

    /// The node whose InternalIP `ip` is, at any time (its latest holder).
    pub fn node_by_ip(&self, ip: Ip) -> Option<&str> {
        self.node_by_ip.get(&ip)?.last().map(|(_, _, n)| n.as_str())
    }

    /// Every port a Service match or a node's listening can name (EndpointSlice ports, NodePorts);
    /// `None` when an EndpointSlice without ports makes every port a Service's. Ports outside this
    /// set only matter by their order (the lower port serves): what the Athena pre-aggregation keeps.
    pub fn listening_ports(&self) -> Option<std::collections::BTreeSet<u16>> {
        let mut out = std::collections::BTreeSet::new();
        for b in self.pods.iter().flat_map(|p| &p.services).chain(self.address_bindings.values().flatten()) {
            out.insert(b.port?);
        }
        out.extend(self.node_ports.keys().map(|(p, _)| *p));
        Some(out)
    }

    /// Does something on `node` listen on `port` (a Service's target port, a NodePort)?
    pub fn node_listens(&self, node: &str, port: u16, proto: Proto) -> bool {
        self.node_ports_listening.get(node).is_some_and(|l| l.binary_search(&(port, proto)).is_ok())
    }

    pub fn node_by_instance(&self, instance_id: &str) -> Option<&str> {
        self.node_by_instance.get(instance_id).map(String::as_str)
    }

    /// The Service a pod serves on `port`/`proto`.
    pub fn pod_service(&self, pod: PodIdx, port: Option<u16>, proto: Proto) -> Option<ServiceIdx> {
        first_match(&self.pods[pod as usize].services, port, proto)
    }

    /// The Service behind a non-pod endpoint address (hostNetwork pod, selector-less Service).
    pub fn address_service(&self, ip: Ip, port: Option<u16>, proto: Proto) -> Option<ServiceIdx> {
        first_match(self.address_bindings.get(&ip)?, port, proto)
    }

    pub fn node_port_service(&self, port: u16, proto: Proto) -> Option<ServiceIdx> {
        self.node_ports.get(&(port, proto)).copied()
    }

    pub fn is_empty(&self) -> bool {
        self.pods.is_empty() && self.nodes.is_empty()
    }
}

/// Of the pods that bore one name over time, the one that did at `at` (else the latest created before).
fn named_pod_at(pods: &[PodLife], candidates: &[PodIdx], at: Ts) -> Option<PodIdx> {
    let life = |&i: &PodIdx| &pods[i as usize];
    candidates
        .iter()
        .copied()
        .find(|i| life(i).start <= at && at < life(i).end)
        .or_else(|| candidates.iter().copied().filter(|i| life(i).start <= at).max_by_key(|i| life(i).start))
}

fn first_match(list: &[Binding], port: Option<u16>, proto: Proto) -> Option<ServiceIdx> {
    let port = port?;
    list.iter().find(|b| b.proto == proto && b.port.is_none_or(|p| p == port)).map(|b| b.service)
}

/// The workload a pod belongs to, from its controller owner reference.
pub fn workload_of(pod: &Pod) -> Entity {
    let ns = pod.namespace.clone();
    let Some(owner) = &pod.owner else {
        return Entity::new(EntityKind::Pod, ns, &pod.name);
    };
    match owner.kind.as_str() {
        "ReplicaSet" => match pod.labels.get("pod-template-hash") {
            Some(hash) if owner.name.ends_with(&format!("-{hash}")) => {
                Entity::new(EntityKind::Deployment, ns, &owner.name[..owner.name.len() - hash.len() - 1])
            }
            _ => Entity::new(EntityKind::ReplicaSet, ns, &owner.name),
        },
        "Deployment" => Entity::new(EntityKind::Deployment, ns, &owner.name),
        "StatefulSet" => Entity::new(EntityKind::StatefulSet, ns, &owner.name),
        "DaemonSet" => Entity::new(EntityKind::DaemonSet, ns, &owner.name),
        "CronJob" => Entity::new(EntityKind::CronJob, ns, &owner.name),
        "Job" => match cronjob_of_job(&owner.name) {
            Some(cron) => Entity::new(EntityKind::CronJob, ns, cron),
            None => Entity::new(EntityKind::Job, ns, &owner.name),
        },
        // Static pods are owned by their Node; name them as bare pods.
        _ => Entity::new(EntityKind::Pod, ns, &pod.name),
    }
}

/// CronJob controllers name Jobs `<cronjob>-<scheduled time in minutes>`.
fn cronjob_of_job(job: &str) -> Option<&str> {
    let (base, suffix) = job.rsplit_once('-')?;
    (suffix.len() >= 8 && suffix.bytes().all(|b| b.is_ascii_digit()) && !base.is_empty()).then_some(base)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::k8s::OwnerRef;

    fn pod(owner: Option<(&str, &str)>, hash: Option<&str>) -> Pod {
        let mut p = Pod { namespace: "shop".into(), name: "p-1".into(), ..Pod::default() };
        p.owner = owner.map(|(k, n)| OwnerRef { kind: k.into(), name: n.into() });
        if let Some(h) = hash {
            p.labels.insert("pod-template-hash".into(), h.into());
        }
        p
    }

    #[test]
    fn a_node_address_taken_by_a_new_node_belongs_to_each_in_its_time() {
        // Node a is replaced between two snapshots by node b, which gets a's address.
        let ip = Ip::parse(b"10.0.64.50").unwrap();
        let node = |name: &str| Node { name: name.into(), internal_ips: vec![ip], ..Node::default() };
        let snap = |t: Ts, n: &str| Snapshot { time: Some(t), nodes: vec![node(n)], ..Snapshot::default() };
        let tl = Timeline::build(vec![snap(1000, "a"), snap(2000, "a"), snap(3000, "b")]);
        assert_eq!(tl.node_by_ip_at(ip, 1500), Some("a"));
        assert_eq!(tl.node_by_ip_at(ip, 2500), Some("b"), "b existed from the snapshot before it was first seen");
        assert_eq!(tl.node_by_ip_at(ip, 3500), Some("b"));
        assert_eq!(tl.node_by_ip(ip), Some("b"));
    }

    /// `cart-0` (StatefulSet) on node a at 10.0.1.5 is recreated at 1500 on node b, taking
    /// 10.0.1.9, which an api pod held until it was deleted at 1400.
    fn recreated_under_the_same_name(uids: bool, created: bool) -> (Timeline, Ip, Ip) {
        let (old_ip, reused) = (Ip::parse(b"10.0.1.5").unwrap(), Ip::parse(b"10.0.1.9").unwrap());
        let mk = |uid: &str, name: &str, owner: (&str, &str), node: &str, ip: Ip, at: Ts| Pod {
            uid: uids.then(|| uid.to_string()),
            namespace: "shop".into(),
            name: name.into(),
            owner: Some(OwnerRef { kind: owner.0.into(), name: owner.1.into() }),
            node_name: Some(node.into()),
            ips: vec![ip],
            created: created.then_some(at),
            ..Pod::default()
        };
        let old_cart = mk("uid-cart-a", "cart-0", ("StatefulSet", "cart"), "a", old_ip, 100);
        let api = mk("uid-api", "api-7d9f-x2x", ("ReplicaSet", "api-7d9f"), "a", reused, 200);
        let api = Pod { deleted: Some(1400), ..api };
        let new_cart = mk("uid-cart-b", "cart-0", ("StatefulSet", "cart"), "b", reused, 1500);
        let slice = |target: &Pod| crate::model::k8s::EndpointSlice {
            namespace: "shop".into(),
            name: "cart-x".into(),
            service: Some("cart".into()),
            endpoints: vec![crate::model::k8s::Endpoint {
                addresses: target.ips.clone(),
                target_kind: Some("Pod".into()),
                target_name: Some(target.name.clone()),
                target_uid: target.uid.clone(),
                ..crate::model::k8s::Endpoint::default()
            }],
            ports: vec![crate::model::k8s::SlicePort { name: None, port: Some(6379), protocol: crate::model::k8s::TCP }],
            ..crate::model::k8s::EndpointSlice::default()
        };
        let first = Snapshot { time: Some(1000), pods: vec![old_cart.clone(), api], slices: vec![slice(&old_cart)], ..Snapshot::default() };
        let second = Snapshot { time: Some(2000), pods: vec![new_cart.clone()], slices: vec![slice(&new_cart)], ..Snapshot::default() };
        (Timeline::build(vec![first, second]), old_ip, reused)
    }

    #[test]
    fn a_pod_recreated_under_the_same_name_is_another_pod() {
        for (uids, created) in [(true, true), (false, true), (false, false)] {
            let (tl, old_ip, reused) = recreated_under_the_same_name(uids, created);
            let case = format!("uids {uids}, creation times {created}");
            assert_eq!(tl.pods.len(), 3, "{case}: two cart-0 pods and the api pod");
            let name_at = |ip: Ip, t: Ts| tl.pod_at(ip, t).map(|p| (tl.pod(p).name.clone(), tl.pod(p).node.clone().unwrap()));
            let api = Some(("api-7d9f-x2x".to_string(), "a".to_string()));
            let new_cart = Some(("cart-0".to_string(), "b".to_string()));
            if created {
                assert_eq!(name_at(reused, 1300), api, "{case}: the api pod held the address before the replacement");
                assert_eq!(name_at(reused, 1600), new_cart, "{case}: the new cart-0 holds it after");
                assert_eq!(name_at(old_ip, 1300), Some(("cart-0".to_string(), "a".to_string())), "{case}");
            } else {
                // Without creation times a pod holds its address from its first snapshot.
                assert_eq!(name_at(reused, 1300), api, "{case}");
                assert_eq!(name_at(reused, 2100), new_cart, "{case}");
            }
            // Each cart-0 backs the cart Service on its own address; the api pod backs nothing.
            for p in &tl.pods {
                let backs = tl.pod_service(tl.pods.iter().position(|q| std::ptr::eq(q, p)).unwrap() as PodIdx, Some(6379), crate::model::k8s::TCP);
                assert_eq!(backs.is_some(), p.name == "cart-0", "{case}: {} on {:?}", p.name, p.node);
            }
        }
    }

    #[test]
    fn a_snapshot_without_uids_borrows_them_by_name_and_creation_time() {
        let ip = Ip::parse(b"10.0.1.7").unwrap();
        let pod = |uid: Option<&str>| Pod {
            uid: uid.map(str::to_string),
            namespace: "shop".into(),
            name: "cart-0".into(),
            ips: vec![ip],
            created: Some(500),
            ..Pod::default()
        };
        let snap = |t: Ts, p: Pod| Snapshot { time: Some(t), pods: vec![p], ..Snapshot::default() };
        let tl = Timeline::build(vec![snap(1000, pod(Some("u-1"))), snap(2000, pod(None))]);
        assert_eq!(tl.pods.len(), 1, "the same pod, with and without its uid");
        assert_eq!((tl.pods[0].start, tl.pods[0].end), (500, Ts::MAX));
        // Without its uid first: the sightings still join, and its addresses keep the order they came in.
        let other = Ip::parse(b"10.0.1.8").unwrap();
        let tl = Timeline::build(vec![
            snap(1000, pod(None)),
            snap(2000, Pod { ips: vec![other, ip], ..pod(Some("u-1")) }),
            Snapshot { time: Some(3000), ..Snapshot::default() },
        ]);
        assert_eq!(tl.pods.len(), 1);
        let p = &tl.pods[0];
        assert_eq!((p.uid.as_str(), p.start, p.end, p.ips.clone()), ("u-1", 500, 3000, vec![ip, other]));
    }

    /// Identical snapshots add times, not copies: one pod, one slice seen at every time.
    #[test]
    fn identical_snapshots_are_kept_once() {
        let ip = Ip::parse(b"10.0.1.7").unwrap();
        let pod = Pod { uid: Some("u-1".into()), namespace: "shop".into(), name: "cart-0".into(), ips: vec![ip], created: Some(500), ..Pod::default() };
        let slice = crate::model::k8s::EndpointSlice {
            namespace: "shop".into(),
            name: "cart-x".into(),
            service: Some("cart".into()),
            endpoints: vec![crate::model::k8s::Endpoint { addresses: vec![ip], ..Default::default() }],
            ..Default::default()
        };
        let mut b = TimelineBuilder::default();
        for t in 0..48 {
            b.add(Snapshot { time: Some(1000 + t * 300), pods: vec![pod.clone()], slices: vec![slice.clone()], ..Snapshot::default() });
        }
        assert_eq!((b.pods.len(), b.pods["u-1"].ips.len(), b.slices.len(), b.slices[&slice].1.len()), (1, 1, 1, 48));
        let tl = b.finish();
        assert_eq!(tl.snapshot_times.len(), 48);
        assert_eq!(tl.pod_service(0, Some(8080), crate::model::k8s::TCP), Some(0), "the slice names every port");
    }

    #[test]
    fn workloads_from_owners() {
        let w = workload_of(&pod(Some(("ReplicaSet", "web-api-5d9c7b8f6d")), Some("5d9c7b8f6d")));
        assert_eq!((w.kind, w.name.as_str()), (EntityKind::Deployment, "web-api"));
        let w = workload_of(&pod(Some(("ReplicaSet", "orphan-rs")), None));
        assert_eq!((w.kind, w.name.as_str()), (EntityKind::ReplicaSet, "orphan-rs"));
        let w = workload_of(&pod(Some(("Job", "report-generator-29340000")), None));
        assert_eq!((w.kind, w.name.as_str()), (EntityKind::CronJob, "report-generator"));
        let w = workload_of(&pod(Some(("Job", "migrate-db")), None));
        assert_eq!((w.kind, w.name.as_str()), (EntityKind::Job, "migrate-db"));
        let w = workload_of(&pod(Some(("StatefulSet", "cache")), None));
        assert_eq!((w.kind, w.name.as_str()), (EntityKind::StatefulSet, "cache"));
        let w = workload_of(&pod(None, None));
        assert_eq!((w.kind, w.name.as_str()), (EntityKind::Pod, "p-1"));
    }
}
