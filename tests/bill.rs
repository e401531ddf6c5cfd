//! The bill per resource: the demo's CUR 2.0 and FOCUS 1.2 exports reconciled resource by
//! resource, day by day, against the generator's truth; the allocation sums to the bill.

use crate::util::*;
use crossaz::generate::{Options, Unlogged};
use crossaz::pricing::GB;
use crossaz::reconcile::by_resource::ResourceReconciled;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn gb(bytes: u64) -> Decimal {
    (Decimal::from(bytes) / Decimal::from(GB)).round_dp(10)
}

/// The generator's inter-AZ lines: (date, billed id, operation) → (billed bytes, measured bytes, free line?).
fn truth_lines(t: &Value) -> BTreeMap<(String, String, String), (u64, u64, bool)> {
    t["bill"]["inter_az"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let s = |k: &str| l[k].as_str().unwrap().to_string();
            (
                (s("date"), s("resource_id"), s("operation")),
                (l["billed_bytes"].as_u64().unwrap(), l["measured_bytes"].as_u64().unwrap(), l["free_line"].as_bool().unwrap()),
            )
        })
        .collect()
}

fn with_export(dir: &std::path::Path, export: &str) -> crossaz::pipeline::Inputs {
    let mut i = inputs_of(dir);
    i.cur = vec![dir.join(export)];
    i
}

/// Every row against the truth: billed GB as written, measured bytes exactly, coverage by its formula.
fn check_rows(rows: &[ResourceReconciled], t: &Value, effective: bool) {
    let lines = truth_lines(t);
    assert_eq!(rows.len(), lines.len(), "one row per billed resource, day and direction, and nothing measured off the bill");
    for r in rows {
        let key = (r.date.clone().unwrap(), r.resource_id.clone(), r.operation.clone());
        let (billed, measured, free) = lines.get(&key).unwrap_or_else(|| panic!("{key:?} is not in the truth"));
        assert_eq!(r.billed_gb, gb(*billed), "{key:?}");
        assert_eq!(r.measured_bytes, *measured, "{key:?}");
        let usd = if *free { Decimal::ZERO } else { (gb(*billed) * d("0.01")).round_dp(10) };
        assert_eq!(r.billed_usd, usd, "{key:?}");
        if effective {
            assert_eq!(r.effective_usd, Some((usd * d("0.9")).round_dp(10)), "{key:?}");
        }
        // The resource's tags as the bill carries them (a map in CUR 2.0, JSON in FOCUS).
        assert_eq!(r.tags, BTreeMap::from([("user:team".to_string(), "platform".to_string())]), "{key:?}");
        let coverage = (Decimal::from(*measured) * Decimal::ONE_HUNDRED / (gb(*billed) * Decimal::from(GB))).round_dp(2);
        assert_eq!(r.coverage_pct, Some(coverage), "{key:?}");
        let other = r.resource_id == t["bill"]["other_vpc_instance"].as_str().unwrap();
        match r.likely_cause.as_deref() {
            Some(c) if other => assert!(c.starts_with("not in the network inventory"), "{c}"),
            Some(c) if *free => assert!(c.starts_with("billed at $0") && c.contains("ALB"), "{c}"),
            Some(c) => panic!("{key:?}: unexpected cause `{c}`"),
            None => assert!(!other && !free && coverage == Decimal::ONE_HUNDRED, "{key:?}"),
        }
    }
}

