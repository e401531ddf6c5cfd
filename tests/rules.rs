//! Each attribution rule on a hand-written miniature: two nodes in two AZs, a few pods, a few records.

use crate::util::*;
use crossaz::pipeline::Inputs;
use crossaz::report::Report;
use serde_json::{Value, json};
use std::path::Path;

const FORMAT: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status pkt-srcaddr pkt-dstaddr az-id flow-direction";
const T: i64 = 1_790_812_800 + 3600; // 2026-10-01T01:00:00Z

/// Zones named as in an account whose `a` is `apne2-az2`: names and IDs do not line up.
fn network(dir: &Path, extra: Vec<Value>) {
    let azs = json!({"AvailabilityZones": [
        {"ZoneName": "ap-northeast-2a", "ZoneId": "apne2-az2", "RegionName": "ap-northeast-2"},
        {"ZoneName": "ap-northeast-2b", "ZoneId": "apne2-az3", "RegionName": "ap-northeast-2"}]});
    let subnets = json!({"Subnets": [
        {"SubnetId": "subnet-a", "AvailabilityZone": "ap-northeast-2a", "CidrBlock": "10.0.0.0/24", "VpcId": "vpc-1"},
        {"SubnetId": "subnet-b", "AvailabilityZone": "ap-northeast-2b", "CidrBlock": "10.0.1.0/24", "VpcId": "vpc-1"}]});
    let mut enis = vec![
        json!({"NetworkInterfaceId": "eni-a", "AvailabilityZone": "ap-northeast-2a", "SubnetId": "subnet-a", "InterfaceType": "interface",
               "Description": "", "Attachment": {"InstanceId": "i-a"}, "PrivateIpAddress": "10.0.0.10",
               "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.0.10", "Primary": true}, {"PrivateIpAddress": "10.0.0.11", "Primary": false}, {"PrivateIpAddress": "10.0.0.12", "Primary": false}],
               "Ipv6Addresses": [{"Ipv6Address": "2001:db8:0:a::11"}]}),
        json!({"NetworkInterfaceId": "eni-b", "AvailabilityZone": "ap-northeast-2b", "SubnetId": "subnet-b", "InterfaceType": "interface",
               "Description": "", "Attachment": {"InstanceId": "i-b"}, "PrivateIpAddress": "10.0.1.10",
               "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.10", "Primary": true}],
               "Ipv4Prefixes": [{"Ipv4Prefix": "10.0.1.16/28"}], "Ipv6Addresses": [{"Ipv6Address": "2001:db8:0:b::21"}]}),
    ];
    enis.extend(extra);
    let net = dir.join("network");
    std::fs::create_dir_all(&net).unwrap();
    std::fs::write(net.join("azs.json"), azs.to_string()).unwrap();
    std::fs::write(net.join("subnets.json"), subnets.to_string()).unwrap();
    std::fs::write(net.join("enis.json"), json!({ "NetworkInterfaces": enis }).to_string()).unwrap();
}

fn node(name: &str, zone: &str, instance: &str, ip: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"topology.kubernetes.io/zone": zone}},
           "spec": {"providerID": format!("aws:///{zone}/{instance}")},
           "status": {"addresses": [{"type": "InternalIP", "address": ip}], "allocatable": {"cpu": "2"}, "conditions": [{"type": "Ready", "status": "True"}]}})
}

fn pod(name: &str, owner: Option<(&str, &str)>, node: &str, ips: &[&str], hash: Option<&str>) -> Value {
    let mut meta = json!({"name": name, "namespace": "shop", "uid": format!("uid-{name}"), "creationTimestamp": "2026-09-30T00:00:00Z", "labels": {}});
    if let Some((kind, n)) = owner {
        meta["ownerReferences"] = json!([{"kind": kind, "name": n, "controller": true}]);
    }
    if let Some(h) = hash {
        meta["labels"]["pod-template-hash"] = json!(h);
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"nodeName": node},
           "status": {"phase": "Running", "podIP": ips[0], "podIPs": ips.iter().map(|i| json!({"ip": i})).collect::<Vec<_>>()}})
}

fn slice(service: &str, ip: &str, pod: &str, port: u16, proto: &str) -> Value {
    json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
           "metadata": {"name": format!("{service}-abc"), "namespace": "shop", "labels": {"kubernetes.io/service-name": service}},
           "endpoints": [{"addresses": [ip], "conditions": {"ready": true}, "targetRef": {"kind": "Pod", "name": pod, "namespace": "shop", "uid": format!("uid-{pod}")}}],
           "ports": [{"port": port, "protocol": proto}]})
}

/// The base cluster: `web` (Deployment) on node a, `db` (StatefulSet) on node b backing two Services.
fn k8s(dir: &Path, extra: Vec<Value>) {
    let mut items = vec![
        node("node-a", "ap-northeast-2a", "i-a", "10.0.0.10"),
        node("node-b", "ap-northeast-2b", "i-b", "10.0.1.10"),
        pod("web-7d4b9c-x1", Some(("ReplicaSet", "web-7d4b9c")), "node-a", &["10.0.0.11", "2001:db8:0:a::11"], Some("7d4b9c")),
        pod("db-0", Some(("StatefulSet", "db")), "node-b", &["10.0.1.20", "2001:db8:0:b::21"], None),
        slice("db", "10.0.1.20", "db-0", 5432, "TCP"),
        slice("db-metrics", "10.0.1.20", "db-0", 9187, "TCP"),
    ];
    items.extend(extra);
    let k = dir.join("k8s");
    std::fs::create_dir_all(&k).unwrap();
    std::fs::write(k.join("2026-10-01T00:00:00Z.json"), json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()).unwrap();
}

