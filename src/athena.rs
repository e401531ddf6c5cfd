//! The flow-log pre-aggregation that runs where the flow logs are (Amazon Athena, or DuckDB): the
//! SQL of `queries/flow_aggregates.sql` with its placeholders filled, and the DDL of the table it
//! reads (`queries/athena_*.sql`) for each layout of a flow-log bucket (docs/athena.md).

use crate::error::Error;
use crate::model::time::Ts;
use chrono::DateTime;
use std::collections::BTreeSet;

pub const FLOW_AGGREGATES_SQL: &str = include_str!("../queries/flow_aggregates.sql");
const DATABASE_DDL: &str = include_str!("../queries/athena_database.sql");
const PARQUET_TABLE_DDL: &str = include_str!("../queries/athena_table_parquet.sql");
const TEXT_TABLE_DDL: &str = include_str!("../queries/athena_table_text.sql");
const VIEW_DDL: &str = include_str!("../queries/athena_view.sql");
const PROJECTION: &str = include_str!("../queries/athena_projection.sql");

/// Margin around the window when choosing date folders: a record lands in the folder of its file,
/// which is named by the end of the five minutes its records end in (docs/domain.md A4), and a
/// record ends at most one aggregation interval (600 s) after it starts.
const FOLDER_MARGIN_SECONDS: i64 = 3600;

/// The columns of AWS's Parquet flow logs, in AWS's order, with the types of AWS's Athena DDL.
pub const PARQUET_COLUMNS: [(&str, &str); 29] = [
    ("version", "int"),
    ("account_id", "string"),
    ("interface_id", "string"),
    ("srcaddr", "string"),
    ("dstaddr", "string"),
    ("srcport", "int"),
    ("dstport", "int"),
    ("protocol", "bigint"),
    ("packets", "bigint"),
    ("bytes", "bigint"),
    ("start", "bigint"),
    ("end", "bigint"),
    ("action", "string"),
    ("log_status", "string"),
    ("vpc_id", "string"),
    ("subnet_id", "string"),
    ("instance_id", "string"),
    ("tcp_flags", "int"),
    ("type", "string"),
    ("pkt_srcaddr", "string"),
    ("pkt_dstaddr", "string"),
    ("region", "string"),
    ("az_id", "string"),
    ("sublocation_type", "string"),
    ("sublocation_id", "string"),
    ("pkt_src_aws_service", "string"),
    ("pkt_dst_aws_service", "string"),
    ("flow_direction", "string"),
    ("traffic_path", "int"),
];

/// AWS's default flow-log format: what a text flow log holds when no format was given.
pub const DEFAULT_LOG_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}";

/// How the flow log's files are stored (its `DestinationOptions.FileFormat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    Text,
    Parquet,
}

/// Where a flow log puts its objects: the default or the Hive-compatible prefix, with daily or
/// per-hour folders (`DestinationOptions.HiveCompatiblePartitions`, `PerHourPartition`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub hive: bool,
    pub per_hour: bool,
}

impl Layout {
    pub const ALL: [Layout; 4] = [
        Layout { hive: false, per_hour: false },
        Layout { hive: false, per_hour: true },
        Layout { hive: true, per_hour: false },
        Layout { hive: true, per_hour: true },
    ];

