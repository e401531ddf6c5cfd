//! CUR 2.0, legacy CUR and FOCUS exports (arrow-rs for Parquet, csv for CSV): the inter-AZ rows per day, resource
//! and direction, summed exactly; everything else left out and counted; missing columns named.

use crate::util::{repo, tempdir};
use crossaz::sources::billing_export::{ExportKind, read};
use rust_decimal::Decimal;
use std::sync::Arc;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// FOCUS 1.0 sample data (FinOps Foundation, CC BY 4.0): no `x_UsageType`, so the 58 inter-AZ rows
/// are found by their description. Expected sums from Python's `decimal` over the same CSV.
#[test]
fn the_focus_sample_loads() {
    let r = read(&repo().join("fixtures/corpora/focus/focus_sample.csv")).expect("the FOCUS sample reads");
    assert_eq!(r.kind, ExportKind::Focus10);
    assert_eq!((r.rows, r.transfer_rows, r.regional_other_rows), (1000, 58, 0));
    assert_eq!(r.charges.len(), 58);
    let gb: Decimal = r.charges.iter().map(|c| c.usage_gb).sum();
    let usd: Decimal = r.charges.iter().map(|c| c.cost_usd).sum();
    assert_eq!((gb, usd), (d("0.6809419853"), d("0.0068094198")));
    assert!(r.charges.iter().all(|c| c.effective_usd == Some(Decimal::ZERO) && c.operation.is_none() && c.resource_id.is_some()));
    let top = r.charges.iter().filter(|c| c.resource_id.as_deref() == Some("i-0efal260ffle3e9e4")).map(|c| c.usage_gb).sum::<Decimal>();
    assert_eq!(top, d("0.2528405655"));
    assert!(r.notes.iter().any(|n| n.contains("no `x_UsageType` column") && n.contains("direction (in or out) is unknown")), "{:?}", r.notes);
}

