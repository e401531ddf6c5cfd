//! The month's bill line by line, as AWS Data Exports write it: CUR 2.0 (Parquet, snake_case
//! columns, `resource_tags` a map) and FOCUS 1.2 (CSV, gzip). Built from the generator's own
//! per-resource bytes (`Truth::resources`), plus the lines a real bill holds beside them.

use super::traffic::Truth;
use super::world::{ACCOUNT, REGION, World};
use crate::model::time::{day_start, format_time};
use crate::pricing::GB;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::path::Path;
use std::str::FromStr;

/// An instance of another VPC of the account: billed, never in this VPC's flow logs.
pub const OTHER_VPC_INSTANCE: &str = "i-0e1f2a3b4c5d6e7f8";
/// Its inter-AZ bytes per day, in thousandths of the cluster's billed bytes that day.
const OTHER_VPC_PER_MILLE: u64 = 45;
/// The discount in the net unblended cost (an EDP), in percent.
pub const DISCOUNT_PCT: u64 = 10;
/// The Data Exports names of the two exports.
pub const CUR_EXPORT: &str = "crossaz-demo-cur";
pub const FOCUS_EXPORT: &str = "crossaz-demo-focus";

/// One line of the bill.
#[derive(Clone, Debug)]
pub struct BillRow {
    pub day: i32,
    pub resource_id: String,
    pub usage_type: String,
    pub operation: String,
    pub product_code: &'static str,
    pub usage_amount: Decimal,
    pub unit: &'static str,
    pub unblended_cost: Decimal,
    pub net_cost: Decimal,
    pub description: String,
    pub tags: Vec<(String, String)>,
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("a decimal")
}

fn gb(bytes: u64) -> Decimal {
    (Decimal::from(bytes) / Decimal::from(GB)).round_dp(10)
}

fn transfer_row(day: i32, resource_id: &str, out: bool, bytes: u64, free: bool) -> BillRow {
    let usage = gb(bytes);
    let cost = if free { Decimal::ZERO } else { (usage * dec("0.01")).round_dp(10) };
    let net = (cost * Decimal::from(100 - DISCOUNT_PCT) / Decimal::ONE_HUNDRED).round_dp(10);
    BillRow {
        day,
        resource_id: resource_id.into(),
        usage_type: "APN2-DataTransfer-Regional-Bytes".into(),
        operation: if out { "InterZone-Out" } else { "InterZone-In" }.into(),
        product_code: "AmazonEC2",
        usage_amount: usage,
        unit: "GB",
        unblended_cost: cost,
        net_cost: net,
        description: format!("$0.01 per GB - regional data transfer - {} AZ in {REGION}", if out { "out to another" } else { "in from another" }),
        tags: vec![("user:team".into(), "platform".into())],
    }
}

