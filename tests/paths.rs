//! `crossaz whatif paths` against the paths the generator built (truth.json's `paths`): the
//! 2048 game behind an instance-mode ALB, the real-account day's Classic LB, the queue's NLB with
//! cross-zone on, a zone without a NAT gateway and a five-day detour, S3 and ECR through NAT.
//! Dollars follow docs/paths.md's formulas from the truth's bytes.

use crate::util::{attribute, crossaz, demo_dir, generated, inputs_of, tempdir, truth};
use crossaz::generate::{FlowFormat, Options, Unlogged};
use crossaz::pricing::{GB, cost, round_usd};
use rust_decimal::Decimal;
use serde_json::Value;
use std::path::Path;

const HOURS: u64 = 31 * 24;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap_or_else(|| panic!("money is a decimal string: {v}")).parse().unwrap()
}

/// Per 730-hour month from the window's bytes, as docs/paths.md defines it.
fn monthly(bytes: u64, per_gb: Decimal) -> Decimal {
    cost(bytes, per_gb) * Decimal::from(730) / Decimal::from(HOURS)
}

fn whatif(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["whatif", "paths", "--flow-logs", "flow-logs", "--network", "network", "--k8s", "k8s", "--format", "json"];
    args.extend_from_slice(extra);
    let run = crossaz(&args, dir);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("JSON: {e}\n{}", run.stdout))
}

/// `whatif paths --format json` on the demo month with a workspace (its prices, its ip-ranges.json).
pub fn demo_whatif_with_workspace(ws: &Path, cwd: &Path) -> Value {
    let demo = demo_dir();
    let (fl, net, k8s) = (demo.join("flow-logs"), demo.join("network"), demo.join("k8s"));
    let (ws, fl, net, k8s) = (ws.to_str().unwrap(), fl.to_str().unwrap(), net.to_str().unwrap(), k8s.to_str().unwrap());
    let run = crossaz(&["whatif", "paths", "--workspace", ws, "--flow-logs", fl, "--network", net, "--k8s", k8s, "--format", "json"], cwd);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("JSON")
}

