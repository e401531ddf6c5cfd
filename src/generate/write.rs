//! Writes the simulated month in the formats AWS and kubectl write: flow logs (gzip text or
//! Parquet, S3 layouts), `aws ec2 describe-*` JSON, and `kubectl get … -o json` snapshots.

use super::cluster::Plan;
use super::traffic::GenRecord;
use super::world::{ACCOUNT, CLUSTER, DB_CLASS, DB_CLUSTER, EniKind, FLOW_LOG_ID, REGION, UNUSED_ZONE, VPC, World, ZONES};
use crate::model::ip::Ip;
use crate::model::time::{Ts, format_time};
use crate::sources::flowlogs::format::{DEFAULT_FORMAT, RECOMMENDED_FORMAT};
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FlowFormat {
    /// The recommended custom format (with pkt-srcaddr, pkt-dstaddr, az-id, flow-direction).
    Recommended,
    /// AWS's default version-2 format.
    Default,
    /// Parquet with the recommended fields, in the Hive-style S3 layout.
    Parquet,
}

fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, bytes)
}

/// The network inventory: subnets, AZs and databases once; interfaces once as they are now, or,
/// given snapshot times, as `pull network --every` keeps them (`<time>/network-interfaces.json`).
/// `start` is the window's first day: interfaces older than the window say they were attached 11 days before it.
pub fn network(world: &World, dir: &Path, snapshots: &[Ts], start: Ts) -> std::io::Result<()> {
    let before = format_time(start - 11 * 86_400 + 8 * 3_600).replace('Z', "+00:00");
    let zones: Vec<Value> = ZONES
        .iter()
        .chain(std::iter::once(&UNUSED_ZONE))
        .map(|(name, id)| {
            json!({"State": "available", "OptInStatus": "opt-in-not-required", "Messages": [], "RegionName": REGION,
                   "ZoneName": name, "ZoneId": id, "GroupName": REGION, "NetworkBorderGroup": REGION, "ZoneType": "availability-zone"})
        })
        .collect();
    write_file(&dir.join("availability-zones.json"), &pretty(&json!({ "AvailabilityZones": zones })))?;
    let subnets: Vec<Value> = world
        .subnets
        .iter()
        .map(|s| {
            json!({"AvailabilityZone": ZONES[s.zone].0, "AvailabilityZoneId": ZONES[s.zone].1, "AvailableIpAddressCount": 4000,
                   "CidrBlock": s.cidr, "DefaultForAz": false, "MapPublicIpOnLaunch": s.public, "State": "available",
                   "SubnetId": s.id, "VpcId": VPC, "OwnerId": ACCOUNT, "AssignIpv6AddressOnCreation": false,
                   "Ipv6CidrBlockAssociationSet": [],
                   "Tags": [{"Key": "Name", "Value": format!("{}-{}", if s.public { "public" } else { "private" }, ZONES[s.zone].0)}],
                   "SubnetArn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{}", s.id)})
        })
        .collect();
    write_file(&dir.join("subnets.json"), &pretty(&json!({ "Subnets": subnets })))?;
    let interfaces = |at: Option<Ts>| -> Vec<Value> {
        world.enis.iter().filter(|e| at.is_none_or(|t| e.life.exists_at(t))).map(|e| interface_json(world, e, &before)).collect()
    };
    if snapshots.is_empty() {
        write_file(&dir.join("network-interfaces.json"), &pretty(&json!({ "NetworkInterfaces": interfaces(None) })))?;
    }
    for &t in snapshots {
        write_file(&dir.join(format_time(t)).join("network-interfaces.json"), &pretty(&json!({ "NetworkInterfaces": interfaces(Some(t)) })))?;
    }
    // The RDS Multi-AZ DB cluster, as `aws rds describe-db-instances` / `describe-db-clusters` print it.
    let private_subnets: Vec<Value> = world
        .subnets
        .iter()
        .filter(|s| !s.public)
        .map(|s| json!({"SubnetIdentifier": s.id, "SubnetAvailabilityZone": {"Name": ZONES[s.zone].0}, "SubnetStatus": "Active"}))
        .collect();
    let mut instances = Vec::new();
    let mut members = Vec::new();
    for e in &world.enis {
        if let EniKind::Rds(id, writer) = &e.kind {
            instances.push(json!({
                "DBInstanceIdentifier": id, "DBInstanceClass": DB_CLASS, "Engine": "postgres", "EngineVersion": "16.4",
                "DBInstanceStatus": "available",
                "Endpoint": {"Address": format!("{id}.c9akciq32.{REGION}.rds.amazonaws.com"), "Port": 5432},
                "AllocatedStorage": 400, "StorageType": "gp3",
                "AvailabilityZone": ZONES[e.zone].0, "MultiAZ": true, "DBClusterIdentifier": DB_CLUSTER,
                "DBSubnetGroup": {"DBSubnetGroupName": "shop-db-subnets", "VpcId": VPC, "Subnets": private_subnets}
            }));
            members.push(json!({"DBInstanceIdentifier": id, "IsClusterWriter": writer, "PromotionTier": 1}));
        }
    }
    write_file(&dir.join("rds-db-instances.json"), &pretty(&json!({ "DBInstances": instances })))?;
    let cluster = json!({
        "DBClusterIdentifier": DB_CLUSTER, "Engine": "postgres", "EngineVersion": "16.4", "DBClusterInstanceClass": DB_CLASS,
        "AllocatedStorage": 400, "StorageType": "gp3", "MultiAZ": true,
        "AvailabilityZones": ZONES.iter().map(|z| z.0).collect::<Vec<_>>(),
        "Endpoint": format!("{DB_CLUSTER}.cluster-c9akciq32.{REGION}.rds.amazonaws.com"),
        "ReaderEndpoint": format!("{DB_CLUSTER}.cluster-ro-c9akciq32.{REGION}.rds.amazonaws.com"),
        "DBClusterMembers": members
    });
    write_file(&dir.join("rds-db-clusters.json"), &pretty(&json!({ "DBClusters": [cluster] })))
}

