//! The attribution pipeline shared by `attribute` and `demo`:
//! sources → model → attribution → measurement → analyses (reconciliation, allocation) → Report.

use crate::attribution;
use crate::attribution::engine::Window;
use crate::attribution::resolver::Resolver;
use crate::error::{Error, InputProblem};
use crate::measurement::facts;
use crate::measurement::{InputsInfo, Measurement, build};
use crate::model::inventory::Inventory;
use crate::model::time::Ts;
use crate::model::timeline::Timeline;
use crate::pricing::Rates;
use crate::printer::Printer;
use crate::report::Report;
use crate::sources::flowlogs::format::{Format, RECOMMENDED_FORMAT, TextFormat};
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
    /// Cost Explorer JSON files or directories, for reconciliation.
    pub billing: Vec<PathBuf>,
    /// Price at the bill's effective per-GB rate instead of `rates`.
    pub price_from_bill: bool,
    /// The pre-aggregation's results (`--flow-aggregates`): read instead of, or beside, flow logs.
    pub flow_aggregates: Vec<PathBuf>,
    /// CUR 2.0, legacy CUR or FOCUS exports (files or directories), for per-resource reconciliation.
    pub cur: Vec<PathBuf>,
    /// Split each resource's billed inter-AZ dollars over the conversations measured on it.
    pub allocate_bill: bool,
    /// Which cross-AZ paths AWS bills (the bundled table, or `--transfer-rules`).
    pub rules: crate::pricing::transfer::Rules,
    /// What `pull k8s --every` recorded in the workspace: the interval and the snapshots it missed.
    pub k8s_pull: Option<crate::sources::kube_pull::PullState>,
    /// Which account's bill `pull billing` cached in the workspace.
    pub billing_scope: Option<crate::sources::aws::ce::BillingScope>,
    /// AWS's `ip-ranges.json` saved in the workspace (else the bundled copy).
    pub ip_ranges: Option<PathBuf>,
}

impl Inputs {
    /// Adds a workspace's folders (as `crossaz pull` writes them) to the inputs.
    pub fn add_workspace(&mut self, dir: &std::path::Path) {
        let ws = crate::workspace::Workspace::new(dir);
        for (list, sub) in
            [(&mut self.flow_logs, ws.flow_logs()), (&mut self.network, ws.network()), (&mut self.k8s, ws.k8s()), (&mut self.billing, ws.billing())]
        {
            if sub.is_dir() {
                list.push(sub);
            }
        }
        if ws.cur().is_dir() {
            self.cur.push(ws.cur());
        }
        self.k8s_pull = crate::sources::kube_pull::read_state(&ws);
        self.billing_scope = crate::sources::aws::ce::read_scope(&ws);
        self.ip_ranges = Some(ws.ip_ranges()).filter(|p| p.is_file());
    }
}

pub struct Outcome {
    pub report: Report,
    /// Input errors: the report covers everything else.
    pub problems: Vec<InputProblem>,
    pub warnings: Vec<InputProblem>,
    /// The latest Kubernetes snapshot, for what-ifs about the cluster as it is now.
    pub latest_snapshot: Option<crate::model::k8s::Snapshot>,
    /// The databases of the inventory and their clients' bytes by day, for `whatif rds`.
    pub databases: Vec<crate::whatif::rds::DbFacts>,
    pub db_days: Vec<facts::DbDay>,
    /// NAT gateways, load balancers and what NAT gateways forwarded, for `whatif paths`.
    pub paths: crate::whatif::paths::PathFacts,
    /// Labels of workloads and Services, for chargeback by label.
    pub labels: std::collections::BTreeMap<crate::model::entity::Entity, std::collections::BTreeMap<String, String>>,
    /// Kubernetes snapshot gaps longer than `pull k8s --every` allows, as notes.
    pub snapshot_gaps: Vec<String>,
    /// Times of the Kubernetes snapshots read.
    pub snapshot_times: Vec<Ts>,
    /// Flow-log files without pkt-* fields (attributed per node).
    pub node_level_files: usize,
    /// Interfaces of the inventory no flow log recorded: (id, owner).
    pub unlogged_interfaces: Vec<(String, String)>,
}

