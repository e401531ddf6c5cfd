//! `crossaz pull prices` through the real AWS SDK. moto_server has no Price List backend (it answers
//! HTTP 500, checked below), so the SDK talks to a stand-in that speaks the Price List API's JSON 1.1
//! protocol: `AWSPriceListService.GetProducts` with a service code and TermMatch filters, answered
//! two products per page with a `NextToken`, from products in the Price List's document format
//! (RDS instances and storage; EC2's NAT gateways; VPC's endpoints).

use crate::moto;
use crate::util::tempdir;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

/// A Price List product document, as GetProducts returns each (a JSON string).
fn product(family: &str, attrs: Value, unit: &str, usd: &str, sku: &str) -> Value {
    product_of("AmazonRDS", family, attrs, unit, usd, sku)
}

fn product_of(service: &str, family: &str, attrs: Value, unit: &str, usd: &str, sku: &str) -> Value {
    let mut attributes = json!({"servicecode": service, "regionCode": "ap-northeast-2", "location": "Asia Pacific (Seoul)"});
    attributes.as_object_mut().unwrap().extend(attrs.as_object().unwrap().clone());
    json!({
        "product": {"productFamily": family, "attributes": attributes, "sku": sku},
        "serviceCode": service,
        "terms": {"OnDemand": {format!("{sku}.JRTCKXETXF"): {
            "priceDimensions": {format!("{sku}.JRTCKXETXF.6YS6EN2CT7"): {
                "unit": unit, "endRange": "Inf", "description": format!("{usd} USD per {unit}"), "appliesTo": [],
                "rateCode": format!("{sku}.JRTCKXETXF.6YS6EN2CT7"), "beginRange": "0", "pricePerUnit": {"USD": usd}}},
            "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z", "offerTermCode": "JRTCKXETXF", "termAttributes": {}}}},
        "version": "20261101000000", "publicationDate": "2026-11-01T00:00:00Z"
    })
}

fn catalog() -> Vec<Value> {
    let inst = |dep: &str, usage: &str, usd: &str, sku: &str| {
        product(
            "Database Instance",
            json!({"instanceType": "db.m6gd.large", "databaseEngine": "PostgreSQL", "deploymentOption": dep, "licenseModel": "No license required", "usagetype": usage}),
            "Hrs",
            usd,
            sku,
        )
    };
    let storage = |dep: &str, engine: &str, usage: &str, usd: &str, sku: &str| {
        product(
            "Database Storage",
            json!({"volumeType": "General Purpose-GP3", "databaseEngine": engine, "deploymentOption": dep, "usagetype": usage}),
            "GB-Mo",
            usd,
            sku,
        )
    };
    vec![
        inst("Single-AZ", "APN2-InstanceUsage:db.m6gd.large", "0.2610000000", "A1"),
        inst("Multi-AZ", "APN2-Multi-AZUsage:db.m6gd.large", "0.5220000000", "A2"),
        inst("Multi-AZ (readable standbys)", "APN2-Multi-AZClusterUsage:db.m6gd.large", "0.7830000000", "A3"),
        // Not on-demand PostgreSQL: a MySQL product the filter leaves out, and another deployment.
        product(
            "Database Instance",
            json!({"instanceType": "db.m6gd.large", "databaseEngine": "MySQL", "deploymentOption": "Single-AZ", "licenseModel": "No license required", "usagetype": "APN2-InstanceUsage:db.m6gd.large"}),
            "Hrs",
            "0.2500000000",
            "A4",
        ),
        inst("Multi-AZ (SQL Server Mirror)", "APN2-Mirror:db.m6gd.large", "9.9900000000", "A5"),
        storage("Single-AZ", "Any", "APN2-RDS:GP3-Storage", "0.1310000000", "S1"),
        storage("Multi-AZ", "Any", "APN2-RDS:Multi-AZ-GP3-Storage", "0.2620000000", "S2"),
        storage("Multi-AZ (readable standbys)", "Any", "APN2-RDS:Multi-AZCluster-GP3-Storage", "0.4000000000", "S3"),
        storage("Multi-AZ (readable standbys)", "PostgreSQL", "APN2-RDS:Multi-AZCluster-GP3-Storage", "0.3930000000", "S4"),
        storage("Multi-AZ (readable standbys)", "Aurora PostgreSQL", "APN2-Aurora:StorageUsage", "0.1100000000", "S5"),
        product_of("AmazonEC2", "NAT Gateway", json!({"usagetype": "APN2-NatGateway-Hours", "operation": "NatGateway"}), "Hrs", "0.0590000000", "N1"),
        product_of("AmazonEC2", "NAT Gateway", json!({"usagetype": "APN2-NatGateway-Bytes", "operation": "NatGateway"}), "GB", "0.0590000000", "N2"),
        product_of("AmazonEC2", "NAT Gateway", json!({"usagetype": "APN2-RegionalNatGateway-Hours", "operation": "NatGateway"}), "Hrs", "0.0590000000", "N3"),
        product_of("AmazonVPC", "VpcEndpoint", json!({"usagetype": "APN2-VpcEndpoint-Hours", "operation": "VpcEndpoint"}), "Hrs", "0.0130000000", "V1"),
        endpoint_bytes(),
    ]
}