/// One interface as `aws ec2 describe-network-interfaces` prints it.
fn interface_json(world: &World, e: &super::world::EniDef, attached_before: &str) -> Value {
    let mut ips = vec![json!({"Primary": true, "PrivateIpAddress": e.primary.to_string(), "PrivateDnsName": dns(e.primary)})];
    ips.extend(e.secondaries.iter().map(|s| json!({"Primary": false, "PrivateIpAddress": s.to_string(), "PrivateDnsName": dns(*s)})));
    let mut v = json!({
        "AvailabilityZone": ZONES[e.zone].0,
        "Description": e.description,
        "Groups": [{"GroupName": "eks-cluster-sg-demo", "GroupId": "sg-0123456789abcdef0"}],
        "InterfaceType": e.interface_type,
        "Ipv6Addresses": [],
        "MacAddress": "02:00:00:00:00:00",
        "NetworkInterfaceId": e.id,
        "OwnerId": ACCOUNT,
        "PrivateDnsName": dns(e.primary),
        "PrivateIpAddress": e.primary.to_string(),
        "PrivateIpAddresses": ips,
        "RequesterManaged": e.requester_id.is_some(),
        "SourceDestCheck": true,
        "Status": "in-use",
        "SubnetId": world.subnets[e.subnet].id,
        "TagSet": [],
        "VpcId": VPC
    });
    if let Some(r) = e.requester_id {
        v["RequesterId"] = json!(r);
    }
    // Interfaces created in the window (a replaced node's, a scaled load balancer's) say when.
    let attached = if e.life.exists.0 > Ts::MIN { format_time(e.life.exists.0) } else { attached_before.to_string() };
    if let Some(i) = &e.instance_id {
        v["Attachment"] = json!({"AttachTime": attached, "AttachmentId": format!("eni-attach-0{}", &e.id[5..]),
                    "DeleteOnTermination": true, "DeviceIndex": if e.description.is_empty() { 0 } else { 1 }, "NetworkCardIndex": 0,
                    "InstanceId": i, "InstanceOwnerId": ACCOUNT, "Status": "attached"});
    } else if let Some(r) = e.requester_id {
        v["Attachment"] = json!({"AttachTime": attached, "AttachmentId": format!("ela-attach-0{}", &e.id[5..]),
                    "DeleteOnTermination": false, "DeviceIndex": 1, "NetworkCardIndex": 0, "InstanceOwnerId": r, "Status": "attached"});
    }
    v
}