fn flows(dir: &Path, header: &str, lines: &[String]) {
    let f = dir.join("flows");
    std::fs::create_dir_all(&f).unwrap();
    std::fs::write(f.join("flows.log"), format!("{header}\n{}\n", lines.join("\n"))).unwrap();
}

/// A record of the recommended shape: `eni dir src dst pkt-src pkt-dst sport dport bytes az`.
#[allow(clippy::too_many_arguments)]
fn rec(eni: &str, dir: &str, src: &str, dst: &str, psrc: &str, pdst: &str, sport: u16, dport: u16, bytes: u64, az: &str) -> String {
    format!("5 111122223333 {eni} {src} {dst} {sport} {dport} 6 10 {bytes} {T} {} ACCEPT OK {psrc} {pdst} {az} {dir}", T + 59)
}

fn run(dir: &Path) -> Report {
    let inputs = Inputs { flow_logs: vec![dir.join("flows")], network: vec![dir.join("network")], k8s: vec![dir.join("k8s")], ..Inputs::default() };
    let o = attribute(&inputs);
    assert!(o.problems.is_empty(), "{:?}", o.problems);
    o.report
}

fn rows(r: &Report) -> Vec<(String, String, String, String, String, u64, u64)> {
    r.measurement
        .conversations
        .iter()
        .map(|c| (c.client.clone(), c.server.clone(), c.client_az_id.clone(), c.server_az_id.clone(), c.class.clone(), c.bytes_to_server, c.bytes_to_client))
        .collect()
}

fn records(r: &Report) -> Vec<(String, u64)> {
    r.measurement
        .summary
        .records
        .uncounted
        .iter()
        .map(|u| (u.code.clone(), u.records))
        .chain([("counted".to_string(), r.measurement.summary.records.counted)])
        .collect()
}

/// web (a) → db:5432 (b), 1000 bytes up and 5000 down, recorded on both interfaces.
fn web_to_db(both_sides: bool) -> Vec<String> {
    let mut v = vec![
        rec("eni-a", "egress", "10.0.0.10", "10.0.1.20", "10.0.0.11", "10.0.1.20", 40000, 5432, 1000, "apne2-az2"),
        rec("eni-b", "egress", "10.0.1.10", "10.0.0.11", "10.0.1.20", "10.0.0.11", 5432, 40000, 5000, "apne2-az3"),
    ];
    if both_sides {
        v.push(rec("eni-b", "ingress", "10.0.0.11", "10.0.1.10", "10.0.0.11", "10.0.1.20", 40000, 5432, 1000, "apne2-az3"));
        v.push(rec("eni-a", "ingress", "10.0.1.20", "10.0.0.10", "10.0.1.20", "10.0.0.11", 5432, 40000, 5000, "apne2-az2"));
    }
    v
}

fn setup(extra_enis: Vec<Value>, extra_k8s: Vec<Value>, header: &str, lines: &[String]) -> tempfile::TempDir {
    let dir = tempdir();
    network(dir.path(), extra_enis);
    k8s(dir.path(), extra_k8s);
    flows(dir.path(), header, lines);
    dir
}

#[test]
fn each_flow_is_counted_once_and_priced_both_sides() {
    let dir = setup(vec![], vec![], FORMAT, &web_to_db(true));
    let r = run(dir.path());
    assert_eq!(rows(&r), [("web".into(), "db".into(), "apne2-az2".into(), "apne2-az3".into(), "cross-az-billed".into(), 1000, 5000)]);
    assert_eq!(records(&r), [("duplicate".into(), 2), ("counted".into(), 2)]);
    // 6000 bytes × ($0.01 out + $0.01 in) / 2^30
    assert_eq!(
        r.measurement.summary.cross_az_cost_usd,
        crossaz::pricing::round_usd(rust_decimal::Decimal::from(6000 * 2) / rust_decimal::Decimal::from(100u64 << 30))
    );
    assert_eq!(r.measurement.conversations[0].client_kind, "deployment", "ReplicaSet web-7d4b9c → Deployment web");
    assert_eq!(r.measurement.conversations[0].server_kind, "service");
}

#[test]
fn direction_comes_from_the_interfaces_addresses_without_flow_direction() {
    let v3 = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status pkt-srcaddr pkt-dstaddr az-id";
    let lines: Vec<String> = web_to_db(true).iter().map(|l| l.rsplit_once(' ').unwrap().0.to_string()).collect();
    let dir = setup(vec![], vec![], v3, &lines);
    let r = run(dir.path());
    assert_eq!(rows(&r)[0].5, 1000);
    assert_eq!(rows(&r)[0].6, 5000);
    assert_eq!(records(&r), [("duplicate".into(), 2), ("counted".into(), 2)]);
}

#[test]
fn the_receivers_record_counts_when_the_sender_is_not_logged() {
    // Only eni-b is logged: its egress (db → web) and its ingress (web → db) both count.
    let all = web_to_db(true);
    let lines = vec![all[1].clone(), all[2].clone()];
    let dir = setup(vec![], vec![], FORMAT, &lines);
    let r = run(dir.path());
    assert_eq!(rows(&r), [("web".into(), "db".into(), "apne2-az2".into(), "apne2-az3".into(), "cross-az-billed".into(), 1000, 5000)]);
    assert_eq!(records(&r), [("counted".into(), 2)]);
}

