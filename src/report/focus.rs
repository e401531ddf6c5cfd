//! `attribute --format focus`: the allocation rows as FOCUS 1.2 CSV, which FinOps tools ingest.
//! FOCUS columns where they apply, `x_` columns for crossaz's own fields (docs/billing.md has
//! the mapping).

use super::Report;
use crate::allocate::AllocationRow;
use crate::error::Error;
use crate::model::time::{Month, day_of, day_start, format_date, format_time, parse_time};
use rust_decimal::Decimal;

/// The columns, in order: FOCUS 1.2 first, then `x_` extensions.
pub const COLUMNS: &[&str] = &[
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeFrequency",
    "ChargeDescription",
    "BilledCost",
    "EffectiveCost",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "RegionId",
    "ResourceId",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SkuMeter",
    "Tags",
    "x_Operation",
    "x_AllocationBasis",
    "x_ClientKind",
    "x_ClientNamespace",
    "x_Client",
    "x_ClientAzId",
    "x_ServerKind",
    "x_ServerNamespace",
    "x_Server",
    "x_ServerAzId",
    "x_MeasuredBytes",
    "x_UnallocatedReason",
];

fn resource_type(kind: &str) -> &'static str {
    match kind {
        "ec2" => "Instance",
        "nat" => "NAT Gateway",
        "elb" => "Load Balancer",
        "rds" => "DB Instance",
        "vpce" => "VPC Endpoint",
        "eks" => "Cluster",
        "" => "",
        _ => "Network Interface",
    }
}

/// A row's tags: the billed resource's tags on the bill, then the Kubernetes ones (the client's
/// namespace and workload, the server's Service).
fn tags(r: &AllocationRow) -> String {
    let mut m: serde_json::Map<String, serde_json::Value> = r.resource_tags.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
    let kube = |kind: &str| crate::model::entity::EntityKind::parse(kind).is_some_and(|k| k.is_kubernetes());
    if kube(&r.client.kind) {
        m.insert("k8s-namespace".into(), r.client.namespace.clone().into());
        m.insert("k8s-workload".into(), r.client.name.clone().into());
    }
    if r.server.kind == "service" {
        m.insert("k8s-service".into(), format!("{}/{}", r.server.namespace, r.server.name).into());
    } else if kube(&r.server.kind) {
        m.insert("k8s-server-workload".into(), format!("{}/{}", r.server.namespace, r.server.name).into());
    }
    serde_json::Value::Object(m).to_string()
}

fn usd(d: Decimal) -> String {
    d.round_dp(10).normalize().to_string()
}

pub fn render(report: &Report) -> Result<Vec<u8>, Error> {
    let Some(a) = &report.allocation else {
        return Err(Error::usage("`--format focus` writes the allocation: add `--allocate-bill`")
            .hint("with `--cur` (or a workspace holding an export) the bill is split; without one, measured bytes are priced at list rates"));
    };
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let fail = |e: ::csv::Error| Error::failure("failed to write FOCUS CSV").caused_by(e);
    w.write_record(COLUMNS).map_err(fail)?;
    let region = report.measurement.region.clone().unwrap_or_default();
    for r in &a.rows {
        let day = parse_time(&r.date).map(day_of).unwrap_or_default();
        let (start, end) = (day_start(day), day_start(day + 1));
        let month = Month::containing(start);
        let (bp_start, bp_end) = month.map(|m| (format_time(m.from), format_time(m.to))).unwrap_or_default();
        let gb = (Decimal::from(r.measured_bytes) / Decimal::from(crate::pricing::GB)).round_dp(10).normalize();
        let description = match &r.unallocated_reason {
            Some(_) => format!("Inter-AZ transfer on {} not measured in the flow logs", r.resource_id),
            None => format!("Inter-AZ transfer {} → {} ({}, {})", r.client.name, r.server.name, r.operation, format_date(start)),
        };
        let effective = r.allocated_effective_usd.unwrap_or(r.allocated_usd);
        w.write_record([
            r.account.clone(),
            "USD".into(),
            bp_start,
            bp_end,
            format_time(start),
            format_time(end),
            "Usage".into(),
            "Usage-Based".into(),
            description,
            usd(r.allocated_usd),
            usd(effective),
            gb.to_string(),
            "GB".into(),
            "AWS".into(),
            "AWS".into(),
            "AWS".into(),
            region.clone(),
            r.resource_id.clone(),
            resource_type(&r.resource_kind).into(),
            "Networking".into(),
            "Amazon Elastic Compute Cloud".into(),
            r.usage_type.clone(),
            tags(r),
            r.operation.clone(),
            a.basis.clone(),
            r.client.kind.clone(),
            r.client.namespace.clone(),
            r.client.name.clone(),
            r.client_az_id.clone(),
            r.server.kind.clone(),
            r.server.namespace.clone(),
            r.server.name.clone(),
            r.server_az_id.clone(),
            r.measured_bytes.to_string(),
            r.unallocated_reason.clone().unwrap_or_default(),
        ])
        .map_err(fail)?;
    }
    w.into_inner().map_err(|e| Error::failure("failed to write FOCUS CSV").caused_by(e.error()))
}
