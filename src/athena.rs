//! The flow-log pre-aggregation that runs where the flow logs are (Amazon Athena, or DuckDB): the
//! SQL of `queries/flow_aggregates.sql` with its placeholders filled (docs/athena.md).

use crate::error::Error;
use crate::model::time::Ts;
use std::collections::BTreeSet;

pub const FLOW_AGGREGATES_SQL: &str = include_str!("../queries/flow_aggregates.sql");

/// A table name as Athena and DuckDB take it unquoted: `database.table`, letters, digits, `_`.
fn check_table(table: &str) -> Result<(), Error> {
    let ok = !table.is_empty()
        && table.split('.').count() <= 3
        && table.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !p.as_bytes()[0].is_ascii_digit());
    if ok {
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
    let body: String = FLOW_AGGREGATES_SQL.lines().filter(|l| !l.starts_with("--")).collect::<Vec<_>>().join("\n");
    Ok(body
        .replace("{{table}}", table)
        .replace("{{from}}", &from.to_string())
        .replace("{{to}}", &to.to_string())
        .replace("{{listening_ports}}", &list)
        .replace("{{keep_all_ports}}", if ports.is_none() { "1" } else { "0" })
        .trim()
        .to_string()
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
}