    /// The date folders as a Java date pattern (partition projection's `format`).
    pub fn java_date_format(self) -> &'static str {
        match (self.hive, self.per_hour) {
            (false, false) => "yyyy/MM/dd",
            (false, true) => "yyyy/MM/dd/HH",
            (true, false) => "'year='yyyy/'month='MM/'day='dd",
            (true, true) => "'year='yyyy/'month='MM/'day='dd/'hour='HH",
        }
    }

    /// The same pattern for chrono.
    fn chrono_date_format(self) -> &'static str {
        match (self.hive, self.per_hour) {
            (false, false) => "%Y/%m/%d",
            (false, true) => "%Y/%m/%d/%H",
            (true, false) => "year=%Y/month=%m/day=%d",
            (true, true) => "year=%Y/month=%m/day=%d/hour=%H",
        }
    }

    /// The date folder a time falls in.
    pub fn folder(self, t: Ts) -> String {
        DateTime::from_timestamp(t, 0).unwrap_or_default().format(self.chrono_date_format()).to_string()
    }

    /// The prefix of one account, region and date under `AWSLogs/`.
    fn template(self, root: &str) -> String {
        if self.hive {
            format!("{root}aws-account-id=${{log_account}}/aws-service=vpcflowlogs/aws-region=${{log_region}}/${{log_date}}/")
        } else {
            format!("{root}${{log_account}}/vpcflowlogs/${{log_region}}/${{log_date}}/")
        }
    }
}

/// What `crossaz athena setup` creates.
#[derive(Clone, Debug)]
pub struct TableSpec {
    pub bucket: String,
    /// The flow log's key prefix before `AWSLogs/`, if any.
    pub prefix: Option<String>,
    pub format: FileFormat,
    pub layout: Layout,
    pub database: String,
    pub table: String,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// The first date folder partition projection considers.
    pub since: Ts,
    /// A text flow log's format string (`${field} …`); AWS's default when none.
    pub log_format: Option<String>,
}

/// A name Athena takes unquoted: letters, digits, `_`, not starting with a digit.
fn check_name(what: &str, name: &str) -> Result<(), Error> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !name.as_bytes()[0].is_ascii_digit() {
        Ok(())
    } else {
        Err(Error::usage(format!("`{name}` is not a {what} name crossaz puts in SQL")).hint("use letters, digits and `_`"))
    }
}

/// A value crossaz puts inside a DDL string literal: no quotes, backslashes or commas.
fn check_literal(what: &str, value: &str) -> Result<(), Error> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'\'' | b'\\' | b',' | b'"')) {
        Ok(())
    } else {
        Err(Error::usage(format!("`{value}` is not a valid {what}")))
    }
}

/// A text format's fields with the names of the Parquet columns (`${pkt-srcaddr}` → `pkt_srcaddr`).
pub fn text_columns(log_format: &str) -> Result<Vec<String>, Error> {
    let fields: Vec<String> =
        log_format.split_whitespace().map(|t| t.trim_start_matches("${").trim_end_matches('}').replace('-', "_").to_ascii_lowercase()).collect();
    if fields.is_empty() {
        return Err(
            Error::usage("the flow-log format is empty").hint(format!("give the format string the flow log was created with, e.g. `{DEFAULT_LOG_FORMAT}`"))
        );
    }
    for f in &fields {
        check_name("flow-log field", f).map_err(|e| e.hint("fields are written `${field-name}`, separated by spaces"))?;
    }
    Ok(fields)
}

impl TableSpec {
    /// `s3://bucket/prefix/AWSLogs/`.
    pub fn location(&self) -> String {
        match self.prefix.as_deref().map(|p| p.trim_matches('/')).filter(|p| !p.is_empty()) {
            Some(p) => format!("s3://{}/{p}/AWSLogs/", self.bucket),
            None => format!("s3://{}/AWSLogs/", self.bucket),
        }
    }

    /// The view the pre-aggregation reads.
    pub fn query_table(&self) -> String {
        format!("{}.{}", self.database, self.table)
    }

