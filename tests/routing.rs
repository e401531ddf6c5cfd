//! `crossaz whatif routing` on the generated routing scenario: every figure against the truth the
//! generator states from its design (zone with no endpoints, refused hints, skewed clients, NLB).

use crate::util::{crossaz, tempdir};
use crossaz::pricing::{cost, round_usd, AWS_INTER_AZ};
use rust_decimal::Decimal;
use serde_json::{json, Value};

fn scenario() -> (tempfile::TempDir, Value) {
    let dir = tempdir();
    crossaz::generate::routing::generate(dir.path(), 2026, 1_790_812_800).expect("the scenario is written");
    let truth: Value = serde_json::from_slice(&std::fs::read(dir.path().join("routing-truth.json")).unwrap()).unwrap();
    (dir, truth)
}

fn whatif(dir: &std::path::Path, extra: &[&str]) -> Value {
    let mut args = vec!["whatif", "routing", "--flow-logs", "flow-logs", "--network", "network", "--k8s", "k8s", "--format", "json"];
    args.extend_from_slice(extra);
    let run = crossaz(&args, dir);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("JSON")
}

fn monthly(bytes: u64, hours: u64) -> Decimal {
    round_usd(cost(bytes, AWS_INTER_AZ.both_sides()) * Decimal::from(730) / Decimal::from(hours))
}

fn dec(v: &Value) -> Decimal {
    v.as_str().expect("money is a decimal string").parse().unwrap()
}

#[test]
fn projections_match_the_designed_truth() {
    let (dir, truth) = scenario();
    let out = whatif(dir.path(), &[]);
    let hours = truth["window"]["hours"].as_u64().unwrap();
    assert_eq!(out["window_hours"], hours);
    let services = truth["services"].as_object().unwrap();
    assert_eq!(out["services"].as_array().unwrap().len(), services.len());
    let mut total_close = Decimal::ZERO;
    for (key, t) in services {
        let s = out["services"].as_array().unwrap().iter().find(|s| format!("{}/{}", s["namespace"].as_str().unwrap(), s["service"].as_str().unwrap()) == *key).expect(key);
        assert_eq!(s["ready_endpoints_by_zone"], t["ready_endpoints_by_zone"], "{key}");
        let today = t["today_cross_az_bytes"].as_u64().unwrap();
        assert_eq!(s["today"]["cross_az_bytes"], today, "{key}");
        assert_eq!(s["today"]["unsteerable_cross_az_bytes"], t["unsteerable_cross_az_bytes"], "{key}");
        let steerable = t["client_bytes_by_zone"].as_object().unwrap();
        if steerable.is_empty() {
            assert_eq!(s["today"]["client_bytes_by_zone"], json!({}), "{key}");
        } else {
            assert_eq!(s["today"]["client_bytes_by_zone"], t["client_bytes_by_zone"], "{key}");
        }
        assert_eq!(s["auto"]["hints_applied"], t["auto"]["hints_applied"], "{key}");
        assert_eq!(s["auto"]["reason"], t["auto"]["reason"], "{key}");
        assert_eq!(s["auto"]["hints_by_zone"], t["auto"]["hints_by_zone"], "{key}");
        let auto = t["auto_projected_cross_az_bytes"].as_u64().unwrap();
        let close = t["prefer_close_projected_cross_az_bytes"].as_u64().unwrap();
        assert_eq!(s["auto"]["projected_cross_az_bytes"], auto, "{key}");
        assert_eq!(s["prefer_close"]["projected_cross_az_bytes"], close, "{key}");
        assert_eq!(s["prefer_close"]["fallback_zones"], t["prefer_close_fallback_zones"], "{key}");
        assert_eq!(dec(&s["today"]["monthly_usd"]), monthly(today, hours), "{key}");
        assert_eq!(dec(&s["auto"]["monthly_savings_usd"]), monthly(today, hours) - monthly(auto, hours), "{key}");
        assert_eq!(dec(&s["prefer_close"]["monthly_savings_usd"]), monthly(today, hours) - monthly(close, hours), "{key}");
        total_close += monthly(today, hours) - monthly(close, hours);
        match t["auto_fix"].as_str() {
            Some(fix) => assert!(s["auto"]["suggestion"].as_str().unwrap().ends_with(fix), "{key}: {}", s["auto"]["suggestion"]),
            None => assert!(s["auto"]["suggestion"].is_null(), "{key}"),
        }
    }
    assert_eq!(dec(&out["total"]["prefer_close_monthly_savings_usd"]), total_close);
}

