//! `crossaz.toml`: what `crossaz setup` found, so that other commands need no flags.
//! Precedence, as in uv: the file < environment variables (`CROSSAZ_…`) < flags. docs/config.md
//! documents every key.

use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "crossaz.toml";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The workspace directory (relative paths are relative to the file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The AWS profile to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The account that owns the VPC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub flow_logs: FlowLogs,
    #[serde(default, skip_serializing_if = "is_default")]
    pub billing: Billing,
    #[serde(default, skip_serializing_if = "is_default")]
    pub pricing: Pricing,
    #[serde(default, skip_serializing_if = "is_default")]
    pub output: Output,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowLogs {
    /// The flow log's id (`fl-…`), for reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// S3 destination: the bucket and the prefix before `AWSLogs/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// CloudWatch Logs destination instead of S3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group: Option<String>,
    /// The flow log's format string (`${version} …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// `plain-text` or `parquet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hive_compatible: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_hour: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Billing {
    /// `cost-explorer` (the default) or `cur`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// A CUR or FOCUS export: its name, bucket and prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    /// Inter-AZ rates per region (`--rates`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rates: Option<PathBuf>,
    /// RDS prices (`whatif rds --prices`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rds_prices: Option<PathBuf>,
    /// NAT gateway and VPC endpoint prices (`whatif paths --prices`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prices: Option<PathBuf>,
    /// Which paths AWS bills (`--transfer-rules`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_rules: Option<PathBuf>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Output {
    /// The default `--by` of `attribute`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The default `--format` of `attribute`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

fn is_default<T: Default + PartialEq>(t: &T) -> bool {
    *t == T::default()
}

/// Every key the file may hold, by table (`""` for the top level).
const KEYS: &[(&str, &[&str])] = &[
    ("", &["workspace", "region", "profile", "account", "vpc", "cluster", "flow_logs", "billing", "pricing", "output"]),
    ("flow_logs", &["id", "bucket", "prefix", "log_group", "format", "file_format", "hive_compatible", "per_hour"]),
    ("billing", &["source", "export", "bucket", "prefix"]),
    ("pricing", &["rates", "rds_prices", "path_prices", "transfer_rules"]),
    ("output", &["by", "format"]),
];

/// The loaded file, and where it was.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    pub config: Config,
    pub path: Option<PathBuf>,
}

impl Loaded {
    /// The folder that holds the file.
    pub fn dir(&self) -> Option<PathBuf> {
        self.path.as_ref().and_then(|p| p.parent()).map(Path::to_path_buf)
    }

    /// The file's `workspace`, else the folder that holds the file.
    pub fn workspace(&self) -> Option<PathBuf> {
        self.path_of(&self.config.workspace).or_else(|| self.dir())
    }

    /// A path from the file, relative to the file's directory.
    pub fn path_of(&self, p: &Option<PathBuf>) -> Option<PathBuf> {
        let p = p.as_ref()?;
        Some(match &self.path {
            Some(file) if p.is_relative() => file.parent().unwrap_or(Path::new(".")).join(p),
            _ => p.clone(),
        })
    }
}

/// Finds and reads the configuration: `--config` (or `CROSSAZ_CONFIG`), else `crossaz.toml` in
/// the workspace (`--workspace`, `CROSSAZ_WORKSPACE`, else `./crossaz-data`), else none.
pub fn load(explicit: Option<&Path>, workspace: Option<&Path>) -> Result<Loaded, Error> {
    let path = match explicit {
        Some(p) => {
            if !p.is_file() {
                return Err(Error::usage(format!("no configuration file at `{}`", p.display())).hint("write one with `crossaz setup --cluster NAME`"));
            }
            p.to_path_buf()
        }
        None => {
            let ws = workspace.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(crate::workspace::DEFAULT));
            let p = ws.join(FILE_NAME);
            if !p.is_file() {
                return Ok(Loaded::default());
            }
            p
        }
    };
    let text = crate::limits::read_text(&path, crate::limits::MAX_CONFIG_BYTES, "a crossaz configuration")?;
    Ok(Loaded { config: parse(&text, &path)?, path: Some(path) })
}

