//! Real sample files from other projects (fixtures/corpora, see fixtures/SOURCES.md): crossaz
//! reads them as their authors' tests expect.

use crate::util::*;
use crossaz::model::flow::{Action, Direction, FlowRecord, FlowSink, FormatTraits, LogStatus, SkipReason};
use crossaz::model::time::parse_time;
use crossaz::sources::flowlogs::format::Format;
use crossaz::sources::flowlogs::text::{LineParser, read_text_file};
use crossaz::sources::k8s::load_snapshot;
use serde_json::{Map, Value, json};
use std::path::Path;

/// The fields crossaz keeps, as JSON with the upstream (underscore) names.
fn record_json(r: &FlowRecord<'_>) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.into(), v);
        }
    };
    put("interface_id", r.interface_id.map(|s| json!(s)));
    put("resource_id", r.resource_id.map(|s| json!(s)));
    put("interface_type", r.interface_type.map(|s| json!(s)));
    put("az_id", r.az_id.map(|s| json!(s)));
    put("srcaddr", r.srcaddr.map(|s| json!(s.to_string())));
    put("dstaddr", r.dstaddr.map(|s| json!(s.to_string())));
    put("pkt_srcaddr", r.pkt_srcaddr.map(|s| json!(s.to_string())));
    put("pkt_dstaddr", r.pkt_dstaddr.map(|s| json!(s.to_string())));
    put("srcport", r.srcport.map(|v| json!(v)));
    put("dstport", r.dstport.map(|v| json!(v)));
    put("protocol", r.protocol.map(|v| json!(v)));
    put("packets", r.packets.map(|v| json!(v)));
    put("bytes", r.bytes.map(|v| json!(v)));
    put("start", r.start.map(|v| json!(v)));
    put("end", r.end.map(|v| json!(v)));
    put("traffic_path", r.traffic_path.map(|v| json!(v)));
    put("action", r.action.map(|a| json!(if a == Action::Accept { "ACCEPT" } else { "REJECT" })));
    put(
        "log_status",
        r.log_status.map(|s| {
            json!(match s {
                LogStatus::Ok => "OK",
                LogStatus::NoData => "NODATA",
                LogStatus::SkipData => "SKIPDATA",
            })
        }),
    );
    put("flow_direction", r.flow_direction.map(|d| json!(if d == Direction::Egress { "egress" } else { "ingress" })));
    m
}

/// Checks every field crossaz keeps against the upstream expectation (times may be ISO strings).
fn assert_fields(parsed: &Map<String, Value>, expected: &Map<String, Value>, what: &str) {
    let kept = [
        "interface_id",
        "resource_id",
        "interface_type",
        "az_id",
        "srcaddr",
        "dstaddr",
        "pkt_srcaddr",
        "pkt_dstaddr",
        "srcport",
        "dstport",
        "protocol",
        "packets",
        "bytes",
        "start",
        "end",
        "traffic_path",
        "action",
        "log_status",
        "flow_direction",
    ];
    // Keys the upstream case leaves out are not checked (some cases give only a few fields).
    for k in kept.iter().filter(|k| expected.contains_key(**k)) {
        let k = *k;
        let want = match expected.get(k) {
            Some(Value::String(s)) if (k == "start" || k == "end") && s.contains('T') => Some(json!(parse_time(s).unwrap())),
            Some(Value::Null) | None => None,
            Some(v) => Some(v.clone()),
        };
        assert_eq!(parsed.get(k).cloned(), want, "{what}: field `{k}`");
    }
}

fn parse_with(format: Option<&str>, line: &str) -> Result<Map<String, Value>, String> {
    let f = match format {
        Some(f) => Format::from_names(f.split_ascii_whitespace()).unwrap(),
        None => Format::default_v2(),
    };
    let mut p = LineParser::new(Path::new("corpus"), f, format.is_none());
    p.parse_record(line.as_bytes()).map(|r| record_json(&r))
}

#[test]
fn vrl_cases_parse() {
    let d: Value = serde_json::from_slice(&std::fs::read(corpus("vrl/vrl_parse_aws_vpc_flow_log_cases.json")).unwrap()).unwrap();
    let mut n = 0;
    for g in d["parse_ok_groups"].as_array().unwrap() {
        for r in g["records"].as_array().unwrap() {
            parse_with(g["format"].as_str(), r.as_str().unwrap()).unwrap_or_else(|e| panic!("{r}: {e}"));
            n += 1;
        }
    }
    assert_eq!(n, 30);
    for c in d["full_expected_cases"].as_array().unwrap() {
        let parsed = parse_with(c["format"].as_str(), c["record"].as_str().unwrap()).unwrap();
        assert_fields(&parsed, c["expected"].as_object().unwrap(), c["name"].as_str().unwrap());
    }
}

