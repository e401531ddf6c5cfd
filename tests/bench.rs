//! The SQL in `queries/` is the same attribution as crossaz: `crossaz bench` checks it on every run,
//! and its CUR extraction against what its generator wrote.
//! (Its timings are printed, never asserted: performance is measured by the benchmark, not tests.)

use crate::util::*;

#[test]
fn duckdb_sql_agrees_with_crossaz_on_text_and_parquet() {
    let dir = tempdir();
    let run = crossaz(&["bench", "--records", "150000", "--cur-rows", "50000", "--runs", "1", "--dir", dir.path().to_str().unwrap()], &repo());
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
    // The pre-aggregation keeps every record, and its result attributes as the flow logs do.
    let line = run.stdout.lines().find(|l| l.starts_with("pre-aggregation (queries/flow_aggregates.sql) in DuckDB on Parquet:")).expect("the Athena step");
    let records_in = line.split(": ").nth(1).unwrap().split(" records in").next().unwrap();
    assert!(line.contains(&format!("the rows stand for {records_in} records")), "{line}");
    assert!(
        run.stdout.contains("crossaz attribute --flow-aggregates on the result:") && run.stdout.contains("equals the flow logs' result on every server"),
        "{}",
        run.stdout
    );
    // The CUR extraction sums what the generator wrote: 2 rows in 25 are inter-AZ.
    assert!(run.stdout.contains("CUR 2.0: 50,000 rows × 322 columns"), "{}", run.stdout);
    assert!(run.stdout.contains("4,000 inter-AZ rows") && run.stdout.contains("equal to what was written"), "{}", run.stdout);
}

#[test]
fn the_soak_attributes_every_month_of_its_ladder_exactly() {
    let dir = tempdir();
    let args = ["bench", "--soak", "--soak-parquet", "100000,200000", "--soak-text", "100000", "--runs", "1", "--dir", dir.path().to_str().unwrap()];
    let run = crossaz(&args, &repo());
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let rows: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .filter(|l| (l.starts_with("Parquet ") || l.starts_with("gzip text ")) && !l.contains("x the records"))
        .map(|l| l.split("  ").filter(|c| !c.is_empty()).collect())
        .collect();
    assert_eq!(rows.len(), 3, "{}", run.stdout);
    // Each month was generated for its row, and crossaz equals what the generator built.
    let records: Vec<u64> = rows.iter().map(|r| r[1].trim().replace(',', "").parse().unwrap()).collect();
    assert!(records[1] > records[0] && records[0] > 50_000, "{records:?}");
    assert!(rows.iter().all(|r| r.last().unwrap().trim() == "equal"), "{}", run.stdout);
    // A second run reuses the months it kept.
    let again = crossaz(&args, &repo());
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.stdout.lines().filter(|l| l.contains(" kept ")).count(), 3, "{}", again.stdout);
    assert!(again.stdout.contains("\nParquet: ") && again.stdout.contains("x the peak memory"), "{}", again.stdout);
}