#[test]
fn the_demo_cur_reconciles_each_resource_day_by_day_with_the_truth() {
    let demo = demo_dir();
    let out = attribute(&with_export(&demo, "billing/cur"));
    let rec = out.report.reconciliation.as_ref().expect("a reconciliation");
    let t = truth(&demo);
    check_rows(&rec.by_resource_day, &t, true);
    // Every kind of resource the bill names is there.
    let kinds: std::collections::BTreeSet<&str> = rec.by_resource_day.iter().map(|r| r.resource_kind.as_str()).collect();
    assert_eq!(kinds, ["ec2", "eks", "elb", "nat", "rds"].into_iter().collect());
    // The window's rows are the days' sums.
    for r in &rec.by_resource {
        let days: Vec<&ResourceReconciled> = rec.by_resource_day.iter().filter(|x| x.resource_id == r.resource_id && x.operation == r.operation).collect();
        assert_eq!(r.billed_gb, days.iter().map(|x| x.billed_gb).sum::<Decimal>());
        assert_eq!(r.measured_bytes, days.iter().map(|x| x.measured_bytes).sum::<u64>());
    }
    // Without Cost Explorer, the account-level view comes from the export, at its net (discounted) cost.
    assert_eq!(rec.effective_out_per_gb_usd, Some(d("0.009")));
    assert_eq!(rec.days.len(), 31);
}

#[test]
fn the_focus_12_month_gives_the_same_reconciliation() {
    let demo = demo_dir();
    let cur = attribute(&with_export(&demo, "billing/cur")).report.reconciliation.unwrap();
    let focus = attribute(&with_export(&demo, "exports")).report.reconciliation.unwrap();
    check_rows(&focus.by_resource_day, &truth(&demo), true);
    assert_eq!(cur.by_resource_day, focus.by_resource_day);
    assert_eq!(cur.by_resource, focus.by_resource);
}

#[test]
fn an_unlogged_nat_gateway_is_named_as_the_gap() {
    let dir = generated(Options { unlogged: vec![Unlogged::Nat], ..short(3) });
    let out = attribute(&with_export(dir.path(), "billing/cur"));
    let rec = out.report.reconciliation.unwrap();
    let t = truth(dir.path());
    let lines = truth_lines(&t);
    let nat: Vec<&ResourceReconciled> = rec.by_resource.iter().filter(|r| r.resource_kind == "nat").collect();
    assert!(!nat.is_empty());
    for r in nat {
        let billed: u64 = lines.iter().filter(|((_, id, op), _)| *id == r.resource_id && *op == r.operation).map(|(_, v)| v.0).sum();
        assert!(billed > 0);
        assert_eq!(r.measured_bytes, 0);
        assert_eq!(r.coverage_pct, Some(Decimal::ZERO));
        assert!(r.likely_cause.as_deref().unwrap().starts_with("none of its 1 interfaces has flow-log records"), "{:?}", r.likely_cause);
    }
    // The instances that sent through it are partly explained, each by its measured bytes exactly.
    for r in rec.by_resource_day.iter().filter(|r| r.resource_kind == "ec2") {
        let key = (r.date.clone().unwrap(), r.resource_id.clone(), r.operation.clone());
        assert_eq!(r.measured_bytes, lines[&key].1, "{key:?}");
    }
}