fn dns(ip: Ip) -> String {
    format!("ip-{}.{REGION}.compute.internal", ip.to_string().replace('.', "-"))
}

fn pretty(v: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).expect("JSON values serialize");
    out.push(b'\n');
    out
}

/// One `kubectl get nodes,pods,services,endpointslices -A -o json` List at time `t`.
pub fn snapshot(world: &World, plan: &Plan, t: Ts) -> Value {
    let mut items = Vec::new();
    let created = format_time(t - 40 * 86_400);
    for (i, n) in world.nodes.iter().enumerate() {
        if !n.alive_at(t) {
            continue;
        }
        let mut labels = json!({
            "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/instance-type": "m5.large", "beta.kubernetes.io/os": "linux",
            "eks.amazonaws.com/capacityType": "ON_DEMAND", "eks.amazonaws.com/nodegroup": "ng-default",
            "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux",
            "node.kubernetes.io/instance-type": "m5.large", "topology.kubernetes.io/region": REGION,
            "topology.kubernetes.io/zone": ZONES[n.zone].0
        });
        // Newer EKS nodes also carry the AZ ID; older ones only the name.
        if i % 2 == 0 {
            labels["topology.k8s.aws/zone-id"] = json!(ZONES[n.zone].1);
        }
        items.push(json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": n.name, "uid": format!("node-uid-{i}"), "creationTimestamp": if n.alive.0 > Ts::MIN { format_time(n.alive.0) } else { created.clone() }, "labels": labels},
            "spec": {"providerID": format!("aws:///{}/{}", ZONES[n.zone].0, n.instance_id)},
            "status": {
                "addresses": [{"type": "InternalIP", "address": n.ip.to_string()}, {"type": "InternalDNS", "address": n.name}, {"type": "Hostname", "address": n.name}],
                "allocatable": {"cpu": format!("{}m", n.cpu_milli), "ephemeral-storage": "76224326324", "memory": "7291112Ki", "pods": "29"},
                "capacity": {"cpu": "2", "ephemeral-storage": "83873772Ki", "memory": "7938280Ki", "pods": "29"},
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
                "nodeInfo": {"kubeletVersion": "v1.34.2-eks-b9c9d5f", "containerRuntimeVersion": "containerd://1.7.27"}
            }
        }));
    }
    let listed: Vec<usize> = plan.pods.iter().enumerate().filter(|(_, p)| p.start <= t && t < p.listed_until).map(|(i, _)| i).collect();
    for &i in &listed {
        let p = &plan.pods[i];
        let w = &plan.workloads[p.workload];
        let node = &world.nodes[p.node];
        let mut labels = json!({"app.kubernetes.io/name": w.name});
        if let Some(team) = super::cluster::team(w.namespace, w.name) {
            labels["team"] = json!(team);
        }
        if let Some(h) = &p.template_hash {
            labels["pod-template-hash"] = json!(h);
        }
        let owner = p.owner.as_ref().map(|(kind, name)| {
            let api = if *kind == "Job" { "batch/v1" } else { "apps/v1" };
            json!([{"apiVersion": api, "kind": kind, "name": name, "uid": format!("owner-{name}"), "controller": true, "blockOwnerDeletion": true}])
        });
        let running = t < p.end;
        let status = if running {
            json!({"phase": "Running", "hostIP": node.ip.to_string(), "podIP": p.ip.to_string(), "podIPs": [{"ip": p.ip.to_string()}],
                   "startTime": format_time(p.start + 1),
                   "conditions": [{"type": "Ready", "status": "True"}],
                   "containerStatuses": [{"name": w.name, "ready": true, "restartCount": 0, "state": {"running": {"startedAt": format_time(p.start + 5)}}}]})
        } else {
            let fin = format_time(p.finished.unwrap_or(p.end));
            json!({"phase": "Succeeded", "hostIP": node.ip.to_string(), "podIP": p.ip.to_string(), "podIPs": [{"ip": p.ip.to_string()}],
                   "startTime": format_time(p.start + 1),
                   "containerStatuses": [{"name": w.name, "ready": false, "restartCount": 0,
                       "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": format_time(p.start + 5), "finishedAt": fin}}}]})
        };
        let mut meta = json!({"name": p.name, "namespace": w.namespace, "uid": p.uid, "creationTimestamp": format_time(p.start), "labels": labels});
        if let Some(o) = owner {
            meta["ownerReferences"] = o;
        }
        let mut spec =
            json!({"nodeName": node.name, "containers": [{"name": w.name, "image": format!("registry.example/{}:1.0", w.name)}], "restartPolicy": "Always"});
        if w.host_network {
            spec["hostNetwork"] = json!(true);
        }
        items.push(json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}));
    }
    for s in &plan.services {
        let ports: Vec<Value> = s
            .ports
            .iter()
            .map(|(name, port, target, proto)| {
                let mut v = json!({"name": name, "port": port, "targetPort": target, "protocol": proto});
                if let Some(np) = s.node_port {
                    v["nodePort"] = json!(np);
                }
                v
            })
            .collect();
        let mut meta = json!({"name": s.name, "namespace": s.namespace, "uid": format!("svc-{}-{}", s.namespace, s.name), "creationTimestamp": created});
        if !s.annotations.is_empty() {
            meta["annotations"] = Value::Object(s.annotations.iter().map(|(k, v)| (k.to_string(), json!(v))).collect());
        }
        let w = &plan.workloads[s.workload];
        if let Some(team) = super::cluster::team(w.namespace, w.name) {
            meta["labels"] = json!({"team": team});
        }
        let type_ = if s.load_balancer {
            "LoadBalancer"
        } else if s.node_port.is_some() {
            "NodePort"
        } else {
            "ClusterIP"
        };
        let mut spec = json!({"type": type_, "ports": ports,
                              "selector": {"app.kubernetes.io/name": w.name}, "clusterIP": "172.20.0.10", "internalTrafficPolicy": "Cluster"});
        if let Some(td) = s.traffic_distribution {
            spec["trafficDistribution"] = json!(td);
        }
        items.push(json!({"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}));
        let endpoints: Vec<Value> = listed
            .iter()
            .map(|&i| &plan.pods[i])
            .filter(|p| p.workload == s.workload && t < p.end)
            .map(|p| {
                let node = &world.nodes[p.node];
                let mut e = json!({"addresses": [p.ip.to_string()], "conditions": {"ready": true, "serving": true, "terminating": false},
                       "nodeName": node.name, "zone": ZONES[node.zone].0,
                       "targetRef": {"kind": "Pod", "name": p.name, "namespace": w.namespace, "uid": p.uid}});
                if s.traffic_distribution.is_some() {
                    e["hints"] = json!({"forZones": [{"name": ZONES[node.zone].0}]});
                }
                e
            })
            .collect();
        let slice_ports: Vec<Value> = s.ports.iter().map(|(name, _, target, proto)| json!({"name": name, "port": target, "protocol": proto})).collect();
        items.push(json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": format!("{}-x7k2p", s.name), "namespace": s.namespace, "generateName": format!("{}-", s.name),
                         "labels": {"kubernetes.io/service-name": s.name, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
            "endpoints": endpoints, "ports": slice_ports
        }));
    }
    json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items})
}

