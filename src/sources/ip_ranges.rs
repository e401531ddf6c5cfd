//! AWS's `ip-ranges.json` (https://ip-ranges.amazonaws.com/ip-ranges.json): the bundled copy
//! (`ip-ranges.json.gz`, dated by its `createDate`) or a newer one `crossaz pull ip-ranges` saved.

use crate::error::InputProblem;
use crate::model::aws_ranges::AwsRanges;
use crate::model::ip::Cidr;
use serde::Deserialize;
use std::io::Read;
use std::path::Path;

/// The copy shipped with crossaz (AWS's file, unchanged, gzip).
const BUNDLED: &[u8] = include_bytes!("ip-ranges.json.gz");

#[derive(Deserialize)]
struct File {
    #[serde(rename = "createDate")]
    create_date: String,
    prefixes: Vec<Prefix>,
    #[serde(default)]
    ipv6_prefixes: Vec<Prefix>,
}

#[derive(Deserialize)]
struct Prefix {
    #[serde(alias = "ipv6_prefix")]
    ip_prefix: String,
    region: String,
    service: String,
}

/// Parses the JSON of `ip-ranges.json`; `source` names it in the report.
pub fn parse(bytes: &[u8], path: &Path, source: String) -> Result<AwsRanges, InputProblem> {
    let f: File = serde_json::from_slice(bytes).map_err(|e| {
        super::json_problem(path, &e, "AWS's ip-ranges.json (`createDate`, `prefixes[].ip_prefix/region/service`)")
            .with_hint("save it again with `crossaz pull ip-ranges`, or delete it to use the bundled copy")
    })?;
    let mut r = AwsRanges::new(f.create_date, source);
    for p in f.prefixes.iter().chain(&f.ipv6_prefixes) {
        let Some(c) = Cidr::parse(&p.ip_prefix) else {
            return Err(InputProblem::new(path, None, format!("`{}` is not an address block (expected e.g. `52.219.60.0/23`)", p.ip_prefix)));
        };
        r.add(c, &p.service, &p.region);
    }
    Ok(r)
}

/// The bundled copy.
pub fn bundled() -> AwsRanges {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(BUNDLED).read_to_end(&mut text).expect("the bundled ip-ranges.json.gz inflates");
    let path = Path::new("ip-ranges.json.gz");
    let mut r = parse(&text, path, String::new()).expect("the bundled ip-ranges.json parses");
    r.source = format!("AWS ip-ranges.json of {} (bundled)", r.created);
    r
}

/// The workspace's copy when there is one, else the bundled one.
pub fn load(workspace_copy: Option<&Path>) -> Result<AwsRanges, InputProblem> {
    match workspace_copy.filter(|p| p.is_file()) {
        Some(p) => {
            let bytes = super::read_all(p)?;
            let mut r = parse(&bytes, p, String::new())?;
            r.source = format!("AWS ip-ranges.json of {} (`{}`)", r.created, p.display());
            Ok(r)
        }
        None => Ok(bundled()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bundled_copy_knows_seoul_s3() {
        let r = super::bundled();
        assert_eq!(r.created, "2026-08-22-15-17-05");
        let ip = crate::model::ip::Ip::parse_str("52.219.60.10").unwrap();
        assert_eq!(r.lookup(ip), Some(("S3", "ap-northeast-2")));
    }
}