#[test]
fn the_port_decides_which_service_a_pod_serves() {
    let lines = vec![
        rec("eni-a", "egress", "10.0.0.10", "10.0.1.20", "10.0.0.11", "10.0.1.20", 40000, 5432, 100, "apne2-az2"),
        rec("eni-a", "egress", "10.0.0.10", "10.0.1.20", "10.0.0.11", "10.0.1.20", 40001, 9187, 200, "apne2-az2"),
        rec("eni-b", "egress", "10.0.1.10", "10.0.0.11", "10.0.1.20", "10.0.0.11", 9187, 40001, 300, "apne2-az3"),
    ];
    let dir = setup(vec![], vec![], FORMAT, &lines);
    let servers: Vec<(String, u64, u64)> =
        run(dir.path()).measurement.conversations.iter().map(|c| (c.server.clone(), c.bytes_to_server, c.bytes_to_client)).collect();
    assert_eq!(servers, [("db-metrics".into(), 200, 300), ("db".into(), 100, 0)]);
}

#[test]
fn zones_are_joined_by_az_id_not_name() {
    // Node labels and interfaces give names only; the AZ file maps 2a → apne2-az2, 2b → apne2-az3.
    let dir = setup(vec![], vec![], FORMAT, &web_to_db(false));
    let r = run(dir.path());
    let c = &r.measurement.conversations[0];
    assert_eq!(
        (c.client_az.as_str(), c.client_az_id.as_str(), c.server_az.as_str(), c.server_az_id.as_str()),
        ("ap-northeast-2a", "apne2-az2", "ap-northeast-2b", "apne2-az3")
    );
}

#[test]
fn alb_to_targets_is_free_and_nlb_is_billed() {
    let lbs = vec![
        json!({"NetworkInterfaceId": "eni-alb", "AvailabilityZone": "ap-northeast-2a", "SubnetId": "subnet-a", "InterfaceType": "interface", "RequesterId": "amazon-elb",
               "Description": "ELB app/shop-alb/0123456789abcdef", "PrivateIpAddress": "10.0.0.50"}),
        json!({"NetworkInterfaceId": "eni-nlb", "AvailabilityZone": "ap-northeast-2a", "SubnetId": "subnet-a", "InterfaceType": "network_load_balancer",
               "Description": "ELB net/shop-nlb/0123456789abcdef", "PrivateIpAddress": "10.0.0.60"}),
    ];
    let lines = vec![
        rec("eni-alb", "egress", "10.0.0.50", "10.0.1.20", "10.0.0.50", "10.0.1.20", 41000, 5432, 700, "apne2-az2"),
        rec("eni-nlb", "egress", "10.0.0.60", "10.0.1.20", "10.0.0.60", "10.0.1.20", 41000, 5432, 900, "apne2-az2"),
    ];
    let dir = setup(lbs, vec![], FORMAT, &lines);
    let r = rows(&run(dir.path()));
    assert_eq!(
        r,
        [
            ("elb:shop-nlb".into(), "db".into(), "apne2-az2".into(), "apne2-az3".into(), "cross-az-billed".into(), 900, 0),
            ("elb:shop-alb".into(), "db".into(), "apne2-az2".into(), "apne2-az3".into(), "cross-az-free".into(), 700, 0),
        ]
    );
}

#[test]
fn same_az_is_free_and_peers_are_named_from_their_interface() {
    let rds = vec![json!({"NetworkInterfaceId": "eni-rds1", "AvailabilityZone": "ap-northeast-2a", "SubnetId": "subnet-a", "InterfaceType": "interface",
                          "RequesterId": "amazon-rds", "Description": "RDSNetworkInterface", "PrivateIpAddress": "10.0.0.80"})];
    let lines = vec![rec("eni-a", "egress", "10.0.0.10", "10.0.0.80", "10.0.0.11", "10.0.0.80", 40000, 3306, 1234, "apne2-az2")];
    let dir = setup(rds, vec![], FORMAT, &lines);
    let r = run(dir.path());
    assert_eq!(rows(&r), [("web".into(), "rds:eni-rds1".into(), "apne2-az2".into(), "apne2-az2".into(), "same-az".into(), 1234, 0)]);
    assert!(r.measurement.summary.cross_az_cost_usd.is_zero());
}

#[test]
fn host_network_endpoints_and_delegated_prefixes() {
    // node-exporter runs on node b's own IP; a pod on node b takes an IP from a /28 prefix.
    let extra = vec![
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "node-exporter-abcde", "namespace": "shop", "uid": "uid-ne", "creationTimestamp": "2026-09-30T00:00:00Z",
               "ownerReferences": [{"kind": "DaemonSet", "name": "node-exporter", "controller": true}]},
               "spec": {"nodeName": "node-b", "hostNetwork": true}, "status": {"phase": "Running", "podIP": "10.0.1.10"}}),
        slice("node-exporter", "10.0.1.10", "node-exporter-abcde", 9100, "TCP"),
        pod("batch", None, "node-b", &["10.0.1.17"], None),
    ];
    let lines = vec![
        rec("eni-a", "egress", "10.0.0.10", "10.0.1.10", "10.0.0.11", "10.0.1.10", 40000, 9100, 10, "apne2-az2"),
        rec("eni-b", "egress", "10.0.1.10", "10.0.0.11", "10.0.1.17", "10.0.0.11", 50000, 8443, 20, "apne2-az3"),
    ];
    let dir = setup(vec![], extra, FORMAT, &lines);
    let servers: Vec<(String, String, u64, u64)> =
        run(dir.path()).measurement.conversations.iter().map(|c| (c.client.clone(), c.server.clone(), c.bytes_to_server, c.bytes_to_client)).collect();
    assert_eq!(servers, [("batch".into(), "web".into(), 20, 0), ("web".into(), "node-exporter".into(), 10, 0)]);
}