pub fn snapshots(world: &World, plan: &Plan, dir: &Path) -> std::io::Result<usize> {
    use rayon::prelude::*;
    std::fs::create_dir_all(dir)?;
    plan.snapshot_times.par_iter().try_for_each(|&t| {
        let v = snapshot(world, plan, t);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&serde_json::to_vec(&v).expect("JSON values serialize"))?;
        write_file(&dir.join(format!("{}.json.gz", format_time(t))), &gz.finish()?)
    })?;
    Ok(plan.snapshot_times.len())
}

fn push_ip(out: &mut Vec<u8>, ip: Ip) {
    if ip.is_v4() {
        let v = ip.0 as u32;
        let mut b = itoa_buf();
        for (i, shift) in [24, 16, 8, 0].iter().enumerate() {
            if i > 0 {
                out.push(b'.');
            }
            out.extend_from_slice(b.format(u64::from((v >> shift) & 0xff)).as_bytes());
        }
    } else {
        out.extend_from_slice(ip.to_string().as_bytes());
    }
}

struct Itoa([u8; 20]);

fn itoa_buf() -> Itoa {
    Itoa([0; 20])
}

impl Itoa {
    fn format(&mut self, mut v: u64) -> &str {
        let mut i = self.0.len();
        loop {
            i -= 1;
            self.0[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        std::str::from_utf8(&self.0[i..]).expect("digits are ASCII")
    }
}

fn push_num(out: &mut Vec<u8>, v: u64) {
    let mut b = itoa_buf();
    out.extend_from_slice(b.format(v).as_bytes());
}

/// Appends one record as a text line of the given format.
pub fn text_line(out: &mut Vec<u8>, world: &World, r: &GenRecord, format: FlowFormat) {
    let e = &world.enis[r.eni as usize];
    let ok = r.status == 0;
    let sp = |out: &mut Vec<u8>| out.push(b' ');
    out.extend_from_slice(if format == FlowFormat::Default { b"2 " } else { b"5 " });
    out.extend_from_slice(ACCOUNT.as_bytes());
    sp(out);
    out.extend_from_slice(e.id.as_bytes());
    sp(out);
    if ok {
        push_ip(out, r.src);
        sp(out);
        push_ip(out, r.dst);
        sp(out);
        push_num(out, u64::from(r.sport));
        sp(out);
        push_num(out, u64::from(r.dport));
        sp(out);
        push_num(out, u64::from(r.proto));
        sp(out);
        push_num(out, r.packets);
        sp(out);
        push_num(out, r.bytes);
        sp(out);
    } else {
        out.extend_from_slice(b"- - - - - - - ");
    }
    push_num(out, r.start as u64);
    sp(out);
    push_num(out, r.end as u64);
    sp(out);
    out.extend_from_slice(match (ok, r.reject) {
        (false, _) => b"- ",
        (true, true) => b"REJECT ",
        (true, false) => b"ACCEPT ",
    });
    out.extend_from_slice(match r.status {
        0 => b"OK".as_slice(),
        1 => b"NODATA",
        _ => b"SKIPDATA",
    });
    if format == FlowFormat::Default {
        out.push(b'\n');
        return;
    }
    sp(out);
    out.extend_from_slice(VPC.as_bytes());
    sp(out);
    out.extend_from_slice(world.subnets[e.subnet].id.as_bytes());
    sp(out);
    out.extend_from_slice(e.instance_id.as_deref().unwrap_or("-").as_bytes());
    sp(out);
    if ok {
        push_num(out, u64::from(r.tcp_flags));
        out.extend_from_slice(b" IPv4 ");
        push_ip(out, r.pkt_src);
        sp(out);
        push_ip(out, r.pkt_dst);
        sp(out);
    } else {
        out.extend_from_slice(b"- - - - ");
    }
    out.extend_from_slice(REGION.as_bytes());
    sp(out);
    out.extend_from_slice(ZONES[e.zone].1.as_bytes());
    sp(out);
    if ok {
        out.extend_from_slice(if r.egress { b"egress " } else { b"ingress " });
        match r.traffic_path {
            Some(p) => push_num(out, u64::from(p)),
            None => out.push(b'-'),
        }
    } else {
        out.extend_from_slice(b"- -");
    }
    out.push(b'\n');
}

pub fn header(format: FlowFormat) -> &'static str {
    if format == FlowFormat::Default { DEFAULT_FORMAT } else { RECOMMENDED_FORMAT }
}

/// The S3 key AWS would use for a text file of records ending in `hour`.
pub fn text_key(day_start: Ts, part: usize) -> String {
    text_key_of(ACCOUNT, FLOW_LOG_ID, day_start, part)
}

/// The same for another account's or another flow log's objects in the same bucket.
pub fn text_key_of(account: &str, flow_log: &str, day_start: Ts, part: usize) -> String {
    let d = chrono::DateTime::<chrono::Utc>::from_timestamp(day_start, 0).expect("valid time");
    format!(
        "AWSLogs/{account}/vpcflowlogs/{REGION}/{}/{account}_vpcflowlogs_{REGION}_{flow_log}_{}T{:02}00Z_{:08x}.log.gz",
        d.format("%Y/%m/%d"),
        d.format("%Y%m%d"),
        part,
        (day_start as u64).wrapping_mul(2654435761).wrapping_add(part as u64) & 0xffff_ffff
    )
}

pub fn parquet_key(day_start: Ts, part: usize) -> String {
    let d = chrono::DateTime::<chrono::Utc>::from_timestamp(day_start, 0).expect("valid time");
    format!(
        "AWSLogs/aws-account-id={ACCOUNT}/aws-service=vpcflowlogs/aws-region={REGION}/year={}/month={}/day={}/{ACCOUNT}_vpcflowlogs_{REGION}_{FLOW_LOG_ID}_{}T{:02}00Z_{:08x}.log.parquet",
        d.format("%Y"),
        d.format("%m"),
        d.format("%d"),
        d.format("%Y%m%d"),
        part,
        (day_start as u64).wrapping_mul(2654435761).wrapping_add(part as u64) & 0xffff_ffff
    )
}

pub fn text_file(path: &Path, world: &World, records: &[GenRecord], format: FlowFormat, with_header: bool) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::File::create(path)?;
    let mut gz = flate2::write::GzEncoder::new(std::io::BufWriter::with_capacity(1 << 20, file), flate2::Compression::default());
    let mut buf = Vec::with_capacity(1 << 20);
    if with_header {
        buf.extend_from_slice(header(format).as_bytes());
        buf.push(b'\n');
    }
    for r in records {
        text_line(&mut buf, world, r, format);
        if buf.len() > (1 << 20) - 512 {
            gz.write_all(&buf)?;
            buf.clear();
        }
    }
    gz.write_all(&buf)?;
    gz.finish()?.flush()
}