    fn check(&self) -> Result<(), Error> {
        check_name("database", &self.database)?;
        check_name("table", &self.table)?;
        check_literal("bucket", &self.bucket)?;
        if let Some(p) = &self.prefix {
            check_literal("prefix", p)?;
            if p.trim_matches('/').split('/').any(|part| part == "AWSLogs") {
                return Err(Error::usage("`--prefix` is the part before `AWSLogs/`").hint("leave `AWSLogs/…` out: crossaz adds it"));
            }
        }
        if self.accounts.is_empty() || self.regions.is_empty() {
            return Err(Error::usage("the accounts and regions that deliver flow logs to the bucket are needed")
                .hint("pass `--account ID…` and `--logs-region REGION…` (partition projection lists them)"));
        }
        for a in &self.accounts {
            if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::usage(format!("`{a}` is not an AWS account ID")).hint("an account ID is 12 digits"));
            }
        }
        for r in &self.regions {
            check_literal("region", r)?;
        }
        Ok(())
    }

    /// The statements, in order: the database, the table, and for text the view with Parquet's columns.
    pub fn ddl(&self) -> Result<Vec<String>, Error> {
        self.check()?;
        let fill_partitions = |sql: &str| {
            let first = self.layout.folder(self.since);
            sql.replace("{{projection}}", &strip_comments(PROJECTION))
                .replace("{{location}}", &self.location())
                .replace("{{location_template}}", &self.layout.template(&self.location()))
                .replace("{{accounts}}", &self.accounts.join(","))
                .replace("{{regions}}", &self.regions.join(","))
                // Inside a Hive string literal a quote is written `\'`.
                .replace("{{date_format}}", &self.layout.java_date_format().replace('\'', "\\'"))
                .replace("{{date_range}}", &format!("{first},NOW"))
                .replace("{{interval_unit}}", if self.layout.per_hour { "HOURS" } else { "DAYS" })
        };
        let mut out = vec![strip_comments(DATABASE_DDL).replace("{{database}}", &self.database)];
        // The table under the view, and which Parquet columns it has.
        let (table, fields): (String, Vec<String>) = match self.format {
            FileFormat::Parquet => {
                let table = format!("{}_parquet", self.table);
                out.push(fill_partitions(&strip_comments(PARQUET_TABLE_DDL).replace("{{database}}", &self.database).replace("{{table}}", &table)));
                (table, PARQUET_COLUMNS.iter().map(|(c, _)| c.to_string()).collect())
            }
            FileFormat::Text => {
                let fields = text_columns(self.log_format.as_deref().unwrap_or(DEFAULT_LOG_FORMAT))?;
                let type_of = |f: &str| PARQUET_COLUMNS.iter().find(|(c, _)| *c == f).map_or("string", |(_, t)| t);
                let columns = fields.iter().map(|f| format!("    `{f}` {}", type_of(f))).collect::<Vec<_>>().join(",\n");
                let table = format!("{}_text", self.table);
                out.push(fill_partitions(
                    &strip_comments(TEXT_TABLE_DDL).replace("{{database}}", &self.database).replace("{{table}}", &table).replace("{{columns}}", &columns),
                ));
                (table, fields)
            }
        };
        let view_columns = PARQUET_COLUMNS
            .iter()
            .map(|(c, t)| {
                let sql_type = match *t {
                    "string" => "varchar",
                    other => other,
                };
                if fields.iter().any(|f| f == c) { format!("    \"{c}\"") } else { format!("    CAST(NULL AS {sql_type}) AS \"{c}\"") }
            })
            .collect::<Vec<_>>()
            .join(",\n");
        out.push(
            strip_comments(VIEW_DDL)
                .replace("{{database}}", &self.database)
                .replace("{{view}}", &self.table)
                .replace("{{table}}", &table)
                .replace("{{columns}}", &view_columns),
        );
        Ok(out)
    }
}

/// A query file without its `--` comment lines and surrounding blank lines (indentation kept).
fn strip_comments(sql: &str) -> String {
    sql.lines().filter(|l| !l.starts_with("--")).collect::<Vec<_>>().join("\n").trim_matches('\n').trim_end().to_string()
}

