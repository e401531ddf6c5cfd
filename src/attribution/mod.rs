//! Attribution: reads every flow-log file in parallel through the per-record rules and
//! returns conversations with their bytes, plus an account of every record not counted.
//!
//! When several flow logs cover the same interfaces (a format migration, a security team's own
//! log), they are read in waves, richest format first: a record on an interface that an earlier
//! wave's log covered at that minute is the same record again, and is not counted.

pub mod coverage;
pub mod engine;
pub mod resolver;

use crate::error::InputProblem;
use crate::sources::flowlogs::format::TextFormat;
use crate::sources::flowlogs::parquet::{read_parquet_row_groups, row_groups};
use crate::sources::flowlogs::text::{FileOutcome, read_text_file};
use crate::sources::flowlogs::{FileKind, FlowFile};
use coverage::Coverage;
use engine::{Accumulator, IfaceKey, PassContext, Window};
use indicatif::ProgressBar;
use rayon::prelude::*;
use resolver::Resolver;
use std::collections::{BTreeMap, BTreeSet};

/// Records of one flow log left out because a richer log covered the same interfaces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overlap {
    pub flow_log: String,
    /// The richer flow logs read before it.
    pub covered_by: Vec<String>,
    pub records: u64,
    pub bytes: u64,
}

/// The result of one pass: the merged accumulator and what went wrong along the way.
pub struct Pass<'r, 'a> {
    pub acc: Accumulator<'r, 'a>,
    pub problems: Vec<InputProblem>,
    pub warnings: Vec<InputProblem>,
    pub overlaps: Vec<Overlap>,
    /// Flow logs read, in the order of their waves (richest format first).
    pub flow_logs: Vec<String>,
}

struct Unit {
    file: u32,
    groups: Option<Vec<usize>>,
    /// For pre-aggregated results: the bytes of the file this unit reads (lines that start in it).
    range: Option<(u64, u64)>,
    weight: u64,
}

/// One thread's share of a wave.
struct State<'r, 'a> {
    acc: Accumulator<'r, 'a>,
    out: FileOutcome,
    /// Units that looked like another VPC's (reduced to their tallies), to be read again if their
    /// flow log turns out to be ours.
    foreign: Vec<(usize, Accumulator<'r, 'a>)>,
    /// Flow logs with a unit tied to the inventory.
    ours: BTreeSet<String>,
}

fn units_of(files: &[FlowFile], which: &[usize], problems: &mut Vec<InputProblem>) -> Vec<Unit> {
    let mut units = Vec::new();
    // Parquet files are split into row-group units only when they are too few to keep every
    // thread busy: each unit reads its file's footer and chunks again.
    let parquet = which.iter().filter(|&&i| matches!(files[i].kind, FileKind::Parquet | FileKind::AggregatesParquet)).count();
    let parts = (rayon::current_num_threads() * 2).div_ceil(parquet.max(1)).max(1);
    for &i in which {
        let f = &files[i];
        match f.kind {
            FileKind::Text => units.push(Unit { file: i as u32, groups: None, range: None, weight: f.size }),
            // A result is one large file: read in byte ranges, in parallel.
            FileKind::Aggregates => {
                for (start, end) in crate::sources::flowlogs::aggregates::byte_ranges(f.size) {
                    units.push(Unit { file: i as u32, groups: None, range: Some((start, end)), weight: end - start });
                }
            }
            FileKind::Parquet | FileKind::AggregatesParquet => match row_groups(&f.path) {
                Ok((n, _)) if n > 0 => {
                    let per = n.div_ceil(parts).max(1);
                    let groups: Vec<usize> = (0..n).collect();
                    for chunk in groups.chunks(per) {
                        units.push(Unit { file: i as u32, groups: Some(chunk.to_vec()), range: None, weight: f.size * chunk.len() as u64 / n as u64 });
                    }
                }
                Ok(_) => {}
                Err(p) => problems.push(p),
            },
        }
    }
    units.sort_by_key(|u| std::cmp::Reverse(u.weight));
    units
}

/// Reads one unit into a fresh accumulator and decides whether it belongs to the inventory's VPC.
fn read_unit<'r, 'a>(
    resolver: &'r Resolver<'a>,
    ctx: &PassContext,
    files: &[FlowFile],
    text: &TextFormat,
    unit: &Unit,
    force: bool,
) -> (Accumulator<'r, 'a>, FileOutcome, bool) {
    let f = &files[unit.file as usize];
    let mut acc = Accumulator::new(resolver, ctx.clone());
    acc.begin_file(unit.file);
    let o = match (&unit.groups, f.kind) {
        (None, crate::sources::flowlogs::FileKind::Aggregates) => {
            crate::sources::flowlogs::aggregates::read_aggregates_file(&f.path, unit.range.unwrap_or((0, f.size)), &mut acc)
        }
        (None, _) => read_text_file(&f.path, &text.format, text.is_default, &mut acc),
        (Some(groups), crate::sources::flowlogs::FileKind::AggregatesParquet) => {
            crate::sources::flowlogs::parquet::read_aggregates_parquet_row_groups(&f.path, groups, &mut acc)
        }
        (Some(groups), _) => read_parquet_row_groups(&f.path, groups, &mut acc),
    };
    acc.close_unit();
    let scoped = resolver.inv.has_network();
    // Records of another VPC name interfaces the inventory does not know, and none that it does.
    let foreign = scoped && !force && acc.in_scope_evidence == 0 && acc.unknown_evidence > 0 && acc.other_vpcs.is_empty();
    if foreign {
        acc.discard_as_other_vpc(&f.describe_source());
    }
    (acc, o, foreign)
}