#[test]
fn ipv6_flows_resolve_like_ipv4() {
    let lines = vec![rec("eni-a", "egress", "2001:db8:0:a::11", "2001:db8:0:b::21", "2001:db8:0:a::11", "2001:db8:0:b::21", 40000, 5432, 4321, "apne2-az2")];
    let dir = setup(vec![], vec![], FORMAT, &lines);
    assert_eq!(rows(&run(dir.path())), [("web".into(), "db".into(), "apne2-az2".into(), "apne2-az3".into(), "cross-az-billed".into(), 4321, 0)]);
}

#[test]
fn rejected_and_nodata_records_are_tallied_not_billed() {
    let mut lines = web_to_db(false);
    lines.push(rec("eni-a", "egress", "10.0.0.10", "10.0.1.20", "10.0.0.11", "10.0.1.20", 40000, 22, 60, "apne2-az2").replace("ACCEPT", "REJECT"));
    lines.push(format!("5 111122223333 eni-b - - - - - - - {T} {} - NODATA - - apne2-az3 -", T + 60));
    let dir = setup(vec![], vec![], FORMAT, &lines);
    let r = run(dir.path());
    assert_eq!(records(&r), [("no-data".into(), 1), ("rejected".into(), 1), ("counted".into(), 2)]);
    assert_eq!(r.measurement.summary.bytes.cross_az_billed, 6000);
}

#[test]
fn unknown_addresses_are_unattributed_or_external() {
    let lines = vec![
        // 10.0.1.99 is in subnet-b but on no interface; 203.0.113.9 is outside the VPC.
        rec("eni-a", "egress", "10.0.0.10", "10.0.1.99", "10.0.0.11", "10.0.1.99", 40000, 443, 111, "apne2-az2"),
        rec("eni-a", "egress", "10.0.0.10", "203.0.113.9", "10.0.0.11", "203.0.113.9", 40000, 443, 222, "apne2-az2"),
    ];
    let dir = setup(vec![], vec![], FORMAT, &lines);
    let r = run(dir.path());
    assert_eq!(
        rows(&r),
        [
            ("web".into(), "unattributed".into(), "apne2-az2".into(), "apne2-az3".into(), "cross-az-billed".into(), 111, 0),
            ("web".into(), "external".into(), "apne2-az2".into(), "".into(), "internet-other".into(), 222, 0),
        ]
    );
    assert_eq!(r.measurement.summary.unattributed.cross_az_billed_bytes, 111);
    assert_eq!(r.measurement.summary.unattributed.share_of_cost_pct, rust_decimal::Decimal::from(100));
}

// ——— Real-account rules (issue 9): each with a miniature whose truth is written by hand. ———

/// The recommended shape with `vpc-id` first: `vpc eni dir src dst psrc pdst sport dport bytes az t`.
const FORMAT_VPC: &str = "vpc-id version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status pkt-srcaddr pkt-dstaddr az-id flow-direction";

#[allow(clippy::too_many_arguments)]
fn rec_at(eni: &str, dir: &str, src: &str, dst: &str, psrc: &str, pdst: &str, sport: u16, dport: u16, bytes: u64, az: &str, t: i64) -> String {
    format!("5 111122223333 {eni} {src} {dst} {sport} {dport} 6 10 {bytes} {t} {} ACCEPT OK {psrc} {pdst} {az} {dir}", t + 59)
}

fn run_with(dir: &Path, k8s: bool) -> Report {
    let inputs = Inputs {
        flow_logs: vec![dir.join("flows")],
        network: vec![dir.join("network")],
        k8s: if k8s { vec![dir.join("k8s")] } else { vec![] },
        ..Inputs::default()
    };
    attribute(&inputs).report
}

fn classes(r: &Report) -> Vec<(String, String, String, Option<String>, u64)> {
    r.measurement.conversations.iter().map(|c| (c.client.clone(), c.server.clone(), c.class.clone(), c.free_reason.clone(), c.bytes)).collect()
}

