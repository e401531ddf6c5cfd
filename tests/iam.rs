//! docs/iam-policy.json grants exactly the actions the pulls call: every SDK operation in the code
//! is in it, and nothing else is — besides the statements `ForAthena…`, what Athena does with the
//! caller's permissions while it runs a query (Glue's catalog, the results bucket; docs/athena.md).

use crate::util::*;
use std::collections::BTreeSet;

/// `describe_db_instances` → `DescribeDBInstances`, as IAM spells actions.
fn action(service: &str, method: &str) -> String {
    if (service, method) == ("s3", "list_objects_v2") {
        return "s3:ListBucket".into();
    }
    if (service, method) == ("s3", "head_object") {
        return "s3:GetObject".into();
    }
    let pascal: String = method.split('_').map(|w| if w == "db" { "DB".to_string() } else { w[..1].to_uppercase() + &w[1..] }).collect();
    format!("{service}:{pascal}")
}

fn actions_in_code() -> BTreeSet<String> {
    let clients = [
        ("ec2", "ec2"),
        ("rds", "rds"),
        ("s3", "s3"),
        ("cwl", "logs"),
        ("ce", "ce"),
        ("client", "pricing"),
        ("eks", "eks"),
        ("exports", "bcm-data-exports"),
        ("athena", "athena"),
    ];
    let mut found = BTreeSet::new();
    for file in crossaz::sources::expand_path(&repo().join("src/sources/aws")).unwrap() {
        let text = std::fs::read_to_string(&file).unwrap();
        let tokens: Vec<&str> = text.split(|c: char| c.is_whitespace()).filter(|t| !t.is_empty()).collect();
        // `client.operation()` or `client\n    .operation()` (whitespace between is dropped here).
        let joined = tokens.join("");
        for (var, service) in clients {
            let needle = format!("{var}.");
            let mut at = 0;
            while let Some(i) = joined[at..].find(&needle) {
                let start = at + i;
                at = start + needle.len();
                if start > 0 && (joined.as_bytes()[start - 1].is_ascii_alphanumeric() || joined.as_bytes()[start - 1] == b'_') {
                    continue;
                }
                let rest = &joined[at..];
                let name: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_').collect();
                // Client methods that are not AWS operations.
                let not_operations = ["clone", "config"];
                if !name.is_empty() && !not_operations.contains(&name.as_str()) && rest[name.len()..].starts_with("()") {
                    found.insert(action(service, &name));
                }
            }
        }
    }
    found
}

#[test]
fn the_policy_lists_exactly_the_actions_the_code_calls() {
    let policy: serde_json::Value = serde_json::from_slice(&std::fs::read(repo().join("docs/iam-policy.json")).unwrap()).unwrap();
    let granted: BTreeSet<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["Sid"].as_str().unwrap().starts_with("ForAthena"))
        .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()))
        .collect();
    let used = actions_in_code();
    assert!(used.len() >= 10, "found the calls: {used:?}");
    assert_eq!(used, granted);
}