#[test]
fn aws_documentation_examples_parse() {
    let d: Value = serde_json::from_slice(&std::fs::read(corpus("aws-docs/flow_log_record_examples.json")).unwrap()).unwrap();
    let examples = d["examples"].as_array().unwrap();
    assert_eq!(examples.len(), 27);
    for e in examples {
        let parsed = parse_with(e["format"].as_str(), e["record"].as_str().unwrap()).unwrap_or_else(|err| panic!("{e}: {err}"));
        let record = e["record"].as_str().unwrap();
        if record.ends_with("NODATA") {
            assert_eq!(parsed["log_status"], "NODATA");
            assert!(!parsed.contains_key("bytes"));
        }
        if record.contains(" REJECT ") {
            assert_eq!(parsed["action"], "REJECT");
        }
    }
    // The NAT gateway example: the pod/instance address survives only in pkt-srcaddr/pkt-dstaddr.
    let nat = &examples.iter().find(|e| e["section"] == "Traffic through a NAT gateway").unwrap();
    let parsed = parse_with(nat["format"].as_str(), nat["record"].as_str().unwrap()).unwrap();
    assert_eq!((parsed["dstaddr"].as_str(), parsed["pkt_dstaddr"].as_str()), (Some("10.0.0.220"), Some("203.0.113.5")));
}

#[derive(Default)]
struct Collect {
    records: Vec<Map<String, Value>>,
    skips: Vec<(SkipReason, u64, String)>,
    traits: Vec<FormatTraits>,
}

impl FlowSink for Collect {
    fn set_format(&mut self, traits: FormatTraits) {
        self.traits.push(traits);
    }
    fn record(&mut self, r: &FlowRecord<'_>, _line: u64) {
        self.records.push(record_json(r));
    }
    fn skip(&mut self, reason: SkipReason, line: u64, detail: &str, _records: u64) {
        self.skips.push((reason, line, detail.to_string()));
    }
}

fn read(path: &Path) -> (Collect, crossaz::sources::flowlogs::text::FileOutcome) {
    let mut c = Collect::default();
    let out = read_text_file(path, &Format::default_v2(), true, &mut c);
    (c, out)
}

#[test]
fn otel_collector_samples() {
    let (c, out) = read(&corpus("otel-contrib/testdata/valid_vpc_flow_log.log"));
    assert!(out.problems.is_empty() && c.skips.is_empty());
    assert_eq!(c.records.len(), 1);
    assert_eq!(c.records[0]["log_status"], "NODATA");

    let (c, _) = read(&corpus("otel-contrib/testdata/valid_vpc_flow_log_multi.log"));
    assert_eq!(c.records.len(), 2, "the last record has no trailing newline");
    assert_eq!(c.records[1]["action"], "REJECT");

    let (c, out) = read(&corpus("otel-contrib/testdata/valid_vpc_flow_log_ecs.log"));
    assert!(out.problems.is_empty() && out.warnings.is_empty());
    assert_eq!(c.records.len(), 1);
    assert_eq!(c.records[0]["bytes"], 3500);

    for (file, found) in [("vpc_flow_log_too_few_fields.log", 13), ("vpc_flow_log_too_many_fields.log", 15)] {
        let (c, _) = read(&corpus(&format!("otel-contrib/testdata/{file}")));
        assert!(c.records.is_empty());
        assert_eq!(c.skips, vec![(SkipReason::Malformed, 2, format!("expected 14 fields (as the header says), found {found}"))]);
    }

    let (c, out) = read(&corpus("otel-contrib/testdata/valid_tgw_flow_log.log"));
    assert!(c.records.is_empty());
    assert_eq!(c.skips.len(), 1);
    assert!(out.problems[0].what.contains("Transit Gateway flow log"), "{}", out.problems[0]);

    let (c, _) = read(&corpus("otel-contrib/testdata/valid_vpc_flow_cw_custom.json"));
    assert!(c.records.is_empty());
    assert!(c.skips.iter().all(|s| s.0 == SkipReason::Malformed));
}

