//! Reconciliation with the bill: the demo month's Cost Explorer data against its ground truth.

use crate::util::*;
use crossaz::pricing::GB;
use rust_decimal::Decimal;
use std::str::FromStr;

fn demo_with_bill() -> crossaz::pipeline::Inputs {
    let d = demo_dir();
    let mut i = inputs_of(&d);
    i.billing = vec![d.join("billing")];
    i
}

#[test]
fn the_demo_bill_is_explained_day_by_day() {
    let report = attribute(&demo_with_bill()).report;
    let rec = report.reconciliation.as_ref().expect("a reconciliation");
    let t = truth(&demo_dir());
    let daily = t["billing"]["daily_billed_bytes"].as_object().unwrap();
    assert_eq!(rec.days.len(), 31);
    for d in &rec.days {
        assert_eq!(d.explained_bytes, daily[&d.date].as_u64().unwrap(), "{}", d.date);
        // Billed out = billed in = explained × (1 + the share from elsewhere), as generated.
        let share = Decimal::from_str(t["billing"]["unexplained_share"].as_str().unwrap()).unwrap();
        let billed = (Decimal::from(d.explained_bytes) / Decimal::from(GB) * (Decimal::ONE + share)).round_dp(10);
        assert_eq!(d.billed_out_gb, billed, "{}", d.date);
        assert_eq!(d.billed_in_gb, billed, "{}", d.date);
        assert_eq!(d.coverage_pct, Some(Decimal::from_str("95.69").unwrap()), "{}", d.date);
    }
    assert_eq!(rec.total.explained_bytes, report.measurement.summary.bytes.cross_az_billed);
    assert_eq!(rec.effective_out_per_gb_usd, Some(Decimal::from_str("0.01").unwrap()));
    assert!(rec.unexplained_gb > Decimal::ZERO);
    assert!(rec.likely_reasons.iter().any(|r| r.contains("public or Elastic IP traffic")));
}

#[test]
fn price_from_bill_uses_the_bills_discounted_rate() {
    // The same bill at a negotiated 20 % off: $0.008/GB each way.
    let dir = tempdir();
    let text = std::fs::read_to_string(demo_dir().join("billing/cost-explorer.json")).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    for r in doc["ResultsByTime"].as_array_mut().unwrap() {
        for g in r["Groups"].as_array_mut().unwrap() {
            let usage = Decimal::from_str(g["Metrics"]["UsageQuantity"]["Amount"].as_str().unwrap()).unwrap();
            if g["Keys"][0] == "APN2-DataTransfer-Regional-Bytes" {
                g["Metrics"]["UnblendedCost"]["Amount"] = serde_json::json!((usage * Decimal::from_str("0.008").unwrap()).to_string());
            }
        }
    }
    std::fs::write(dir.path().join("ce.json"), doc.to_string()).unwrap();
    let mut inputs = inputs_of(&demo_dir());
    inputs.billing = vec![dir.path().join("ce.json")];
    inputs.price_from_bill = true;
    let report = attribute(&inputs).report;
    assert_eq!(report.measurement.pricing.out_per_gb_usd, Decimal::from_str("0.008").unwrap());
    assert_eq!(report.measurement.pricing.in_per_gb_usd, Decimal::from_str("0.008").unwrap());
    // Each Service's dollars are its billed bytes at the bill's rate; together, what the bill charges for them.
    let expected = crossaz::pricing::round_usd(crossaz::pricing::cost(report.measurement.summary.bytes.cross_az_billed, Decimal::from_str("0.016").unwrap()));
    assert_eq!(report.measurement.summary.cross_az_cost_usd, expected);
    let rec = report.reconciliation.unwrap();
    assert_eq!(rec.total.explained_usd, expected);
    assert!(report.measurement.pricing.source.starts_with("the bill's effective rate: $0.008 out + $0.008 in per GB"));
}

#[test]
fn reconcile_command_prints_the_days() {
    let run = crossaz(
        &[
            "reconcile",
            "--flow-logs",
            "fixtures/demo/flow-logs",
            "--network",
            "fixtures/demo/network",
            "--k8s",
            "fixtures/demo/k8s",
            "--billing",
            "fixtures/demo/billing",
            "--format",
            "csv",
        ],
        &repo(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "date,billed_out_gb,billed_out_usd,billed_in_gb,billed_in_usd,explained_bytes,explained_gb,explained_usd,coverage_pct");
    assert_eq!(lines.len(), 1 + 31 + 1);
    assert!(lines[32].starts_with("total,"));
    let run = crossaz(&["reconcile", "--flow-logs", "fixtures/demo/flow-logs"], &repo());
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no billing data to reconcile with"), "{}", run.stderr);
}

#[test]
fn cost_explorer_corpus_files() {
    // The AWS CLI's own example is grouped by SERVICE and a tag: read, but nothing to reconcile.
    let f = crossaz::sources::billing::load_file(&corpus("cost-explorer/aws-cli-example/get-cost-and-usage_s3_by_service_and_tag.json")).unwrap();
    assert!(f.not_by_usage_type);
    let f = crossaz::sources::billing::load_file(&corpus("cost-explorer/platsec-aws-scanner/get_cost_and_usage_region_service_2periods.json")).unwrap();
    assert!(f.not_by_usage_type);
    let err = crossaz::sources::billing::load_file(&corpus("cost-explorer/aws-cli-example/request.json")).unwrap_err();
    assert!(err.what.contains("no `ResultsByTime`"), "{err}");
}