/// Runs the attribution pass over `files`.
pub fn run<'r, 'a>(resolver: &'r Resolver<'a>, files: &[FlowFile], text: &TextFormat, window: Window, progress: &ProgressBar) -> Pass<'r, 'a> {
    let mut problems = Vec::new();
    let waves = waves(files, text);
    let multi = waves.len() > 1;
    // Interface coverage of each wave's flow log, in wave order.
    let mut prior: Vec<Coverage<IfaceKey>> = Vec::new();
    let mut total: Option<Accumulator<'r, 'a>> = None;
    let mut outcome = FileOutcome::default();
    let mut foreign: Vec<(usize, Unit, Accumulator<'r, 'a>)> = Vec::new();
    let mut ours: BTreeSet<String> = BTreeSet::new();
    let mut overlaps = Vec::new();
    let mut flow_logs = Vec::new();
    for (w, (log, members)) in waves.iter().enumerate() {
        flow_logs.push(log.clone());
        let ctx = PassContext { window, prior_logs: std::sync::Arc::new(prior.clone()), track_interfaces: multi };
        let units = units_of(files, members, &mut problems);
        let new_state = || State { acc: Accumulator::new(resolver, ctx.clone()), out: FileOutcome::default(), foreign: Vec::new(), ours: BTreeSet::new() };
        let state = units
            .par_iter()
            .enumerate()
            .fold(new_state, |mut st, (k, unit)| {
                let (acc, o, is_foreign) = read_unit(resolver, &ctx, files, text, unit, false);
                let log_id = files[unit.file as usize].flow_log_id.clone();
                if is_foreign {
                    st.foreign.push((k, acc));
                } else {
                    if let Some(l) = log_id {
                        st.ours.insert(l);
                    }
                    st.acc.merge(acc);
                }
                st.out.problems.extend(o.problems);
                st.out.warnings.extend(o.warnings);
                progress.inc(unit.weight);
                st
            })
            .reduce(new_state, |mut a, b| {
                a.acc.merge(b.acc);
                a.out.problems.extend(b.out.problems);
                a.out.warnings.extend(b.out.warnings);
                a.foreign.extend(b.foreign);
                a.ours.extend(b.ours);
                a
            });
        let mut acc = state.acc;
        if w > 0 {
            let t = acc.uncounted.get(&engine::Uncounted::OverlappingFlowLog).copied().unwrap_or_default();
            if t.records > 0 {
                let covered_by = acc.overlapped_by.keys().map(|&k| flow_logs[k].clone()).collect();
                overlaps.push(Overlap { flow_log: log.clone(), covered_by, records: t.records, bytes: t.bytes });
            }
        }
        if multi {
            prior.push(std::mem::take(&mut acc.interfaces));
        }
        ours.extend(state.ours);
        let mut units = units;
        let mut keep = state.foreign;
        keep.sort_unstable_by_key(|(k, _)| *k);
        for (k, reduced) in keep.into_iter().rev() {
            foreign.push((w, units.swap_remove(k), reduced));
        }
        outcome.problems.extend(state.out.problems);
        outcome.warnings.extend(state.out.warnings);
        match &mut total {
            Some(t) => t.merge(acc),
            None => total = Some(acc),
        }
    }
    let mut acc = total.unwrap_or_else(|| Accumulator::new(resolver, PassContext { window, ..PassContext::default() }));
    // A unit with no record tied to the inventory belongs to our VPC after all when another unit of
    // its flow log is (every interface in it was replaced since): read it again as ours.
    for (w, unit, reduced) in foreign {
        let ours_after_all = files[unit.file as usize].flow_log_id.as_ref().is_some_and(|l| ours.contains(l));
        if !ours_after_all {
            acc.merge(reduced);
            continue;
        }
        let ctx = PassContext { window, prior_logs: std::sync::Arc::new(prior[..w.min(prior.len())].to_vec()), track_interfaces: false };
        let (fresh, _, _) = read_unit(resolver, &ctx, files, text, &unit, true);
        acc.merge(fresh);
    }
    acc.settle();
    problems.extend(outcome.problems);
    let mut warnings = outcome.warnings;
    problems.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    problems.dedup();
    warnings.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    warnings.dedup();
    Pass { acc, problems, warnings, overlaps, flow_logs }
}

/// Groups the files by flow log, richest format first; one wave when there is one flow log.
fn waves(files: &[FlowFile], text: &TextFormat) -> Vec<(String, Vec<usize>)> {
    let mut by_log: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        by_log.entry(f.flow_log_id.clone().unwrap_or_default()).or_default().push(i);
    }
    if by_log.len() <= 1 {
        return by_log.into_iter().collect();
    }
    // Richest format first; of two alike, the one covering more (a VPC's log before a subnet's).
    let mut ranked: Vec<(u32, u64, String, Vec<usize>)> = by_log
        .into_iter()
        .map(|(log, members)| {
            let richness = members.iter().map(|&i| crate::sources::flowlogs::format_richness(&files[i], text)).max().unwrap_or(0);
            let size = members.iter().map(|&i| files[i].size).sum();
            (richness, size, log, members)
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then_with(|| a.2.cmp(&b.2)));
    ranked.into_iter().map(|(_, _, log, members)| (log, members)).collect()
}
