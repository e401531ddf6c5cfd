//! Attribution: reads every flow-log file in parallel through the per-record rules and
//! returns conversations with their bytes, plus an account of every record not counted.

pub mod engine;
pub mod resolver;

use crate::error::InputProblem;
use crate::sources::flowlogs::format::Format;
use crate::sources::flowlogs::parquet::{read_parquet_row_groups, row_groups};
use crate::sources::flowlogs::text::{FileOutcome, read_text_file};
use crate::sources::flowlogs::{FileKind, FlowFile};
use engine::{Accumulator, Window};
use indicatif::ProgressBar;
use rayon::prelude::*;
use resolver::Resolver;

/// How to read files without a header line.
#[derive(Clone, Debug)]
pub struct TextFormat {
    pub format: Format,
    pub is_default: bool,
}

/// The result of one pass: the merged accumulator and what went wrong along the way.
pub struct Pass<'r, 'a> {
    pub acc: Accumulator<'r, 'a>,
    pub problems: Vec<InputProblem>,
    pub warnings: Vec<InputProblem>,
}

struct Unit {
    file: u32,
    groups: Option<Vec<usize>>,
    weight: u64,
}

/// Runs the attribution pass over `files`.
pub fn run<'r, 'a>(resolver: &'r Resolver<'a>, files: &[FlowFile], text: &TextFormat, window: Window, progress: &ProgressBar) -> Pass<'r, 'a> {
    let mut problems = Vec::new();
    let mut units = Vec::new();
    for (i, f) in files.iter().enumerate() {
        match f.kind {
            FileKind::Text => units.push(Unit { file: i as u32, groups: None, weight: f.size }),
            FileKind::Parquet => match row_groups(&f.path) {
                Ok((n, _)) if n > 0 => {
                    // Several row groups per unit keep the per-unit overhead small.
                    let per = n.div_ceil(rayon::current_num_threads() * 2).max(1);
                    let groups: Vec<usize> = (0..n).collect();
                    for chunk in groups.chunks(per) {
                        units.push(Unit { file: i as u32, groups: Some(chunk.to_vec()), weight: f.size * chunk.len() as u64 / n as u64 });
                    }
                }
                Ok(_) => {}
                Err(p) => problems.push(p),
            },
        }
    }
    units.sort_by_key(|u| std::cmp::Reverse(u.weight));
    let new_state = || (Accumulator::new(resolver, window), FileOutcome::default());
    let (mut acc, outcome) = units
        .par_iter()
        .fold(new_state, |(mut acc, mut out), unit| {
            let f = &files[unit.file as usize];
            acc.begin_file(unit.file);
            let o = match &unit.groups {
                None => read_text_file(&f.path, &text.format, text.is_default, &mut acc),
                Some(groups) => read_parquet_row_groups(&f.path, groups, &mut acc),
            };
            out.problems.extend(o.problems);
            out.warnings.extend(o.warnings);
            progress.inc(unit.weight);
            (acc, out)
        })
        .reduce(new_state, |(mut a, mut ao), (b, bo)| {
            a.merge(b);
            ao.problems.extend(bo.problems);
            ao.warnings.extend(bo.warnings);
            (a, ao)
        });
    acc.settle();
    problems.extend(outcome.problems);
    let mut warnings = outcome.warnings;
    problems.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    warnings.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    Pass { acc, problems, warnings }
}

/// Counted bytes with a database interface as the server, by day and the server's AZ.
pub fn db_days(acc: &Accumulator<'_, '_>, resolver: &Resolver<'_>) -> Vec<crate::whatif::rds::DbDay> {
    use crate::model::entity::EntityKind;
    use crate::model::time::{day_start, format_date};
    let mut by: std::collections::BTreeMap<(i32, String, u16), u64> = std::collections::BTreeMap::new();
    for (k, t) in &acc.counted {
        let server = resolver.entities.get(k.server);
        if server.kind == EntityKind::Rds {
            *by.entry((k.day, server.label(), k.server_zone)).or_default() += t.bytes;
        }
    }
    by.into_iter()
        .map(|((day, server, zone), bytes)| {
            let (id, name) = resolver.zone_label(zone);
            crate::whatif::rds::DbDay { date: format_date(day_start(day)), server, server_az: if name.is_empty() { id } else { name }, bytes }
        })
        .collect()
}