pub fn parquet_file(path: &Path, world: &World, records: &[GenRecord]) -> std::io::Result<()> {
    use arrow_array::builder::{Int32Builder, Int64Builder, StringBuilder};
    use arrow_array::{ArrayRef, RecordBatch};
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;
    let to_io = |e: &dyn std::fmt::Display| std::io::Error::other(e.to_string());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let s = |n: &str| Field::new(n, DataType::Utf8, true);
    let i32f = |n: &str| Field::new(n, DataType::Int32, true);
    let i64f = |n: &str| Field::new(n, DataType::Int64, true);
    let schema = Arc::new(Schema::new(vec![
        i32f("version"),
        s("account_id"),
        s("interface_id"),
        s("srcaddr"),
        s("dstaddr"),
        i32f("srcport"),
        i32f("dstport"),
        i32f("protocol"),
        i64f("packets"),
        i64f("bytes"),
        i64f("start"),
        i64f("end"),
        s("action"),
        s("log_status"),
        s("vpc_id"),
        s("subnet_id"),
        s("instance_id"),
        i32f("tcp_flags"),
        s("type"),
        s("pkt_srcaddr"),
        s("pkt_dstaddr"),
        s("region"),
        s("az_id"),
        s("flow_direction"),
        i32f("traffic_path"),
        s("pkt_src_aws_service"),
        s("pkt_dst_aws_service"),
    ]));
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::GZIP(Default::default()))
        .set_max_row_group_row_count(Some(256 * 1024))
        .build();
    let file = std::fs::File::create(path)?;
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| to_io(&e))?;
    for chunk in records.chunks(128 * 1024) {
        let mut version = Int32Builder::new();
        let mut account = StringBuilder::new();
        let mut eni = StringBuilder::new();
        let mut src = StringBuilder::new();
        let mut dst = StringBuilder::new();
        let mut sport = Int32Builder::new();
        let mut dport = Int32Builder::new();
        let mut proto = Int32Builder::new();
        let mut packets = Int64Builder::new();
        let mut bytes = Int64Builder::new();
        let mut start = Int64Builder::new();
        let mut end = Int64Builder::new();
        let mut action = StringBuilder::new();
        let mut status = StringBuilder::new();
        let mut vpc = StringBuilder::new();
        let mut subnet = StringBuilder::new();
        let mut instance = StringBuilder::new();
        let mut flags = Int32Builder::new();
        let mut typ = StringBuilder::new();
        let mut psrc = StringBuilder::new();
        let mut pdst = StringBuilder::new();
        let mut region = StringBuilder::new();
        let mut az = StringBuilder::new();
        let mut dir = StringBuilder::new();
        let mut path_b = Int32Builder::new();
        let mut src_svc = StringBuilder::new();
        let mut dst_svc = StringBuilder::new();
        for r in chunk {
            let e = &world.enis[r.eni as usize];
            let ok = r.status == 0;
            version.append_value(5);
            account.append_value(ACCOUNT);
            eni.append_value(&e.id);
            let opt_ip = |b: &mut StringBuilder, ip: Ip| {
                if ok { b.append_value(ip.to_string()) } else { b.append_null() }
            };
            opt_ip(&mut src, r.src);
            opt_ip(&mut dst, r.dst);
            let opt_i32 = |b: &mut Int32Builder, v: i32| {
                if ok { b.append_value(v) } else { b.append_null() }
            };
            opt_i32(&mut sport, i32::from(r.sport));
            opt_i32(&mut dport, i32::from(r.dport));
            opt_i32(&mut proto, i32::from(r.proto));
            let opt_i64 = |b: &mut Int64Builder, v: i64| {
                if ok { b.append_value(v) } else { b.append_null() }
            };
            opt_i64(&mut packets, r.packets as i64);
            opt_i64(&mut bytes, r.bytes as i64);
            start.append_value(r.start);
            end.append_value(r.end);
            if ok {
                action.append_value(if r.reject { "REJECT" } else { "ACCEPT" });
            } else {
                action.append_null();
            }
            status.append_value(["OK", "NODATA", "SKIPDATA"][r.status as usize]);
            vpc.append_value(VPC);
            subnet.append_value(&world.subnets[e.subnet].id);
            match &e.instance_id {
                Some(i) => instance.append_value(i),
                None => instance.append_null(),
            }
            opt_i32(&mut flags, i32::from(r.tcp_flags));
            if ok {
                typ.append_value("IPv4")
            } else {
                typ.append_null()
            }
            opt_ip(&mut psrc, r.pkt_src);
            opt_ip(&mut pdst, r.pkt_dst);
            region.append_value(REGION);
            az.append_value(ZONES[e.zone].1);
            if ok {
                dir.append_value(if r.egress { "egress" } else { "ingress" })
            } else {
                dir.append_null()
            }
            match r.traffic_path.filter(|_| ok) {
                Some(p) => path_b.append_value(i32::from(p)),
                None => path_b.append_null(),
            }
            src_svc.append_option(r.src_service.filter(|_| ok));
            dst_svc.append_option(r.dst_service.filter(|_| ok));
        }
        let cols: Vec<ArrayRef> = vec![
            Arc::new(version.finish()),
            Arc::new(account.finish()),
            Arc::new(eni.finish()),
            Arc::new(src.finish()),
            Arc::new(dst.finish()),
            Arc::new(sport.finish()),
            Arc::new(dport.finish()),
            Arc::new(proto.finish()),
            Arc::new(packets.finish()),
            Arc::new(bytes.finish()),
            Arc::new(start.finish()),
            Arc::new(end.finish()),
            Arc::new(action.finish()),
            Arc::new(status.finish()),
            Arc::new(vpc.finish()),
            Arc::new(subnet.finish()),
            Arc::new(instance.finish()),
            Arc::new(flags.finish()),
            Arc::new(typ.finish()),
            Arc::new(psrc.finish()),
            Arc::new(pdst.finish()),
            Arc::new(region.finish()),
            Arc::new(az.finish()),
            Arc::new(dir.finish()),
            Arc::new(path_b.finish()),
            Arc::new(src_svc.finish()),
            Arc::new(dst_svc.finish()),
        ];
        let batch = RecordBatch::try_new(schema.clone(), cols).map_err(|e| to_io(&e))?;
        w.write(&batch).map_err(|e| to_io(&e))?;
    }
    w.close().map_err(|e| to_io(&e))?;
    Ok(())
}

