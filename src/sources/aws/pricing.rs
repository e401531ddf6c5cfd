//! `pull prices`: RDS, NAT gateway and VPC endpoint on-demand prices from the AWS Price List API
//! (GetProducts), written as crossaz price tables. Raw responses are cached under
//! `state/pricing/`; `--refresh` asks again.

use super::sdk_error;
use crate::error::Error;
use crate::pricing::paths::PathPrices;
use crate::pricing::rds::{Deployment, FORMAT, InstancePrice, PriceTable, StoragePrice, engine_key, price_list_engine};
use crate::workspace::Workspace;
use aws_sdk_pricing::types::{Filter, FilterType};
use rust_decimal::Decimal;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Debug, Default)]
pub struct PricesPull {
    pub instance_prices: usize,
    pub storage_prices: usize,
    pub requests: usize,
    pub cached_queries: usize,
    /// NAT gateway and interface endpoint prices (`prices/path-prices.json`).
    pub path_prices: usize,
}

/// What to ask for: every (engine, class) in the region, and the storage of each engine.
pub struct PriceQuery<'a> {
    pub region: &'a str,
    pub engines: &'a [String],
    pub classes: &'a [String],
    pub refresh: bool,
    pub date: String,
}

fn filter(field: &str, value: &str) -> Result<Filter, Error> {
    Filter::builder().r#type(FilterType::TermMatch).field(field).value(value).build().map_err(|e| Error::failure("invalid Price List filter").caused_by(e))
}

/// All pages of one GetProducts query, from the cache when there.
async fn products(client: &aws_sdk_pricing::Client, filters: &[(&str, &str)], cache: PathBuf, refresh: bool, n: &mut PricesPull) -> Result<Vec<Value>, Error> {
    products_of(client, "AmazonRDS", filters, cache, refresh, n).await
}

/// All pages of one GetProducts query of a service (`AmazonRDS`, `AmazonEC2`, `AmazonVPC`), from the cache when there.
async fn products_of(
    client: &aws_sdk_pricing::Client,
    service: &str,
    filters: &[(&str, &str)],
    cache: PathBuf,
    refresh: bool,
    n: &mut PricesPull,
) -> Result<Vec<Value>, Error> {
    if !refresh
        && let Ok(text) = crate::limits::read_text(&cache, crate::limits::MAX_TABLE_BYTES, "a Price List cache")
        && let Ok(Value::Array(items)) = serde_json::from_str::<Value>(&text)
    {
        n.cached_queries += 1;
        return Ok(items);
    }
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = client.get_products().service_code(service).format_version("aws_v1").max_results(100).set_next_token(token.clone());
        for (f, v) in filters {
            req = req.filters(filter(f, v)?);
        }
        let out = req.send().await.map_err(|e| {
            sdk_error("ask the AWS Price List API (pricing:GetProducts)", e)
                .hint("the Price List API answers in us-east-1, eu-central-1 and ap-south-1: pass `--pricing-region us-east-1`; or give your own prices to `crossaz whatif rds --prices FILE` (docs/rds.md)")
        })?;
        n.requests += 1;
        for s in out.price_list() {
            let v: Value = serde_json::from_str(s).map_err(|e| Error::failure("the Price List API returned a product that is not JSON").caused_by(e))?;
            items.push(v);
        }
        token = out.next_token().map(str::to_string).filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    super::write_json(&cache, &Value::Array(items.clone()))?;
    Ok(items)
}

/// The one on-demand USD price of a product (its first tier), with its unit.
fn on_demand(p: &Value) -> Option<(Decimal, String)> {
    let terms = p.pointer("/terms/OnDemand")?.as_object()?;
    let dims = terms.values().next()?.get("priceDimensions")?.as_object()?;
    let d = dims.values().find(|d| d.get("beginRange").and_then(Value::as_str) == Some("0")).or_else(|| dims.values().next())?;
    let usd: Decimal = d.pointer("/pricePerUnit/USD")?.as_str()?.parse().ok()?;
    Some((usd, d.get("unit")?.as_str()?.to_string()))
}