fn change<'a>(out: &'a Value, kind: &str, target: &str) -> &'a Value {
    out["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == kind && c["target"] == target)
        .unwrap_or_else(|| panic!("no {kind} {target} in {:#}", out["changes"]))
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// Every figure of the demo month against its designed truth.
fn check_against_truth(out: &Value, t: &Value) {
    let p = &t["paths"];
    let inter_az = d("0.02");
    let (nat_hour, nat_gb) = (d("0.059"), d("0.059"));
    assert_eq!(out["window_hours"], HOURS);

    // kube-proxy's second hops behind the instance-mode ALB and the Classic LB.
    for (kind, svc) in [("lb-target-type", "game-2048/service-2048"), ("external-traffic-policy", "shop/storefront")] {
        let bytes = u(&p["lb_second_hops"][svc]);
        assert!(bytes > GB / 4, "{svc}: the scenario forwards hundreds of MB across AZs");
        let c = change(out, kind, svc);
        assert_eq!(u(&c["measured_cross_az_bytes"]), bytes, "{svc}");
        assert_eq!(dec(&c["monthly_savings_usd"]), round_usd(monthly(bytes, inter_az)), "{svc}");
    }
    assert!(change(out, "lb-target-type", "game-2048/service-2048")["change"].as_str().unwrap().contains("alb.ingress.kubernetes.io/target-type: ip"));
    assert!(change(out, "external-traffic-policy", "shop/storefront")["change"].as_str().unwrap().contains("\"externalTrafficPolicy\":\"Local\""));

    // The NLB: target-side crossings go; clients of zones without a target cross to the target's zone.
    let nlb = &p["nlb_cross_zone"][0];
    let lb = nlb["load_balancer"].as_str().unwrap();
    let c = change(out, "nlb-cross-zone", "shop/queue");
    let cross = u(&nlb["bytes"]);
    assert_eq!(u(&c["measured_cross_az_bytes"]), cross);
    let targets: Vec<&str> = p["queue_pods_by_zone_at_last_snapshot"].as_object().unwrap().keys().map(String::as_str).collect();
    let zones = p["nlb_zones"].as_array().unwrap().len() as u64;
    let mut added = Decimal::ZERO;
    for cl in p["nlb_clients"].as_array().unwrap().iter().filter(|c| c["load_balancer"] == lb) {
        let z = cl["client_az"].as_str().unwrap();
        let now = Decimal::from(zones - 1) / Decimal::from(zones);
        let t = Decimal::from(targets.len() as u64);
        let after = (t - Decimal::from(u64::from(targets.contains(&z)))) / t;
        added += Decimal::from(u(&cl["bytes"])) * (after - now);
    }
    let expected = monthly(cross, inter_az) - cost(1, inter_az) * added * Decimal::from(730) / Decimal::from(HOURS);
    assert_eq!(dec(&c["monthly_savings_usd"]), round_usd(expected));
    assert!(c["risk"].as_str().unwrap().starts_with("medium"), "{}", c["risk"]);

    // NAT gateways: the third zone has none and uses the first zone's.
    let gws = p["nat_gateways"].as_array().unwrap();
    let nat_a = gws.iter().find(|g| g["zone"] == "ap-northeast-2a").unwrap()["id"].as_str().unwrap();
    let nat_b = gws.iter().find(|g| g["zone"] == "ap-northeast-2b").unwrap()["id"].as_str().unwrap();
    let nat_bytes =
        |nat: &str, zone: &str| p["nat"].as_array().unwrap().iter().find(|n| n["nat"] == nat && n["client_az"] == zone).map_or(0, |n| u(&n["bytes"]));
    let c = change(out, "nat-per-az", nat_a);
    assert_eq!(c["client_az"], "ap-northeast-2c");
    let crossed = nat_bytes(nat_a, "ap-northeast-2c");
    assert_eq!(u(&c["measured_cross_az_bytes"]), crossed);
    let gateway_month = nat_hour * Decimal::from(730);
    assert_eq!(dec(&c["added_monthly_usd"]), gateway_month);
    assert_eq!(dec(&c["monthly_savings_usd"]), round_usd(monthly(crossed, inter_az) - gateway_month));
    assert_eq!(dec(&c["break_even_gb_per_month"]), d("2153.5"), "$43.07 a month / $0.02 per GB");
    // The second zone's five days on the first zone's gateway: a note, not a change.
    assert!(out["changes"].as_array().unwrap().iter().all(|c| !(c["kind"] == "nat-per-az" && c["client_az"] == "ap-northeast-2b")));
    let detour = nat_bytes(nat_a, "ap-northeast-2b");
    assert!(detour > 0);
    let note =
        format!("ap-northeast-2b sent {:.3} GB to NAT gateways in other AZs on 5 days (2026-10-12 to 2026-10-16)", Decimal::from(detour) / Decimal::from(GB));
    assert!(out["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().starts_with(&note)), "{note}\n{:#}", out["notes"]);
    // Removing the second zone's gateway: its own bytes would cross.
    let c = change(out, "nat-consolidate", nat_b);
    let own = nat_bytes(nat_b, "ap-northeast-2b");
    assert_eq!(u(&c["measured_cross_az_bytes"]), own);
    assert_eq!(dec(&c["monthly_savings_usd"]), round_usd(gateway_month - monthly(own, inter_az)));
    assert!(c["risk"].as_str().unwrap().starts_with("high"));

    // AWS services through the NAT gateways.
    for (svc, gateway_endpoint) in [("S3", true), ("AMAZON", false)] {
        let rows: Vec<&Value> = p["nat_services"].as_array().unwrap().iter().filter(|r| r["service"] == svc).collect();
        let processed: u64 = rows.iter().map(|r| u(&r["bytes"])).sum();
        let cross: u64 = rows.iter().filter(|r| r["client_az"] != r["nat_az"]).map(|r| u(&r["bytes"])).sum();
        let zones = rows.iter().map(|r| r["client_az"].as_str().unwrap()).collect::<std::collections::BTreeSet<_>>().len() as u64;
        let c = change(out, "aws-service-endpoint", svc);
        assert_eq!(u(&c["nat_processed_bytes"]), processed, "{svc}");
        assert_eq!(u(&c["measured_cross_az_bytes"]), cross, "{svc}");
        let today = monthly(processed, nat_gb) + monthly(cross, inter_az);
        assert_eq!(dec(&c["monthly_cost_today_usd"]), round_usd(today), "{svc}");
        let endpoint = if gateway_endpoint { Decimal::ZERO } else { d("0.013") * Decimal::from(zones * 730) + monthly(processed, d("0.01")) };
        assert_eq!(dec(&c["monthly_savings_usd"]), round_usd(today - endpoint), "{svc}");
    }
    assert!(
        change(out, "aws-service-endpoint", "S3")["change"]
            .as_str()
            .unwrap()
            .contains("--vpc-endpoint-type Gateway --service-name com.amazonaws.ap-northeast-2.s3")
    );
    assert!(
        change(out, "aws-service-endpoint", "AMAZON")["change"].as_str().unwrap().starts_with("keep the NAT gateway"),
        "ECR's API calls are too few for an endpoint's hours"
    );

    // Sorted by saving; the total leaves out consolidations.
    let savings: Vec<Decimal> = out["changes"].as_array().unwrap().iter().map(|c| dec(&c["monthly_savings_usd"])).collect();
    assert!(savings.windows(2).all(|w| w[0] >= w[1]), "{savings:?}");
    let total: Decimal = out["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] != "nat-consolidate")
        .map(|c| dec(&c["monthly_savings_usd"]))
        .filter(|s| *s > Decimal::ZERO)
        .sum();
    assert_eq!(dec(&out["total_monthly_savings_usd"]), total);
    assert_eq!(out["schema_version"], 5);
}

#[test]
fn the_demo_month_matches_the_designed_paths_through_aws_ip_ranges() {
    let dir = demo_dir();
    let out = whatif(&dir, &[]);
    check_against_truth(&out, &truth(&dir));
    assert!(out["aws_services_from"].as_str().unwrap().contains("ip-ranges.json of 2026-08-22"), "{}", out["aws_services_from"]);
}

#[test]
fn parquet_with_aws_service_columns_gives_the_same_changes() {
    let dir = generated(Options { format: FlowFormat::Parquet, ..crossaz::generate::demo_options() });
    let out = whatif(dir.path(), &[]);
    check_against_truth(&out, &truth(dir.path()));
    assert!(out["aws_services_from"].as_str().unwrap().starts_with("the records' pkt-src-aws-service"), "{}", out["aws_services_from"]);
    let text = whatif(&demo_dir(), &[]);
    assert_eq!(out["changes"], text["changes"], "the field and AWS's ranges name the same services");
}

#[test]
fn missing_paths_give_reasons_not_zeros() {
    // NAT gateways outside the flow log.
    let dir = generated(Options { days: 2, unlogged: vec![Unlogged::Nat], ..Options::default() });
    let out = whatif(dir.path(), &[]);
    let reasons: Vec<(String, String)> =
        out["not_estimated"].as_array().unwrap().iter().map(|n| (n["kind"].as_str().unwrap().into(), n["reason"].as_str().unwrap().into())).collect();
    assert!(reasons.iter().any(|(k, r)| k == "nat-per-az" && r.starts_with("no flow-log record of the NAT gateways' interfaces (nat-")), "{reasons:?}");
    assert!(reasons.iter().any(|(k, r)| k == "aws-service-endpoint" && r.contains("no flow-log record of a NAT gateway's interface")), "{reasons:?}");
    assert!(out["changes"].as_array().unwrap().iter().all(|c| !c["kind"].as_str().unwrap().starts_with("nat") && c["kind"] != "aws-service-endpoint"));

    // The default format: no pkt-* fields, so the far end of a NAT gateway's flow is unknown.
    let dir = generated(Options { days: 2, format: FlowFormat::Default, ..Options::default() });
    let out = whatif(dir.path(), &[]);
    let reason = out["not_estimated"].as_array().unwrap().iter().find(|n| n["kind"] == "aws-service-endpoint").expect("a reason");
    assert!(reason["reason"].as_str().unwrap().contains("lack pkt-dstaddr/pkt-srcaddr"), "{reason}");

    // No price for the region: the NAT kinds say so; the load-balancer kinds still price inter-AZ bytes.
    let outcome = attribute(&inputs_of(&demo_dir()));
    let opts = crossaz::whatif::paths::Options { prices: crossaz::pricing::paths::PathPrices::default(), prices_source: "none".into() };
    let w = crossaz::whatif::paths::analyze(&outcome.report.measurement, &outcome.paths, outcome.latest_snapshot.as_ref(), &opts);
    for kind in ["nat-per-az", "aws-service-endpoint"] {
        let n = w.not_estimated.iter().find(|n| n.kind == kind).unwrap_or_else(|| panic!("{kind}: {:?}", w.not_estimated));
        assert!(n.reason.starts_with("no NAT gateway") && n.reason.contains("ap-northeast-2") && n.reason.contains("--prices"), "{}", n.reason);
    }
    assert!(w.changes.iter().any(|c| c.kind == "lb-target-type"));
    assert!(w.regional_nat_gateways.contains("unknown"));

    // Without the network inventory: a usage error.
    let run = crossaz(&["whatif", "paths", "--flow-logs", "flow-logs"], &demo_dir());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("needs the network inventory: pass `--network`"), "{}", run.stderr);
}

#[test]
fn a_prices_file_overrides_the_bundled_table_and_a_bad_one_is_named() {
    let tmp = tempdir();
    let file = tmp.path().join("prices.json");
    std::fs::write(
        &file,
        r#"{"format": "crossaz-path-prices/1", "prices": [{"region": "ap-northeast-2", "item": "nat-gateway-hour", "usd": "0.01", "date": "2026-12-01", "source": "test"}]}"#,
    )
    .unwrap();
    let dir = demo_dir();
    let out = whatif(&dir, &["--prices", file.to_str().unwrap()]);
    let t = truth(&dir);
    let nat_a = t["paths"]["nat_gateways"].as_array().unwrap().iter().find(|g| g["zone"] == "ap-northeast-2a").unwrap()["id"].as_str().unwrap().to_string();
    let c = change(&out, "nat-per-az", &nat_a);
    assert_eq!(dec(&c["added_monthly_usd"]), d("7.3"));
    assert_eq!(dec(&c["break_even_gb_per_month"]), d("365"));
    assert!(out["prices_source"].as_str().unwrap().contains("prices.json"));

    std::fs::write(&file, r#"{"format": "crossaz-path-prices/1", "prices": [{"region": "x", "item": "nat-hour", "usd": "1", "date": "d", "source": "s"}]}"#)
        .unwrap();
    let run = crossaz(&["whatif", "paths", "--flow-logs", "flow-logs", "--network", "network", "--prices", file.to_str().unwrap()], &dir);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("unknown item `nat-hour`") && run.stderr.contains("prices.json"), "{}", run.stderr);
}

#[test]
fn csv_table_and_the_review_show_the_changes() {
    let dir = demo_dir();
    let run = crossaz(&["whatif", "paths", "--flow-logs", "flow-logs", "--network", "network", "--k8s", "k8s", "--format", "csv"], &dir);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut lines = run.stdout.lines();
    assert_eq!(
        lines.next().unwrap(),
        "kind,target,client_az,measured_cross_az_bytes,nat_processed_bytes,monthly_savings_usd,monthly_cost_today_usd,added_monthly_usd,break_even_gb_per_month,risk,change,alternative,evidence"
    );
    let json = whatif(&dir, &[]);
    assert_eq!(lines.count(), json["changes"].as_array().unwrap().len());
    let table = crossaz(&["whatif", "paths", "--flow-logs", "flow-logs", "--network", "network", "--k8s", "k8s"], &dir);
    assert!(table.stdout.starts_with("Network paths: what each change would save per 730-hour month, from 744 hours of flow logs"), "{}", table.stdout);
    assert!(table.stdout.contains("Regional NAT gateways: "));

    // The monthly review's actions list them with the routing and RDS actions.
    let out = tempdir();
    let review = crossaz(
        &["review", "--flow-logs", "flow-logs", "--network", "network", "--k8s", "k8s", "--month", "2026-10", "--out", out.path().to_str().unwrap()],
        &dir,
    );
    assert_eq!(review.code, 0, "{}", review.stderr);
    let report: Value = serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let kinds: Vec<&str> = report["review"]["actions"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    for k in ["aws-service-endpoint", "lb-target-type", "nlb-cross-zone", "topology-aware-routing"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    assert!(report["paths"]["changes"].is_array());
    assert!(!kinds.contains(&"nat-consolidate"), "consolidations are alternatives: left to whatif paths");
    let saved: Decimal = report["review"]["actions"].as_array().unwrap().iter().map(|a| dec(&a["monthly_savings_usd"])).sum();
    assert_eq!(dec(&report["review"]["headline"]["savings_monthly_usd"]), saved);

    // Topology-aware routing of the game's Service would also keep its second hop in-zone: one action, not two.
    let mut edited = report.clone();
    let svc = edited["routing"]["services"].as_array_mut().unwrap().iter_mut().find(|s| s["service"] == "service-2048").expect("the game's Service");
    svc["recommended_mode"] = "Auto".into();
    svc["recommended_monthly_savings_usd"] = "5".into();
    let edited: crossaz::report::Report = serde_json::from_value(edited).unwrap();
    let actions = crossaz::review::actions(edited.whatifs());
    assert!(actions.iter().any(|a| a.kind == "topology-aware-routing" && a.target == "game-2048/service-2048"));
    assert!(!actions.iter().any(|a| a.kind == "lb-target-type"), "{actions:?}");
    assert!(actions.iter().any(|a| a.kind == "aws-service-endpoint"));
}

#[test]
fn pull_ip_ranges_saves_a_newer_file_that_whatif_paths_then_uses() {
    let ranges = |date: &str| {
        serde_json::json!({"syncToken": "1", "createDate": date, "prefixes": [
            {"ip_prefix": "52.219.60.0/23", "region": "ap-northeast-2", "service": "AMAZON", "network_border_group": "ap-northeast-2"},
            {"ip_prefix": "52.219.60.0/23", "region": "ap-northeast-2", "service": "S3", "network_border_group": "ap-northeast-2"},
            {"ip_prefix": "3.5.140.0/22", "region": "ap-northeast-2", "service": "S3", "network_border_group": "ap-northeast-2"},
            {"ip_prefix": "52.95.192.0/20", "region": "ap-northeast-2", "service": "DYNAMODB", "network_border_group": "ap-northeast-2"}],
            "ipv6_prefixes": []})
        .to_string()
    };
    let server = crate::stub_http::serve(move |r| match r.path.as_str() {
        "/new.json" => ("200 OK", "application/json", ranges("2026-11-30-00-00-00")),
        "/old.json" => ("200 OK", "application/json", ranges("2025-01-01-00-00-00")),
        "/broken.json" => ("200 OK", "application/json", "{\"createDate\": 5}".into()),
        _ => ("404 Not Found", "text/plain", "no".into()),
    });
    let dir = tempdir();
    let ws = dir.path().join("ws");
    let pull = |file: &str| crossaz(&["pull", "ip-ranges", "--workspace", ws.to_str().unwrap(), "--url", &format!("{}/{file}", server.url)], dir.path());

    let run = pull("broken.json");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("did not answer with AWS's ip-ranges.json") && run.stderr.contains("nothing was written"), "{}", run.stderr);
    let run = pull("missing.json");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("HTTP 404"), "{}", run.stderr);
    let run = pull("old.json");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("older than AWS ip-ranges.json of 2026-08-22-15-17-05 (bundled) in use: kept"), "{}", run.stdout);
    assert!(!ws.join("reference/ip-ranges.json").exists());
    let run = pull("new.json");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("AWS's file of 2026-11-30-00-00-00 (4 prefixes)"), "{}", run.stdout);

    // The workspace's copy now names the registry's range DYNAMODB: a gateway endpoint.
    let out = demo_whatif_with_workspace(&ws, dir.path());
    assert!(out["aws_services_from"].as_str().unwrap().contains("2026-11-30-00-00-00"), "{}", out["aws_services_from"]);
    assert!(change(&out, "aws-service-endpoint", "DYNAMODB")["change"].as_str().unwrap().contains("com.amazonaws.ap-northeast-2.dynamodb"));
}

#[test]
fn crossaz_toml_names_a_path_prices_file() {
    let dir = tempdir();
    let ws = dir.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(ws.join("crossaz.toml"), "[pricing]\npath_prices = \"my-prices.json\"\n").unwrap();
    std::fs::write(
        ws.join("my-prices.json"),
        r#"{"format": "crossaz-path-prices/1", "prices": [{"region": "ap-northeast-2", "item": "nat-gateway-hour", "usd": "0.02", "date": "2026-12-01", "source": "EDP rate card"}]}"#,
    )
    .unwrap();
    let out = demo_whatif_with_workspace(&ws, dir.path());
    assert!(out["prices_source"].as_str().unwrap().ends_with("my-prices.json`"), "{}", out["prices_source"]);
    let row = out["prices"].as_array().unwrap().iter().find(|p| p["item"] == "nat-gateway-hour").unwrap();
    assert_eq!((row["usd"].as_str(), row["source"].as_str()), (Some("0.02"), Some("EDP rate card")));
}

#[test]
fn the_review_prices_paths_with_the_workspace_prices() {
    let dir = tempdir();
    let ws = dir.path().join("ws");
    std::fs::create_dir_all(ws.join("prices")).unwrap();
    std::fs::write(
        ws.join("prices/path-prices.json"),
        r#"{"format": "crossaz-path-prices/1", "prices": [{"region": "ap-northeast-2", "item": "nat-gateway-gb", "usd": "0.045", "date": "2026-12-01", "source": "pulled"}]}"#,
    )
    .unwrap();
    let demo = demo_dir();
    let (fl, net, k8s) = (demo.join("flow-logs"), demo.join("network"), demo.join("k8s"));
    let out = dir.path().join("review");
    let args = [
        "review",
        "--workspace",
        ws.to_str().unwrap(),
        "--flow-logs",
        fl.to_str().unwrap(),
        "--network",
        net.to_str().unwrap(),
        "--k8s",
        k8s.to_str().unwrap(),
    ];
    let run = crossaz(&[&args[..], &["--month", "2026-10", "--out", out.to_str().unwrap()]].concat(), dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert!(report["paths"]["prices_source"].as_str().unwrap().ends_with("ws/prices/path-prices.json`"), "{}", report["paths"]["prices_source"]);
    assert!(change(&report["paths"], "aws-service-endpoint", "S3")["evidence"].as_str().unwrap().contains("NAT processing $0.045/GB"));
}