#[test]
fn flowlogs_reader_files() {
    let d: Value = serde_json::from_slice(&std::fs::read(corpus("flowlogs-reader/flowlogs_reader_cases.json")).unwrap()).unwrap();
    let (c, out) = read(&corpus("flowlogs-reader/v2_records.txt"));
    assert!(out.problems.is_empty() && c.skips.is_empty());
    let status: Vec<&str> = c.records.iter().map(|r| r["log_status"].as_str().unwrap()).collect();
    assert_eq!(status, ["OK", "OK", "OK", "NODATA", "SKIPDATA"]);
    for case in d["cases"].as_array().unwrap() {
        if let (Some(record), Some(expected)) = (case["record"].as_str(), case["expected"].as_object()) {
            let parsed = parse_with(None, record).unwrap();
            assert_fields(&parsed, expected, case["name"].as_str().unwrap());
        }
        if let (Some(file), Some(expected)) = (case["input_file"].as_str(), case["expected_records"].as_array()) {
            let (c, out) = read(&corpus(&format!("flowlogs-reader/{file}")));
            assert!(out.problems.is_empty() && out.warnings.is_empty());
            assert_eq!(c.records.len(), expected.len());
            assert!(c.traits.iter().any(|t| t.has_pkt_addresses));
            for (p, e) in c.records.iter().zip(expected) {
                assert_fields(p, e.as_object().unwrap(), file);
            }
        }
    }
}

#[test]
fn kubectl_objects_and_lists() {
    let s = load_snapshot(&corpus("kubectl/kubectl-neat/list1-raw.json")).unwrap();
    let pods: Vec<(String, String)> = s.pods.iter().map(|p| (p.name.clone(), p.ips[0].to_string())).collect();
    assert_eq!(pods, [("t1".to_string(), "10.244.0.5".to_string()), ("t2".to_string(), "10.244.0.7".to_string())]);
    assert_eq!(s.time, None);

    let s = load_snapshot(&corpus("kubectl/kubectl-neat/pod1-raw.json")).unwrap();
    assert_eq!(s.pods.len(), 1);
    let s = load_snapshot(&corpus("kubectl/kubectl-neat/service1-raw.json")).unwrap();
    assert_eq!(s.services.len(), 1);

    let s = load_snapshot(&corpus("kubectl/k9s/node_no.json")).unwrap();
    let n = &s.nodes[0];
    assert_eq!((n.zone_name(), n.is_control_plane(), n.allocatable_cpu_milli), (None, true, Some(4000)));
    let s = load_snapshot(&corpus("kubectl/k9s/node_n1.json")).unwrap();
    assert_eq!(s.nodes.len(), 1);

    let s = load_snapshot(&corpus("kubectl/k9s/endpointslice_eps.json")).unwrap();
    let e = &s.slices[0];
    assert_eq!((e.service.as_deref(), e.endpoints.len(), e.endpoints[0].zone.as_deref()), (None, 2, None));
    assert_eq!(e.ports[0].port, Some(4244));

    let s = load_snapshot(&corpus("kubectl/k8s-docs/endpointslice_with_hints_example.json")).unwrap();
    let e = &s.slices[0];
    assert_eq!(e.service.as_deref(), Some("example-svc"));
    assert_eq!(e.endpoints[0].hints_for_zones, Some(vec!["zone-a".to_string()]));

    for f in ["kubectl/k9s/pod_po.json", "kubectl/k9s/service_svc.json"] {
        load_snapshot(&corpus(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
}

#[test]
fn repeated_and_changing_header_lines() {
    // As S3 objects can hold: the header again mid-file (same or reordered fields), blank lines,
    // a Windows line end and a run of spaces.
    let dir = tempdir();
    let path = dir.path().join("mixed.log");
    let text = "version interface-id srcaddr dstaddr bytes start\n\
                2 eni-1 10.0.0.1 10.0.0.2 100 1790812800\n\
                \n\
                version interface-id srcaddr dstaddr bytes start\n\
                2 eni-1 10.0.0.1  10.0.0.2 200 1790812801\r\n\
                start bytes dstaddr srcaddr interface-id version\n\
                1790812802 300 10.0.0.2 10.0.0.1 eni-1 2\n";
    std::fs::write(&path, text).unwrap();
    let (c, out) = read(&path);
    assert!(out.problems.is_empty() && c.skips.is_empty(), "{:?} {:?}", out.problems, c.skips);
    let got: Vec<(u64, i64)> = c.records.iter().map(|r| (r["bytes"].as_u64().unwrap(), r["start"].as_i64().unwrap())).collect();
    assert_eq!(got, [(100, 1790812800), (200, 1790812801), (300, 1790812802)]);
}