/// A CUR 2.0 file as Data Exports writes it (Parquet, snake_case columns).
fn cur2(path: &std::path::Path, with_cost: bool) {
    use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    let day = |d: i64| 1_790_812_800_000 + d * 86_400_000;
    let rows: Vec<(&str, &str, &str, f64, f64, f64, i64)> = vec![
        ("APN2-DataTransfer-Regional-Bytes", "InterZone-Out", "i-0aaa", 1.5, 0.015, 0.0135, day(0)),
        ("APN2-DataTransfer-Regional-Bytes", "InterZone-Out", "i-0aaa", 0.25, 0.0025, 0.00225, day(0)),
        ("APN2-DataTransfer-Regional-Bytes", "InterZone-In", "i-0aaa", 2.0, 0.02, 0.018, day(0)),
        ("APN2-DataTransfer-Regional-Bytes", "InterZone-In", "nat-0bbb", 0.1, 0.001, 0.0009, day(1)),
        ("APN2-DataTransfer-xAZ-In-Bytes", "Aurora:ProvisionedStorage", "arn:aws:rds:ap-northeast-2:1:cluster:db", 3.0, 0.03, 0.027, day(1)),
        ("APN2-DataTransfer-Regional-Bytes", "PublicIP-Out", "i-0aaa", 9.0, 0.09, 0.081, day(1)),
        ("APN2-BoxUsage:m6g.large", "RunInstances", "i-0aaa", 24.0, 2.0, 1.8, day(0)),
    ];
    let mut fields = vec![
        Field::new("line_item_usage_type", DataType::Utf8, true),
        Field::new("line_item_operation", DataType::Utf8, true),
        Field::new("line_item_resource_id", DataType::Utf8, true),
        Field::new("line_item_usage_amount", DataType::Float64, true),
    ];
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())),
        Arc::new(StringArray::from(rows.iter().map(|r| r.1).collect::<Vec<_>>())),
        Arc::new(StringArray::from(rows.iter().map(|r| r.2).collect::<Vec<_>>())),
        Arc::new(Float64Array::from(rows.iter().map(|r| r.3).collect::<Vec<_>>())),
    ];
    if with_cost {
        fields.push(Field::new("line_item_unblended_cost", DataType::Float64, true));
        cols.push(Arc::new(Float64Array::from(rows.iter().map(|r| r.4).collect::<Vec<_>>())));
    }
    fields.push(Field::new("line_item_net_unblended_cost", DataType::Float64, true));
    cols.push(Arc::new(Float64Array::from(rows.iter().map(|r| r.5).collect::<Vec<_>>())));
    fields.push(Field::new("line_item_usage_start_date", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), true));
    cols.push(Arc::new(TimestampMillisecondArray::from(rows.iter().map(|r| r.6).collect::<Vec<_>>()).with_timezone("UTC")));
    fields.push(Field::new("line_item_usage_account_id", DataType::Utf8, true));
    cols.push(Arc::new(StringArray::from(vec!["123456789012"; rows.len()])));
    fields.push(Field::new("product_region_code", DataType::Utf8, true));
    cols.push(Arc::new(StringArray::from(vec!["ap-northeast-2"; rows.len()])));
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn cur2_parquet_gives_each_resource_its_inter_az_in_and_out() {
    let dir = tempdir();
    let path = dir.path().join("cur2.parquet");
    cur2(&path, true);
    let r = read(&path).expect("the CUR 2.0 file reads");
    assert_eq!(r.kind, ExportKind::Cur2);
    assert_eq!((r.rows, r.transfer_rows, r.regional_other_rows), (7, 6, 1), "BoxUsage is not transfer; PublicIP-Out is regional but not inter-AZ");
    type Row = (String, Option<String>, Option<String>, Decimal, Decimal, Option<Decimal>, u64);
    let got: Vec<Row> =
        r.charges.iter().map(|c| (c.date.clone(), c.resource_id.clone(), c.operation.clone(), c.usage_gb, c.cost_usd, c.effective_usd, c.rows)).collect();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        got,
        vec![
            ("2026-10-01".into(), s("i-0aaa"), s("InterZone-In"), d("2"), d("0.02"), Some(d("0.018")), 1),
            ("2026-10-01".into(), s("i-0aaa"), s("InterZone-Out"), d("1.75"), d("0.0175"), Some(d("0.01575")), 2),
            ("2026-10-02".into(), s("arn:aws:rds:ap-northeast-2:1:cluster:db"), s("InterZone-In"), d("3"), d("0.03"), Some(d("0.027")), 1),
            ("2026-10-02".into(), s("nat-0bbb"), s("InterZone-In"), d("0.1"), d("0.001"), Some(d("0.0009")), 1),
        ]
    );
    assert!(r.charges.iter().all(|c| c.account == "123456789012" && c.region == "ap-northeast-2"));
    // Parquet floats become their shortest decimal, whole ones with `.0`: reports print `2.0`, as always.
    assert_eq!((r.charges[0].usage_gb.to_string(), r.charges[1].usage_gb.to_string()), ("2.0".to_string(), "1.75".to_string()));
}

#[test]
fn a_missing_column_is_named_with_the_export_it_expected() {
    let dir = tempdir();
    let path = dir.path().join("cur2.parquet");
    cur2(&path, false);
    let e = read(&path).unwrap_err();
    assert!(e.what.contains("the CUR 2.0 export lacks the column `line_item_unblended_cost`"), "{}", e.what);
    assert_eq!(e.path, path);
    let other = dir.path().join("other.csv");
    std::fs::write(&other, "a,b\n1,2\n").unwrap();
    let e = read(&other).unwrap_err();
    assert!(e.what.contains("not a CUR 2.0, legacy CUR or FOCUS export"), "{}", e.what);
}

/// The legacy CUR as CSV inside gzip, as its S3 delivery writes it.
#[test]
fn legacy_cur_csv_gz_reads_the_same_fields() {
    use std::io::Write;
    let dir = tempdir();
    let path = dir.path().join("cur-00001.csv.gz");
    let text = "identity/LineItemId,lineItem/UsageStartDate,lineItem/UsageAccountId,lineItem/UsageType,lineItem/Operation,lineItem/ResourceId,lineItem/UsageAmount,lineItem/UnblendedCost,lineItem/NetUnblendedCost,product/region,resourceTags/user:team\n\
                a,2026-10-01T00:00:00Z,123456789012,APN2-DataTransfer-Regional-Bytes,InterZone-Out,i-0aaa,0.5,0.005,,ap-northeast-2,payments\n\
                b,2026-10-01T01:00:00Z,123456789012,APN2-DataTransfer-Regional-Bytes,InterZone-Out,i-0aaa,0.25,0.0025,,ap-northeast-2,\n\
                c,2026-10-01T01:00:00Z,123456789012,APN2-BoxUsage:m6g.large,RunInstances,i-0aaa,1,0.1,,ap-northeast-2,\n";
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap();
    let r = read(&path).expect("the legacy CUR reads");
    assert_eq!(r.kind, ExportKind::LegacyCur);
    assert_eq!((r.rows, r.transfer_rows), (3, 2));
    assert_eq!(r.charges.len(), 1);
    let c = &r.charges[0];
    assert_eq!(
        (c.date.as_str(), c.usage_gb, c.cost_usd, c.effective_usd, c.operation.as_deref()),
        ("2026-10-01", d("0.75"), d("0.0075"), None, Some("InterZone-Out"))
    );
    assert_eq!(c.tags, std::collections::BTreeMap::from([("user:team".to_string(), "payments".to_string())]));
}