impl Outcome {
    /// True when any input could not be read in full: the process then exits 1.
    pub fn had_bad_input(&self) -> bool {
        !self.problems.is_empty() || self.report.measurement.summary.records.uncounted.iter().any(|u| u.bad_input && u.records > 0)
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
    read_network(&inputs.network, &mut inv, &mut info, &mut problems);
    let (timeline, snapshots, k8s_problems) = k8s::load_timeline(&inputs.k8s);
    problems.extend(k8s_problems);
    info.k8s_snapshots = snapshots;
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

/// Reads every network file under `paths` into `inv`, counting what they held.
fn read_network(paths: &[PathBuf], inv: &mut Inventory, info: &mut InputsInfo, problems: &mut Vec<InputProblem>) {
    for p in paths {
        match expand_path(p) {
            Ok(files) => {
                for f in files {
                    match network::load_file(inv, &f) {
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
}

/// The network inventory under `dir`, as far as it can be read (empty when there is none): what
/// the pulls scope themselves to.
pub fn network_inventory(dir: &std::path::Path) -> Inventory {
    let mut inv = Inventory::default();
    read_network(&[dir.to_path_buf()], &mut inv, &mut InputsInfo::default(), &mut Vec::new());
    inv.finish();
    inv
}

pub fn run(inputs: &Inputs, printer: &Printer) -> Result<Outcome, Error> {
    let text = match &inputs.flow_log_format {
        Some(s) => TextFormat {
            format: Format::from_aws_string(s).map_err(|e| {
                Error::usage(format!("invalid `--flow-log-format` `{s}`"))
                    .caused_by(e)
                    .hint(format!("pass the string given to AWS, e.g. `{}`", crate::sources::flowlogs::format::aws_string(RECOMMENDED_FORMAT)))
            })?,
            is_default: false,
        },
        None => TextFormat { format: Format::default_v2(), is_default: true },
    };
    let loaded = load_context(inputs);
    let mut problems = loaded.problems;
    let (mut bill_lines, bill_sources, bill_problems, mut bill_notes) = load_billing(&inputs.billing);
    problems.extend(bill_problems);
    let exports = load_exports(&inputs.cur, printer);
    problems.extend(exports.problems);
    bill_notes.extend(exports.notes);
    // Without Cost Explorer data, the exports' lines summed per day make the account-level view.
    if bill_lines.is_empty() {
        bill_lines = crate::reconcile::bill_lines(&exports.charges);
    }
    let mut rates = inputs.rates.clone();
    if inputs.price_from_bill {
        let days = match (inputs.from, inputs.to) {
            (Some(f), Some(t)) => Some((crate::model::time::day_of(f), crate::model::time::day_of(t - 1) + 1)),
            _ => None,
        };
        let rate = crate::reconcile::effective_rate(&bill_lines, days).ok_or_else(|| {
            Error::usage("`--price-from-bill` needs billed inter-AZ transfer (InterZone-In and InterZone-Out) in the billing data")
                .hint("run `crossaz pull billing --from … --to …`, or pass `--billing` with Cost Explorer JSON grouped by USAGE_TYPE and OPERATION, or `--cur` with a CUR or FOCUS export")
        })?;
        rates = Rates {
            default: rate,
            regions: Default::default(),
            source: format!(
                "the bill's effective rate: ${} out + ${} in per GB",
                rate.out_per_gb.round_dp(6).normalize(),
                rate.in_per_gb.round_dp(6).normalize()
            ),
        };
    }
    let mut info = loaded.info;
    let mut discovered = flowlogs::discover(&inputs.flow_logs, inputs.from, inputs.to);
    // A result's flow logs, each attributed as its own (split.rs); the parts live until the pass ends.
    let parts_dir = if inputs.flow_aggregates.is_empty() {
        None
    } else {
        Some(tempfile::tempdir().map_err(|e| Error::failure("cannot create a temporary directory").caused_by(e))?)
    };
    for p in &inputs.flow_aggregates {
        match expand_path(p) {
            Ok(files) => {
                for f in files {
                    let parquet = flowlogs::is_parquet(&f);
                    let dir = parts_dir.as_ref().map_or(std::path::Path::new("."), |d| d.path());
                    let parts = match flowlogs::split::split(&f, parquet, dir) {
                        Ok(parts) => parts,
                        Err(e) => {
                            discovered.problems.push(e);
                            continue;
                        }
                    };
                    let single = parts.len() == 1;
                    for part in parts {
                        let size = std::fs::metadata(&part.path).map(|m| m.len()).unwrap_or(0);
                        let kind = if parquet && single { flowlogs::FileKind::AggregatesParquet } else { flowlogs::FileKind::Aggregates };
                        let mut file = flowlogs::FlowFile::new(part.path, kind, size);
                        file.flow_log_id = part.flow_log_id;
                        file.account = part.account;
                        file.richness = Some(part.richness);
                        discovered.files.push(file);
                    }
                }
            }
            Err(e) => discovered.problems.push(e),
        }
    }
    if discovered.files.is_empty() && discovered.outside_window == 0 {
        // Name the flow-log paths first, then every other input that failed too.
        let mut e = Error::usage("no flow-log files to read");
        if discovered.problems.is_empty() {
            let given: Vec<String> = inputs.flow_logs.iter().map(|p| format!("`{}`", p.display())).collect();
            e = e.caused_by(format!("{} holds no files", given.join(", ")));
        }
        for p in discovered.problems.iter().chain(&problems) {
            e = e.caused_by(p);
        }
        return Err(e.hint("pass `--flow-logs` with a file or a directory of flow-log files (text, gzip or Parquet)"));
    }
    problems.extend(discovered.problems);
    info.flow_log_files = discovered.files.len();
    info.flow_log_files_outside_window = discovered.outside_window;
    // AWS's address ranges name what NAT gateways forward to: only read when there is a NAT gateway.
    let has_nat = loaded.inventory.enis.iter().any(|e| matches!(e.owner, crate::model::inventory::EniOwner::NatGateway { .. }));
    let ranges = has_nat.then(|| {
        crate::sources::ip_ranges::load(inputs.ip_ranges.as_deref()).unwrap_or_else(|p| {
            problems.push(p);
            crate::sources::ip_ranges::bundled()
        })
    });
    let mut resolver = Resolver::new(&loaded.inventory, &loaded.timeline, &inputs.rules);
    resolver.aws_ranges = ranges.as_ref();
    let total: u64 = discovered.files.iter().map(|f| f.size).sum();
    let bar = printer.progress(total, "reading flow logs");
    let window = Window { from: inputs.from, to: inputs.to };
    let pass = attribution::run(&resolver, &discovered.files, &text, window, &bar);
    bar.finish_and_clear();
    problems.extend(pass.problems);
    info.logged_interfaces = pass.acc.logged_interfaces();
    let files: Vec<PathBuf> = discovered.files.iter().map(|f| f.path.clone()).collect();
    let mut notes = notes(&loaded.inventory, &loaded.timeline, &pass.acc.node_level_files, &files);
    let mut gaps = Vec::new();
    if let Some(state) = &inputs.k8s_pull {
        let span = (inputs.from.or(pass.acc.first_start), inputs.to.or(pass.acc.last_start));
        gaps = snapshot_gaps(&loaded.timeline.snapshot_times, state, span);
        notes.extend(gaps.iter().cloned());
    }
    if let Some(t) = pass.acc.uncounted.get(&crate::attribution::engine::Uncounted::DirectionUnknown).filter(|t| t.records > 0) {
        notes.push(format!(
            "{} records ({} bytes) were not counted: without `flow-direction` a record's direction comes from its interface's addresses in the network inventory, and their interface (or instance) is not in it; each flow is recorded by both interfaces, so counting them would count flows twice — add `${{flow-direction}}` and `${{interface-id}}` to the flow log's format (docs/flow-log-format.md), or pass `--network` with every interface",
            t.records, t.bytes
        ));
    }
    let unknown = pass.acc.unknown_interfaces();
    if loaded.inventory.has_network() && !unknown.is_empty() {
        let mut ids: Vec<&String> = unknown.iter().collect();
        ids.sort();
        let shown: Vec<&str> = ids.iter().take(3).map(|s| s.as_str()).collect();
        notes.push(format!(
            "{} interfaces in the flow logs are in no network snapshot (e.g. {}): replaced nodes or load-balancer interfaces; their zone comes from the records, their owner only from the interface id — keep snapshots with `crossaz pull network --every 1h`",
            ids.len(),
            shown.join(", ")
        ));
    }
    notes.extend(bill_notes);
    let mut measurement = build::build(build::BuildInput {
        acc: &pass.acc,
        resolver: &resolver,
        files: &files,
        rates: &rates,
        from: inputs.from,
        to: inputs.to,
        inputs: info,
        notes,
        overlaps: &pass.overlaps,
    });
    let logged = pass.acc.logged_inventory_interfaces();
    let unlogged_interfaces: Vec<(String, String)> = loaded
        .inventory
        .enis
        .iter()
        .enumerate()
        .filter(|(i, _)| !logged.contains(&(*i as u32)))
        .map(|(i, e)| (e.id.clone(), resolver.eni_label(i as u32)))
        .collect();
    let mut reconciliation = None;
    if !bill_sources.is_empty() || !exports.sources.is_empty() {
        let ctx = crate::reconcile::Context { unlogged_interfaces: unlogged_interfaces.clone() };
        let sources = bill_sources.iter().chain(&exports.sources).cloned().collect();
        let mut rec = crate::reconcile::reconcile(&measurement, &bill_lines, sources, &ctx);
        if !bill_sources.is_empty() {
            rec.notes.extend(bill_scope_notes(&loaded.inventory, inputs.billing_scope.as_ref()));
        }
        if !exports.sources.is_empty() {
            let facts = resource_facts(&loaded.inventory, &resolver, logged, &measurement);
            let in_window = crate::reconcile::window_days(&measurement);
            rec.by_resource = crate::reconcile::by_resource::by_resource(&measurement.resources, &exports.charges, &facts, false, &in_window);
            rec.by_resource_day = crate::reconcile::by_resource::by_resource(&measurement.resources, &exports.charges, &facts, true, &in_window);
        }
        reconciliation = Some(rec);
    }
    let allocation = inputs.allocate_bill.then(|| {
        let flows = facts::resource_flows(&pass.acc, &resolver);
        if exports.charges.is_empty() {
            let usage_type = crate::model::billing::regional_transfer_usage_type(measurement.region.as_deref());
            crate::allocate::at_list_price(&flows, measurement.pricing.out_per_gb_usd, measurement.pricing.in_per_gb_usd, &usage_type)
        } else {
            crate::allocate::allocate(&flows, &exports.charges, crate::reconcile::window_days(&measurement))
        }
    });
    if !inputs.flow_aggregates.is_empty() {
        let (records, bytes) = pass.acc.minute_uncertain;
        measurement.summary.notes.push(format!(
            "pre-aggregated flow logs: {records} records ({bytes} bytes) are in rows whose addresses changed hands within their minute; \
             their attribution is uncertain by at most those bytes, every other row's is exact (docs/athena.md)"
        ));
    }
    let latest_snapshot = loaded.timeline.latest.clone();
    let databases = crate::whatif::rds::databases(&loaded.inventory);
    let db_days = facts::db_days(&pass.acc, &resolver);
    let paths = crate::whatif::paths::PathFacts {
        nat_flows: facts::nat_flows(&pass.acc, &resolver),
        nat_days: facts::nat_days(&pass.acc, &resolver),
        gateways: crate::whatif::paths::gateways(&loaded.inventory),
        ranges_source: ranges.as_ref().map_or_else(|| "AWS's ip-ranges.json (not read: the inventory lists no NAT gateway)".into(), |r| r.source.clone()),
        node_level: !pass.acc.node_level_files.is_empty(),
        aws_service_field: pass.acc.saw_aws_service_field,
    };
    let labels = loaded.timeline.labels.clone();
    let (snapshot_times, node_level_files) = (loaded.timeline.snapshot_times.clone(), pass.acc.node_level_files.len());
    let report = Report { allocation, reconciliation, ..Report::new(measurement) };
    Ok(Outcome {
        report,
        problems,
        warnings: pass.warnings,
        latest_snapshot,
        databases,
        db_days,
        paths,
        labels,
        snapshot_gaps: gaps,
        snapshot_times,
        node_level_files,
        unlogged_interfaces,
    })
}

/// What the CUR and FOCUS exports held.
#[derive(Default)]
struct Exports {
    charges: Vec<crate::model::billing::ResourceCharge>,
    sources: Vec<String>,
    problems: Vec<InputProblem>,
    notes: Vec<String>,
}

/// Reads CUR 2.0, legacy CUR and FOCUS export files (Parquet, CSV, CSV.gz) under `paths`.
fn load_exports(paths: &[PathBuf], printer: &Printer) -> Exports {
    let mut ex = Exports::default();
    let mut files = Vec::new();
    for p in paths {
        match expand_path(p) {
            Ok(f) => files.extend(f.into_iter().filter(|f| crate::sources::billing_export::is_export_file(f))),
            Err(e) => ex.problems.push(e),
        }
    }
    let bar = printer.progress(files.len() as u64, "reading billing exports");
    for f in files {
        match crate::sources::billing_export::read(&f) {
            Ok(r) => {
                ex.sources.push(format!("{} ({})", f.display(), r.kind.as_str()));
                ex.charges.extend(r.charges);
                ex.notes.extend(r.notes);
            }
            Err(e) => ex.problems.push(e),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    ex
}

/// What the inventory says about each billed resource: its interfaces, and how many were logged.
fn resource_facts(
    inv: &Inventory,
    resolver: &Resolver<'_>,
    logged: &rustc_hash::FxHashSet<u32>,
    measurement: &Measurement,
) -> crate::reconcile::by_resource::ResourceContext {
    let mut ctx =
        crate::reconcile::by_resource::ResourceContext { days_with_records: measurement.daily.iter().map(|d| d.date.clone()).collect(), ..Default::default() };
    for (i, eni) in inv.enis.iter().enumerate() {
        let owner = resolver.eni_resource(i as u32);
        let f = ctx.known.entry(owner.name.clone()).or_default();
        f.kind = owner.kind.as_str().to_string();
        f.interfaces += 1;
        f.logged += usize::from(logged.contains(&(i as u32)));
        f.alb |= matches!(eni.owner, crate::model::inventory::EniOwner::LoadBalancer { kind: crate::model::inventory::LbKind::Application, .. });
    }
    ctx
}

/// Reads Cost Explorer JSON files: bill lines, the files that held some, problems and notes.
fn load_billing(paths: &[PathBuf]) -> (Vec<crate::model::billing::BillLine>, Vec<String>, Vec<InputProblem>, Vec<String>) {
    let (mut lines, mut sources, mut problems, mut notes) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for p in paths {
        let files = match expand_path(p) {
            Ok(f) => f,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        for f in files.into_iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
            match crate::sources::billing::load_file(&f) {
                Ok(b) if b.not_by_usage_type => {
                    notes.push(format!("`{}` is not grouped by USAGE_TYPE: it cannot be reconciled", f.display()));
                }
                Ok(b) => {
                    lines.extend(b.lines);
                    sources.push(f.display().to_string());
                }
                Err(e) => problems.push(e),
            }
        }
    }
    (dedup_days(lines), sources, problems, notes)
}

/// Several files (or cached responses) may hold the same day: the last file read wins per day and group.
fn dedup_days(lines: Vec<crate::model::billing::BillLine>) -> Vec<crate::model::billing::BillLine> {
    let mut by_key = std::collections::BTreeMap::new();
    for l in lines {
        by_key.insert((l.start_day, l.end_day, l.usage_type.clone(), l.operation.clone()), l);
    }
    by_key.into_values().collect()
}

fn notes(inv: &Inventory, tl: &Timeline, node_level: &rustc_hash::FxHashSet<u32>, files: &[PathBuf]) -> Vec<String> {
    let mut notes = Vec::new();
    if !node_level.is_empty() {
        let mut idx: Vec<u32> = node_level.iter().copied().collect();
        idx.sort_unstable();
        let example = files.get(idx[0] as usize).map(|p| p.display().to_string()).unwrap_or_default();
        notes.push(format!(
            "{} of {} flow-log files have no pkt-srcaddr/pkt-dstaddr fields (e.g. `{example}`): a record names its own side only by its interface, so each is joined with its twin on the other interface to name both pods; where the twin is missing (its interface not logged) that side is attributed to its node; create the flow log with the recommended format (docs/flow-log-format.md)",
            idx.len(),
            files.len()
        ));
    }
    if !inv.has_network() {
        notes.push(
            "no network inventory (`--network`): addresses outside the Kubernetes snapshots are unattributed and AZs come only from the records' az-id".into(),
        );
    }
    if tl.is_empty() {
        notes.push("no Kubernetes snapshots (`--k8s`): traffic is attributed to interfaces and nodes, not workloads".into());
    }
    let zoneless = inv.enis.iter().filter(|e| e.zone == crate::model::inventory::NO_ZONE).count();
    if zoneless > 0 {
        notes
            .push(format!("{zoneless} interfaces have no AZ ID: add the output of `aws ec2 describe-subnets` or `describe-availability-zones` to `--network`"));
    }
    notes
}

/// Gaps between Kubernetes snapshots longer than the interval `pull k8s --every` kept, within the
/// flow logs' span: pods that came and went in a gap are unknown there.
pub fn snapshot_gaps(times: &[Ts], state: &crate::sources::kube_pull::PullState, (from, to): (Option<Ts>, Option<Ts>)) -> Vec<String> {
    use crate::model::time::format_time;
    if state.every == 0 {
        return Vec::new();
    }
    let mut times: Vec<Ts> = times.to_vec();
    times.sort_unstable();
    let allowed = (state.every * 3 / 2 + 30) as Ts;
    let gaps: Vec<(Ts, Ts)> =
        times.windows(2).map(|w| (w[0], w[1])).filter(|(a, b)| b - a > allowed && from.is_none_or(|f| *b > f) && to.is_none_or(|t| *a < t)).collect();
    if gaps.is_empty() {
        return Vec::new();
    }
    let longest = gaps.iter().max_by_key(|(a, b)| b - a).copied().unwrap_or_default();
    let human = |s: Ts| {
        let minutes = (s + 59) / 60;
        if minutes >= 60 { format!("{} h {} min", minutes / 60, minutes % 60) } else { format!("{minutes} min") }
    };
    let errors: Vec<&str> = state.failures.iter().map(|f| f.error.as_str()).collect();
    let why = match errors.first() {
        Some(e) => format!("; `pull k8s` recorded {} missed snapshots (first: {e})", errors.len()),
        None => String::new(),
    };
    vec![format!(
        "Kubernetes snapshots: {} gaps longer than the {} interval (longest {}, {} → {}){why}: pods that came and went in a gap are not known, and their traffic may be `unattributed`",
        gaps.len(),
        human(state.every as Ts),
        human(longest.1 - longest.0),
        format_time(longest.0),
        format_time(longest.1)
    )]
}

/// When the bill covers more than the flow logs: every linked account, or other VPCs of the account.
pub fn bill_scope_notes(inv: &Inventory, scope: Option<&crate::sources::aws::ce::BillingScope>) -> Vec<String> {
    let mut notes = Vec::new();
    let ours: Vec<&str> = inv.vpcs().into_iter().collect();
    if let Some(s) = scope
        && s.account.is_none()
    {
        notes.push(format!(
            "the bill covers every linked account the credentials see, the flow logs {}: run `crossaz pull billing --account …` to compare like with like",
            if ours.is_empty() { "one VPC".to_string() } else { ours.join(", ") }
        ));
    }
    let others: Vec<&str> = inv
        .account_vpcs
        .iter()
        .filter(|(id, (owner, _))| !ours.contains(&id.as_str()) && owner.as_ref().is_none_or(|o| inv.owners.is_empty() || inv.owners.contains(o)))
        .map(|(id, _)| id.as_str())
        .collect();
    if !others.is_empty() && !ours.is_empty() {
        notes.push(format!(
            "the account's bill also covers its other {} VPCs in the region ({}): the flow logs cover {} only, so part of the bill is theirs",
            others.len(),
            others.join(", "),
            ours.join(", ")
        ));
    }
    notes
}