fn attr<'v>(p: &'v Value, name: &str) -> Option<&'v str> {
    p.pointer(&format!("/product/attributes/{name}")).and_then(Value::as_str)
}

/// The Price List's `volumeType` as RDS's `StorageType`.
pub fn storage_type(volume_type: &str) -> Option<&'static str> {
    match volume_type {
        "General Purpose-GP3" => Some("gp3"),
        "General Purpose" => Some("gp2"),
        "Provisioned IOPS" => Some("io1"),
        "Provisioned IOPS-IO2" => Some("io2"),
        "Magnetic" => Some("standard"),
        _ => None,
    }
}

/// Turns Price List products into price-table rows (on-demand, no licence, known deployments).
pub fn to_table(region: &str, engine: &str, products: &[Value], date: &str) -> PriceTable {
    let mut t = PriceTable { format: FORMAT.into(), ..PriceTable::default() };
    for p in products {
        let (Some(family), Some(dep), Some((usd, unit))) = (
            p.pointer("/product/productFamily").and_then(Value::as_str).or(attr(p, "productFamily")),
            attr(p, "deploymentOption").and_then(Deployment::from_price_list),
            on_demand(p),
        ) else {
            continue;
        };
        if attr(p, "regionCode").is_some_and(|r| r != region) {
            continue;
        }
        let usage = attr(p, "usagetype").unwrap_or("?");
        let source = format!("AWS Price List API, usage type {usage}");
        match (family, unit.as_str()) {
            ("Database Instance", "Hrs") => {
                let (Some(class), Some(e)) = (attr(p, "instanceType"), attr(p, "databaseEngine").and_then(engine_key)) else { continue };
                if e != engine || attr(p, "licenseModel").is_some_and(|l| !l.eq_ignore_ascii_case("No license required")) {
                    continue;
                }
                t.instances.push(InstancePrice {
                    region: region.into(),
                    engine: engine.into(),
                    class: class.into(),
                    deployment: dep,
                    usd_per_hour: usd,
                    source,
                    date: date.into(),
                    derived: false,
                });
            }
            ("Database Storage", "GB-Mo") => {
                let Some(st) = attr(p, "volumeType").and_then(storage_type) else { continue };
                // Storage is priced for "Any" engine, or per engine (clusters): the engine's own wins.
                let e = attr(p, "databaseEngine").unwrap_or("Any");
                let own = engine_key(e) == Some(engine);
                if !own && e != "Any" {
                    continue;
                }
                let key = |s: &StoragePrice| s.storage_type == st && s.deployment == dep;
                if let Some(i) = t.storage.iter().position(key) {
                    if !own {
                        continue;
                    }
                    t.storage.remove(i);
                }
                t.storage.push(StoragePrice {
                    region: region.into(),
                    engine: engine.into(),
                    storage_type: st.into(),
                    deployment: dep,
                    usd_per_gb_month: usd,
                    source,
                    date: date.into(),
                    derived: false,
                });
            }
            _ => {}
        }
    }
    t
}

pub async fn pull(client: &aws_sdk_pricing::Client, q: &PriceQuery<'_>, ws: &Workspace) -> Result<(PriceTable, PricesPull), Error> {
    let mut n = PricesPull::default();
    let mut table = if ws.rds_prices().is_file() { PriceTable::load(&ws.rds_prices())? } else { PriceTable::default() };
    let mut engines = Vec::new();
    for engine in q.engines {
        let (Some(key), Some(pl)) = (engine_key(engine), price_list_engine(engine)) else {
            return Err(Error::usage(format!("engine `{engine}` is not priced: crossaz prices `mysql` and `postgres`")));
        };
        engines.push((key, pl));
    }
    let cache_dir = ws.state().join("pricing").join(q.region);
    // Storage products are the same query for every engine: each engine takes its own from them.
    let storage =
        products(client, &[("regionCode", q.region), ("productFamily", "Database Storage")], cache_dir.join("storage.json"), q.refresh, &mut n).await?;
    for (key, pl) in engines {
        let mut got = PriceTable::default();
        for class in q.classes {
            let filters = [("regionCode", q.region), ("databaseEngine", pl), ("productFamily", "Database Instance"), ("instanceType", class.as_str())];
            let items = products(client, &filters, cache_dir.join(format!("{key}-{class}.json")), q.refresh, &mut n).await?;
            got.overlay(to_table(q.region, key, &items, &q.date));
        }
        got.overlay(to_table(q.region, key, &storage, &q.date));
        n.instance_prices += got.instances.len();
        n.storage_prices += got.storage.len();
        table.overlay(got);
    }
    table.format = FORMAT.into();
    let value = serde_json::to_value(&table).map_err(|e| Error::failure("failed to write the price table").caused_by(e))?;
    super::write_json(&ws.rds_prices(), &value)?;
    Ok((table, n))
}