/// The bill's lines for the month and what each resource's inter-AZ lines must reconcile to.
pub fn rows(world: &World, truth: &Truth) -> (Vec<BillRow>, Value) {
    let mut rows = Vec::new();
    let mut expected = Vec::new();
    for ((day, id, out), r) in &truth.resources {
        let alb = id.contains(":loadbalancer/app/");
        if r.billed > 0 {
            rows.push(transfer_row(*day, id, *out, r.billed, false));
        }
        // An ALB's traffic with its targets is free; the bill lists it at $0.
        if alb && r.free > 0 {
            rows.push(transfer_row(*day, id, *out, r.free, true));
        }
        let (billed, measured, free_line) = if alb && r.billed == 0 { (r.free, r.free_measured, true) } else { (r.billed, r.measured, false) };
        if billed > 0 {
            expected.push(json!({"date": crate::model::time::format_date(day_start(*day)), "resource_id": id, "operation": if *out { "InterZone-Out" } else { "InterZone-In" },
                "billed_bytes": billed, "measured_bytes": measured, "free_line": free_line}));
        }
    }
    // Another VPC's instance, billed beside the cluster's.
    for (day, bytes) in &truth.daily_billed {
        let b = bytes * OTHER_VPC_PER_MILLE / 1000;
        for out in [true, false] {
            rows.push(transfer_row(*day, OTHER_VPC_INSTANCE, out, b, false));
            expected.push(json!({"date": crate::model::time::format_date(day_start(*day)), "resource_id": OTHER_VPC_INSTANCE, "operation": if out { "InterZone-Out" } else { "InterZone-In" },
                "billed_bytes": b, "measured_bytes": 0, "free_line": false}));
        }
    }
    // Lines that are not inter-AZ transfer: instance hours, NAT gateway hours and bytes, public IP transfer.
    let days: Vec<i32> = truth.daily_billed.keys().copied().collect();
    for &day in &days {
        let (from, to) = (day_start(day), day_start(day + 1));
        for n in world.nodes.iter().filter(|n| n.alive.0 < to && from < n.alive.1) {
            let hours = Decimal::from((n.alive.1.min(to) - n.alive.0.max(from) + 3599) / 3600);
            let cost = hours * dec("0.118");
            rows.push(BillRow {
                day,
                resource_id: n.instance_id.clone(),
                usage_type: "APN2-BoxUsage:m6i.large".into(),
                operation: "RunInstances".into(),
                product_code: "AmazonEC2",
                usage_amount: hours,
                unit: "Hrs",
                unblended_cost: cost,
                net_cost: cost * dec("0.9"),
                description: "$0.118 per On Demand Linux m6i.large Instance Hour".into(),
                tags: vec![("user:eks:cluster-name".into(), super::world::CLUSTER.into())],
            });
        }
        for e in world.enis.iter().filter(|e| matches!(e.kind, super::world::EniKind::Nat(_))) {
            let super::world::EniKind::Nat(id) = &e.kind else { continue };
            let arn = format!("arn:aws:ec2:{REGION}:{ACCOUNT}:natgateway/{id}");
            for (ut, op, amount, rate) in
                [("APN2-NatGateway-Hours", "NatGateway", dec("24"), dec("0.059")), ("APN2-NatGateway-Bytes", "NatGateway", dec("3.5"), dec("0.059"))]
            {
                rows.push(BillRow {
                    day,
                    resource_id: arn.clone(),
                    usage_type: ut.into(),
                    operation: op.into(),
                    product_code: "AmazonEC2",
                    usage_amount: amount,
                    unit: if ut.ends_with("Hours") { "Hrs" } else { "GB" },
                    unblended_cost: amount * rate,
                    net_cost: amount * rate * dec("0.9"),
                    description: "$0.059 per NAT Gateway Hour".into(),
                    tags: vec![],
                });
            }
        }
        let public = Decimal::from(day.rem_euclid(7) + 1) / Decimal::from(4);
        rows.push(BillRow {
            day,
            resource_id: world.nodes[0].instance_id.clone(),
            usage_type: "APN2-DataTransfer-Regional-Bytes".into(),
            operation: "PublicIP-Out".into(),
            product_code: "AmazonEC2",
            usage_amount: public,
            unit: "GB",
            unblended_cost: public * dec("0.01"),
            net_cost: public * dec("0.009"),
            description: "$0.01 per GB - regional data transfer - out to public IP in the region".into(),
            tags: vec![],
        });
    }
    rows.sort_by(|a, b| (a.day, &a.resource_id, &a.usage_type, &a.operation).cmp(&(b.day, &b.resource_id, &b.usage_type, &b.operation)));
    (rows, Value::Array(expected))
}

fn period(day: i32) -> (i64, i64) {
    let m = crate::model::time::Month::containing(day_start(day)).expect("a month");
    (m.from, m.to)
}

/// Writes CUR 2.0 Parquet: the columns a Data Exports `CUR2.0` table has that crossaz and a
/// reader of the bill care about, plus `padding` more (the bench's 300-column width).
pub fn write_cur2(path: &Path, rows: &[BillRow], padding: usize) -> std::io::Result<()> {
    write_cur2_from(path, rows.iter().cloned(), padding).map(|_| ())
}

