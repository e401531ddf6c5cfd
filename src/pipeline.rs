//! The attribution pipeline shared by `attribute` and `demo`:
//! sources → model → attribution → pricing → Report.

use crate::attribution::engine::Window;
use crate::attribution::resolver::Resolver;
use crate::attribution::{self, TextFormat};
use crate::error::{Error, InputProblem};
use crate::model::inventory::Inventory;
use crate::model::time::Ts;
use crate::model::timeline::Timeline;
use crate::pricing::Rates;
use crate::printer::Printer;
use crate::report::{build, InputsInfo, Report};
use crate::sources::flowlogs::format::{Format, RECOMMENDED_FORMAT};
use crate::sources::{expand_path, flowlogs, k8s, network};
use std::path::PathBuf;

#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub flow_logs: Vec<PathBuf>,
    pub network: Vec<PathBuf>,
    pub k8s: Vec<PathBuf>,
    pub from: Option<Ts>,
    pub to: Option<Ts>,
    /// The `${field} …` string of files without a header line.
    pub flow_log_format: Option<String>,
    pub rates: Rates,
}

pub struct Outcome {
    pub report: Report,
    /// Input errors: the report covers everything else.
    pub problems: Vec<InputProblem>,
    pub warnings: Vec<InputProblem>,
}

impl Outcome {
    /// True when any input could not be read in full: the process then exits 1.
    pub fn had_bad_input(&self) -> bool {
        !self.problems.is_empty() || self.report.summary.records.uncounted.iter().any(|u| u.bad_input && u.records > 0)
    }
}

/// Loaded inventory and timeline, reusable by later stages (what-if).
pub struct Loaded {
    pub inventory: Inventory,
    pub timeline: Timeline,
    pub info: InputsInfo,
    pub problems: Vec<InputProblem>,
}

pub fn load_context(inputs: &Inputs) -> Loaded {
    let mut problems = Vec::new();
    let mut inv = Inventory::default();
    let mut info = InputsInfo::default();
    for p in &inputs.network {
        match expand_path(p) {
            Ok(files) => {
                for f in files {
                    match network::load_file(&mut inv, &f) {
                        Ok(c) => {
                            info.network_files += 1;
                            info.interfaces += c.interfaces;
                            info.subnets += c.subnets;
                        }
                        Err(e) => problems.push(e),
                    }
                }
            }
            Err(e) => problems.push(e),
        }
    }
    let (snaps, k8s_problems) = k8s::load_snapshots(&inputs.k8s);
    problems.extend(k8s_problems);
    info.k8s_snapshots = snaps.len();
    let timeline = Timeline::build(snaps);
    // Nodes' zone labels teach names for AZ IDs the network files may not have.
    for node in timeline.nodes.values() {
        if let Some(id) = node.zone_id() {
            inv.add_zone(id, node.zone_name(), None);
        }
    }
    inv.finish();
    info.zones = inv.zones.len();
    info.pods = timeline.pods.len();
    info.services = timeline.services.len();
    info.nodes = timeline.nodes.len();
    Loaded { inventory: inv, timeline, info, problems }
}

pub fn run(inputs: &Inputs, printer: &Printer) -> Result<Outcome, Error> {
    let text = match &inputs.flow_log_format {
        Some(s) => TextFormat {
            format: Format::from_aws_string(s).map_err(|e| {
                Error::usage(format!("invalid `--flow-log-format` `{s}`")).caused_by(e).hint(format!("pass the string given to AWS, e.g. `${{{}}}`", RECOMMENDED_FORMAT.replace(' ', "} ${")))
            })?,
            is_default: false,
        },
        None => TextFormat { format: Format::default_v2(), is_default: true },
    };
    let loaded = load_context(inputs);
    let mut problems = loaded.problems;
    let mut info = loaded.info;
    let discovered = flowlogs::discover(&inputs.flow_logs, inputs.from, inputs.to);
    problems.extend(discovered.problems);
    if discovered.files.is_empty() && discovered.outside_window == 0 {
        let mut e = Error::usage("no flow-log files to read");
        if let Some(p) = problems.first() {
            e = e.caused_by(p);
        }
        return Err(e.hint("pass `--flow-logs` with a file or a directory of flow-log files (text, gzip or Parquet)"));
    }
    info.flow_log_files = discovered.files.len();
    info.flow_log_files_outside_window = discovered.outside_window;
    let resolver = Resolver::new(&loaded.inventory, &loaded.timeline);
    let total: u64 = discovered.files.iter().map(|f| f.size).sum();
    let bar = printer.progress(total, "reading flow logs");
    let window = Window { from: inputs.from, to: inputs.to };
    let pass = attribution::run(&resolver, &discovered.files, &text, window, &bar);
    bar.finish_and_clear();
    problems.extend(pass.problems);
    info.logged_interfaces = pass.acc.logged_interfaces();
    let files: Vec<PathBuf> = discovered.files.iter().map(|f| f.path.clone()).collect();
    let notes = notes(&loaded.inventory, &loaded.timeline, &pass.acc.node_level_files, &files);
    let report = build::build(build::BuildInput {
        acc: &pass.acc,
        resolver: &resolver,
        files: &files,
        rates: &inputs.rates,
        from: inputs.from,
        to: inputs.to,
        inputs: info,
        notes,
    });
    Ok(Outcome { report, problems, warnings: pass.warnings })
}

fn notes(inv: &Inventory, tl: &Timeline, node_level: &rustc_hash::FxHashSet<u32>, files: &[PathBuf]) -> Vec<String> {
    let mut notes = Vec::new();
    if !node_level.is_empty() {
        let mut idx: Vec<u32> = node_level.iter().copied().collect();
        idx.sort_unstable();
        let example = files.get(idx[0] as usize).map(|p| p.display().to_string()).unwrap_or_default();
        notes.push(format!(
            "{} of {} flow-log files have no pkt-srcaddr/pkt-dstaddr fields (e.g. `{example}`): pods behind a node's interface cannot be told apart there, so that traffic is attributed per node; create the flow log with the recommended format (docs/flow-log-format.md)",
            idx.len(),
            files.len()
        ));
    }
    if !inv.has_network() {
        notes.push("no network inventory (`--network`): addresses outside the Kubernetes snapshots are unattributed and AZs come only from the records' az-id".into());
    }
    if tl.is_empty() {
        notes.push("no Kubernetes snapshots (`--k8s`): traffic is attributed to interfaces and nodes, not workloads".into());
    }
    let zoneless = inv.enis.iter().filter(|e| e.zone == crate::model::inventory::NO_ZONE).count();
    if zoneless > 0 {
        notes.push(format!(
            "{zoneless} interfaces have no AZ ID: add the output of `aws ec2 describe-subnets` or `describe-availability-zones` to `--network`"
        ));
    }
    notes
}