/// NAT gateway (AmazonEC2 `NAT Gateway`) and interface endpoint (AmazonVPC `VpcEndpoint`) products
/// as path-price rows: zonal NAT gateway hours and bytes, endpoint hours (per AZ) and bytes (first tier).
pub fn to_path_table(region: &str, products: &[Value], date: &str) -> PathPrices {
    use crate::pricing::paths::{ENDPOINT_GB, ENDPOINT_HOUR, NAT_GB, NAT_HOUR, PathPrice};
    let mut t = PathPrices { format: crate::pricing::paths::FORMAT.into(), ..PathPrices::default() };
    for p in products {
        let (Some(usage), Some((usd, unit))) = (attr(p, "usagetype"), on_demand(p)) else { continue };
        if attr(p, "regionCode").is_some_and(|r| r != region) {
            continue;
        }
        // Usage types carry a region prefix (`APN2-NatGateway-Hours`), except in us-east-1.
        let kind = match usage.split_once('-') {
            Some((pfx, rest)) if pfx.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) => rest,
            _ => usage,
        };
        let item = match (kind, unit.as_str()) {
            ("NatGateway-Hours", "Hrs") => NAT_HOUR,
            ("NatGateway-Bytes", "GB") => NAT_GB,
            ("VpcEndpoint-Hours", "Hrs") => ENDPOINT_HOUR,
            ("VpcEndpoint-Bytes", "GB") => ENDPOINT_GB,
            _ => continue,
        };
        t.prices.retain(|r| r.item != item);
        t.prices.push(PathPrice {
            region: region.into(),
            item: item.into(),
            usd,
            evidence: "primary".into(),
            date: date.into(),
            source: format!("AWS Price List API, usage type {usage}"),
        });
    }
    t
}

/// Pulls the NAT gateway and VPC endpoint prices of a region into `prices/path-prices.json`.
pub async fn pull_paths(
    client: &aws_sdk_pricing::Client,
    region: &str,
    refresh: bool,
    date: &str,
    ws: &Workspace,
    n: &mut PricesPull,
) -> Result<PathPrices, Error> {
    let cache_dir = ws.state().join("pricing").join(region);
    let mut items =
        products_of(client, "AmazonEC2", &[("regionCode", region), ("productFamily", "NAT Gateway")], cache_dir.join("nat-gateway.json"), refresh, n).await?;
    items.extend(
        products_of(client, "AmazonVPC", &[("regionCode", region), ("productFamily", "VpcEndpoint")], cache_dir.join("vpc-endpoint.json"), refresh, n).await?,
    );
    let got = to_path_table(region, &items, date);
    n.path_prices = got.prices.len();
    let mut table = if ws.path_prices().is_file() {
        PathPrices::load(&ws.path_prices())?
    } else {
        PathPrices { format: crate::pricing::paths::FORMAT.into(), ..PathPrices::default() }
    };
    table.overlay(got);
    let value = serde_json::to_value(&table).map_err(|e| Error::failure("failed to write the price table").caused_by(e))?;
    super::write_json(&ws.path_prices(), &value)?;
    Ok(table)
}
