//! `crossaz doctor`: what is missing or stale in a workspace for a month's report, each with the
//! command that fixes it. Exit 0 when the report would be complete, 1 otherwise.

use crate::error::Error;
use crate::model::time::{Month, SECONDS_PER_DAY, Ts, format_date};
use crate::pipeline::{self, Inputs, Outcome};
use crate::printer::Printer;
use crate::workspace::Workspace;
use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The workspace to check [default: crossaz-data].
    #[arg(long, value_name = "DIR", env = "CROSSAZ_WORKSPACE")]
    pub workspace: Option<PathBuf>,
    /// The month to check [default: last month].
    #[arg(long, value_name = "YYYY-MM", value_parser = super::common::parse_month_arg)]
    pub month: Option<Month>,
}

/// One finding: fine or not, what, and the command that fixes it.
pub struct Check {
    pub ok: bool,
    pub what: String,
    pub fix: Option<String>,
}

pub fn run(args: Args, printer: &Printer, cfg: &crate::config::Loaded) -> Result<ExitCode, Error> {
    let root = args.workspace.clone().unwrap_or_else(|| PathBuf::from(crate::workspace::DEFAULT));
    let month = match args.month {
        Some(m) => m,
        None => Month::containing(chrono::Utc::now().timestamp()).and_then(|m| m.previous()).ok_or_else(|| Error::failure("no previous month"))?,
    };
    let ws = Workspace::new(&root);
    let fixes = Fixes::new(&root, cfg);
    let now = chrono::Utc::now().timestamp();
    let mut out = format!("crossaz doctor: workspace `{}`, {}\n", root.display(), month.label);
    let mut checks = Vec::new();
    if !root.is_dir() {
        checks.push(Check {
            ok: false,
            what: format!("workspace: no folder at `{}`", root.display()),
            fix: Some(format!("crossaz setup --cluster NAME{}", fixes.workspace_flag)),
        });
    }
    // The report is only worth building from flow logs; without them each folder is judged by its files.
    let (outcome, found) = if has_files(&ws.flow_logs()) {
        let mut inputs = Inputs { from: Some(month.from), to: Some(month.to), ..Inputs::default() };
        inputs.add_workspace(&root);
        match pipeline::run(&inputs, printer) {
            Ok(o) => (Some(o), Found::default()),
            Err(e) => {
                let why = std::iter::once(e.message).chain(e.causes).collect::<Vec<_>>().join(": ");
                checks.push(Check { ok: false, what: format!("the workspace cannot be read: {why}"), fix: None });
                (None, Found::default())
            }
        }
    } else {
        (None, Found::scan(&ws, &month))
    };
    checks.extend(self::checks(&ws, &month, outcome.as_ref(), &found, &fixes, now));
    for c in &checks {
        let _ = writeln!(out, "  {} {}", if c.ok { "ok " } else { "!! " }, c.what);
        if let Some(f) = &c.fix {
            let _ = writeln!(out, "      fix: {f}");
        }
    }
    let bad = checks.iter().filter(|c| !c.ok).count();
    if bad == 0 {
        let _ = writeln!(out, "a report of {} would be complete: `crossaz review --month {}{}`", month.label, month.label, fixes.workspace_flag);
    } else {
        let _ = writeln!(out, "a report of {} would be incomplete: {bad} problem{} above", month.label, if bad == 1 { "" } else { "s" });
    }
    super::common::emit(out.as_bytes(), None)?;
    Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The commands that fill each input, with what `crossaz.toml` already knows left out.
pub struct Fixes {
    /// ` --workspace DIR` unless the pulls find the workspace without it.
    pub workspace_flag: String,
    /// `crossaz.toml` names the flow log's bucket or log group.
    pub flow_log_known: bool,
    /// The bill comes from a CUR or FOCUS export (`billing.source = "cur"`).
    pub billing_from_export: bool,
}

impl Fixes {
    pub fn new(root: &Path, cfg: &crate::config::Loaded) -> Fixes {
        // Pulls find the workspace by the flag, `CROSSAZ_WORKSPACE` or the default folder.
        let from_env = std::env::var_os("CROSSAZ_WORKSPACE").is_some_and(|w| Path::new(&w) == root);
        let workspace_flag = if from_env || root == Path::new(crate::workspace::DEFAULT) { String::new() } else { format!(" --workspace {}", root.display()) };
        let logs = &cfg.config.flow_logs;
        Fixes {
            workspace_flag,
            flow_log_known: logs.bucket.is_some() || logs.log_group.is_some(),
            billing_from_export: cfg.config.billing.source.as_deref() == Some("cur"),
        }
    }

    fn flow_logs(&self, from: Ts, to: Ts) -> String {
        let (from, to, ws) = (format_date(from), format_date(to), &self.workspace_flag);
        if self.flow_log_known {
            format!("crossaz pull flow-logs --from {from} --to {to}{ws}")
        } else {
            format!("crossaz pull flow-logs --bucket BUCKET --from {from} --to {to}{ws} (`crossaz setup --cluster NAME` finds the bucket)")
        }
    }

    fn billing(&self, from: Ts, to: Ts) -> String {
        let (from, to, ws) = (format_date(from), format_date(to), &self.workspace_flag);
        if self.billing_from_export {
            format!("crossaz pull billing --source cur --from {from} --to {to}{ws}")
        } else {
            format!("crossaz pull billing --from {from} --to {to}{ws}")
        }
    }

    fn network(&self) -> String {
        format!("crossaz pull network --every 1h{}", self.workspace_flag)
    }

    fn k8s(&self, every: &str) -> String {
        format!("crossaz pull k8s --every {every}{}", self.workspace_flag)
    }
}

/// Whether a folder holds a file that `sources::expand_path` would read (not hidden); stops at the first.
fn has_files(dir: &Path) -> bool {
    walkdir::WalkDir::new(dir)
        .follow_links(true)
        .into_iter()
        .filter_map(Result::ok)
        .any(|e| e.file_type().is_file() && !e.file_name().to_string_lossy().starts_with('.'))
}

/// What a workspace without flow logs holds: file names, and the days of its Cost Explorer files.
#[derive(Debug, Default)]
pub struct Found {
    pub network_files: usize,
    /// Times of the Kubernetes snapshots, from their names.
    pub snapshot_times: Vec<Ts>,
    /// Days of the month the Cost Explorer files bill usage on.
    pub billing_days: BTreeSet<String>,
    /// Cost Explorer files that cannot be read.
    pub billing_problems: Vec<String>,
    pub cur_files: usize,
}

impl Found {
    pub fn scan(ws: &Workspace, month: &Month) -> Found {
        let files = |dir: PathBuf| -> Vec<PathBuf> { if dir.is_dir() { crate::sources::expand_path(&dir).unwrap_or_default() } else { Vec::new() } };
        // Cost Explorer files are small: their days are read; a CUR export is only counted.
        let (mut billing_days, mut billing_problems) = (BTreeSet::new(), Vec::new());
        let cur = ws.cur();
        for f in files(ws.billing()).iter().filter(|f| !f.starts_with(&cur) && f.extension().is_some_and(|e| e == "json")) {
            match crate::sources::billing::load_file(f) {
                Ok(b) => {
                    for line in b.lines.iter().filter(|l| l.usage.is_sign_positive() && !l.usage.is_zero()) {
                        for day in line.start_day..line.end_day {
                            let t = crate::model::time::day_start(day);
                            if t >= month.from && t < month.to {
                                billing_days.insert(format_date(t));
                            }
                        }
                    }
                }
                Err(e) => billing_problems.push(e.to_string()),
            }
        }
        Found {
            network_files: files(ws.network()).len(),
            snapshot_times: files(ws.k8s()).iter().filter_map(|f| crate::sources::k8s::snapshot_time(f)).collect(),
            billing_days,
            billing_problems,
            cur_files: files(ws.cur()).len(),
        }
    }
}

fn day_list(days: &[Ts]) -> String {
    let shown: Vec<String> = days.iter().take(5).map(|d| format_date(*d)).collect();
    format!("{}{}", shown.join(", "), if days.len() > 5 { format!(" and {} more", days.len() - 5) } else { String::new() })
}

/// The checks, from the report when flow logs could be read, else from what `found` lists.
pub fn checks(ws: &Workspace, month: &Month, read: Option<&Outcome>, found: &Found, fixes: &Fixes, now: Ts) -> Vec<Check> {
    let mut out = Vec::new();
    let end = month.to.min(now - now.rem_euclid(SECONDS_PER_DAY));
    let days: Vec<Ts> = (month.from..end).step_by(SECONDS_PER_DAY as usize).collect();
    let report = read.map(|o| &o.report);

    // 1. Flow logs: every day of the month has records.
    match report {
        None => out.push(Check {
            ok: false,
            what: format!("flow logs: no flow-log files in `{}`", ws.flow_logs().display()),
            fix: Some(fixes.flow_logs(month.from, month.to)),
        }),
        Some(r) if r.measurement.summary.records.read == 0 => out.push(Check {
            ok: false,
            what: format!("flow logs: no record of {} in `{}`", month.label, ws.flow_logs().display()),
            fix: Some(fixes.flow_logs(month.from, month.to)),
        }),
        Some(r) => {
            let seen: BTreeSet<&str> = r.measurement.daily.iter().map(|d| d.date.as_str()).collect();
            let missing: Vec<Ts> = days.iter().copied().filter(|d| !seen.contains(format_date(*d).as_str())).collect();
            if missing.is_empty() {
                out.push(Check {
                    ok: true,
                    what: format!("flow logs: {} of {} days ({} records)", days.len(), days.len(), r.measurement.summary.records.read),
                    fix: None,
                });
            } else {
                let (first, last) = (missing[0], missing[missing.len() - 1] + SECONDS_PER_DAY);
                out.push(Check {
                    ok: false,
                    what: format!("flow logs: {} of {} days have no record: {}", missing.len(), days.len(), day_list(&missing)),
                    fix: Some(fixes.flow_logs(first, last)),
                });
            }
        }
    }

    if let Some(o) = read {
        flow_log_checks(o, &mut out);
    }

    // 4. Kubernetes snapshots.
    let times = read.map_or(found.snapshot_times.as_slice(), |o| o.snapshot_times.as_slice());
    let in_month: Vec<Ts> = times.iter().copied().filter(|t| *t >= month.from - SECONDS_PER_DAY && *t < month.to).collect();
    let pull_state = crate::sources::kube_pull::read_state(ws);
    let gaps = read.map(|o| o.snapshot_gaps.as_slice()).unwrap_or_default();
    match (&pull_state, in_month.is_empty()) {
        (state, true) => out.push(Check {
            ok: false,
            what: format!("Kubernetes: no snapshot of {} in `{}`: pods cannot be named", month.label, ws.k8s().display()),
            fix: Some(format!("keep `{}` running through the month", fixes.k8s(&state.as_ref().map_or("5m".to_string(), |s| format!("{}s", s.every))))),
        }),
        (Some(state), false) if !gaps.is_empty() => out.push(Check {
            ok: false,
            what: format!("Kubernetes: {}", gaps.join("; ")),
            fix: Some(format!("keep `{}` running (docs/pull.md)", fixes.k8s(&format!("{}s", state.every)))),
        }),
        (Some(state), false) => out.push(Check {
            ok: true,
            what: format!("Kubernetes: {} snapshots, none more than {} s apart beyond the allowance", in_month.len(), state.every),
            fix: None,
        }),
        (None, false) => {
            let longest = in_month.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
            out.push(Check {
                ok: true,
                what: format!(
                    "Kubernetes: {} snapshots (longest interval {} h); not taken by `crossaz pull k8s --every`, so gaps cannot be judged",
                    in_month.len(),
                    longest / 3600
                ),
                fix: None,
            });
        }
    }

    // 5. The network inventory: not older than the flow logs.
    let network_files = report.map_or(found.network_files, |r| r.measurement.inputs.network_files);
    let unknown_note = report.and_then(|r| r.measurement.summary.notes.iter().find(|n| n.contains("are in no network snapshot")));
    if network_files == 0 {
        out.push(Check { ok: false, what: format!("network inventory: none in `{}`", ws.network().display()), fix: Some(fixes.network()) });
    } else if let Some(n) = unknown_note {
        out.push(Check {
            ok: false,
            what: format!("network inventory: stale — {}", n.split(':').next().unwrap_or(n)),
            fix: Some(format!("keep `{}` running", fixes.network())),
        });
    } else if let Some(r) = report {
        out.push(Check {
            ok: true,
            what: format!("network inventory: {} interfaces, every logged interface known", r.measurement.inputs.interfaces),
            fix: None,
        });
    } else {
        out.push(Check { ok: true, what: format!("network inventory: {network_files} files (checked against the flow logs once they are pulled)"), fix: None });
    }

    // 6. The bill.
    let billed: BTreeSet<String> = match report.map(|r| &r.reconciliation) {
        Some(Some(rec)) => rec.days.iter().filter(|d| !d.billed_out_gb.is_zero() || !d.billed_in_gb.is_zero()).map(|d| d.date.clone()).collect(),
        Some(None) => BTreeSet::new(),
        None => found.billing_days.clone(),
    };
    let has_bill = match report {
        Some(r) => r.reconciliation.is_some(),
        None => !found.billing_days.is_empty() || found.cur_files > 0,
    };
    if report.is_none() {
        for p in &found.billing_problems {
            out.push(Check { ok: false, what: format!("billing: {p}"), fix: None });
        }
    }
    if !has_bill {
        out.push(Check {
            ok: false,
            what: format!("billing: no Cost Explorer data in `{}`: the review cannot say how much of the bill it explains", ws.billing().display()),
            fix: Some(fixes.billing(month.from, month.to)),
        });
    } else if report.is_none() && found.cur_files > 0 && found.billing_days.is_empty() {
        out.push(Check {
            ok: true,
            what: format!("billing: {} export files (checked against the flow logs once they are pulled)", found.cur_files),
            fix: None,
        });
    } else {
        let missing: Vec<Ts> = days.iter().copied().filter(|d| !billed.contains(format_date(*d).as_str())).collect();
        if missing.is_empty() {
            out.push(Check { ok: true, what: format!("billing: {} days of Cost Explorer data", billed.len()), fix: None });
        } else {
            out.push(Check {
                ok: false,
                what: format!("billing: {} days without Cost Explorer data: {}", missing.len(), day_list(&missing)),
                fix: Some(fixes.billing(missing[0], missing[missing.len() - 1] + SECONDS_PER_DAY)),
            });
        }
    }
    out
}

/// 2. and 3.: what the flow logs' format and coverage lack.
fn flow_log_checks(o: &Outcome, out: &mut Vec<Check>) {
    let r = &o.report;
    if o.node_level_files > 0 {
        out.push(Check {
            ok: false,
            what: format!(
                "{} of {} flow-log files lack `pkt-srcaddr`/`pkt-dstaddr`: traffic is attributed per node, not per pod",
                o.node_level_files, r.measurement.inputs.flow_log_files
            ),
            fix: Some(
                "create the flow log with the recommended format: `crossaz setup --cluster NAME` prints the AWS CLI and Terraform (docs/flow-log-format.md)"
                    .into(),
            ),
        });
    } else if r.measurement.inputs.flow_log_files > 0 {
        out.push(Check { ok: true, what: "flow-log format: pod addresses (`pkt-srcaddr`, `pkt-dstaddr`) present".into(), fix: None });
    }
    if !o.unlogged_interfaces.is_empty() && r.measurement.summary.records.read > 0 {
        let shown: Vec<String> = o.unlogged_interfaces.iter().take(3).map(|(id, who)| format!("{id} ({who})")).collect();
        out.push(Check {
            ok: false,
            what: format!(
                "{} interfaces of the inventory appear in no flow-log record (e.g. {}): the flow log covers only part of the VPC, or they were idle",
                o.unlogged_interfaces.len(),
                shown.join(", ")
            ),
            fix: Some("create the flow log on the VPC, not on subnets or interfaces: `crossaz setup --cluster NAME` prints the command".into()),
        });
    }
}