/// Parses the file; an unknown key is an error naming it, its line and the nearest valid key.
pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
    let bad = |what: String, hint: String| Error::usage(format!("`{}`: {what}", path.display())).hint(hint);
    let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        bad(format!("not valid TOML{}: {}", line.map(|l| format!(" (line {l})")).unwrap_or_default(), e.message()), "see docs/config.md for the format".into())
    })?;
    check_keys(&doc, "", text).map_err(|(key, line, nearest)| {
        bad(
            format!("unknown key `{key}` at line {line}"),
            match nearest {
                Some(n) => format!("did you mean `{n}`? (docs/config.md lists every key)"),
                None => "docs/config.md lists every key".into(),
            },
        )
    })?;
    toml::from_str(text).map_err(|e: toml::de::Error| bad(e.message().to_string(), "docs/config.md gives each key's type".into()))
}

fn check_keys(table: &toml::Table, at: &str, text: &str) -> Result<(), (String, usize, Option<String>)> {
    let valid = KEYS.iter().find(|(t, _)| *t == at).map(|(_, k)| *k).unwrap_or(&[]);
    for (key, value) in table {
        let full = if at.is_empty() { key.clone() } else { format!("{at}.{key}") };
        if !valid.contains(&key.as_str()) {
            let line = line_of(text, key);
            let nearest = valid
                .iter()
                .map(|v| (strsim::levenshtein(v, key), *v))
                .filter(|(d, _)| *d <= 3)
                .min()
                .map(|(_, v)| if at.is_empty() { v.to_string() } else { format!("{at}.{v}") });
            return Err((full, line, nearest));
        }
        if let toml::Value::Table(t) = value {
            check_keys(t, key, text)?;
        }
    }
    Ok(())
}

/// The first line that starts with the key (or the table header naming it).
fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key).is_some_and(|r| r.trim_start().starts_with('=')) || l.trim_start_matches('[').starts_with(&format!("{key}]"))
        })
        .map(|i| i + 1)
        .unwrap_or(0)
}

/// Writes the configuration into the workspace, atomically, and returns where.
pub fn write(config: &Config, dir: &Path) -> Result<PathBuf, Error> {
    fs_err::create_dir_all(dir).map_err(|e| Error::failure(format!("could not create `{}`", dir.display())).caused_by(e))?;
    let path = dir.join(FILE_NAME);
    let body = toml::to_string_pretty(config).map_err(|e| Error::failure("failed to write TOML").caused_by(e))?;
    let text = format!("# Written by `crossaz setup`; flags and CROSSAZ_* variables override it (docs/config.md).\n{body}");
    crate::write::atomic_write(&path, text.as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_key_and_names_unknown_ones() {
        let text = r#"
workspace = "ws"
region = "ap-northeast-2"
vpc = "vpc-1"
cluster = "prod"
[flow_logs]
bucket = "b"
prefix = "p"
[output]
by = "workload"
"#;
        let c = parse(text, Path::new("crossaz.toml")).unwrap();
        assert_eq!((c.vpc.as_deref(), c.flow_logs.bucket.as_deref(), c.output.by.as_deref()), (Some("vpc-1"), Some("b"), Some("workload")));
        let e = parse("regoin = \"x\"\n", Path::new("c.toml")).unwrap_err();
        assert!(e.message.contains("unknown key `regoin` at line 1"), "{}", e.message);
        assert_eq!(e.hint.as_deref(), Some("did you mean `region`? (docs/config.md lists every key)"));
        let e = parse("[flow_logs]\nbukcet = \"x\"\n", Path::new("c.toml")).unwrap_err();
        assert!(e.message.contains("unknown key `flow_logs.bukcet` at line 2"), "{}", e.message);
        assert!(e.hint.unwrap().contains("`flow_logs.bucket`"));
        let e = parse("vpc = 3\n", Path::new("c.toml")).unwrap_err();
        assert!(e.message.contains("invalid type"), "{}", e.message);
        let e = parse("vpc = \n", Path::new("c.toml")).unwrap_err();
        assert!(e.message.contains("not valid TOML (line 1)"), "{}", e.message);
    }

    #[test]
    fn written_files_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config { vpc: Some("vpc-1".into()), flow_logs: FlowLogs { bucket: Some("b".into()), ..FlowLogs::default() }, ..Config::default() };
        let p = write(&c, dir.path()).unwrap();
        assert_eq!(load(None, Some(dir.path())).unwrap().config, c);
        assert_eq!(load(Some(&p), None).unwrap().path.as_deref(), Some(p.as_path()));
    }
}