/// Bad files: each named with what was expected, and the CLI exits 1 naming the file.
#[test]
fn truncated_renamed_and_non_numeric_exports_are_named() {
    let dir = tempdir();
    // A Parquet file cut short (an interrupted download).
    let src =
        std::fs::read_dir(crate::util::demo_dir().join("billing/cur/crossaz-demo-cur/data/BILLING_PERIOD=2026-10")).unwrap().next().unwrap().unwrap().path();
    let bytes = std::fs::read(&src).unwrap();
    let cut = dir.path().join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = read(&cut).unwrap_err();
    assert_eq!(e.path, cut);
    assert!(e.what.contains("cannot read"), "{}", e.what);
    // A renamed column (schema drift): the one it most likely became is named.
    let drift = dir.path().join("drift.csv");
    std::fs::write(&drift, "line_item_usage_type,line_item_operation,line_item_usage_start_date,line_item_usage_amt,line_item_unblended_cost\nAPN2-DataTransfer-Regional-Bytes,InterZone-In,2026-10-01,1,0.01\n").unwrap();
    let e = read(&drift).unwrap_err();
    assert!(e.what.contains("lacks the column `line_item_usage_amount` (the file has `line_item_usage_amt`: renamed?)"), "{}", e.what);
    // A string where a number belongs: its column and line.
    let text = dir.path().join("text.csv");
    std::fs::write(
        &text,
        "line_item_usage_type,line_item_operation,line_item_usage_start_date,line_item_usage_amount,line_item_unblended_cost\n\
         APN2-BoxUsage:m6g.large,RunInstances,2026-10-01,n/a,0.1\n\
         APN2-DataTransfer-Regional-Bytes,InterZone-In,2026-10-01,1.5,0.015\n\
         APN2-DataTransfer-Regional-Bytes,InterZone-Out,2026-10-01,lots,0.01\n",
    )
    .unwrap();
    let e = read(&text).unwrap_err();
    assert_eq!(e.line, Some(4), "{}", e.what);
    assert!(e.what.contains("`line_item_usage_amount` is `lots`: expected a number"), "{}", e.what);
    // Through the CLI: the rest is reported, the bad file is named, exit 1.
    let demo = crate::util::demo_dir();
    let run = crate::util::crossaz(
        &[
            "reconcile",
            "--flow-logs",
            demo.join("flow-logs").to_str().unwrap(),
            "--network",
            demo.join("network").to_str().unwrap(),
            "--k8s",
            demo.join("k8s").to_str().unwrap(),
            "--cur",
            src.to_str().unwrap(),
            cut.to_str().unwrap(),
            "--by",
            "resource",
            "--format",
            "csv",
        ],
        dir.path(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("cut.parquet"), "{}", run.stderr);
    assert!(run.stdout.starts_with("resource_id,operation,billed_gb"), "{}", run.stdout);
}

/// A file that mixes two exports' columns is read by its type, and the stranger column is named.
#[test]
fn a_column_of_another_export_type_is_named() {
    let dir = tempdir();
    let path = dir.path().join("mixed.csv");
    std::fs::write(
        &path,
        "line_item_usage_type,line_item_operation,line_item_usage_start_date,line_item_usage_amount,line_item_unblended_cost,BilledCost\n\
         APN2-DataTransfer-Regional-Bytes,InterZone-In,2026-10-01,1.5,0.015,9\n",
    )
    .unwrap();
    let r = read(&path).unwrap();
    assert_eq!(r.kind, ExportKind::Cur2);
    assert_eq!(r.charges[0].cost_usd, d("0.015"));
    assert!(r.notes.iter().any(|n| n.contains("is a CUR 2.0 export by its columns, yet has `BilledCost`, a FOCUS 1.0 column")), "{:?}", r.notes);
}

/// Discounts and credits on the inter-AZ usage type are not usage: left out and counted in a note.
#[test]
fn discount_and_credit_lines_are_not_usage() {
    let dir = tempdir();
    let path = dir.path().join("cur.csv");
    std::fs::write(
        &path,
        "line_item_line_item_type,line_item_usage_type,line_item_operation,line_item_resource_id,line_item_usage_start_date,line_item_usage_amount,line_item_unblended_cost,line_item_net_unblended_cost\n\
         Usage,APN2-DataTransfer-Regional-Bytes,InterZone-In,i-0aaa,2026-10-01,2,0.02,0.018\n\
         EdpDiscount,APN2-DataTransfer-Regional-Bytes,InterZone-In,i-0aaa,2026-10-01,0,-0.002,0\n\
         Credit,APN2-DataTransfer-Regional-Bytes,InterZone-Out,i-0aaa,2026-10-01,0,-0.01,-0.01\n\
         DiscountedUsage,APN2-DataTransfer-Regional-Bytes,InterZone-Out,i-0aaa,2026-10-01,1,0.01,0.009\n",
    )
    .unwrap();
    let r = read(&path).unwrap();
    let by_op: Vec<(Option<&str>, Decimal, Decimal)> = r.charges.iter().map(|c| (c.operation.as_deref(), c.usage_gb, c.cost_usd)).collect();
    assert_eq!(by_op, vec![(Some("InterZone-In"), d("2"), d("0.02")), (Some("InterZone-Out"), d("1"), d("0.01"))]);
    assert!(r.notes.iter().any(|n| n.contains("2 rows of regional transfer usage types are Credit, EdpDiscount lines")), "{:?}", r.notes);
}

/// The same CUR 2.0 rows as Parquet (three row groups, read in parallel, tags a map) and as CSV
/// (tags as JSON text) give the same charges; a later row's tag wins in both.
#[test]
fn parquet_row_groups_and_csv_of_the_same_rows_agree() {
    use arrow_array::builder::{MapBuilder, StringBuilder};
    use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    let dir = tempdir();
    // (usage type, operation, resource, GB, cost, start, team tag)
    type Row<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, &'a str, Option<&'a str>);
    let rows: Vec<Row> = vec![
        ("USE1-DataTransfer-Regional-Bytes", "InterZone-Out", "i-1", "0.1", "0.001", "2026-10-01", Some("a")),
        ("USE1-BoxUsage:m5.large", "RunInstances", "i-1", "24", "2.3", "2026-10-01", Some("a")),
        ("USE1-DataTransfer-Regional-Bytes", "InterZone-Out", "i-1", "0.2", "0.002", "2026-10-01", None),
        ("USE1-DataTransfer-Regional-Bytes", "InterZone-In", "i-2", "1E-7", "1E-9", "2026-10-02", Some("b")),
        ("USE1-DataTransfer-Regional-Bytes", "InterZone-Out", "i-1", "0.3", "0.003", "2026-10-01", Some("c")),
        ("USE1-DataTransfer-Regional-Bytes", "PublicIP-Out", "i-2", "5", "0.05", "2026-10-02", None),
        ("USE1-DataTransfer-xAZ-Out-Bytes", "Aurora:IO", "db-1", "0.7", "0.007", "2026-10-02", None),
    ];
    let names = [
        "line_item_usage_type",
        "line_item_operation",
        "line_item_resource_id",
        "line_item_usage_amount",
        "line_item_unblended_cost",
        "line_item_usage_start_date",
    ];
    let text = |k: usize| -> ArrayRef { Arc::new(StringArray::from(rows.iter().map(|r| [r.0, r.1, r.2, r.3, r.4, r.5][k]).collect::<Vec<_>>())) };
    let number = |k: usize| -> ArrayRef { Arc::new(Float64Array::from(rows.iter().map(|r| [r.3, r.4][k].parse::<f64>().unwrap()).collect::<Vec<_>>())) };
    let mut tags = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for r in &rows {
        if let Some(t) = r.6 {
            tags.keys().append_value("user:team");
            tags.values().append_value(t);
        }
        tags.append(true).unwrap();
    }
    let tags: ArrayRef = Arc::new(tags.finish());
    let mut fields: Vec<Field> =
        names.iter().enumerate().map(|(i, n)| Field::new(*n, if i == 3 || i == 4 { DataType::Float64 } else { DataType::Utf8 }, true)).collect();
    fields.push(Field::new("resource_tags", tags.data_type().clone(), true));
    let columns = vec![text(0), text(1), text(2), number(0), number(1), text(5), tags];
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let parquet = dir.path().join("cur2.parquet");
    let props = parquet::file::properties::WriterProperties::builder().set_max_row_group_row_count(Some(3)).build();
    let mut w = parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&parquet).unwrap(), batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    assert_eq!(w.close().unwrap().num_row_groups(), 3);
    let csv = dir.path().join("cur2.csv");
    let mut lines = vec![format!("{},resource_tags", names.join(","))];
    for r in &rows {
        let tag = r.6.map(|t| format!("\"{{\"\"user:team\"\":\"\"{t}\"\"}}\"")).unwrap_or_default();
        lines.push(format!("{},{},{},{},{},{}T00:00:00Z,{tag}", r.0, r.1, r.2, r.3, r.4, r.5));
    }
    std::fs::write(&csv, lines.join("\n") + "\n").unwrap();
    let summary = |path: &std::path::Path| {
        let r = read(path).unwrap();
        let charges: Vec<_> = r
            .charges
            .iter()
            .map(|c| {
                (c.date.clone(), c.resource_id.clone().unwrap(), c.operation.clone().unwrap(), c.usage_gb, c.cost_usd, c.rows, c.tags.get("user:team").cloned())
            })
            .collect();
        (r.rows, r.transfer_rows, r.regional_other_rows, r.columns_read, charges)
    };
    let from_parquet = summary(&parquet);
    assert_eq!(from_parquet, summary(&csv));
    let c = |date: &str, res: &str, op: &str, gb: &str, usd: &str, n: u64, tag: Option<&str>| {
        (date.to_string(), res.to_string(), op.to_string(), d(gb), d(usd), n, tag.map(str::to_string))
    };
    assert_eq!(
        from_parquet,
        (
            7,
            6,
            1,
            7,
            vec![
                c("2026-10-01", "i-1", "InterZone-Out", "0.6", "0.006", 3, Some("c")),
                c("2026-10-02", "db-1", "InterZone-Out", "0.7", "0.007", 1, None),
                c("2026-10-02", "i-2", "InterZone-In", "0.0000001", "0.000000001", 1, Some("b")),
            ]
        )
    );
}