#[test]
fn paths_aws_does_not_bill_are_free_with_their_reason() {
    // A Classic LB to a node (its NodePort), an interface endpoint, a transit gateway attachment,
    // the two interfaces of one Multi-AZ database; a NAT gateway and the EKS control plane are billed.
    let peers = vec![
        json!({"NetworkInterfaceId": "eni-clb", "SubnetId": "subnet-a", "InterfaceType": "interface", "RequesterId": "amazon-elb",
               "Description": "ELB a3f0c9e1b2d4e5f6", "PrivateIpAddress": "10.0.0.30"}),
        json!({"NetworkInterfaceId": "eni-vpce", "SubnetId": "subnet-a", "InterfaceType": "vpc_endpoint", "Description": "VPC Endpoint Interface vpce-0f00",
               "PrivateIpAddress": "10.0.0.40"}),
        json!({"NetworkInterfaceId": "eni-tgw", "SubnetId": "subnet-a", "InterfaceType": "transit_gateway",
               "Description": "Network Interface for Transit Gateway Attachment tgw-attach-0abc", "PrivateIpAddress": "10.0.0.41"}),
        json!({"NetworkInterfaceId": "eni-nat", "SubnetId": "subnet-a", "InterfaceType": "nat_gateway", "Description": "Interface for NAT Gateway nat-0abc",
               "PrivateIpAddress": "10.0.0.42"}),
        json!({"NetworkInterfaceId": "eni-eks", "SubnetId": "subnet-a", "InterfaceType": "interface", "Description": "Amazon EKS demo", "PrivateIpAddress": "10.0.0.43"}),
        json!({"NetworkInterfaceId": "eni-db1", "SubnetId": "subnet-a", "InterfaceType": "interface", "RequesterId": "amazon-rds",
               "Description": "RDSNetworkInterface", "PrivateIpAddress": "10.0.0.80"}),
        json!({"NetworkInterfaceId": "eni-db2", "SubnetId": "subnet-b", "InterfaceType": "interface", "RequesterId": "amazon-rds",
               "Description": "RDSNetworkInterface", "PrivateIpAddress": "10.0.1.80"}),
    ];
    let dir = tempdir();
    network(dir.path(), peers);
    let dbs = json!({"DBInstances": [{"DBInstanceIdentifier": "orders", "Engine": "postgres", "MultiAZ": true,
        "AvailabilityZone": "ap-northeast-2a", "SecondaryAvailabilityZone": "ap-northeast-2b",
        "DBSubnetGroup": {"Subnets": [{"SubnetIdentifier": "subnet-a"}, {"SubnetIdentifier": "subnet-b"}]}}]});
    std::fs::write(dir.path().join("network/rds.json"), dbs.to_string()).unwrap();
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "storefront", "namespace": "shop"},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 80, "targetPort": 8080, "nodePort": 31080, "protocol": "TCP"}]}});
    k8s(dir.path(), vec![svc]);
    let b = "apne2-az3";
    flows(
        dir.path(),
        FORMAT,
        &[
            // CLB (a) → node b's NodePort; the NAT (a) ← node b; node b → the endpoint, the TGW and the EKS interface (a).
            rec("eni-b", "ingress", "10.0.0.30", "10.0.1.10", "10.0.0.30", "10.0.1.10", 2048, 31080, 100, b),
            rec("eni-b", "egress", "10.0.1.10", "10.0.0.42", "10.0.1.10", "10.0.0.42", 40000, 443, 200, b),
            rec("eni-b", "egress", "10.0.1.10", "10.0.0.40", "10.0.1.10", "10.0.0.40", 40001, 443, 300, b),
            rec("eni-b", "egress", "10.0.1.10", "10.0.0.41", "10.0.1.10", "10.0.0.41", 40002, 443, 400, b),
            rec("eni-b", "egress", "10.0.1.10", "10.0.0.43", "10.0.1.10", "10.0.0.43", 40003, 443, 500, b),
            // The database's standby (b) replicates from its primary (a): free.
            rec("eni-db2", "egress", "10.0.1.80", "10.0.0.80", "10.0.1.80", "10.0.0.80", 40004, 5432, 600, b),
        ],
    );
    let r = run(dir.path());
    let node_b = "node:node-b".to_string();
    let free = |why: &str| Some(why.to_string());
    let mut got = classes(&r);
    got.sort();
    let mut want = vec![
        ("elb:a3f0c9e1b2d4e5f6".to_string(), "storefront".to_string(), "cross-az-free".to_string(), free("clb-to-instance"), 100),
        (node_b.clone(), "nat:nat-0abc".into(), "cross-az-billed".into(), None, 200),
        (node_b.clone(), "vpce:vpce-0f00".into(), "cross-az-free".into(), free("privatelink-interface-endpoint"), 300),
        (node_b.clone(), "tgw:tgw-attach-0abc".into(), "cross-az-free".into(), free("transit-gateway-attachment"), 400),
        (node_b.clone(), "eks:demo".into(), "cross-az-billed".into(), None, 500),
        ("rds:orders".into(), "rds:orders".into(), "cross-az-free".into(), free("rds-multi-az-replication"), 600),
    ];
    want.sort();
    assert_eq!(got, want);
    let rules: Vec<(String, Option<String>)> = r.measurement.conversations.iter().map(|c| (c.server.clone(), c.pricing_rule.clone())).collect();
    assert!(rules.contains(&("nat:nat-0abc".into(), Some("nat-gateway".into()))));
    assert!(rules.contains(&("eks:demo".into(), Some("eks-control-plane".into()))));
    // 200 + 500 billed bytes, both sides.
    assert_eq!(r.measurement.summary.bytes.cross_az_billed, 700);
    assert_eq!(r.measurement.summary.bytes.cross_az_free, 1400);
    assert!(r.measurement.summary.assumptions.iter().any(|a| a.starts_with("`eks-control-plane` (500 bytes)")), "{:?}", r.measurement.summary.assumptions);
    assert!(r.measurement.summary.assumptions.iter().any(|a| a.starts_with("per-GB processing")), "{:?}", r.measurement.summary.assumptions);
    let json = crossaz::report::render::render(&r, crossaz::report::views::By::Conversation, crossaz::report::render::Format::Json).unwrap();
    let v: Value = serde_json::from_slice(&json).unwrap();
    assert!(v.to_string().contains("\"free_reason\":\"privatelink-interface-endpoint\""), "the JSON names why bytes are free");
}