/// Interface endpoint data processing: three tiers, the first from 0 GB.
fn endpoint_bytes() -> Value {
    let mut p = product_of("AmazonVPC", "VpcEndpoint", json!({"usagetype": "APN2-VpcEndpoint-Bytes", "operation": "VpcEndpoint"}), "GB", "0.0040000000", "V2");
    let dims = p.pointer_mut("/terms/OnDemand/V2.JRTCKXETXF/priceDimensions").unwrap().as_object_mut().unwrap();
    let mut first = dims.values().next().unwrap().clone();
    first["beginRange"] = json!("0");
    first["endRange"] = json!("1048576");
    first["pricePerUnit"]["USD"] = json!("0.0100000000");
    dims.values_mut().next().unwrap()["beginRange"] = json!("5242880");
    dims.insert("V2.JRTCKXETXF.TIER1".into(), first);
    p
}

fn matches(p: &Value, filters: &[Value]) -> bool {
    filters.iter().all(|f| {
        let (field, value) = (f["Field"].as_str().unwrap(), f["Value"].as_str().unwrap());
        let got = if field == "productFamily" { p["product"]["productFamily"].as_str() } else { p["product"]["attributes"][field].as_str() };
        f["Type"] == "TERM_MATCH" && got == Some(value)
    })
}

fn answer(target: &str, body: &[u8], products: &[Value]) -> (&'static str, Value) {
    if target != "AWSPriceListService.GetProducts" {
        return ("400 Bad Request", json!({"__type": "UnknownOperationException"}));
    }
    let req: Value = serde_json::from_slice(body).unwrap();
    let hits: Vec<&Value> = products.iter().filter(|p| p["serviceCode"] == req["ServiceCode"] && matches(p, req["Filters"].as_array().unwrap())).collect();
    let start: usize = req["NextToken"].as_str().map(|t| t.parse().unwrap()).unwrap_or(0);
    let page: Vec<String> = hits.iter().skip(start).take(2).map(|p| p.to_string()).collect();
    let mut out = json!({"FormatVersion": "aws_v1", "PriceList": page});
    if start + 2 < hits.len() {
        out["NextToken"] = json!((start + 2).to_string());
    }
    ("200 OK", out)
}

fn start() -> crate::stub_http::Server {
    let products = catalog();
    crate::stub_http::serve(move |r| {
        let (status, v) = answer(r.header("x-amz-target").unwrap_or_default(), &r.body, &products);
        (status, "application/x-amz-json-1.1", v.to_string())
    })
}