#[test]
fn the_allocation_sums_to_the_bill_to_the_cent() {
    let demo = demo_dir();
    let mut inputs = with_export(&demo, "billing/cur");
    inputs.allocate_bill = true;
    let report = attribute(&inputs).report;
    let a = report.allocation.as_ref().expect("an allocation");
    let t = truth(&demo);
    let lines = truth_lines(&t);
    let billed: Decimal = lines.values().filter(|(_, _, free)| !free).map(|(b, _, _)| (gb(*b) * d("0.01")).round_dp(10)).sum();
    assert_eq!(a.billed_usd, billed);
    assert_eq!(a.allocated_usd, billed, "the rows sum to the bill exactly");
    // Per line: the rows on it sum to its cost, split by measured bytes.
    let mut per_line: BTreeMap<(String, String, String), (Decimal, u64)> = BTreeMap::new();
    for r in &a.rows {
        let e = per_line.entry((r.date.clone(), r.resource_id.clone(), r.operation.clone())).or_default();
        e.0 += r.allocated_usd;
        e.1 += r.measured_bytes;
    }
    let charged = lines.iter().filter(|(_, (_, _, free))| !free).count();
    assert_eq!(per_line.len(), charged, "every charged line is allocated, lines at $0 are not");
    for ((date, id, op), (usd, bytes)) in &per_line {
        let (b, m, _) = lines[&(date.clone(), id.clone(), op.clone())];
        let cost = (gb(b) * d("0.01")).round_dp(10);
        assert_eq!(*usd, cost, "{date} {id} {op}");
        assert_eq!(*bytes, m, "{date} {id} {op}");
    }
    // What no byte explains: the other VPC's instance.
    let other = t["bill"]["other_vpc_instance"].as_str().unwrap();
    let unexplained: Decimal = lines.iter().filter(|((_, id, _), _)| id == other).map(|(_, (b, _, _))| (gb(*b) * d("0.01")).round_dp(10)).sum();
    assert_eq!(a.unallocated_usd, unexplained);
    assert!(a.rows.iter().filter(|r| r.unallocated_reason.is_some()).all(|r| r.resource_id == other));
    // The Service view's allocated column and the unallocated row sum to the bill (to the cent).
    let view = crossaz::report::views::view(&report, crossaz::report::views::By::Service);
    let col = view.columns.iter().position(|c| c.name == "allocated_usd").expect("an allocated column");
    let sum: Decimal = view.rows.iter().map(|r| if let crossaz::report::views::Cell::Dec(x) = &r[col] { *x } else { Decimal::ZERO }).sum();
    assert!((sum - billed.round_dp(2)).abs() <= d("0.01") * Decimal::from(view.rows.len() as u64) / Decimal::TWO, "{sum} vs {billed}");
    // An instance's pods share its line: a pod's allocation is its bytes' share of it.
    let line = a.rows.iter().find(|r| r.resource_id.starts_with("i-") && r.unallocated_reason.is_none()).unwrap();
    let (b, m, _) = lines[&(line.date.clone(), line.resource_id.clone(), line.operation.clone())];
    let expected = ((gb(b) * d("0.01")).round_dp(10) * Decimal::from(line.measured_bytes) / Decimal::from(m)).round_dp(10);
    assert!((line.allocated_usd - expected).abs() <= d("0.0000000100"), "{} vs {expected}", line.allocated_usd);
}

#[test]
fn focus_output_has_focus_columns_and_sums_to_the_bill() {
    let demo = demo_dir();
    let dir = tempdir();
    let out = dir.path().join("alloc.csv");
    let ws = demo.to_str().unwrap();
    let run = crossaz(&["attribute", "--workspace", ws, "--format", "focus", "--output", out.to_str().unwrap()], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut rdr = csv::Reader::from_path(&out).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    for c in [
        "ChargePeriodStart",
        "ChargePeriodEnd",
        "BilledCost",
        "EffectiveCost",
        "ResourceId",
        "ServiceName",
        "SkuMeter",
        "Tags",
        "x_Client",
        "x_Server",
        "x_ClientAzId",
    ] {
        assert!(header.iter().any(|h| h == c), "{c} missing from {header:?}");
    }
    let idx = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (mut billed, mut effective) = (Decimal::ZERO, Decimal::ZERO);
    let mut tagged = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        billed += d(&rec[idx("BilledCost")]);
        effective += d(&rec[idx("EffectiveCost")]);
        let tags: Value = serde_json::from_str(&rec[idx("Tags")]).unwrap();
        tagged += usize::from(tags.get("k8s-service").is_some());
        assert_eq!(tags["user:team"], "platform", "the bill's tags come first");
        assert!(rec[idx("ChargePeriodStart")].ends_with("T00:00:00Z"));
    }
    let lines = truth_lines(&truth(&demo));
    let bill: Decimal = lines.values().filter(|(_, _, free)| !free).map(|(b, _, _)| (gb(*b) * d("0.01")).round_dp(10)).sum();
    assert_eq!(billed, bill);
    let net: Decimal = lines.values().filter(|(_, _, free)| !free).map(|(b, _, _)| ((gb(*b) * d("0.01")).round_dp(10) * d("0.9")).round_dp(10)).sum();
    assert_eq!(effective, net);
    assert!(tagged > 0);
}