/// As [`write_cur2`], from rows made as they are written (the benchmark's 10^7); returns the
/// number of columns written.
pub fn write_cur2_from(path: &Path, rows: impl Iterator<Item = BillRow>, padding: usize) -> std::io::Result<usize> {
    use arrow_array::builder::{Float64Builder, MapBuilder, StringBuilder, TimestampMillisecondBuilder};
    use arrow_array::{Array, ArrayRef, RecordBatch};
    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    use std::sync::Arc;
    let to_io = |e: &dyn std::fmt::Display| std::io::Error::other(e.to_string());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    const TEXT: [&str; 14] = [
        "bill_bill_type",
        "bill_billing_entity",
        "bill_payer_account_id",
        "identity_line_item_id",
        "identity_time_interval",
        "line_item_currency_code",
        "line_item_line_item_description",
        "line_item_line_item_type",
        "line_item_operation",
        "line_item_product_code",
        "line_item_resource_id",
        "line_item_usage_account_id",
        "line_item_usage_type",
        "product_region_code",
    ];
    const NUM: [&str; 3] = ["line_item_net_unblended_cost", "line_item_unblended_cost", "line_item_usage_amount"];
    const TIME: [&str; 4] = ["bill_billing_period_start_date", "bill_billing_period_end_date", "line_item_usage_end_date", "line_item_usage_start_date"];
    let ts = || DataType::Timestamp(TimeUnit::Millisecond, None);
    let mut fields: Vec<Field> = Vec::new();
    fields.extend(TEXT.iter().map(|n| Field::new(*n, DataType::Utf8, true)));
    fields.extend(NUM.iter().map(|n| Field::new(*n, DataType::Float64, true)));
    fields.extend(TIME.iter().map(|n| Field::new(*n, ts(), true)));
    let map_builder = || MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    let map_type = map_builder().finish().data_type().clone();
    fields.push(Field::new("resource_tags", map_type, true));
    fields.extend((0..padding).map(|i| Field::new(format!("product_attribute_{i:03}"), DataType::Utf8, true)));
    let schema = Arc::new(Schema::new(fields));
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .set_max_row_group_row_count(Some(512 * 1024))
        .build();
    let file = std::fs::File::create(path)?;
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| to_io(&e))?;
    let mut rows = rows.peekable();
    let mut c = 0usize;
    while rows.peek().is_some() {
        let chunk: Vec<BillRow> = rows.by_ref().take(256 * 1024).collect();
        c += 1;
        let mut text: Vec<StringBuilder> = TEXT.iter().map(|_| StringBuilder::new()).collect();
        let mut num: Vec<Float64Builder> = NUM.iter().map(|_| Float64Builder::new()).collect();
        let mut time: Vec<TimestampMillisecondBuilder> = TIME.iter().map(|_| TimestampMillisecondBuilder::new()).collect();
        let mut tags = map_builder();
        for (i, r) in chunk.iter().enumerate() {
            let (from, to) = (day_start(r.day), day_start(r.day + 1));
            let (ps, pe) = period(r.day);
            let values = [
                "Anniversary".to_string(),
                "AWS".into(),
                ACCOUNT.into(),
                format!("li-{c:04}-{i:07}"),
                format!("{}/{}", format_time(from), format_time(to)),
                "USD".into(),
                r.description.clone(),
                "Usage".into(),
                r.operation.clone(),
                r.product_code.into(),
                r.resource_id.clone(),
                ACCOUNT.into(),
                r.usage_type.clone(),
                REGION.into(),
            ];
            for (b, v) in text.iter_mut().zip(values) {
                b.append_value(v);
            }
            let f = |d: Decimal| d.to_string().parse::<f64>().unwrap_or(0.0);
            for (b, v) in num.iter_mut().zip([f(r.net_cost), f(r.unblended_cost), f(r.usage_amount)]) {
                b.append_value(v);
            }
            for (b, v) in time.iter_mut().zip([ps, pe, to, from]) {
                b.append_value(v * 1000);
            }
            for (k, v) in &r.tags {
                tags.keys().append_value(k);
                tags.values().append_value(v);
            }
            tags.append(true).map_err(|e| to_io(&e))?;
        }
        // The padding columns hold one value each: one array, shared.
        let pad: ArrayRef = Arc::new(arrow_array::StringArray::from(vec!["n/a"; chunk.len()]));
        let mut cols: Vec<ArrayRef> = Vec::new();
        cols.extend(text.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        cols.extend(num.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        cols.extend(time.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        cols.push(Arc::new(tags.finish()));
        cols.extend((0..padding).map(|_| pad.clone()));
        let batch = RecordBatch::try_new(schema.clone(), cols).map_err(|e| to_io(&e))?;
        w.write(&batch).map_err(|e| to_io(&e))?;
    }
    w.close().map_err(|e| to_io(&e))?;
    Ok(schema.fields().len())
}

/// The columns of AWS's `FOCUS_1_2_AWS` table that this export fills (the usage type is in
/// `SkuMeter`; 1.2 has no `x_UsageType`).
const FOCUS_COLUMNS: [&str; 26] = [
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "EffectiveCost",
    "ListCost",
    "ProviderName",
    "RegionId",
    "ResourceId",
    "ServiceCategory",
    "ServiceName",
    "SkuMeter",
    "SubAccountId",
    "Tags",
    "x_Operation",
    "x_ServiceCode",
];

/// Writes FOCUS 1.2 as gzip'd CSV, as Data Exports does (`NULL` for empty cells).
pub fn write_focus12(path: &Path, rows: &[BillRow]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let gz = flate2::write::GzEncoder::new(std::fs::File::create(path)?, flate2::Compression::default());
    let mut w = csv::Writer::from_writer(gz);
    w.write_record(FOCUS_COLUMNS).map_err(std::io::Error::other)?;
    let focus_time = |t: i64| format_time(t).replace('T', " ").replace('Z', "");
    for r in rows {
        let (from, to) = (day_start(r.day), day_start(r.day + 1));
        let (ps, pe) = period(r.day);
        let tags: serde_json::Map<String, Value> = r.tags.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let record = [
            "NULL".to_string(),
            r.unblended_cost.normalize().to_string(),
            ACCOUNT.into(),
            "USD".into(),
            focus_time(pe),
            focus_time(ps),
            "Usage".into(),
            "NULL".into(),
            r.description.clone(),
            "Usage-Based".into(),
            focus_time(to),
            focus_time(from),
            r.usage_amount.normalize().to_string(),
            r.unit.into(),
            r.net_cost.normalize().to_string(),
            r.unblended_cost.normalize().to_string(),
            "AWS".into(),
            REGION.into(),
            r.resource_id.clone(),
            "Networking".into(),
            "Amazon Elastic Compute Cloud".into(),
            r.usage_type.clone(),
            ACCOUNT.into(),
            Value::Object(tags).to_string(),
            r.operation.clone(),
            r.product_code.into(),
        ];
        w.write_record(&record).map_err(std::io::Error::other)?;
    }
    let gz = w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
    gz.finish()?;
    Ok(())
}

/// The Data Exports layout of one month: `<export>/data/BILLING_PERIOD=YYYY-MM/<export>-00001.<ext>`.
pub fn export_key(export: &str, day: i32, ext: &str) -> String {
    let m = crate::model::time::Month::containing(day_start(day)).expect("a month");
    format!("{export}/data/BILLING_PERIOD={}/{export}-00001.{ext}", m.label)
}

/// Writes both exports under `out` (CUR 2.0 into the workspace's `billing/cur/`, FOCUS 1.2 into
/// `exports/`, so a workspace reads the bill once) and returns the truth of their inter-AZ lines.
pub fn write(out: &Path, world: &World, truth: &Truth) -> std::io::Result<Value> {
    let (rows, expected) = rows(world, truth);
    // One file per billing period, as Data Exports writes them.
    let mut by_month: std::collections::BTreeMap<i64, Vec<BillRow>> = std::collections::BTreeMap::new();
    for r in rows.iter() {
        by_month.entry(period(r.day).0).or_default().push(r.clone());
    }
    for month in by_month.values() {
        let first = month[0].day;
        write_cur2(&out.join("billing").join("cur").join(export_key(CUR_EXPORT, first, "snappy.parquet")), month, 0)?;
        write_focus12(&out.join("exports").join(export_key(FOCUS_EXPORT, first, "csv.gz")), month)?;
    }
    Ok(json!({
        "cur_export": CUR_EXPORT,
        "focus_export": FOCUS_EXPORT,
        "other_vpc_instance": OTHER_VPC_INSTANCE,
        "discount_pct": DISCOUNT_PCT,
        "rows": rows.len(),
        "inter_az": expected,
    }))
}
