//! `crossaz whatif rds` on the generated RDS scenario: every byte against the truth the generator
//! states from its design (a failover, a cluster read through its reader endpoint, a single-AZ
//! instance), dollars against hand-computed prices, and the errors of missing facts and prices.

use crate::util::{crossaz, tempdir};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::path::Path;

const MIB: u64 = 1 << 20;
/// The scenario's window: October 2026.
const HOURS: u64 = 31 * 24;

fn scenario() -> (tempfile::TempDir, Value) {
    let dir = tempdir();
    crossaz::generate::rds::generate(dir.path(), 2026, 1_790_812_800).expect("the scenario is written");
    let truth: Value = serde_json::from_slice(&std::fs::read(dir.path().join("rds-truth.json")).unwrap()).unwrap();
    (dir, truth)
}

fn whatif(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["whatif", "rds", "--flow-logs", "flow-logs", "--network", "network", "--k8s", "k8s", "--format", "json"];
    args.extend_from_slice(extra);
    let run = crossaz(&args, dir);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("JSON")
}

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap_or_else(|| panic!("money is a decimal string: {v}")).parse().unwrap()
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn db<'a>(out: &'a Value, id: &str) -> &'a Value {
    out["databases"].as_array().unwrap().iter().find(|d| d["id"] == id).unwrap_or_else(|| panic!("no {id}"))
}

fn option<'a>(d: &'a Value, option: &str, writer_az: &str, reads: Option<&str>) -> &'a Value {
    d["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["option"] == option && o["writer_az"] == writer_az && o["reads"] == json!(reads))
        .unwrap_or_else(|| panic!("no {option} in {writer_az} ({reads:?}) for {}", d["id"]))
}

#[test]
fn measured_bytes_writer_timeline_and_every_option_match_the_designed_truth() {
    let (dir, truth) = scenario();
    let out = whatif(dir.path(), &[]);
    assert_eq!(out["window_hours"], truth["window"]["hours"]);
    let dbs = truth["databases"].as_object().unwrap();
    assert_eq!(out["databases"].as_array().unwrap().len(), dbs.len());
    for (id, t) in dbs {
        let d = db(&out, id);
        for key in ["current_option", "current_writer_az", "class", "storage_gb", "client_bytes_by_az", "writer_bytes_by_az", "reader_bytes_by_az", "failovers"]
        {
            assert_eq!(d[key], t[key], "{id}: {key}");
        }
        assert_eq!(d["today"]["cross_az_bytes"], t["today_cross_az_bytes"], "{id}");
        let timeline: serde_json::Map<String, Value> =
            d["writer_timeline"].as_array().unwrap().iter().map(|w| (w["date"].as_str().unwrap().to_string(), w["bytes_by_az"].clone())).collect();
        assert_eq!(Value::Object(timeline), t["writer_timeline"], "{id}");
        let expected = t["options"].as_array().unwrap();
        assert_eq!(d["options"].as_array().unwrap().len(), expected.len(), "{id}: options");
        for e in expected {
            let o = option(d, e["option"].as_str().unwrap(), e["writer_az"].as_str().unwrap(), e["reads"].as_str());
            assert_eq!(o["cross_az_bytes"], e["cross_az_bytes"], "{id}: {e}");
            if let Some(after) = e.get("after_failover_cross_az_bytes") {
                assert_eq!(&o["after_failover"]["cross_az_bytes"], after, "{id}: after failover {e}");
            }
        }
    }
}

