//! The SQL in `queries/` is the same attribution as crossaz: `crossaz bench` checks it on every run.
//! (Its timings are printed, never asserted: performance is measured by the benchmark, not tests.)

use crate::util::*;

#[test]
fn duckdb_sql_agrees_with_crossaz_on_text_and_parquet() {
    let dir = tempdir();
    let run = crossaz(&["bench", "--records", "150000", "--runs", "1", "--dir", dir.path().to_str().unwrap()], &repo());
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for format in ["gzip text", "Parquet"] {
        let agree = format!("{format}: crossaz and DuckDB agree on every server's cross-AZ bytes");
        assert!(run.stdout.contains(&agree), "{}", run.stdout);
        let exact = format!("{format}: crossaz equals the generator's truth on every server");
        assert!(run.stdout.contains(&exact), "{}", run.stdout);
    }
    for engine in ["crossaz   gzip text", "DuckDB    gzip text", "crossaz   Parquet", "DuckDB    Parquet"] {
        assert!(run.stdout.contains(engine), "{}", run.stdout);
    }
}