#[test]
fn pull_prices_pages_filters_and_caches() {
    let server = start();
    let ws = tempdir();
    let w = ws.path().to_str().unwrap().to_string();
    let args = ["prices", "--workspace", &w, "--engine", "postgres", "--class", "db.m6gd.large"];
    let run = moto::pull(&args, &server.url, ws.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("3 instance and 3 storage prices for ap-northeast-2"), "{}", run.stdout);
    assert!(run.stdout.contains("4 NAT gateway and interface endpoint prices for ap-northeast-2"), "{}", run.stdout);
    // Instance query: 4 matching products (3 deployments + the SQL Server mirror) in 2 pages; storage:
    // 5 products in 3 pages; NAT gateways: 3 products in 2 pages; endpoints: 2 products in 1 page.
    assert_eq!(server.requests.load(Ordering::SeqCst), 8);
    let paths = crossaz::pricing::paths::PathPrices::load(&ws.path().join("prices/path-prices.json")).unwrap();
    let price = |item: &str| paths.get("ap-northeast-2", item).map(|p| (p.usd.normalize().to_string(), p.source.clone()));
    assert_eq!(price("nat-gateway-hour"), Some(("0.059".into(), "AWS Price List API, usage type APN2-NatGateway-Hours".into())), "zonal, not regional");
    assert_eq!(price("nat-gateway-gb").unwrap().0, "0.059");
    assert_eq!(price("interface-endpoint-hour").unwrap().0, "0.013");
    assert_eq!(price("interface-endpoint-gb").unwrap().0, "0.01", "the first tier");
    let table = crossaz::pricing::rds::PriceTable::load(&ws.path().join("prices/rds-prices.json")).unwrap();
    use crossaz::pricing::rds::Deployment::*;
    let hour = |d| table.instance("ap-northeast-2", "postgres", "db.m6gd.large", d).unwrap().usd_per_hour.normalize().to_string();
    assert_eq!((hour(SingleAz), hour(MultiAzInstance), hour(MultiAzCluster)), ("0.261".into(), "0.522".into(), "0.783".into()));
    let gb = |d| table.storage("ap-northeast-2", "postgres", "gp3", d).unwrap().usd_per_gb_month.normalize().to_string();
    // The engine's own cluster storage price wins over the "Any" one; Aurora's is not RDS's.
    assert_eq!((gb(SingleAz), gb(MultiAzInstance), gb(MultiAzCluster)), ("0.131".into(), "0.262".into(), "0.393".into()));
    let p = table.instance("ap-northeast-2", "postgres", "db.m6gd.large", MultiAzCluster).unwrap();
    assert!(p.source.contains("APN2-Multi-AZClusterUsage:db.m6gd.large") && !p.derived, "{p:?}");
    assert!(table.instance("ap-northeast-2", "mysql", "db.m6gd.large", SingleAz).is_err());

    // Again: every answer comes from the cache.
    let run = moto::pull(&args, &server.url, ws.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.requests.load(Ordering::SeqCst), 8);
    assert!(run.stdout.contains("(0 requests, 4 cached answers)"), "{}", run.stdout);
    let mut refresh = args.to_vec();
    refresh.push("--refresh");
    assert_eq!(moto::pull(&refresh, &server.url, ws.path()).code, 0);
    assert_eq!(server.requests.load(Ordering::SeqCst), 16);
}

#[test]
fn whatif_rds_uses_the_workspace_prices() {
    let server = start();
    let dir = tempdir();
    crossaz::generate::rds::generate(dir.path(), 2026, 1_790_812_800).unwrap();
    // Classes and engines come from the workspace's network inventory when not named.
    let ws = dir.path().join("crossaz-data");
    std::fs::create_dir_all(ws.join("network")).unwrap();
    for f in ["rds-db-instances.json", "rds-db-clusters.json"] {
        std::fs::copy(dir.path().join("network").join(f), ws.join("network").join(f)).unwrap();
    }
    let run = moto::pull(&["prices"], &server.url, dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("(postgres; db.m6gd.large, db.t4g.micro)"), "{}", run.stdout);
    let run = crate::util::crossaz(&["whatif", "rds", "--flow-logs", "flow-logs", "--network", "network", "--db", "orders-db", "--format", "json"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(out["prices_source"].as_str().unwrap().contains("crossaz-data/prices/rds-prices.json"), "{}", out["prices_source"]);
    let o = out["databases"][0]["options"].as_array().unwrap().iter().find(|o| o["option"] == "single-az").unwrap();
    assert!(o["price_sources"][0].as_str().unwrap().starts_with("AWS Price List API, usage type APN2-InstanceUsage:db.m6gd.large"), "{o}");
}

#[test]
fn whatif_paths_uses_the_workspace_prices() {
    let server = start();
    let dir = tempfile::tempdir().unwrap();
    let run = moto::pull(&["prices"], &server.url, dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("no RDS instance class to price"), "{}", run.stdout);
    let out = crate::paths::demo_whatif_with_workspace(&dir.path().join("crossaz-data"), dir.path());
    assert!(out["prices_source"].as_str().unwrap().ends_with("crossaz-data/prices/path-prices.json`"), "{}", out["prices_source"]);
    let used: Vec<&str> = out["prices"].as_array().unwrap().iter().map(|p| p["source"].as_str().unwrap()).collect();
    assert!(used.contains(&"AWS Price List API, usage type APN2-NatGateway-Hours"), "{used:?}");
    assert!(out["assumptions"].as_array().unwrap().iter().all(|a| !a.as_str().unwrap().starts_with("nat-gateway-hour")), "Price List rows are primary");
}

#[test]
fn moto_has_no_price_list_api_and_the_error_says_what_to_do() {
    let ws = tempdir();
    let w = ws.path().to_str().unwrap().to_string();
    let run = moto::pull(&["prices", "--workspace", &w, "--engine", "postgres", "--class", "db.m6gd.large"], moto::endpoint(), ws.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("failed to ask the AWS Price List API (pricing:GetProducts)"), "{}", run.stderr);
    assert!(run.stderr.contains("--prices FILE"), "{}", run.stderr);
    assert!(!ws.path().join("prices/rds-prices.json").exists());
}