#[test]
fn dollars_match_hand_computed_prices() {
    let (dir, _) = scenario();
    let out = whatif(dir.path(), &[]);
    // orders-db, Multi-AZ DB instance with its writer in 2a: db.m6gd.large PostgreSQL in Seoul
    // $0.522/h x 730 h; 200 GB gp3 Multi-AZ x $0.262; the 2b and 2c clients' bytes, 16 MiB x weight
    // (3 + 2) per hour = 80 MiB an hour, x $0.02/GB x 730 h = $1.140625 a month.
    let orders = db(&out, "orders-db");
    let o = option(orders, "multi-az-instance", "ap-northeast-2a", None);
    assert_eq!(o["cross_az_bytes"], 80 * MIB * HOURS);
    assert_eq!(dec(&o["monthly_instance_usd"]), d("381.06"));
    assert_eq!(dec(&o["monthly_storage_usd"]), d("52.4"));
    assert_eq!(dec(&o["monthly_cross_az_usd"]), d("1.140625"));
    assert_eq!(dec(&o["monthly_total_usd"]), d("434.600625"));
    assert_eq!(o["failover_seconds"], json!([60, 120]));
    assert_eq!(o["survives_az_loss"], true);
    // Today the writer was in 2a for 15 days (2b and 2c crossing: 80 MiB an hour), then in 2b for 16
    // (2a and 2c: 112 MiB an hour).
    let today = (15 * 80 + 16 * 112) * 24 * MIB;
    assert_eq!(orders["today"]["cross_az_bytes"], today);
    let monthly = |bytes: u64| Decimal::from(bytes) * d("0.02") / Decimal::from(1u64 << 30) * Decimal::from(730) / Decimal::from(HOURS);
    assert_eq!(dec(&orders["today"]["monthly_cross_az_usd"]), monthly(today).round_dp(6));
    assert_eq!(dec(&orders["today"]["monthly_total_usd"]), (d("381.06") + d("52.4") + monthly(today)).round_dp(6));

    // audit-db, single-AZ db.t4g.micro in 2c: $0.025/h, 20 GB x $0.131, both auditors' bytes cross.
    let audit = db(&out, "audit-db");
    let o = option(audit, "single-az", "ap-northeast-2c", None);
    assert_eq!(o["current"], true);
    assert_eq!(o["cross_az_bytes"], 2 * 17 * MIB * HOURS);
    assert_eq!(dec(&o["monthly_instance_usd"]), d("18.25"));
    assert_eq!(dec(&o["monthly_storage_usd"]), d("2.62"));
    assert_eq!(dec(&o["monthly_cross_az_usd"]), d("0.484766"));
    assert_eq!(dec(&o["monthly_total_usd"]), d("21.354766"));
    assert_eq!(o["failover_seconds"], Value::Null);
    assert_eq!(o["survives_az_loss"], false);
    assert!(audit["options"].as_array().unwrap().iter().all(|o| o["option"] != "multi-az-cluster"), "t4g has no cluster class");
    assert!(audit["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("db.t4g.micro has no Multi-AZ DB cluster class")));

    // catalog-db, the cluster: $0.783/h and 100 GB x $0.393; zone-local reads leave only the 2b and 2c
    // clients' writes crossing: (3 + 2) x 4 MiB an hour.
    let catalog = db(&out, "catalog-db");
    let o = option(catalog, "multi-az-cluster", "ap-northeast-2a", Some("zone-local"));
    assert_eq!(o["cross_az_bytes"], 5 * 4 * MIB * HOURS);
    assert_eq!(dec(&o["monthly_instance_usd"]), d("571.59"));
    assert_eq!(dec(&o["monthly_storage_usd"]), d("39.3"));
    assert_eq!(dec(&o["monthly_cross_az_usd"]), d("0.28515625").round_dp(6));
    assert_eq!(o["failover_seconds"], json!([0, 35]));
    assert_eq!(catalog["read_fraction_from"], "measured");

    // Totals add up, in decimal.
    let sum = |k: &str| out["databases"].as_array().unwrap().iter().map(|d| dec(&d["today"][k])).sum::<Decimal>();
    assert_eq!(dec(&out["total"]["today_monthly_usd"]), sum("monthly_total_usd"));
}

#[test]
fn recommendation_follows_rto_and_az_loss_survival() {
    let (dir, _) = scenario();
    let out = whatif(dir.path(), &[]);
    // Without --rto: the cheapest option that survives an AZ loss is a Multi-AZ instance, in the AZ
    // with the most client bytes (2a); for catalog-db that means giving up the readers, said so.
    for id in ["catalog-db", "audit-db"] {
        let r = &db(&out, id)["recommendation"];
        assert_eq!(r["option"], "multi-az-instance", "{id}");
        assert_eq!(r["writer_az"], "ap-northeast-2a", "{id}");
    }
    // orders-db would save $0.24 a month by failing back to 2a: under $1, today's deployment stays.
    let r = &db(&out, "orders-db")["recommendation"];
    assert_eq!((r["option"].as_str(), r["writer_az"].as_str()), (Some("multi-az-instance"), Some("ap-northeast-2b")));
    assert_eq!(r["keep"], true);
    assert!(r["why"].as_str().unwrap().contains("within $1/month of the cheapest"), "{r}");
    assert!(dec(&r["monthly_savings_usd"]).abs() < d("1"), "{r}");
    assert!(db(&out, "catalog-db")["recommendation"]["why"].as_str().unwrap().contains("readers' work"));
    // audit-db is single-AZ today: surviving an AZ loss costs more, a negative saving.
    let audit = db(&out, "audit-db");
    assert_eq!(
        dec(&audit["recommendation"]["monthly_savings_usd"]),
        dec(&audit["today"]["monthly_total_usd"]) - dec(&audit["recommendation"]["monthly_total_usd"])
    );
    assert!(dec(&audit["recommendation"]["monthly_savings_usd"]).is_sign_negative());

    // --rto 60: only clusters fail over in time; zone-local reads are their cheapest.
    let out = whatif(dir.path(), &["--rto", "60"]);
    let r = &db(&out, "orders-db")["recommendation"];
    assert_eq!((r["option"].as_str(), r["reads"].as_str()), (Some("multi-az-cluster"), Some("zone-local")));
    let orders = db(&out, "orders-db");
    assert!(orders["options"].as_array().unwrap().iter().all(|o| o["meets_rto"] == (o["option"] == "multi-az-cluster")));
    // audit-db has no cluster class: nothing meets a 60 s RTO.
    assert_eq!(db(&out, "audit-db")["recommendation"], Value::Null);
}

#[test]
fn read_fraction_changes_only_the_split_of_an_instance() {
    let (dir, truth) = scenario();
    let out = whatif(dir.path(), &["--read-fraction", "0.8", "--db", "orders-db"]);
    assert_eq!(out["databases"].as_array().unwrap().len(), 1);
    let orders = db(&out, "orders-db");
    assert_eq!(orders["read_fraction_from"], "flag");
    // Reader endpoint, writer in 2a, readers in 2b and 2c: writes (20%) from 2b and 2c cross; reads
    // from 2a all cross, from 2b and 2c half of them.
    let by: Vec<u64> = ["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"]
        .iter()
        .map(|z| truth["databases"]["orders-db"]["client_bytes_by_az"][z].as_u64().unwrap())
        .collect();
    let reads = |t: u64| (Decimal::from(t) * d("0.8")).floor().to_string().parse::<u64>().unwrap();
    let expected = (by[1] - reads(by[1])) + (by[2] - reads(by[2])) + reads(by[0]) + reads(by[1]) / 2 + reads(by[2]) / 2;
    assert_eq!(option(orders, "multi-az-cluster", "ap-northeast-2a", Some("reader-endpoint"))["cross_az_bytes"], expected);
    // A single instance's bytes do not depend on the split.
    assert_eq!(option(orders, "single-az", "ap-northeast-2a", None)["cross_az_bytes"], by[1] + by[2]);
}

#[test]
fn prices_file_overrides_the_bundled_table() {
    let (dir, _) = scenario();
    let prices = json!({"instances": [{"region": "ap-northeast-2", "engine": "PostgreSQL", "class": "db.m6gd.large", "deployment": "multi-az-instance",
        "usd_per_hour": "0.5", "source": "a negotiated rate", "date": "2026-11-01"}]});
    std::fs::write(dir.path().join("prices.json"), prices.to_string()).unwrap();
    let out = whatif(dir.path(), &["--prices", "prices.json", "--db", "orders-db"]);
    let o = option(db(&out, "orders-db"), "multi-az-instance", "ap-northeast-2a", None);
    assert_eq!(dec(&o["monthly_instance_usd"]), d("365"));
    assert!(o["price_sources"][0].as_str().unwrap().starts_with("a negotiated rate"));
    assert!(out["prices_source"].as_str().unwrap().contains("prices.json"));
    // Single-AZ still comes from the bundled table, marked as derived.
    let s = option(db(&out, "orders-db"), "single-az", "ap-northeast-2a", None);
    assert!(s["price_sources"][0].as_str().unwrap().starts_with("[derived]"));
}

#[test]
fn missing_facts_and_prices_are_clear_errors() {
    let (dir, _) = scenario();
    // Without describe-db-instances, each RDS interface is a database of its own, known by its ID.
    std::fs::remove_file(dir.path().join("network/rds-db-instances.json")).unwrap();
    std::fs::remove_file(dir.path().join("network/rds-db-clusters.json")).unwrap();
    let base = ["whatif", "rds", "--flow-logs", "flow-logs", "--network", "network", "--format", "json"];
    let run = crossaz(&base, dir.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("its engine is not known") && run.stderr.contains("--engine"), "{}", run.stderr);
    let mut args = base.to_vec();
    args.extend(["--engine", "postgres", "--class", "db.x9.large", "--storage-gb", "50", "--storage-type", "gp3"]);
    let run = crossaz(&args, dir.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("no price for a single-az postgres db.x9.large in ap-northeast-2"), "{}", run.stderr);
    assert!(run.stderr.contains("crossaz pull prices"), "{}", run.stderr);
    // With facts that have prices, every interface is priced.
    let mut args = base.to_vec();
    args.extend(["--engine", "postgres", "--class", "db.m6gd.large", "--storage-gb", "50", "--storage-type", "gp3"]);
    let run = crossaz(&args, dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    let ids: Vec<&str> = out["databases"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 6, "{ids:?}");
    assert!(ids.iter().all(|i| i.starts_with("eni-")), "{ids:?}");
}

#[test]
fn bad_prices_file_and_usage_errors() {
    let (dir, _) = scenario();
    std::fs::write(dir.path().join("bad.json"), "{\n  \"instances\": [\n    {\"region\": 5}\n  ]\n}\n").unwrap();
    let base = ["whatif", "rds", "--flow-logs", "flow-logs", "--network", "network"];
    let mut args = base.to_vec();
    args.extend(["--prices", "bad.json"]);
    let run = crossaz(&args, dir.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("invalid prices file `bad.json` at line 3"), "{}", run.stderr);
    let mut args = base.to_vec();
    args.extend(["--db", "no-such-db"]);
    let run = crossaz(&args, dir.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no database `no-such-db`"), "{}", run.stderr);
    let mut args = base.to_vec();
    args.extend(["--read-fraction", "1.5"]);
    assert_eq!(crossaz(&args, dir.path()).code, 2);
    let run = crossaz(&["whatif", "rds", "--flow-logs", "flow-logs"], dir.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("needs the network inventory"), "{}", run.stderr);
}

#[test]
fn table_and_csv_snapshots() {
    let (dir, _) = scenario();
    let mut base = vec!["whatif", "rds", "--flow-logs", "flow-logs", "--network", "network", "--k8s", "k8s"];
    let table = crossaz(&base, dir.path());
    assert_eq!(table.code, 0, "{}", table.stderr);
    insta::assert_snapshot!("rds_scenario_table", table.stdout);
    base.extend(["--format", "csv", "--db", "orders-db"]);
    let csv = crossaz(&base, dir.path());
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    insta::assert_snapshot!("rds_scenario_orders_csv", csv.stdout);
}

#[test]
fn demo_cluster_bytes_match_the_demo_truth() {
    let demo = crate::util::demo_dir();
    let run = crossaz(&["whatif", "rds", "--flow-logs", "flow-logs", "--network", "network", "--k8s", "k8s", "--format", "json"], &demo);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    let shop = db(&out, "shop-db");
    assert_eq!((shop["current_option"].as_str(), shop["current_writer_az"].as_str()), (Some("multi-az-cluster"), Some("ap-northeast-2a")));
    let truth = crate::util::truth(&demo);
    let zone: std::collections::BTreeMap<&str, &str> = crossaz::generate::world::ZONES.iter().map(|(name, id)| (*id, *name)).collect();
    let (mut by_az, mut readers, mut cross) = (std::collections::BTreeMap::<String, u64>::new(), std::collections::BTreeMap::<String, u64>::new(), 0u64);
    // Clients' traffic: the cluster members' own replication (reader → writer) is not a client's.
    for c in truth["conversations"].as_array().unwrap().iter().filter(|c| c["server_kind"] == "rds" && c["client_kind"] != "rds") {
        let bytes = c["bytes_to_server"].as_u64().unwrap() + c["bytes_to_client"].as_u64().unwrap();
        let az = zone[c["client_az_id"].as_str().unwrap()].to_string();
        *by_az.entry(az.clone()).or_default() += bytes;
        if c["server"] != "rds:shop-db-instance-1" {
            *readers.entry(az).or_default() += bytes;
        }
        if c["class"] == "cross-az-billed" {
            cross += bytes;
        }
    }
    assert_eq!(shop["client_bytes_by_az"], json!(by_az));
    assert_eq!(shop["reader_bytes_by_az"], json!(readers));
    assert_eq!(shop["today"]["cross_az_bytes"], cross);
    // 3 x db.m6gd.large PostgreSQL in Seoul ($0.783/h for the cluster) and 400 GB gp3 at $0.393.
    assert_eq!(dec(&shop["today"]["monthly_instance_usd"]), d("571.59"));
    assert_eq!(dec(&shop["today"]["monthly_storage_usd"]), d("157.2"));
}

#[test]
fn an_idle_interface_without_facts_is_left_out_with_a_note() {
    let (dir, _) = scenario();
    // An RDS interface outside every DB subnet group (another team's database), never reached.
    let subnet = {
        let s: Value = serde_json::from_slice(&std::fs::read(dir.path().join("network/subnets.json")).unwrap()).unwrap();
        s["Subnets"].as_array().unwrap().iter().find(|s| s["CidrBlock"].as_str().unwrap().starts_with("10.0.0.")).unwrap()["SubnetId"].clone()
    };
    let eni = json!({"NetworkInterfaces": [{"NetworkInterfaceId": "eni-0idle000000000001", "SubnetId": subnet, "AvailabilityZone": "ap-northeast-2a",
        "Description": "RDSNetworkInterface", "InterfaceType": "interface", "RequesterId": "amazon-rds", "RequesterManaged": true,
        "PrivateIpAddress": "10.0.0.250", "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.0.250", "Primary": true}], "Status": "in-use", "VpcId": "vpc-0a1b2c3d4e5f67890"}]});
    std::fs::write(dir.path().join("network/idle-eni.json"), eni.to_string()).unwrap();
    let out = whatif(dir.path(), &[]);
    assert_eq!(out["databases"].as_array().unwrap().len(), 3);
    assert!(out["notes"][0].as_str().unwrap().starts_with("`eni-0idle000000000001` is left out"), "{}", out["notes"]);
    // Named, it must be priced, so its facts are asked for.
    let run = crossaz(&["whatif", "rds", "--flow-logs", "flow-logs", "--network", "network", "--db", "eni-0idle000000000001"], dir.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("database `eni-0idle000000000001`: its engine is not known"), "{}", run.stderr);
}

#[test]
fn a_window_after_the_failover_sees_one_writer_az() {
    let (dir, truth) = scenario();
    let out = whatif(dir.path(), &["--from", "2026-10-16", "--db", "orders-db"]);
    let orders = db(&out, "orders-db");
    assert_eq!(out["window_hours"], 16 * 24);
    assert_eq!(orders["failovers"], json!([]));
    let days: Vec<&str> = orders["writer_timeline"].as_array().unwrap().iter().map(|d| d["writer_az"].as_str().unwrap()).collect();
    assert_eq!(days, ["ap-northeast-2b"; 16]);
    // 16 of the 31 days: every client AZ's bytes in proportion.
    for (z, b) in truth["databases"]["orders-db"]["client_bytes_by_az"].as_object().unwrap() {
        assert_eq!(orders["client_bytes_by_az"][z], b.as_u64().unwrap() / HOURS * 16 * 24, "{z}");
    }
}

#[test]
fn an_interface_alone_takes_its_facts_from_a_prices_file_that_prices_one_choice() {
    let (dir, _) = scenario();
    std::fs::remove_file(dir.path().join("network/rds-db-instances.json")).unwrap();
    std::fs::remove_file(dir.path().join("network/rds-db-clusters.json")).unwrap();
    let prices = json!({"instances": [
        {"region": "ap-northeast-2", "engine": "postgres", "class": "db.r6gd.large", "deployment": "single-az", "usd_per_hour": "0.3", "source": "s", "date": "2026-11-01"},
        {"region": "ap-northeast-2", "engine": "postgres", "class": "db.r6gd.large", "deployment": "multi-az-instance", "usd_per_hour": "0.6", "source": "s", "date": "2026-11-01"},
        {"region": "ap-northeast-2", "engine": "postgres", "class": "db.r6gd.large", "deployment": "multi-az-cluster", "usd_per_hour": "0.9", "source": "s", "date": "2026-11-01"}],
        "storage": [{"region": "ap-northeast-2", "engine": "postgres", "storage_type": "gp3", "deployment": "single-az", "usd_per_gb_month": "0.1", "source": "s", "date": "2026-11-01"},
        {"region": "ap-northeast-2", "engine": "postgres", "storage_type": "gp3", "deployment": "multi-az-instance", "usd_per_gb_month": "0.2", "source": "s", "date": "2026-11-01"},
        {"region": "ap-northeast-2", "engine": "postgres", "storage_type": "gp3", "deployment": "multi-az-cluster", "usd_per_gb_month": "0.3", "source": "s", "date": "2026-11-01"}]});
    std::fs::write(dir.path().join("prices.json"), prices.to_string()).unwrap();
    let out = whatif(dir.path(), &["--prices", "prices.json", "--storage-gb", "10"]);
    assert_eq!(out["databases"].as_array().unwrap().len(), 6);
    for x in out["databases"].as_array().unwrap() {
        assert_eq!((x["engine"].as_str(), x["class"].as_str(), x["storage_type"].as_str()), (Some("postgres"), Some("db.r6gd.large"), Some("gp3")));
        let single = x["options"].as_array().unwrap().iter().find(|o| o["option"] == "single-az").unwrap();
        assert_eq!((dec(&single["monthly_instance_usd"]), dec(&single["monthly_storage_usd"])), (d("219"), d("1")));
    }
}

#[test]
fn the_transfer_rules_table_prices_the_clients_cross_az_bytes() {
    // The what-if reads the same table as attribution: with `rds-clients` made free, no option has
    // a cross-AZ cost, and instances and storage are as before.
    let (dir, _) = scenario();
    let bundled = whatif(dir.path(), &[]);
    let text = std::fs::read_to_string(crate::util::repo().join("src/pricing/transfer-rules.json")).unwrap();
    let mut table: Value = serde_json::from_str(&text).unwrap();
    for r in table["rules"].as_array_mut().unwrap() {
        if r["id"] == "rds-clients" {
            r["billed"] = json!("none");
        }
    }
    std::fs::write(dir.path().join("rules.json"), table.to_string()).unwrap();
    let free = whatif(dir.path(), &["--transfer-rules", "rules.json"]);
    assert_eq!(dec(&free["price_per_gb_usd"]), Decimal::ZERO);
    assert_eq!(dec(&bundled["price_per_gb_usd"]), d("0.02"));
    for (a, b) in bundled["databases"].as_array().unwrap().iter().zip(free["databases"].as_array().unwrap()) {
        assert_eq!(dec(&b["today"]["monthly_cross_az_usd"]), Decimal::ZERO);
        assert!(dec(&a["today"]["monthly_cross_az_usd"]) > Decimal::ZERO);
        for (oa, ob) in a["options"].as_array().unwrap().iter().zip(b["options"].as_array().unwrap()) {
            assert_eq!(dec(&ob["monthly_cross_az_usd"]), Decimal::ZERO);
            assert_eq!(oa["monthly_instance_usd"], ob["monthly_instance_usd"]);
            assert_eq!(oa["monthly_storage_usd"], ob["monthly_storage_usd"]);
        }
    }
    // A table without a catch-all row is refused, naming the file.
    let mut bad = table.clone();
    bad["rules"].as_array_mut().unwrap().pop();
    std::fs::write(dir.path().join("bad.json"), bad.to_string()).unwrap();
    let run = crossaz(&["whatif", "rds", "--flow-logs", "flow-logs", "--network", "network", "--transfer-rules", "bad.json"], dir.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("invalid transfer rules `bad.json`") && run.stderr.contains("must match every pair"), "{}", run.stderr);
}