/// Compressions AWS does not write for these exports, and a ragged CSV line, are named.
#[test]
fn zstd_zip_and_ragged_csv_are_named_with_what_to_do() {
    let dir = tempdir();
    for (name, magic, what, how) in [
        ("cur.csv.zst", &[0x28u8, 0xb5, 0x2f, 0xfd, 0][..], "is zstd-compressed", "zstd -d"),
        ("cur-00001.csv.zip", &b"PK\x03\x04rest"[..], "is a ZIP archive", "unzip it"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, magic).unwrap();
        assert!(crossaz::sources::billing_export::is_export_file(&path), "{name} is looked at, not passed over");
        let e = read(&path).unwrap_err();
        assert_eq!(e.path, path);
        assert!(e.what.contains(what), "{}", e.what);
        assert!(e.hint.as_deref().is_some_and(|h| h.contains(how)), "{:?}", e.hint);
    }
    let ragged = dir.path().join("ragged.csv");
    std::fs::write(
        &ragged,
        "line_item_usage_type,line_item_operation,line_item_usage_start_date,line_item_usage_amount,line_item_unblended_cost\n\
         APN2-DataTransfer-Regional-Bytes,InterZone-In,2026-10-01,1.5,0.015\n\
         APN2-DataTransfer-Regional-Bytes,InterZone-In,2026-10-01,1.5\n",
    )
    .unwrap();
    let e = read(&ragged).unwrap_err();
    assert_eq!(e.line, Some(3), "{}", e.what);
    assert!(e.what.contains("cannot read the CUR 2.0 export's rows"), "{}", e.what);
}