#[test]
fn skewed_clients_show_the_load_risk() {
    let (dir, _) = scenario();
    let out = whatif(dir.path(), &["--service", "store/checkout", "--service", "store/cart"]);
    let svc = |name: &str| out["services"].as_array().unwrap().iter().find(|s| s["service"] == name).unwrap().clone();
    // checkout: 3 replicas per zone, clients 6:3:1. Today every replica takes 1/9 of the bytes;
    // kept in-zone, each zone-a replica takes 0.6/3 = 0.2 of them: 1.8 × the mean.
    let checkout = svc("checkout");
    assert_eq!(checkout["today"]["load_max_over_mean"], 1.0);
    assert_eq!(checkout["prefer_close"]["load_max_over_mean"], 1.8);
    assert_eq!(checkout["prefer_close"]["risk"], "medium");
    assert_eq!(checkout["prefer_close"]["overloaded_zones"], json!(["ap-northeast-2a"]));
    // cart: 2 in a, 1 in b. PreferClose: a-replicas take 0.6/2 + 0.1/3, the b-replica 0.3 + 0.1/3:
    // every replica 1/3 of the bytes, no risk. Auto hints one a-replica for zone c only: the other
    // takes all of zone a (0.6 = 1.8 × the mean).
    let cart = svc("cart");
    assert_eq!(cart["prefer_close"]["load_max_over_mean"], 1.0);
    assert_eq!(cart["prefer_close"]["risk"], "low");
    assert_eq!(cart["auto"]["load_max_over_mean"], 1.8);
    assert_eq!(
        cart["auto"]["hinted_endpoints_live_in"],
        json!({"ap-northeast-2a": {"ap-northeast-2a": 1}, "ap-northeast-2b": {"ap-northeast-2b": 1}, "ap-northeast-2c": {"ap-northeast-2a": 1}})
    );
    // Same savings, lower risk: PreferClose is recommended for cart, Auto for checkout (a tie).
    assert_eq!(cart["recommended_mode"], "PreferClose");
    assert_eq!(checkout["recommended_mode"], "Auto");
    // Shares per client zone: zone c has no cart replica, so it crosses under every mode.
    let c = cart["client_zones"].as_array().unwrap().iter().find(|z| z["zone"] == "ap-northeast-2c").unwrap().clone();
    assert_eq!((c["today_same_zone_share"].as_f64(), c["auto_same_zone_share"].as_f64(), c["prefer_close_same_zone_share"].as_f64()), (Some(0.0), Some(0.0), Some(0.0)));
    let a = cart["client_zones"].as_array().unwrap().iter().find(|z| z["zone"] == "ap-northeast-2a").unwrap().clone();
    assert_eq!((a["today_same_zone_share"].as_f64(), a["auto_same_zone_share"].as_f64(), a["prefer_close_same_zone_share"].as_f64()), (Some(0.6667), Some(1.0), Some(1.0)));
}

#[test]
fn without_flow_logs_the_simulation_is_complete_and_traffic_is_null() {
    let (dir, truth) = scenario();
    let run = crossaz(&["whatif", "routing", "--k8s", "k8s", "--format", "json"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(out["traffic_measured"], false);
    assert_eq!(out["window_hours"], Value::Null);
    for s in out["services"].as_array().unwrap() {
        let key = format!("{}/{}", s["namespace"].as_str().unwrap(), s["service"].as_str().unwrap());
        let t = &truth["services"][&key];
        assert_eq!(s["auto"]["hints_applied"], t["auto"]["hints_applied"], "{key}");
        assert_eq!(s["auto"]["hints_by_zone"], t["auto"]["hints_by_zone"], "{key}");
        for f in ["projected_cross_az_bytes", "monthly_savings_usd"] {
            assert_eq!(s["auto"][f], Value::Null, "{key} {f}");
            assert_eq!(s["prefer_close"][f], Value::Null, "{key} {f}");
        }
        assert_eq!(s["today"]["cross_az_bytes"], Value::Null);
    }
}

#[test]
fn table_and_csv_render_the_same_answer() {
    let (dir, _) = scenario();
    let run = crossaz(&["whatif", "routing", "--flow-logs", "flow-logs", "--network", "network", "--k8s", "k8s"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("whatif_routing_table", run.stdout);
    let run = crossaz(&["whatif", "routing", "--flow-logs", "flow-logs", "--network", "network", "--k8s", "k8s", "--format", "csv", "--output", "out.csv"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let csv = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    insta::assert_snapshot!("whatif_routing_csv", csv);
}
