//! `crossaz pull network`: EC2 interfaces, subnets and zones, and RDS instances and clusters,
//! written as the JSON the AWS CLI prints.

use super::{put, s, sdk_error, write_json};
use crate::error::Error;
use aws_sdk_ec2::types::Filter;
use serde_json::{Map, Value, json};

#[derive(Debug, Default)]
pub struct NetworkPull {
    pub interfaces: usize,
    pub subnets: usize,
    pub zones: usize,
    pub db_instances: usize,
    pub db_clusters: usize,
    pub requests: usize,
}

/// Writes one snapshot of the VPC's network into `dir` (the workspace's `network/`, or a
/// `network/<time>/` folder of `pull network --every`).
pub async fn pull(ec2: &aws_sdk_ec2::Client, rds: &aws_sdk_rds::Client, vpc: Option<&str>, dir: &std::path::Path) -> Result<NetworkPull, Error> {
    let mut n = NetworkPull::default();
    let vpc_filter = || vpc.map(|v| Filter::builder().name("vpc-id").values(v).build());

    let mut enis = Vec::new();
    let mut pages = ec2.describe_network_interfaces().set_filters(vpc_filter().map(|f| vec![f])).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("describe network interfaces (ec2:DescribeNetworkInterfaces)", e))?;
        n.requests += 1;
        enis.extend(page.network_interfaces().iter().map(interface_json));
    }
    n.interfaces = enis.len();
    write_json(&dir.join("describe-network-interfaces.json"), &json!({ "NetworkInterfaces": enis }))?;

    let mut subnets = Vec::new();
    let mut pages = ec2.describe_subnets().set_filters(vpc_filter().map(|f| vec![f])).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("describe subnets (ec2:DescribeSubnets)", e))?;
        n.requests += 1;
        subnets.extend(page.subnets().iter().map(subnet_json));
    }
    n.subnets = subnets.len();
    write_json(&dir.join("describe-subnets.json"), &json!({ "Subnets": subnets }))?;

    // Every VPC of the account and region: the bill covers them all, the flow logs one.
    let mut vpcs = Vec::new();
    let mut pages = ec2.describe_vpcs().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("describe VPCs (ec2:DescribeVpcs)", e))?;
        n.requests += 1;
        vpcs.extend(page.vpcs().iter().map(|v| {
            let mut m = Map::new();
            put(&mut m, "VpcId", s(v.vpc_id()));
            put(&mut m, "OwnerId", s(v.owner_id()));
            put(&mut m, "CidrBlock", s(v.cidr_block()));
            put(&mut m, "IsDefault", v.is_default().map(|x| json!(x)));
            Value::Object(m)
        }));
    }
    write_json(&dir.join("describe-vpcs.json"), &json!({ "Vpcs": vpcs }))?;

    let zones = ec2.describe_availability_zones().send().await.map_err(|e| sdk_error("describe availability zones (ec2:DescribeAvailabilityZones)", e))?;
    n.requests += 1;
    let zones: Vec<Value> = zones
        .availability_zones()
        .iter()
        .map(|z| {
            let mut m = Map::new();
            put(&mut m, "State", z.state().map(|x| json!(x.as_str())));
            put(&mut m, "RegionName", s(z.region_name()));
            put(&mut m, "ZoneName", s(z.zone_name()));
            put(&mut m, "ZoneId", s(z.zone_id()));
            put(&mut m, "ZoneType", s(z.zone_type()));
            Value::Object(m)
        })
        .collect();
    n.zones = zones.len();
    write_json(&dir.join("describe-availability-zones.json"), &json!({ "AvailabilityZones": zones }))?;

    let mut instances = Vec::new();
    let mut pages = rds.describe_db_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("describe RDS instances (rds:DescribeDBInstances)", e))?;
        n.requests += 1;
        for i in page.db_instances() {
            let in_vpc = vpc.is_none_or(|v| i.db_subnet_group().and_then(|g| g.vpc_id()) == Some(v));
            if in_vpc {
                instances.push(db_instance_json(i));
            }
        }
    }
    n.db_instances = instances.len();
    write_json(&dir.join("rds-db-instances.json"), &json!({ "DBInstances": instances }))?;

    let mut clusters = Vec::new();
    let mut pages = rds.describe_db_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("describe RDS clusters (rds:DescribeDBClusters)", e))?;
        n.requests += 1;
        clusters.extend(page.db_clusters().iter().map(db_cluster_json));
    }
    n.db_clusters = clusters.len();
    write_json(&dir.join("rds-db-clusters.json"), &json!({ "DBClusters": clusters }))?;
    Ok(n)
}