#[test]
fn two_vpcs_with_the_same_cidr_resolve_each_in_its_own() {
    // vpc-2 reuses vpc-1's CIDR: 10.0.1.20 is a pod of our cluster in vpc-1 and an RDS interface in vpc-2.
    let other = vec![
        json!({"NetworkInterfaceId": "eni-x", "SubnetId": "subnet-x", "VpcId": "vpc-2", "InterfaceType": "interface", "Attachment": {"InstanceId": "i-x"},
               "Description": "", "PrivateIpAddress": "10.0.0.10"}),
        json!({"NetworkInterfaceId": "eni-y", "SubnetId": "subnet-y", "VpcId": "vpc-2", "InterfaceType": "interface", "RequesterId": "amazon-rds",
               "Description": "RDSNetworkInterface", "PrivateIpAddress": "10.0.1.20"}),
    ];
    let dir = tempdir();
    network(dir.path(), other);
    let subnets = json!({"Subnets": [
        {"SubnetId": "subnet-x", "AvailabilityZone": "ap-northeast-2a", "CidrBlock": "10.0.0.0/24", "VpcId": "vpc-2"},
        {"SubnetId": "subnet-y", "AvailabilityZone": "ap-northeast-2b", "CidrBlock": "10.0.1.0/24", "VpcId": "vpc-2"}]});
    std::fs::write(dir.path().join("network/subnets-2.json"), subnets.to_string()).unwrap();
    k8s(dir.path(), vec![]);
    let mut lines = vec![];
    for (vpc, eni, bytes) in [("vpc-1", "eni-a", 1000), ("vpc-2", "eni-x", 7000)] {
        lines.push(format!("{vpc} {}", rec(eni, "egress", "10.0.0.10", "10.0.1.20", "10.0.0.11", "10.0.1.20", 40000, 5432, bytes, "apne2-az2")));
    }
    flows(dir.path(), FORMAT_VPC, &lines);
    let r = run(dir.path());
    let mut got = rows(&r);
    got.sort();
    assert_eq!(
        got,
        [
            ("ec2:i-x".into(), "rds:eni-y".into(), "apne2-az2".into(), "apne2-az3".into(), "cross-az-billed".into(), 7000, 0),
            ("web".into(), "db".into(), "apne2-az2".into(), "apne2-az3".into(), "cross-az-billed".into(), 1000, 0),
        ]
    );
}

#[test]
fn records_of_a_vpc_outside_the_inventory_are_counted_not_analysed() {
    let dir = tempdir();
    network(dir.path(), vec![]);
    std::fs::write(
        dir.path().join("network/vpc.json"),
        json!({"Subnets": [{"SubnetId": "subnet-a", "AvailabilityZone": "ap-northeast-2a", "CidrBlock": "10.0.0.0/24", "VpcId": "vpc-1"}]}).to_string(),
    )
    .unwrap();
    k8s(dir.path(), vec![]);
    let lines: Vec<String> = [("vpc-1", "eni-a", 1000), ("vpc-0ffee", "eni-q", 5000), ("vpc-0ffee", "eni-q", 6000)]
        .iter()
        .map(|(vpc, eni, b)| format!("{vpc} {}", rec(eni, "egress", "10.0.0.10", "10.0.1.20", "10.0.0.11", "10.0.1.20", 40000, 5432, *b, "apne2-az2")))
        .collect();
    flows(dir.path(), FORMAT_VPC, &lines);
    let r = run(dir.path());
    assert_eq!(rows(&r).len(), 1);
    assert_eq!(r.measurement.summary.other_vpcs, [crossaz::report::OtherVpcInfo { vpc: "vpc-0ffee".into(), records: 2, bytes: 11000 }]);
    assert_eq!(records(&r), [("other-vpc".into(), 2), ("counted".into(), 1)]);
    let text =
        String::from_utf8(crossaz::report::render::render(&r, crossaz::report::views::By::Service, crossaz::report::render::Format::Table).unwrap()).unwrap();
    assert!(text.contains("2 records of vpc-0ffee (10.74 KiB; not in the network inventory): not analysed"), "{text}");
}

#[test]
fn the_sender_counts_as_logged_only_at_the_minutes_it_was() {
    // eni-b's flow log starts at T + 2 h: its reply at T is seen only by eni-a, at T + 3 h by both.
    let later = T + 3 * 3600;
    let lines = vec![
        rec_at("eni-a", "egress", "10.0.0.10", "10.0.1.20", "10.0.0.11", "10.0.1.20", 40000, 5432, 1000, "apne2-az2", T),
        rec_at("eni-a", "ingress", "10.0.1.20", "10.0.0.10", "10.0.1.20", "10.0.0.11", 5432, 40000, 5000, "apne2-az2", T),
        rec_at("eni-a", "egress", "10.0.0.10", "10.0.1.20", "10.0.0.11", "10.0.1.20", 40001, 5432, 100, "apne2-az2", later),
        rec_at("eni-b", "ingress", "10.0.0.11", "10.0.1.10", "10.0.0.11", "10.0.1.20", 40001, 5432, 100, "apne2-az3", later),
        rec_at("eni-b", "egress", "10.0.1.10", "10.0.0.11", "10.0.1.20", "10.0.0.11", 5432, 40001, 500, "apne2-az3", later),
        rec_at("eni-a", "ingress", "10.0.1.20", "10.0.0.10", "10.0.1.20", "10.0.0.11", 5432, 40001, 500, "apne2-az2", later),
    ];
    let dir = setup(vec![], vec![], FORMAT, &lines);
    let r = run(dir.path());
    // Per day, eni-b "was logged" and T's reply would vanish as a duplicate; per minute it counts.
    assert_eq!(rows(&r), [("web".into(), "db".into(), "apne2-az2".into(), "apne2-az3".into(), "cross-az-billed".into(), 1100, 5500)]);
    assert_eq!(records(&r), [("duplicate".into(), 2), ("counted".into(), 4)]);
}