pub const EKS_CLUSTER: &str = CLUSTER;

/// The real-account day's other objects in the bucket for one file's hours: the security team's
/// flow log over a public subnet (default format, the same records again), another account's VPC
/// (default format) and another VPC of this account (with `vpc-id`), both on our CIDR. Returns
/// the records, bytes and files written; the truth learns what each is.
#[allow(clippy::too_many_arguments)]
pub fn real_account_extras(
    dir: &Path,
    world: &World,
    real: &super::real::Shapes,
    seed: u64,
    day: Ts,
    part: usize,
    recs: &[GenRecord],
    truth: &mut super::traffic::Truth,
) -> std::io::Result<(u64, u64, usize)> {
    use super::real::*;
    let mut written = 0u64;
    let mut bytes = 0u64;
    let security: Vec<GenRecord> = recs.iter().filter(|r| world.enis[r.eni as usize].subnet == real.security_subnet).copied().collect();
    let p = dir.join(text_key_of(ACCOUNT, SECURITY_FLOW_LOG, day, part));
    text_file(&p, world, &security, FlowFormat::Default, true)?;
    *truth.records.entry("overlapping-flow-log").or_default() += security.len() as u64;
    written += security.len() as u64;
    bytes += std::fs::metadata(&p)?.len();
    let hours: Vec<Ts> = {
        let mut h: Vec<Ts> = recs.iter().map(|r| r.start - r.start.rem_euclid(3600)).collect();
        h.sort_unstable();
        h.dedup();
        h
    };
    for (account, log, vpc) in [(OTHER_ACCOUNT, OTHER_ACCOUNT_FLOW_LOG, None), (ACCOUNT, OTHER_VPC_FLOW_LOG, Some(OTHER_VPC))] {
        let mut buf = Vec::new();
        buf.extend_from_slice(if vpc.is_some() { RECOMMENDED_FORMAT } else { DEFAULT_FORMAT }.as_bytes());
        buf.push(b'\n');
        let mut n = 0u64;
        for &h in &hours {
            for r in super::real::foreign_hour(seed, u64::from(vpc.is_some()) + 7, h, world) {
                let (sport, dport) = r.ports;
                let line = match vpc {
                    None => {
                        format!("2 {account} {} {} {} {sport} {dport} 6 10 {} {} {} ACCEPT OK\n", r.interface, r.src, r.dst, r.bytes, r.start, r.start + 30)
                    }
                    Some(v) => format!(
                        "5 {account} {} {} {} {sport} {dport} 6 10 {} {} {} ACCEPT OK {v} {} {} 19 IPv4 {} {} {REGION} {} {} 1\n",
                        r.interface,
                        r.src,
                        r.dst,
                        r.bytes,
                        r.start,
                        r.start + 30,
                        r.subnet,
                        r.instance,
                        r.src,
                        r.dst,
                        ZONES[r.zone].1,
                        if r.egress { "egress" } else { "ingress" }
                    ),
                };
                buf.extend_from_slice(line.as_bytes());
                n += 1;
            }
        }
        let p = dir.join(text_key_of(account, log, day, part));
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d)?;
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&buf)?;
        std::fs::write(&p, gz.finish()?)?;
        let name = match vpc {
            Some(v) => v.to_string(),
            None => format!("flow log {log} (account {account})"),
        };
        *truth.other_vpcs.entry(name).or_default() += n;
        *truth.records.entry("other-vpc").or_default() += n;
        written += n;
        bytes += std::fs::metadata(&p)?.len();
    }
    Ok((written, bytes, 3))
}