fn interface_json(e: &aws_sdk_ec2::types::NetworkInterface) -> Value {
    let mut m = Map::new();
    if let Some(a) = e.attachment() {
        let mut am = Map::new();
        put(&mut am, "AttachmentId", s(a.attachment_id()));
        put(&mut am, "AttachTime", a.attach_time().and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()).map(Value::String));
        put(&mut am, "DeviceIndex", a.device_index().map(|x| json!(x)));
        put(&mut am, "InstanceId", s(a.instance_id()));
        put(&mut am, "InstanceOwnerId", s(a.instance_owner_id()));
        put(&mut am, "Status", a.status().map(|x| json!(x.as_str())));
        m.insert("Attachment".into(), Value::Object(am));
    }
    put(&mut m, "AvailabilityZone", s(e.availability_zone()));
    put(&mut m, "AvailabilityZoneId", s(e.availability_zone_id()));
    put(&mut m, "Description", s(e.description()));
    put(&mut m, "InterfaceType", e.interface_type().map(|x| json!(x.as_str())));
    m.insert("Ipv6Addresses".into(), json!(e.ipv6_addresses().iter().filter_map(|a| a.ipv6_address()).map(|a| json!({"Ipv6Address": a})).collect::<Vec<_>>()));
    m.insert("Ipv4Prefixes".into(), json!(e.ipv4_prefixes().iter().filter_map(|p| p.ipv4_prefix()).map(|p| json!({"Ipv4Prefix": p})).collect::<Vec<_>>()));
    m.insert("Ipv6Prefixes".into(), json!(e.ipv6_prefixes().iter().filter_map(|p| p.ipv6_prefix()).map(|p| json!({"Ipv6Prefix": p})).collect::<Vec<_>>()));
    put(&mut m, "NetworkInterfaceId", s(e.network_interface_id()));
    put(&mut m, "OwnerId", s(e.owner_id()));
    put(&mut m, "PrivateIpAddress", s(e.private_ip_address()));
    let ips: Vec<Value> = e
        .private_ip_addresses()
        .iter()
        .map(|p| {
            let mut pm = Map::new();
            put(&mut pm, "Primary", p.primary().map(|x| json!(x)));
            put(&mut pm, "PrivateIpAddress", s(p.private_ip_address()));
            Value::Object(pm)
        })
        .collect();
    m.insert("PrivateIpAddresses".into(), json!(ips));
    put(&mut m, "RequesterId", s(e.requester_id()));
    put(&mut m, "RequesterManaged", e.requester_managed().map(|x| json!(x)));
    put(&mut m, "Status", e.status().map(|x| json!(x.as_str())));
    put(&mut m, "SubnetId", s(e.subnet_id()));
    put(&mut m, "VpcId", s(e.vpc_id()));
    Value::Object(m)
}

fn subnet_json(x: &aws_sdk_ec2::types::Subnet) -> Value {
    let mut m = Map::new();
    put(&mut m, "AvailabilityZone", s(x.availability_zone()));
    put(&mut m, "AvailabilityZoneId", s(x.availability_zone_id()));
    put(&mut m, "CidrBlock", s(x.cidr_block()));
    put(&mut m, "MapPublicIpOnLaunch", x.map_public_ip_on_launch().map(|v| json!(v)));
    put(&mut m, "SubnetId", s(x.subnet_id()));
    put(&mut m, "VpcId", s(x.vpc_id()));
    put(&mut m, "OwnerId", s(x.owner_id()));
    let v6: Vec<Value> = x.ipv6_cidr_block_association_set().iter().filter_map(|a| a.ipv6_cidr_block()).map(|c| json!({"Ipv6CidrBlock": c})).collect();
    m.insert("Ipv6CidrBlockAssociationSet".into(), json!(v6));
    Value::Object(m)
}

