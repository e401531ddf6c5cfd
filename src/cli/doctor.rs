//! `crossaz doctor`: what is missing or stale in a workspace for a month's report, each with the
//! command that fixes it. Exit 0 when the report would be complete, 1 otherwise.

use crate::error::Error;
use crate::model::time::{Month, SECONDS_PER_DAY, Ts, format_date};
use crate::pipeline::{self, Inputs, Outcome};
use crate::printer::Printer;
use crate::workspace::Workspace;
use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The workspace to check [default: crossaz-data].
    #[arg(long, value_name = "DIR", env = "CROSSAZ_WORKSPACE")]
    pub workspace: Option<PathBuf>,
    /// The month to check [default: last month].
    #[arg(long, value_name = "YYYY-MM", value_parser = super::parse_month_arg)]
    pub month: Option<Month>,
}

/// One finding: fine or not, what, and the command that fixes it.
pub struct Check {
    pub ok: bool,
    pub what: String,
    pub fix: Option<String>,
}

pub fn run(args: Args, printer: &Printer) -> Result<ExitCode, Error> {
    let root = args.workspace.clone().unwrap_or_else(|| PathBuf::from(crate::workspace::DEFAULT));
    if !root.is_dir() {
        return Err(Error::usage(format!("no workspace at `{}`", root.display())).hint("create one with `crossaz setup --cluster NAME`, then `crossaz pull …`"));
    }
    let month = match args.month {
        Some(m) => m,
        None => Month::containing(chrono::Utc::now().timestamp()).and_then(|m| m.previous()).ok_or_else(|| Error::failure("no previous month"))?,
    };
    let ws = Workspace::new(&root);
    let mut inputs = Inputs { from: Some(month.from), to: Some(month.to), ..Inputs::default() };
    inputs.add_workspace(&root);
    let outcome = pipeline::run(&inputs, printer)?;
    let now = chrono::Utc::now().timestamp();
    let checks = checks(&ws, &month, &outcome, &inputs, now);
    let mut out = format!("crossaz doctor: workspace `{}`, {}\n", root.display(), month.label);
    for c in &checks {
        let _ = writeln!(out, "  {} {}", if c.ok { "ok " } else { "!! " }, c.what);
        if let Some(f) = &c.fix {
            let _ = writeln!(out, "      fix: {f}");
        }
    }
    let bad = checks.iter().filter(|c| !c.ok).count();
    if bad == 0 {
        let _ = writeln!(out, "a report of {} would be complete: `crossaz review --month {}`", month.label, month.label);
    } else {
        let _ = writeln!(out, "a report of {} would be incomplete: {bad} problem{} above", month.label, if bad == 1 { "" } else { "s" });
    }
    super::emit(out.as_bytes(), None)?;
    Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn day_list(days: &[Ts]) -> String {
    let shown: Vec<String> = days.iter().take(5).map(|d| format_date(*d)).collect();
    format!("{}{}", shown.join(", "), if days.len() > 5 { format!(" and {} more", days.len() - 5) } else { String::new() })
}

pub fn checks(ws: &Workspace, month: &Month, o: &Outcome, inputs: &Inputs, now: Ts) -> Vec<Check> {
    let mut out = Vec::new();
    let end = month.to.min(now - now.rem_euclid(SECONDS_PER_DAY));
    let days: Vec<Ts> = (month.from..end).step_by(SECONDS_PER_DAY as usize).collect();
    let r = &o.report;

    // 1. Flow logs: every day of the month has records.
    let seen: BTreeSet<&str> = r.daily.iter().map(|d| d.date.as_str()).collect();
    let missing: Vec<Ts> = days.iter().copied().filter(|d| !seen.contains(format_date(*d).as_str())).collect();
    if r.summary.records.read == 0 {
        out.push(Check {
            ok: false,
            what: format!("flow logs: no record of {} in `{}`", month.label, ws.flow_logs().display()),
            fix: Some(format!("crossaz pull flow-logs --from {} --to {}", format_date(month.from), format_date(month.to))),
        });
    } else if missing.is_empty() {
        out.push(Check { ok: true, what: format!("flow logs: {} of {} days ({} records)", days.len(), days.len(), r.summary.records.read), fix: None });
    } else {
        let (first, last) = (missing[0], missing[missing.len() - 1] + SECONDS_PER_DAY);
        out.push(Check {
            ok: false,
            what: format!("flow logs: {} of {} days have no record: {}", missing.len(), days.len(), day_list(&missing)),
            fix: Some(format!("crossaz pull flow-logs --from {} --to {}", format_date(first), format_date(last))),
        });
    }

    // 2. The format: pod addresses.
    if o.node_level_files > 0 {
        out.push(Check {
            ok: false,
            what: format!(
                "{} of {} flow-log files lack `pkt-srcaddr`/`pkt-dstaddr`: traffic is attributed per node, not per pod",
                o.node_level_files, r.inputs.flow_log_files
            ),
            fix: Some(
                "create the flow log with the recommended format: `crossaz setup --cluster NAME` prints the AWS CLI and Terraform (docs/flow-log-format.md)"
                    .into(),
            ),
        });
    } else if r.inputs.flow_log_files > 0 {
        out.push(Check { ok: true, what: "flow-log format: pod addresses (`pkt-srcaddr`, `pkt-dstaddr`) present".into(), fix: None });
    }

    // 3. Coverage: interfaces of the VPC that no flow log recorded.
    if !o.unlogged_interfaces.is_empty() && r.summary.records.read > 0 {
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

    // 4. Kubernetes snapshots.
    let in_month: Vec<Ts> = o.snapshot_times.iter().copied().filter(|t| *t >= month.from - SECONDS_PER_DAY && *t < month.to).collect();
    match (&inputs.k8s_pull, in_month.is_empty()) {
        (_, true) => out.push(Check {
            ok: false,
            what: format!("Kubernetes: no snapshot of {} in `{}`: pods cannot be named", month.label, ws.k8s().display()),
            fix: Some("keep `crossaz pull k8s --every 5m` running through the month".into()),
        }),
        (Some(state), false) if !o.snapshot_gaps.is_empty() => out.push(Check {
            ok: false,
            what: format!("Kubernetes: {}", o.snapshot_gaps.join("; ")),
            fix: Some(format!("keep `crossaz pull k8s --every {}s` running (docs/pull.md)", state.every)),
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
                    "Kubernetes: {} snapshots (longest interval {} h); not taken by `pull k8s --every`, so gaps cannot be judged",
                    in_month.len(),
                    longest / 3600
                ),
                fix: None,
            });
        }
    }

    // 5. The network inventory: not older than the flow logs.
    let unknown_note = r.summary.notes.iter().find(|n| n.contains("are in no network snapshot"));
    if r.inputs.network_files == 0 {
        out.push(Check {
            ok: false,
            what: format!("network inventory: none in `{}`", ws.network().display()),
            fix: Some("crossaz pull network --every 1h".into()),
        });
    } else if let Some(n) = unknown_note {
        out.push(Check {
            ok: false,
            what: format!("network inventory: stale — {}", n.split(':').next().unwrap_or(n)),
            fix: Some("keep `crossaz pull network --every 1h` running".into()),
        });
    } else {
        out.push(Check { ok: true, what: format!("network inventory: {} interfaces, every logged interface known", r.inputs.interfaces), fix: None });
    }

    // 6. The bill.
    match &r.reconciliation {
        None => out.push(Check {
            ok: false,
            what: format!("billing: no Cost Explorer data in `{}`: the review cannot say how much of the bill it explains", ws.billing().display()),
            fix: Some(format!("crossaz pull billing --from {} --to {}", format_date(month.from), format_date(month.to))),
        }),
        Some(rec) => {
            let billed: BTreeSet<&str> = rec.days.iter().filter(|d| !d.billed_out_gb.is_zero() || !d.billed_in_gb.is_zero()).map(|d| d.date.as_str()).collect();
            let missing: Vec<Ts> = days.iter().copied().filter(|d| !billed.contains(format_date(*d).as_str())).collect();
            if missing.is_empty() {
                out.push(Check { ok: true, what: format!("billing: {} days of Cost Explorer data", billed.len()), fix: None });
            } else {
                out.push(Check {
                    ok: false,
                    what: format!("billing: {} days without Cost Explorer data: {}", missing.len(), day_list(&missing)),
                    fix: Some(format!(
                        "crossaz pull billing --from {} --to {}",
                        format_date(missing[0]),
                        format_date(missing[missing.len() - 1] + SECONDS_PER_DAY)
                    )),
                });
            }
        }
    }
    out
}