#[test]
fn a_skipdata_window_counts_the_receivers_record() {
    // eni-b's records of T..T+10 min were skipped (SKIPDATA): its reply is known only from eni-a.
    let lines = vec![
        format!("5 111122223333 eni-b - - - - - - - {T} {} - SKIPDATA - - apne2-az3 -", T + 599),
        rec_at("eni-a", "egress", "10.0.0.10", "10.0.1.20", "10.0.0.11", "10.0.1.20", 40000, 5432, 1000, "apne2-az2", T + 60),
        rec_at("eni-a", "ingress", "10.0.1.20", "10.0.0.10", "10.0.1.20", "10.0.0.11", 5432, 40000, 5000, "apne2-az2", T + 60),
        // A flow of eni-b's own a minute later, outside no window: its records survived… but eni-b's
        // addresses are lossy for the whole window, so the receiver's record is what counts.
        rec_at("eni-b", "egress", "10.0.1.10", "10.0.0.11", "10.0.1.20", "10.0.0.11", 5433, 40002, 300, "apne2-az3", T + 900),
        rec_at("eni-a", "ingress", "10.0.1.20", "10.0.0.10", "10.0.1.20", "10.0.0.11", 5433, 40002, 300, "apne2-az2", T + 900),
    ];
    let dir = setup(vec![], vec![], FORMAT, &lines);
    let r = run(dir.path());
    assert_eq!(r.measurement.summary.bytes.cross_az_billed, 6300);
    assert_eq!(records(&r), [("duplicate".into(), 1), ("skip-data".into(), 1), ("counted".into(), 3)]);
}

#[test]
fn a_skipdata_window_counts_only_its_own_minutes_wherever_its_record_lies() {
    // eni-b's records of T+10..T+20 min were skipped. A reply of T+9 min survived on both sides (one
    // flow); the reply of T+10 min is known only from eni-a. The SKIPDATA record may sit in the
    // same file as the rest, or in another (a later delivery): the answer is the same.
    let skip = format!("5 111122223333 eni-b - - - - - - - {} {} - SKIPDATA - - apne2-az3 -", T + 600, T + 1199);
    let before = [
        rec_at("eni-b", "egress", "10.0.1.10", "10.0.0.11", "10.0.1.20", "10.0.0.11", 5433, 40002, 300, "apne2-az3", T + 540),
        rec_at("eni-a", "ingress", "10.0.1.20", "10.0.0.10", "10.0.1.20", "10.0.0.11", 5433, 40002, 300, "apne2-az2", T + 540),
    ];
    let inside = rec_at("eni-a", "ingress", "10.0.1.20", "10.0.0.10", "10.0.1.20", "10.0.0.11", 5432, 40000, 700, "apne2-az2", T + 600);
    for split in [false, true] {
        let dir = setup(vec![], vec![], FORMAT, &[]);
        let flows = dir.path().join("flows");
        std::fs::remove_file(flows.join("flows.log")).unwrap();
        let mut first: Vec<String> = before.to_vec();
        first.push(inside.clone());
        if split {
            std::fs::write(flows.join("b.log"), format!("{FORMAT}\n{skip}\n")).unwrap();
        } else {
            first.insert(0, skip.clone());
        }
        std::fs::write(flows.join("a.log"), format!("{FORMAT}\n{}\n", first.join("\n"))).unwrap();
        let r = run(dir.path());
        assert_eq!(r.measurement.summary.bytes.cross_az_billed, 1000, "split: {split} {:?}", rows(&r));
        assert_eq!(records(&r), [("duplicate".into(), 1), ("skip-data".into(), 1), ("counted".into(), 2)], "split: {split}");
    }
}

#[test]
fn without_a_network_inventory_private_addresses_are_unattributed_not_external() {
    let lines = vec![
        rec("eni-a", "egress", "10.0.0.10", "10.0.9.9", "10.0.0.11", "10.0.9.9", 40000, 5432, 100, "apne2-az2"),
        rec("eni-a", "egress", "10.0.0.10", "203.0.113.9", "10.0.0.11", "203.0.113.9", 40000, 443, 200, "apne2-az2"),
    ];
    let dir = setup(vec![], vec![], FORMAT, &lines);
    let inputs = Inputs { flow_logs: vec![dir.path().join("flows")], k8s: vec![dir.path().join("k8s")], ..Inputs::default() };
    let r = attribute(&inputs).report;
    let got: Vec<(String, String)> = r.measurement.conversations.iter().map(|c| (c.server.clone(), c.class.clone())).collect();
    assert_eq!(got, [("external".into(), "internet-other".into()), ("unattributed".into(), "unknown-az".into())]);
    assert_eq!(r.measurement.summary.unattributed.reasons[0].reason, "private address, no network inventory (pass `--network`)");
}

#[test]
fn two_flow_logs_over_one_interface_count_each_record_once_from_the_richer() {
    // The same two records delivered by a default-format log and by the recommended one.
    let dir = setup(vec![], vec![], FORMAT, &[]);
    let f = dir.path().join("flows");
    std::fs::remove_file(f.join("flows.log")).unwrap();
    let lines = web_to_db(false);
    std::fs::write(f.join("111122223333_vpcflowlogs_ap-northeast-2_fl-0new_20261001T0100Z_aaaa.log"), format!("{FORMAT}\n{}\n", lines.join("\n"))).unwrap();
    let default_lines: Vec<String> = lines.iter().map(|l| l.split(' ').take(14).collect::<Vec<_>>().join(" ")).collect();
    let v2 = crossaz::sources::flowlogs::format::DEFAULT_FORMAT;
    std::fs::write(f.join("111122223333_vpcflowlogs_ap-northeast-2_fl-0old_20261001T0100Z_bbbb.log"), format!("{v2}\n{}\n", default_lines.join("\n"))).unwrap();
    let r = run(dir.path());
    assert_eq!(rows(&r), [("web".into(), "db".into(), "apne2-az2".into(), "apne2-az3".into(), "cross-az-billed".into(), 1000, 5000)]);
    assert_eq!(records(&r), [("overlapping-flow-log".into(), 2), ("counted".into(), 2)]);
    let o = &r.measurement.summary.flow_log_overlaps;
    assert_eq!((o[0].flow_log.as_str(), o[0].covered_by.as_slice(), o[0].records), ("fl-0old", &["fl-0new".to_string()][..], 2));
}