fn db_instance_json(i: &aws_sdk_rds::types::DbInstance) -> Value {
    let mut m = Map::new();
    put(&mut m, "DBInstanceIdentifier", s(i.db_instance_identifier()));
    put(&mut m, "DBInstanceClass", s(i.db_instance_class()));
    put(&mut m, "Engine", s(i.engine()));
    put(&mut m, "EngineVersion", s(i.engine_version()));
    put(&mut m, "DBInstanceStatus", s(i.db_instance_status()));
    if let Some(e) = i.endpoint() {
        let mut em = Map::new();
        put(&mut em, "Address", s(e.address()));
        put(&mut em, "Port", e.port().map(|p| json!(p)));
        m.insert("Endpoint".into(), Value::Object(em));
    }
    put(&mut m, "AllocatedStorage", i.allocated_storage().map(|x| json!(x)));
    put(&mut m, "StorageType", s(i.storage_type()));
    put(&mut m, "Iops", i.iops().map(|x| json!(x)));
    put(&mut m, "AvailabilityZone", s(i.availability_zone()));
    put(&mut m, "SecondaryAvailabilityZone", s(i.secondary_availability_zone()));
    put(&mut m, "MultiAZ", i.multi_az().map(|x| json!(x)));
    put(&mut m, "DBClusterIdentifier", s(i.db_cluster_identifier()));
    put(&mut m, "ReadReplicaSourceDBInstanceIdentifier", s(i.read_replica_source_db_instance_identifier()));
    if let Some(g) = i.db_subnet_group() {
        let subnets: Vec<Value> = g
            .subnets()
            .iter()
            .map(|sn| {
                let mut sm = Map::new();
                put(&mut sm, "SubnetIdentifier", s(sn.subnet_identifier()));
                put(&mut sm, "SubnetAvailabilityZone", sn.subnet_availability_zone().map(|z| json!({"Name": z.name()})));
                Value::Object(sm)
            })
            .collect();
        let mut gm = Map::new();
        put(&mut gm, "DBSubnetGroupName", s(g.db_subnet_group_name()));
        put(&mut gm, "VpcId", s(g.vpc_id()));
        gm.insert("Subnets".into(), json!(subnets));
        m.insert("DBSubnetGroup".into(), Value::Object(gm));
    }
    Value::Object(m)
}

fn db_cluster_json(c: &aws_sdk_rds::types::DbCluster) -> Value {
    let mut m = Map::new();
    put(&mut m, "DBClusterIdentifier", s(c.db_cluster_identifier()));
    put(&mut m, "Engine", s(c.engine()));
    put(&mut m, "EngineVersion", s(c.engine_version()));
    put(&mut m, "DBClusterInstanceClass", s(c.db_cluster_instance_class()));
    put(&mut m, "AllocatedStorage", c.allocated_storage().map(|x| json!(x)));
    put(&mut m, "StorageType", s(c.storage_type()));
    put(&mut m, "Iops", c.iops().map(|x| json!(x)));
    put(&mut m, "MultiAZ", c.multi_az().map(|x| json!(x)));
    m.insert("AvailabilityZones".into(), json!(c.availability_zones()));
    put(&mut m, "Endpoint", s(c.endpoint()));
    put(&mut m, "ReaderEndpoint", s(c.reader_endpoint()));
    let members: Vec<Value> =
        c.db_cluster_members().iter().map(|x| json!({"DBInstanceIdentifier": x.db_instance_identifier(), "IsClusterWriter": x.is_cluster_writer()})).collect();
    m.insert("DBClusterMembers".into(), json!(members));
    Value::Object(m)
}

/// The VPC of the cluster's nodes: their instances (from the nodes' `providerID`) as EC2 describes them.
pub async fn vpc_of_instances(ec2: &aws_sdk_ec2::Client, instance_ids: &[String]) -> Result<Vec<String>, Error> {
    let mut vpcs = std::collections::BTreeSet::new();
    let mut pages = ec2.describe_instances().set_instance_ids(Some(instance_ids.to_vec())).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("describe the nodes' instances (ec2:DescribeInstances)", e))?;
        for r in page.reservations() {
            vpcs.extend(r.instances().iter().filter_map(|i| i.vpc_id()).map(str::to_string));
        }
    }
    Ok(vpcs.into_iter().collect())
}