#[test]
fn reconcile_by_resource_csv_has_the_contract_columns() {
    let demo = demo_dir();
    let dir = tempdir();
    let run = crossaz(&["reconcile", "--workspace", demo.to_str().unwrap(), "--by", "resource", "--format", "csv"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut rdr = csv::Reader::from_reader(run.stdout.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header[..6], ["resource_id", "operation", "billed_gb", "billed_usd", "measured_gb", "coverage"]);
    let lines = truth_lines(&truth(&demo));
    let mut n = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let (id, op) = (&rec[0], &rec[1]);
        let billed: u64 = lines.iter().filter(|((_, i, o), _)| i == id && o == op).map(|(_, v)| v.0).sum();
        let measured: u64 = lines.iter().filter(|((_, i, o), _)| i == id && o == op).map(|(_, v)| v.1).sum();
        let billed_gb: Decimal = lines.iter().filter(|((_, i, o), _)| i == id && o == op).map(|(_, v)| gb(v.0)).sum();
        assert!(billed > 0, "{id} {op}");
        assert_eq!(d(&rec[2]), billed_gb, "{id} {op}");
        assert_eq!(d(&rec[4]), gb(measured), "{id} {op}");
        assert!(op == "InterZone-In" || op == "InterZone-Out");
        n += 1;
    }
    let pairs: std::collections::BTreeSet<(&String, &String)> = lines.keys().map(|(_, i, o)| (i, o)).collect();
    assert_eq!(n, pairs.len());
    // Without an export, `--by resource` says what it needs (exit 2).
    let run = crossaz(
        &["reconcile", "--flow-logs", demo.join("flow-logs").to_str().unwrap(), "--network", demo.join("network").to_str().unwrap(), "--by", "resource"],
        dir.path(),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--cur"), "{}", run.stderr);
}

#[test]
fn price_from_bill_takes_the_exports_net_rate() {
    let mut inputs = with_export(&demo_dir(), "billing/cur");
    inputs.price_from_bill = true;
    let report = attribute(&inputs).report;
    assert_eq!((report.measurement.pricing.out_per_gb_usd, report.measurement.pricing.in_per_gb_usd), (d("0.009"), d("0.009")));
}

/// Each resource's bytes do not depend on the pod fields: the default format (records know only
/// interfaces) and Parquet measure every line as the recommended format does.
#[test]
fn every_format_measures_each_resource_exactly() {
    use crossaz::generate::FlowFormat;
    for format in [FlowFormat::Default, FlowFormat::Parquet] {
        let dir = generated(Options { format, ..short(4) });
        let rec = attribute(&with_export(dir.path(), "billing/cur")).report.reconciliation.unwrap();
        let lines = truth_lines(&truth(dir.path()));
        assert_eq!(rec.by_resource_day.len(), lines.len(), "{format:?}");
        for r in &rec.by_resource_day {
            let key = (r.date.clone().unwrap(), r.resource_id.clone(), r.operation.clone());
            assert_eq!(r.measured_bytes, lines[&key].1, "{format:?} {key:?}");
        }
    }
}

/// Without an export, the allocation prices the measured bytes at list rates: both sides of every
/// billed byte, which is the report's cross-AZ cost.
#[test]
fn without_an_export_the_allocation_is_at_list_price() {
    let mut inputs = inputs_of(&demo_dir());
    inputs.allocate_bill = true;
    let report = attribute(&inputs).report;
    let a = report.allocation.as_ref().unwrap();
    assert_eq!(a.basis, "list-price");
    assert_eq!(a.unallocated_usd, Decimal::ZERO);
    let bytes: u64 = a.rows.iter().map(|r| r.measured_bytes).sum();
    assert_eq!(bytes, 2 * report.measurement.summary.bytes.cross_az_billed, "every billed byte once out, once in");
    let exact = Decimal::from(report.measurement.summary.bytes.cross_az_billed) * d("0.02") / Decimal::from(GB);
    assert!((a.allocated_usd - exact).abs() < d("0.000001"), "{} vs {exact}", a.allocated_usd);
}