/// The date folders that can hold records starting in `[from, to)`, in every layout. Hourly
/// folders sort as text, so a range gives them; a day folder is a prefix of its hours' folders,
/// so days are listed: then no layout's folder falls in another layout's part.
pub fn log_date_ranges(from: Ts, to: Ts) -> String {
    let (lo, hi) = (from - FOLDER_MARGIN_SECONDS, to + FOLDER_MARGIN_SECONDS);
    Layout::ALL
        .iter()
        .map(|l| {
            if l.per_hour {
                format!("log_date BETWEEN '{}' AND '{}'", l.folder(lo), l.folder(hi))
            } else {
                let days: Vec<String> = (lo.div_euclid(86_400)..=hi.div_euclid(86_400)).map(|d| format!("'{}'", l.folder(d * 86_400))).collect();
                format!("log_date IN ({})", days.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// A table name as Athena and DuckDB take it unquoted: `database.table`, each part a name.
fn check_table(table: &str) -> Result<(), Error> {
    if table.split('.').count() <= 3 && table.split('.').all(|p| check_name("table", p).is_ok()) {
        Ok(())
    } else {
        Err(Error::usage(format!("`{table}` is not a table name crossaz puts in SQL")).hint("use `database.table` with letters, digits and `_`"))
    }
}

/// The pre-aggregation over `table` for `[from, to)`. `ports`: every port a Service or NodePort
/// match can name (from the Kubernetes snapshots); `None` keeps every port.
pub fn flow_aggregates_sql(table: &str, from: Ts, to: Ts, ports: Option<&BTreeSet<u16>>) -> Result<String, Error> {
    check_table(table)?;
    if to <= from {
        return Err(Error::usage("`--to` must be later than `--from`"));
    }
    let list = match ports {
        Some(p) if !p.is_empty() => p.iter().map(u16::to_string).collect::<Vec<_>>().join(", "),
        // `IN ()` is not SQL: a port no record has.
        _ => "-1".to_string(),
    };
    Ok(strip_comments(FLOW_AGGREGATES_SQL)
        .replace("{{table}}", table)
        .replace("{{log_date_ranges}}", &log_date_ranges(from, to))
        .replace("{{from}}", &from.to_string())
        .replace("{{to}}", &to.to_string())
        .replace("{{listening_ports}}", &list)
        .replace("{{keep_all_ports}}", if ports.is_none() { "1" } else { "0" })
        + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_names_checked() {
        let ports: BTreeSet<u16> = [80, 5432, 30080].into();
        let sql = flow_aggregates_sql("vpc.flow_logs", 100, 200, Some(&ports)).unwrap();
        assert!(!sql.contains("{{") && sql.contains("FROM vpc.flow_logs") && sql.contains("start >= 100 AND start < 200"));
        assert!(sql.contains("srcport IN (80, 5432, 30080)") && sql.contains("0 = 1 OR"));
        assert!(flow_aggregates_sql("vpc.flow_logs", 100, 200, None).unwrap().contains("1 = 1 OR srcport IN (-1)"));
        assert!(flow_aggregates_sql("x; DROP TABLE y", 100, 200, None).is_err());
        assert!(flow_aggregates_sql("t", 200, 100, None).is_err());
    }

    /// A folder of one layout falls in another layout's range only when it is in its own: the
    /// four ranges can be given together, so one query serves every layout.
    #[test]
    fn the_layouts_ranges_do_not_overlap() {
        let (from, to) = (1_790_812_800, 1_790_812_800 + 2 * 86_400 + 3_600 * 5);
        let sql = log_date_ranges(from, to);
        // The predicate, evaluated as Athena and DuckDB do on one folder name.
        let matches = |v: &str| {
            sql.split(" OR ").any(|part| match part.strip_prefix("log_date BETWEEN ") {
                Some(r) => {
                    let (lo, hi) = r.split_once(" AND ").unwrap();
                    lo.trim_matches('\'') <= v && v <= hi.trim_matches('\'')
                }
                None => part.contains(&format!("'{v}'")),
            })
        };
        for l in Layout::ALL {
            for t in (from - 3 * 86_400..to + 3 * 86_400).step_by(1_800) {
                let v = l.folder(t);
                let own = if l.per_hour {
                    t.div_euclid(3600) >= (from - 3600).div_euclid(3600) && t.div_euclid(3600) <= (to + 3600).div_euclid(3600)
                } else {
                    t.div_euclid(86_400) >= (from - 3600).div_euclid(86_400) && t.div_euclid(86_400) <= (to + 3600).div_euclid(86_400)
                };
                assert_eq!(matches(&v), own, "{l:?} {v}");
                // Every record of the window is in a folder the predicate keeps.
                if t >= from && t < to + 600 {
                    assert!(own, "{l:?} {v}");
                }
            }
        }
        let month = log_date_ranges(1_790_812_800, 1_793_491_200);
        assert!(month.starts_with("log_date IN ('2026/09/30', '2026/10/01', "), "{month}");
        assert!(
            month.contains("'2026/11/01') OR log_date BETWEEN '2026/09/30/23' AND '2026/11/01/01' OR log_date IN ('year=2026/month=09/day=30', "),
            "{month}"
        );
        assert!(month.ends_with("log_date BETWEEN 'year=2026/month=09/day=30/hour=23' AND 'year=2026/month=11/day=01/hour=01'"), "{month}");
    }

    fn spec(format: FileFormat, layout: Layout) -> TableSpec {
        TableSpec {
            bucket: "central-flow-logs".into(),
            prefix: Some("eks/".into()),
            format,
            layout,
            database: "crossaz".into(),
            table: "flow_logs".into(),
            accounts: vec!["111122223333".into(), "444455556666".into()],
            regions: vec!["eu-west-1".into()],
            since: 1_633_046_400,
            log_format: None,
        }
    }

    #[test]
    fn the_ddl_follows_the_layout() {
        let hive_hourly = spec(FileFormat::Parquet, Layout { hive: true, per_hour: true }).ddl().unwrap();
        assert_eq!(hive_hourly[0], "CREATE DATABASE IF NOT EXISTS crossaz");
        let t = &hive_hourly[1];
        assert!(t.contains("LOCATION 's3://central-flow-logs/eks/AWSLogs/'"), "{t}");
        assert!(t.contains("'storage.location.template' = 's3://central-flow-logs/eks/AWSLogs/aws-account-id=${log_account}/aws-service=vpcflowlogs/aws-region=${log_region}/${log_date}/'"), "{t}");
        assert!(t.contains("'projection.log_date.format' = '\\'year=\\'yyyy/\\'month=\\'MM/\\'day=\\'dd/\\'hour=\\'HH'"), "{t}");
        assert!(t.contains("'projection.log_date.range' = 'year=2021/month=10/day=01/hour=00,NOW'") && t.contains("= 'HOURS'"), "{t}");
        assert!(t.contains("'projection.log_account.values' = '111122223333,444455556666'") && t.contains("STORED AS PARQUET"), "{t}");
        let text = spec(FileFormat::Text, Layout { hive: false, per_hour: false }).ddl().unwrap();
        assert_eq!(text.len(), 3);
        assert!(text[1].contains("CREATE EXTERNAL TABLE IF NOT EXISTS crossaz.flow_logs_text (\n    `version` int,\n    `account_id` string,"), "{}", text[1]);
        assert!(text[1].contains("${log_account}/vpcflowlogs/${log_region}/${log_date}/'") && text[1].contains("'yyyy/MM/dd'"), "{}", text[1]);
        assert!(text[1].contains("`log_status` string\n)") && text[1].contains("NULL DEFINED AS '-'"), "{}", text[1]);
        assert!(text[2].contains("CREATE OR REPLACE VIEW crossaz.flow_logs AS") && text[2].contains("CAST(NULL AS varchar) AS \"pkt_srcaddr\""), "{}", text[2]);
        assert!(text[2].contains("    \"bytes\",") && text[2].contains("FROM crossaz.flow_logs_text"), "{}", text[2]);
        let mut bad = spec(FileFormat::Parquet, Layout::ALL[0]);
        bad.prefix = Some("x/AWSLogs".into());
        assert!(bad.ddl().is_err());
        bad.prefix = None;
        bad.accounts = vec!["12345".into()];
        assert!(bad.ddl().is_err());
    }
}