#[test]
fn a_format_without_direction_or_interface_is_counted_as_such_and_explained() {
    let no_dir = "version account-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status pkt-srcaddr pkt-dstaddr az-id";
    let lines: Vec<String> = web_to_db(true)
        .iter()
        .map(|l| {
            let mut p: Vec<&str> = l.split(' ').collect();
            p.remove(2); // interface-id
            p.pop(); // flow-direction
            p.join(" ")
        })
        .collect();
    let dir = setup(vec![], vec![], no_dir, &lines);
    let r = run(dir.path());
    assert_eq!(r.measurement.summary.records.counted, 0);
    assert_eq!(records(&r), [("direction-unknown".into(), 4), ("counted".into(), 0)]);
    assert!(r.measurement.summary.notes.iter().any(|n| n.contains("add `${flow-direction}` and `${interface-id}`")), "{:?}", r.measurement.summary.notes);
    // With flow-direction but no interface-id, each flow still counts once (the senders' records).
    let with_dir = format!("{no_dir} flow-direction");
    let lines: Vec<String> = web_to_db(true)
        .iter()
        .map(|l| {
            let mut p: Vec<&str> = l.split(' ').collect();
            p.remove(2);
            p.join(" ")
        })
        .collect();
    let dir = setup(vec![], vec![], &with_dir, &lines);
    let r = run_with(dir.path(), true);
    assert_eq!(rows(&r), [("web".into(), "db".into(), "apne2-az2".into(), "apne2-az3".into(), "cross-az-billed".into(), 1000, 5000)]);
    assert_eq!(records(&r), [("duplicate".into(), 2), ("counted".into(), 2)]);
}

#[test]
fn without_pkt_fields_both_records_of_a_flow_name_both_pods_even_in_different_files() {
    // Default format: eni-a's egress record knows the db pod (10.0.1.20) but not which pod of node a
    // sent; eni-b's ingress record knows the web pod (10.0.0.11) but shows node b's own address.
    // Joined, the flow is web → db; the twins sit in two files (two delivery windows).
    let v2 = crossaz::sources::flowlogs::format::DEFAULT_FORMAT;
    let line = |eni: &str, src: &str, dst: &str, sport: u16, dport: u16, bytes: u64| {
        format!("2 111122223333 {eni} {src} {dst} {sport} {dport} 6 10 {bytes} {T} {} ACCEPT OK", T + 59)
    };
    let egress = [line("eni-a", "10.0.0.10", "10.0.1.20", 40000, 5432, 1000), line("eni-b", "10.0.1.10", "10.0.0.11", 5432, 40000, 5000)];
    let ingress = [line("eni-b", "10.0.0.11", "10.0.1.10", 40000, 5432, 1000), line("eni-a", "10.0.1.20", "10.0.0.10", 5432, 40000, 5000)];
    let dir = setup(vec![], vec![], v2, &egress);
    std::fs::write(dir.path().join("flows/later.log"), format!("{v2}\n{}\n", ingress.join("\n"))).unwrap();
    let r = run(dir.path());
    assert_eq!(rows(&r), [("web".into(), "db".into(), "apne2-az2".into(), "apne2-az3".into(), "cross-az-billed".into(), 1000, 5000)]);
    assert_eq!(records(&r), [("duplicate".into(), 2), ("counted".into(), 2)]);
    // Alone (only eni-a logged), each record names what it knows: its own side by its node.
    let dir = setup(vec![], vec![], v2, &[egress[0].clone(), ingress[1].clone()]);
    let mut got: Vec<(String, String, u64, u64)> =
        run(dir.path()).measurement.conversations.iter().map(|c| (c.client.clone(), c.server.clone(), c.bytes_to_server, c.bytes_to_client)).collect();
    got.sort();
    assert_eq!(got, [("node:node-a".into(), "db".into(), 1000, 5000)]);
}

#[test]
fn docs_pricing_follows_the_rules_table() {
    // Every row of the table in docs/pricing.md is a rule of the JSON, in order, billed and sourced alike.
    let doc = std::fs::read_to_string(repo().join("docs/pricing.md")).unwrap();
    let rows: Vec<Vec<String>> =
        doc.lines().filter(|l| l.starts_with("| `")).map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().to_string()).collect()).collect();
    let rules = crossaz::pricing::transfer::Rules::bundled();
    assert_eq!(rows.len(), rules.list.len());
    for (row, rule) in rows.iter().zip(&rules.list) {
        assert_eq!(row[0], format!("`{}`", rule.id));
        let free = rule.billed == crossaz::pricing::transfer::Billed::None;
        assert_eq!(row[2] == "**free**", free, "{}", rule.id);
        assert_eq!(row[3], serde_json::to_value(rule.evidence).unwrap().as_str().unwrap(), "{}", rule.id);
        assert!(row[4].starts_with(&rule.source), "{}", rule.id);
    }
}
