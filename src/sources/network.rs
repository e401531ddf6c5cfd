//! The JSON printed by `aws ec2 describe-network-interfaces`, `describe-subnets` and
//! `describe-availability-zones` (any order, several files), read into an [`Inventory`].

use super::{json_problem, read_all};
use crate::error::InputProblem;
use crate::model::inventory::{Database, Eni, EniOwner, Inventory, LbKind, NO_ZONE, Subnet};
use crate::model::ip::{Cidr, Ip};
use crate::model::time::{Ts, parse_file_time, parse_time};
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Document {
    network_interfaces: Option<Vec<NetworkInterface>>,
    subnets: Option<Vec<AwsSubnet>>,
    availability_zones: Option<Vec<AvailabilityZone>>,
    #[serde(rename = "DBInstances")]
    db_instances: Option<Vec<DbInstance>>,
    #[serde(rename = "DBClusters")]
    db_clusters: Option<Vec<DbCluster>>,
    vpcs: Option<Vec<AwsVpc>>,
}

/// `aws ec2 describe-vpcs`: the account's VPCs in the region (the bill covers all of them).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AwsVpc {
    vpc_id: String,
    owner_id: Option<String>,
    cidr_block: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DbInstance {
    #[serde(rename = "DBInstanceIdentifier")]
    db_instance_identifier: String,
    #[serde(rename = "DBInstanceClass")]
    db_instance_class: Option<String>,
    engine: Option<String>,
    allocated_storage: Option<i64>,
    storage_type: Option<String>,
    availability_zone: Option<String>,
    secondary_availability_zone: Option<String>,
    #[serde(rename = "MultiAZ")]
    multi_az: Option<bool>,
    #[serde(rename = "DBClusterIdentifier")]
    db_cluster_identifier: Option<String>,
    #[serde(rename = "DBSubnetGroup")]
    db_subnet_group: Option<DbSubnetGroup>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DbSubnetGroup {
    #[serde(default)]
    subnets: Vec<DbSubnet>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DbSubnet {
    subnet_identifier: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DbCluster {
    #[serde(rename = "DBClusterIdentifier")]
    db_cluster_identifier: String,
    #[serde(rename = "DBClusterMembers", default)]
    db_cluster_members: Vec<DbClusterMember>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DbClusterMember {
    #[serde(rename = "DBInstanceIdentifier")]
    db_instance_identifier: String,
    #[serde(default)]
    is_cluster_writer: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AvailabilityZone {
    zone_name: String,
    zone_id: String,
    region_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AwsSubnet {
    subnet_id: String,
    vpc_id: Option<String>,
    owner_id: Option<String>,
    availability_zone: Option<String>,
    availability_zone_id: Option<String>,
    cidr_block: Option<String>,
    #[serde(default)]
    ipv6_cidr_block_association_set: Vec<Ipv6CidrAssociation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ipv6CidrAssociation {
    ipv6_cidr_block: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NetworkInterface {
    network_interface_id: String,
    availability_zone: Option<String>,
    availability_zone_id: Option<String>,
    subnet_id: Option<String>,
    vpc_id: Option<String>,
    #[serde(default)]
    description: String,
    interface_type: Option<String>,
    requester_id: Option<String>,
    attachment: Option<Attachment>,
    private_ip_address: Option<String>,
    #[serde(default)]
    private_ip_addresses: Vec<PrivateIp>,
    #[serde(default)]
    ipv6_addresses: Vec<Ipv6Address>,
    #[serde(default)]
    ipv4_prefixes: Vec<Ipv4Prefix>,
    #[serde(default)]
    ipv6_prefixes: Vec<Ipv6Prefix>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Attachment {
    instance_id: Option<String>,
    attach_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PrivateIp {
    private_ip_address: String,
    #[serde(default)]
    primary: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ipv6Address {
    ipv6_address: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ipv4Prefix {
    ipv4_prefix: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ipv6Prefix {
    ipv6_prefix: String,
}

const EXPECTED: &str = "the JSON printed by `aws ec2 describe-network-interfaces`, `describe-subnets`, `describe-availability-zones` or `describe-vpcs` (or `aws rds describe-db-instances`, `describe-db-clusters`)";

/// What a network file held, for the summary.
#[derive(Default, Debug, Clone, Copy)]
pub struct NetworkCounts {
    pub interfaces: usize,
    pub subnets: usize,
    pub zones: usize,
    pub databases: usize,
}

/// When a snapshot of the network was taken: the RFC 3339 time its folder (as `pull network
/// --every` writes them) or its file is named with; `None` for the present.
pub fn snapshot_time(path: &Path) -> Option<Ts> {
    let stem = path.file_name()?.to_str()?.split('.').next()?.to_string();
    parse_file_time(&stem).or_else(|| path.parent()?.file_name()?.to_str().and_then(parse_file_time))
}

/// Adds one file to the inventory. Call [`Inventory::finish`] after the last one.
pub fn load_file(inv: &mut Inventory, path: &Path) -> Result<NetworkCounts, InputProblem> {
    let bytes = read_all(path)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(InputProblem::new(path, None, format!("the file is empty; expected {EXPECTED}")));
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| json_problem(path, &e, EXPECTED))?;
    let keys: Vec<String> = value.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    let doc: Document = serde_json::from_value(value).map_err(|e| InputProblem::new(path, None, format!("unexpected JSON shape: {e}; expected {EXPECTED}")))?;
    if doc.network_interfaces.is_none()
        && doc.subnets.is_none()
        && doc.availability_zones.is_none()
        && doc.db_instances.is_none()
        && doc.db_clusters.is_none()
        && doc.vpcs.is_none()
    {
        let found = if keys.is_empty() { "no object".to_string() } else { format!("keys `{}`", keys.join("`, `")) };
        let mut p = InputProblem::new(
            path,
            None,
            format!("found {found}; expected {EXPECTED} (a top-level `NetworkInterfaces`, `Subnets` or `AvailabilityZones` array)"),
        );
        if keys.iter().any(|k| k == "items" || k == "kind") {
            p = p.with_hint("this looks like kubectl output: pass it with `--k8s`");
        }
        return Err(p);
    }
    let mut counts = NetworkCounts::default();
    for z in doc.availability_zones.unwrap_or_default() {
        inv.add_zone(&z.zone_id, Some(&z.zone_name), z.region_name.as_deref());
        counts.zones += 1;
    }
    for v in doc.vpcs.unwrap_or_default() {
        inv.account_vpcs.insert(v.vpc_id, (v.owner_id, v.cidr_block));
    }
    for s in doc.subnets.unwrap_or_default() {
        if let Some(o) = &s.owner_id {
            inv.owners.insert(o.clone());
        }
        let zone = match (&s.availability_zone_id, &s.availability_zone) {
            (Some(id), name) => inv.add_zone(id, name.as_deref(), None),
            (None, Some(name)) => inv.zone_by_name(name).unwrap_or(NO_ZONE),
            (None, None) => NO_ZONE,
        };
        let mut cidrs: Vec<Cidr> = s.cidr_block.as_deref().and_then(Cidr::parse).into_iter().collect();
        cidrs.extend(s.ipv6_cidr_block_association_set.iter().filter_map(|a| a.ipv6_cidr_block.as_deref().and_then(Cidr::parse)));
        inv.add_subnet(Subnet { id: s.subnet_id, vpc_id: s.vpc_id, cidrs, zone, vpc: crate::model::inventory::ANY_VPC });
        counts.subnets += 1;
    }
    for d in doc.db_instances.unwrap_or_default() {
        inv.add_database(Database {
            id: d.db_instance_identifier,
            class: d.db_instance_class,
            engine: d.engine,
            allocated_storage_gb: d.allocated_storage,
            storage_type: d.storage_type,
            zone_name: d.availability_zone,
            standby_zone_name: d.secondary_availability_zone,
            multi_az: d.multi_az.unwrap_or(false),
            cluster: d.db_cluster_identifier,
            subnets: d.db_subnet_group.map(|g| g.subnets.into_iter().filter_map(|s| s.subnet_identifier).collect()).unwrap_or_default(),
            writer: None,
        });
        counts.databases += 1;
    }
    for c in doc.db_clusters.unwrap_or_default() {
        for m in c.db_cluster_members {
            inv.set_cluster_role(&c.db_cluster_identifier, &m.db_instance_identifier, m.is_cluster_writer);
        }
    }
    if let Some(list) = doc.network_interfaces {
        let time = snapshot_time(path);
        inv.add_interface_snapshot(time);
        for n in list {
            let eni = build_eni(inv, path, n)?;
            inv.add_eni(eni, time);
            counts.interfaces += 1;
        }
    }
    Ok(counts)
}

fn build_eni(inv: &mut Inventory, path: &Path, n: NetworkInterface) -> Result<Eni, InputProblem> {
    let zone = match (&n.availability_zone_id, &n.availability_zone) {
        (Some(id), name) => inv.add_zone(id, name.as_deref(), None),
        (None, Some(name)) => inv.zone_by_name(name).unwrap_or(NO_ZONE),
        (None, None) => NO_ZONE,
    };
    let bad_ip = |ip: &str| InputProblem::new(path, None, format!("interface `{}` has an invalid address `{ip}`", n.network_interface_id));
    let mut ips = Vec::new();
    let mut primary_ip = None;
    if let Some(p) = &n.private_ip_address {
        let ip = Ip::parse_str(p).ok_or_else(|| bad_ip(p))?;
        primary_ip = Some(ip);
        ips.push(ip);
    }
    for a in &n.private_ip_addresses {
        let ip = Ip::parse_str(&a.private_ip_address).ok_or_else(|| bad_ip(&a.private_ip_address))?;
        if a.primary && primary_ip.is_none() {
            primary_ip = Some(ip);
        }
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    for a in &n.ipv6_addresses {
        ips.push(Ip::parse_str(&a.ipv6_address).ok_or_else(|| bad_ip(&a.ipv6_address))?);
    }
    let mut prefixes = Vec::new();
    for p in n.ipv4_prefixes.iter().map(|p| &p.ipv4_prefix).chain(n.ipv6_prefixes.iter().map(|p| &p.ipv6_prefix)) {
        prefixes.push(Cidr::parse(p).ok_or_else(|| bad_ip(p))?);
    }
    let owner = classify_owner(
        n.interface_type.as_deref().unwrap_or("interface"),
        n.requester_id.as_deref().unwrap_or(""),
        &n.description,
        n.attachment.as_ref().and_then(|a| a.instance_id.as_deref()),
    );
    let attach_time = n.attachment.as_ref().and_then(|a| a.attach_time.as_deref()).and_then(parse_time);
    Ok(Eni {
        id: n.network_interface_id,
        subnet: n.subnet_id,
        vpc: n.vpc_id,
        zone,
        owner,
        primary_ip,
        ips,
        prefixes,
        description: n.description,
        vpc_idx: crate::model::inventory::ANY_VPC,
        attach_time,
        valid_from: Ts::MIN,
        valid_to: Ts::MAX,
    })
}

/// Tells what owns an interface from the fields EC2 reports.
pub fn classify_owner(interface_type: &str, requester_id: &str, description: &str, instance_id: Option<&str>) -> EniOwner {
    let kind = interface_type.to_ascii_lowercase().replace('_', "");
    let after = |prefix: &str| description.strip_prefix(prefix).map(|s| s.trim().to_string());
    if kind == "natgateway" || description.starts_with("Interface for NAT Gateway") {
        let id = description.split_whitespace().find(|w| w.starts_with("nat-")).unwrap_or("unknown");
        return EniOwner::NatGateway { id: id.to_string() };
    }
    if let Some(rest) = after("ELB ") {
        // `app/<name>/<id>`, `net/<name>/<id>`, `gwy/<name>/<id>`, or a classic ELB's name.
        let parts: Vec<&str> = rest.split('/').collect();
        let (kind, name) = match parts.as_slice() {
            ["app", name, ..] => (LbKind::Application, *name),
            ["net", name, ..] => (LbKind::Network, *name),
            ["gwy", name, ..] => (LbKind::Gateway, *name),
            _ => (LbKind::Classic, rest.as_str()),
        };
        return EniOwner::LoadBalancer { kind, name: name.to_string() };
    }
    if kind == "networkloadbalancer" {
        return EniOwner::LoadBalancer { kind: LbKind::Network, name: description.to_string() };
    }
    if kind == "gatewayloadbalancer" {
        return EniOwner::LoadBalancer { kind: LbKind::Gateway, name: description.to_string() };
    }
    if description == "RDSNetworkInterface" || requester_id == "amazon-rds" {
        return EniOwner::Rds { name: String::new(), role: None };
    }
    if kind == "vpcendpoint" || kind == "gatewayloadbalancerendpoint" || description.starts_with("VPC Endpoint Interface") {
        let id = description.split_whitespace().find(|w| w.starts_with("vpce-")).unwrap_or("unknown");
        return EniOwner::VpcEndpoint { id: id.to_string() };
    }
    if let Some(cluster) = after("Amazon EKS ") {
        return EniOwner::EksControlPlane { cluster };
    }
    if kind == "lambda" || description.starts_with("AWS Lambda VPC ENI") {
        let function = after("AWS Lambda VPC ENI-").unwrap_or_else(|| description.to_string());
        return EniOwner::Lambda { function };
    }
    if kind == "transitgateway" || description.starts_with("Network Interface for Transit Gateway Attachment") {
        let id = description.split_whitespace().find(|w| w.starts_with("tgw-attach-")).unwrap_or("unknown");
        return EniOwner::TransitGateway { attachment: id.to_string() };
    }
    if let Some(name) = after("ElastiCache ") {
        return EniOwner::ElastiCache { name };
    }
    if let Some(rest) = after("EFS mount target for ") {
        let fs = rest.split_whitespace().next().unwrap_or("unknown");
        return EniOwner::Efs { file_system: fs.to_string() };
    }
    if requester_id == "amazon-elasticsearch" || requester_id == "amazon-opensearch" || description.starts_with("ES ") {
        let domain = after("ES ").unwrap_or_else(|| description.to_string());
        return EniOwner::OpenSearch { domain };
    }
    if requester_id == "amazon-kafka" || description.starts_with("Amazon MSK") {
        let cluster = description.split_whitespace().find(|w| w.starts_with("arn:aws:kafka:")).and_then(|a| a.split('/').nth(1)).unwrap_or("unknown");
        return EniOwner::Msk { cluster: cluster.to_string() };
    }
    if description.starts_with("ClientVPN") || description.starts_with("Client VPN") {
        let id = description.split_whitespace().find(|w| w.starts_with("cvpn-endpoint-")).unwrap_or("unknown");
        return EniOwner::ClientVpn { endpoint: id.to_string() };
    }
    if kind == "branch" {
        return EniOwner::Branch;
    }
    if let Some(id) = instance_id {
        return EniOwner::Instance { instance_id: id.to_string() };
    }
    EniOwner::Other
}

/// Engines and instance classes (with their Multi-AZ DB cluster classes) of the RDS instances
/// described in a directory of network JSON; empty when there is none.
pub fn rds_engines_and_classes(dir: &Path) -> (Vec<String>, Vec<String>) {
    let mut inv = Inventory::default();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.path().extension().is_some_and(|e| e == "json") {
            let _ = load_file(&mut inv, &entry.path());
        }
    }
    let mut engines: Vec<String> =
        inv.databases.iter().filter_map(|d| d.engine.as_deref().and_then(crate::pricing::rds::engine_key)).map(String::from).collect();
    let mut classes: Vec<String> = inv.databases.iter().filter_map(|d| d.class.clone()).collect();
    classes.extend(classes.clone().iter().filter_map(|c| crate::pricing::rds::cluster_class(c)));
    engines.sort();
    engines.dedup();
    classes.sort();
    classes.dedup();
    (engines, classes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_owners() {
        assert_eq!(
            classify_owner("nat_gateway", "", "Interface for NAT Gateway nat-0a1b2c3d4e5f60718", None),
            EniOwner::NatGateway { id: "nat-0a1b2c3d4e5f60718".into() }
        );
        assert_eq!(
            classify_owner("interface", "amazon-elb", "ELB app/k8s-game2048-ingress2-8f3c/6d2a", None),
            EniOwner::LoadBalancer { kind: LbKind::Application, name: "k8s-game2048-ingress2-8f3c".into() }
        );
        assert_eq!(
            classify_owner("network_load_balancer", "", "ELB net/nlb-1/abc", None),
            EniOwner::LoadBalancer { kind: LbKind::Network, name: "nlb-1".into() }
        );
        assert_eq!(classify_owner("interface", "amazon-rds", "RDSNetworkInterface", None), EniOwner::Rds { name: String::new(), role: None });
        assert_eq!(classify_owner("vpc_endpoint", "", "VPC Endpoint Interface vpce-0f00", None), EniOwner::VpcEndpoint { id: "vpce-0f00".into() });
        assert_eq!(classify_owner("interface", "", "Amazon EKS demo", None), EniOwner::EksControlPlane { cluster: "demo".into() });
        assert_eq!(classify_owner("interface", "", "aws-K8S-i-0abc", Some("i-0abc")), EniOwner::Instance { instance_id: "i-0abc".into() });
        assert_eq!(classify_owner("interface", "", "", None), EniOwner::Other);
    }
}
