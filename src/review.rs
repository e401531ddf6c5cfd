//! `crossaz review`'s analysis: the period against a baseline, one ranked list of actions from
//! the what-ifs, and chargeback. It reads the measurement and the what-ifs' results, never the
//! Report; the Report holds its result as `review`, and the renderers (HTML, Markdown, CSV) only
//! format what is here.

use crate::measurement::{Conversation, Measurement, Side, WindowInfo};
use crate::model::entity::{Entity, EntityKind};
use crate::reconcile::Reconciliation;
use crate::whatif::{paths::PathsWhatIf, rds::RdsWhatIf, routing::RoutingWhatIf};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// `2026-10` for a calendar month, else `FROM → TO`.
    pub period: String,
    pub month: Option<String>,
    /// The command line that made the review.
    pub command: String,
    pub headline: Headline,
    /// Absent when no baseline was given or found: nothing is compared.
    pub baseline: Option<Baseline>,
    /// Ranked by monthly savings, largest first.
    pub actions: Vec<Action>,
    /// Services, workloads and namespaces whose cross-AZ cost changed, by the size of the change.
    pub changes: Vec<Change>,
    pub chargeback: Chargeback,
    /// Present with `--fail-on-increase`.
    pub threshold: Option<Threshold>,
    /// Kubernetes snapshot gaps longer than `pull k8s --every` allows.
    pub snapshot_gaps: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    pub cross_az_cost_usd: Decimal,
    pub cross_az_billed_bytes: u64,
    pub change_usd: Option<Decimal>,
    /// Null without a baseline, or when the baseline cost nothing.
    pub change_pct: Option<Decimal>,
    /// Share of the bill's inter-AZ line the flow logs explain (with billing data).
    pub bill_explained_pct: Option<Decimal>,
    /// The actions' savings, per month of 730 hours.
    pub savings_monthly_usd: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// `2026-09`, or the file's name.
    pub label: String,
    /// Where the baseline Report was read from.
    pub source: String,
    pub tool: String,
    pub window: WindowInfo,
    pub cross_az_cost_usd: Decimal,
    pub cross_az_billed_bytes: u64,
    pub daily: Vec<BaselineDay>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineDay {
    pub date: String,
    pub cost_usd: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub rank: u32,
    /// `topology-aware-routing`, `rds-deployment`, or a `whatif paths` kind (`lb-target-type`, `nat-per-az`, …).
    pub kind: String,
    pub target: String,
    pub monthly_savings_usd: Decimal,
    pub risk: String,
    /// The command or manifest change that makes it.
    pub change: String,
    pub evidence: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// `service`, `workload` or `namespace`.
    pub dimension: String,
    pub namespace: String,
    pub name: String,
    pub kind: String,
    /// `new` (no billed cross-AZ bytes in the baseline), `gone`, `grew`, `shrank` or `unchanged`.
    pub status: String,
    pub baseline_bytes: u64,
    pub current_bytes: u64,
    pub baseline_usd: Decimal,
    pub current_usd: Decimal,
    pub change_usd: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Chargeback {
    /// `namespace`, `workload` or `label:KEY`.
    pub group_by: String,
    /// Who pays for a conversation's bytes.
    pub rule: String,
    pub rows: Vec<ChargebackRow>,
    pub total_bytes: u64,
    pub total_usd: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChargebackRow {
    pub group: String,
    pub cross_az_billed_bytes: u64,
    pub cost_usd: Decimal,
    pub share_pct: Decimal,
    /// The workloads and Services charged to this row (`namespace/name`).
    pub members: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// As given: `10%` or `50` (USD).
    pub limit: String,
    pub exceeded: bool,
    /// The three Services whose cost grew most.
    pub contributors: Vec<Change>,
}

/// `--group-by`: how chargeback groups the cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Namespace,
    Workload,
    Label(String),
}

impl GroupBy {
    pub fn parse(s: &str) -> Result<GroupBy, String> {
        match s {
            "namespace" => Ok(GroupBy::Namespace),
            "workload" => Ok(GroupBy::Workload),
            _ => match s.strip_prefix("label:") {
                Some(key) if !key.is_empty() => Ok(GroupBy::Label(key.to_string())),
                _ => Err(format!("`{s}` is not a grouping: expected `namespace`, `workload` or `label:KEY` (e.g. `label:team`)")),
            },
        }
    }

    pub fn as_string(&self) -> String {
        match self {
            GroupBy::Namespace => "namespace".into(),
            GroupBy::Workload => "workload".into(),
            GroupBy::Label(k) => format!("label:{k}"),
        }
    }
}

/// `--fail-on-increase`: a growth in percent or in USD per period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Limit {
    Pct(Decimal),
    Usd(Decimal),
}

impl Limit {
    pub fn parse(s: &str) -> Result<Limit, String> {
        let bad = || format!("`{s}` is not a threshold: expected a percentage (`10%`) or US dollars (`50`)");
        let (num, pct) = match s.strip_suffix('%') {
            Some(n) => (n, true),
            None => (s.strip_prefix('$').unwrap_or(s), false),
        };
        let d: Decimal = num.trim().parse().map_err(|_| bad())?;
        if d.is_sign_negative() {
            return Err(bad());
        }
        Ok(if pct { Limit::Pct(d) } else { Limit::Usd(d) })
    }

    fn text(&self) -> String {
        match self {
            Limit::Pct(p) => format!("{p}%"),
            Limit::Usd(u) => u.to_string(),
        }
    }
}

/// The what-ifs a review ranks its actions from (each absent when it was not run).
#[derive(Clone, Copy, Debug, Default)]
pub struct WhatIfs<'a> {
    pub routing: Option<&'a RoutingWhatIf>,
    pub rds: Option<&'a RdsWhatIf>,
    pub paths: Option<&'a PathsWhatIf>,
}

/// The month a review compares with: its measurement, the tool that made it, its label and where
/// it came from.
pub struct BaselineInput<'a> {
    pub measurement: &'a Measurement,
    pub tool: String,
    pub label: String,
    pub source: String,
}

pub struct Input<'a> {
    pub period: String,
    pub month: Option<String>,
    pub command: String,
    pub baseline: Option<BaselineInput<'a>>,
    pub whatifs: WhatIfs<'a>,
    pub reconciliation: Option<&'a Reconciliation>,
    pub group_by: GroupBy,
    /// Labels of workloads and Services (for `label:KEY`).
    pub labels: &'a BTreeMap<Entity, BTreeMap<String, String>>,
    pub fail_on_increase: Option<Limit>,
    pub snapshot_gaps: Vec<String>,
    pub notes: Vec<String>,
}

pub fn review(m: &Measurement, input: Input<'_>) -> Review {
    let s = &m.summary;
    let actions = actions(input.whatifs);
    let savings: Decimal = actions.iter().map(|a| a.monthly_savings_usd).sum();
    let mut notes = input.notes;
    let (baseline, changes) = match &input.baseline {
        Some(BaselineInput { measurement: base, tool, label, source }) => (
            Some(Baseline {
                label: label.clone(),
                source: source.clone(),
                tool: tool.clone(),
                window: base.window.clone(),
                cross_az_cost_usd: base.summary.cross_az_cost_usd,
                cross_az_billed_bytes: base.summary.bytes.cross_az_billed,
                daily: base.daily.iter().map(|d| BaselineDay { date: d.date.clone(), cost_usd: d.cost_usd }).collect(),
            }),
            changes(base, m),
        ),
        None => {
            notes.push(
                "no baseline: nothing is compared — pass `--baseline YYYY-MM` (a report kept in the workspace's `reports/`) or `--baseline-report FILE`".into(),
            );
            (None, Vec::new())
        }
    };
    let (change_usd, change_pct) = match &baseline {
        Some(b) => {
            let d = s.cross_az_cost_usd - b.cross_az_cost_usd;
            let pct = (!b.cross_az_cost_usd.is_zero()).then(|| (d * Decimal::from(100) / b.cross_az_cost_usd).round_dp(2));
            (Some(d), pct)
        }
        None => (None, None),
    };
    let threshold = input.fail_on_increase.as_ref().filter(|_| baseline.is_some()).map(|limit| {
        let d = change_usd.unwrap_or_default();
        let exceeded = match limit {
            Limit::Usd(u) => d > *u,
            Limit::Pct(p) => match change_pct {
                Some(pct) => pct > *p,
                None => d > Decimal::ZERO,
            },
        };
        let mut grown: Vec<Change> = changes.iter().filter(|c| c.dimension == "service" && c.change_usd > Decimal::ZERO).cloned().collect();
        grown.truncate(3);
        Threshold { limit: limit.text(), exceeded, contributors: grown }
    });
    Review {
        period: input.period,
        month: input.month,
        command: input.command,
        headline: Headline {
            cross_az_cost_usd: s.cross_az_cost_usd,
            cross_az_billed_bytes: s.bytes.cross_az_billed,
            change_usd,
            change_pct,
            bill_explained_pct: input.reconciliation.and_then(|r| r.total.coverage_pct),
            savings_monthly_usd: savings,
        },
        baseline,
        actions,
        changes,
        chargeback: chargeback(m, &input.group_by, input.labels),
        threshold,
        snapshot_gaps: input.snapshot_gaps,
        notes,
    }
}

fn is_workload(kind: &str) -> bool {
    EntityKind::parse(kind).is_some_and(|k| k.is_kubernetes() && k != EntityKind::Service)
}

fn is_kubernetes(kind: &str) -> bool {
    EntityKind::parse(kind).is_some_and(EntityKind::is_kubernetes)
}

/// Who pays for a conversation: its client when that is a pod's workload, else its server when
/// that is a Service or workload (traffic from load balancers, NAT gateways, nodes), else nobody
/// in the cluster.
fn payer(c: &Conversation) -> Option<(&str, &str, &str)> {
    if is_workload(&c.client_kind) {
        Some((&c.client_kind, &c.client_namespace, &c.client))
    } else if is_kubernetes(&c.server_kind) {
        Some((&c.server_kind, &c.server_namespace, &c.server))
    } else {
        None
    }
}

pub const PAYER_RULE: &str = "a conversation's cost goes to its client workload; when the client is not a pod (a load balancer, NAT gateway, node or another VPC), to the Service or workload that served it; conversations with no Kubernetes end form their own row";
const OUTSIDE: &str = "(outside Kubernetes)";

pub fn chargeback(m: &Measurement, by: &GroupBy, labels: &BTreeMap<Entity, BTreeMap<String, String>>) -> Chargeback {
    let mut groups: BTreeMap<String, (u64, BTreeSet<String>)> = BTreeMap::new();
    for c in m.conversations.iter().filter(|c| c.class == "cross-az-billed") {
        let (group, member) = match payer(c) {
            None => (OUTSIDE.to_string(), None),
            Some((kind, ns, name)) => {
                let member = format!("{ns}/{name}");
                let group = match by {
                    GroupBy::Namespace => ns.to_string(),
                    GroupBy::Workload => member.clone(),
                    GroupBy::Label(key) => {
                        let entity = EntityKind::parse(kind).map(|k| Entity::new(k, ns, name));
                        match entity.as_ref().and_then(|e| labels.get(e)).and_then(|l| l.get(key)) {
                            Some(v) => v.clone(),
                            None => format!("(no {key} label)"),
                        }
                    }
                };
                (group, Some(member))
            }
        };
        let g = groups.entry(group).or_default();
        g.0 += c.bytes;
        g.1.extend(member);
    }
    let total_bytes: u64 = groups.values().map(|g| g.0).sum();
    let total_usd = m.billed_cost(total_bytes);
    let mut rows: Vec<ChargebackRow> = groups
        .into_iter()
        .map(|(group, (bytes, members))| {
            let usd = m.billed_cost(bytes);
            let share = if total_usd.is_zero() { Decimal::ZERO } else { (usd * Decimal::from(100) / total_usd).round_dp(2) };
            ChargebackRow { group, cross_az_billed_bytes: bytes, cost_usd: usd, share_pct: share, members: members.into_iter().collect() }
        })
        .collect();
    rows.sort_by(|a, b| b.cross_az_billed_bytes.cmp(&a.cross_az_billed_bytes).then_with(|| a.group.cmp(&b.group)));
    Chargeback { group_by: by.as_string(), rule: PAYER_RULE.into(), rows, total_bytes, total_usd }
}

type Costs = BTreeMap<(String, String, String), (u64, Decimal)>;

/// Billed cross-AZ bytes and cost per Service (server), workload (client) and namespace (payer).
fn costs(m: &Measurement) -> [(&'static str, Costs); 3] {
    let by_side = |side: Side| -> Costs { m.by_entity(side).into_iter().map(|(key, e)| (key, (e.billed, m.billed_cost(e.billed)))).collect() };
    let namespaces: Costs = chargeback(m, &GroupBy::Namespace, &BTreeMap::new())
        .rows
        .into_iter()
        .map(|row| ((row.group, String::new(), "namespace".to_string()), (row.cross_az_billed_bytes, row.cost_usd)))
        .collect();
    [("service", by_side(Side::Server)), ("workload", by_side(Side::Client)), ("namespace", namespaces)]
}

pub fn changes(base: &Measurement, current: &Measurement) -> Vec<Change> {
    let mut out = Vec::new();
    for ((dimension, now), (_, before)) in costs(current).into_iter().zip(costs(base)) {
        let keys: BTreeSet<&(String, String, String)> = now.keys().chain(before.keys()).collect();
        for key in keys {
            let (cb, cu) = now.get(key).copied().unwrap_or_default();
            let (bb, bu) = before.get(key).copied().unwrap_or_default();
            if cb == 0 && bb == 0 {
                continue;
            }
            let status = match (bb, cb) {
                (0, _) => "new",
                (_, 0) => "gone",
                (b, c) if c > b => "grew",
                (b, c) if c < b => "shrank",
                _ => "unchanged",
            };
            let (namespace, name) = if dimension == "namespace" { (key.0.clone(), key.0.clone()) } else { (key.0.clone(), key.1.clone()) };
            out.push(Change {
                dimension: dimension.into(),
                namespace,
                name,
                kind: key.2.clone(),
                status: status.into(),
                baseline_bytes: bb,
                current_bytes: cb,
                baseline_usd: bu,
                current_usd: cu,
                change_usd: cu - bu,
            });
        }
    }
    out.sort_by(|a, b| {
        b.change_usd.abs().cmp(&a.change_usd.abs()).then_with(|| (&a.dimension, &a.namespace, &a.name).cmp(&(&b.dimension, &b.namespace, &b.name)))
    });
    out
}

/// One ranked list from every what-if given.
pub fn actions(w: WhatIfs<'_>) -> Vec<Action> {
    let mut out = Vec::new();
    if let Some(routing) = w.routing {
        for s in &routing.services {
            let (Some(mode), Some(save)) = (s.recommended_mode.as_deref(), s.recommended_monthly_savings_usd) else { continue };
            if save <= Decimal::ZERO {
                continue;
            }
            let (risk, load) =
                if mode == "Auto" { (&s.auto.risk, s.auto.load_max_over_mean) } else { (&s.prefer_close.risk, s.prefer_close.load_max_over_mean) };
            let change = if mode == "Auto" {
                format!("kubectl annotate service -n {} {} service.kubernetes.io/topology-mode=Auto --overwrite", s.namespace, s.service)
            } else {
                let unknown =
                    if mode == "PreferSameZone" && routing.cluster.kubernetes_version.is_none() { "  # PreferClose before Kubernetes 1.34" } else { "" };
                format!("kubectl patch service -n {} {} --type merge -p '{{\"spec\":{{\"trafficDistribution\":\"{mode}\"}}}}'{unknown}", s.namespace, s.service)
            };
            let zones: Vec<String> = s.ready_endpoints_by_zone.iter().map(|(z, n)| format!("{z}: {n}")).collect();
            let today = s.today.monthly_usd.map(|m| format!("today {} per month cross-AZ", crate::human::human_usd(m))).unwrap_or_default();
            out.push(Action {
                rank: 0,
                kind: "topology-aware-routing".into(),
                target: format!("{}/{}", s.namespace, s.service),
                monthly_savings_usd: save,
                risk: match (risk, load) {
                    (Some(r), Some(l)) => format!("{r}: the busiest endpoint would take {l:.2}× the mean load"),
                    (Some(r), None) => r.clone(),
                    _ => "unknown".into(),
                },
                change,
                evidence: format!("{today}; ready endpoints by zone: {}; {}", zones.join(", "), s.recommendation),
            });
        }
    }
    if let Some(rds) = w.rds {
        for d in &rds.databases {
            let Some(rec) = &d.recommendation else { continue };
            if rec.keep || rec.monthly_savings_usd <= Decimal::ZERO {
                continue;
            }
            use crate::pricing::rds::Deployment;
            let option = d.options.iter().find(|o| o.option == rec.option && o.writer_az == rec.writer_az && o.reads == rec.reads);
            let risk = match option.and_then(|o| o.failover_seconds) {
                Some([a, b]) => format!("fails over in {a}–{b} s and survives the loss of an AZ"),
                None if rec.option == Deployment::SingleAz => "no standby: losing its AZ stops the database until it is restored elsewhere".into(),
                None => "failover time unknown".into(),
            };
            let change = rds_change(d, rec);
            out.push(Action {
                rank: 0,
                kind: "rds-deployment".into(),
                target: d.id.clone(),
                monthly_savings_usd: rec.monthly_savings_usd,
                risk,
                change,
                evidence: format!(
                    "today {} with the writer in {} ({} per month, {} of it cross-AZ); recommended: {} with the writer in {}; {}",
                    d.current_option.as_str(),
                    d.current_writer_az.as_deref().unwrap_or("an unknown AZ"),
                    crate::human::human_usd(d.today.monthly_total_usd),
                    crate::human::human_usd(d.today.monthly_cross_az_usd),
                    rec.option.as_str(),
                    rec.writer_az,
                    rec.why
                ),
            });
        }
    }
    if let Some(paths) = w.paths {
        // Actions add up: consolidations are alternatives to each other, and topology-aware
        // routing of a Service also keeps kube-proxy's second hop in its zone.
        let routed: Vec<String> = out.iter().filter(|a| a.kind == "topology-aware-routing").map(|a| a.target.clone()).collect();
        let overlaps = |c: &crate::whatif::paths::PathChange| {
            c.kind == "nat-consolidate" || (matches!(c.kind.as_str(), "lb-target-type" | "external-traffic-policy") && routed.contains(&c.target))
        };
        for c in paths.changes.iter().filter(|c| c.monthly_savings_usd > Decimal::ZERO && !overlaps(c)) {
            out.push(Action {
                rank: 0,
                kind: c.kind.clone(),
                target: c.target.clone(),
                monthly_savings_usd: c.monthly_savings_usd,
                risk: c.risk.clone(),
                change: c.change.clone(),
                evidence: c.evidence.clone(),
            });
        }
    }
    out.sort_by(|a, b| b.monthly_savings_usd.cmp(&a.monthly_savings_usd).then_with(|| a.target.cmp(&b.target)));
    for (i, a) in out.iter_mut().enumerate() {
        a.rank = i as u32 + 1;
    }
    out
}

/// The AWS CLI change from a database's deployment today to the recommended one.
fn rds_change(d: &crate::whatif::rds::DbWhatIf, rec: &crate::whatif::rds::Recommendation) -> String {
    use crate::pricing::rds::Deployment::*;
    let id = &d.id;
    match (d.current_option, rec.option) {
        (SingleAz, MultiAzInstance) => format!("aws rds modify-db-instance --db-instance-identifier {id} --multi-az --apply-immediately"),
        (MultiAzInstance, SingleAz) => format!("aws rds modify-db-instance --db-instance-identifier {id} --no-multi-az --apply-immediately"),
        (MultiAzInstance, MultiAzInstance) => {
            format!("aws rds reboot-db-instance --db-instance-identifier {id} --force-failover  # the standby in {} takes over", rec.writer_az)
        }
        (MultiAzCluster, MultiAzCluster) => {
            format!("aws rds failover-db-cluster --db-cluster-identifier {id} --target-db-instance-identifier <the reader in {}>", rec.writer_az)
        }
        (SingleAz, SingleAz) => format!(
            "aws rds restore-db-instance-from-db-snapshot --db-instance-identifier {id}-{} --db-snapshot-identifier <a snapshot of {id}> --availability-zone {}  # then move the clients",
            rec.writer_az, rec.writer_az
        ),
        (MultiAzCluster, MultiAzInstance) => format!(
            "aws rds restore-db-instance-from-db-snapshot --db-instance-identifier {id}-instance --db-cluster-snapshot-identifier <a snapshot of {id}> --db-instance-class {} --multi-az  # then move the clients",
            d.class
        ),
        (MultiAzCluster, _) => format!(
            "aws rds restore-db-instance-from-db-snapshot --db-instance-identifier {id}-instance --db-cluster-snapshot-identifier <a snapshot of {id}> --db-instance-class {} --availability-zone {}  # then move the clients",
            d.class, rec.writer_az
        ),
        (_, MultiAzCluster) => format!(
            "aws rds create-db-cluster --db-cluster-identifier {id}-cluster --engine {} --db-cluster-instance-class {} --replication-source-identifier <the ARN of {id}>  # a Multi-AZ DB cluster read replica; promote it, then move the clients",
            d.engine, d.class
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_and_groupings_parse() {
        assert_eq!(Limit::parse("10%"), Ok(Limit::Pct(Decimal::from(10))));
        assert_eq!(Limit::parse("50"), Ok(Limit::Usd(Decimal::from(50))));
        assert_eq!(Limit::parse("$12.5"), Ok(Limit::Usd(Decimal::new(125, 1))));
        for bad in ["ten", "-5", "%", ""] {
            assert!(Limit::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(GroupBy::parse("label:team"), Ok(GroupBy::Label("team".into())));
        assert_eq!(GroupBy::parse("namespace"), Ok(GroupBy::Namespace));
        assert!(GroupBy::parse("label:").is_err() && GroupBy::parse("team").is_err());
    }

    fn conv(ck: &str, cns: &str, c: &str, sk: &str, sns: &str, s: &str, bytes: u64) -> Conversation {
        Conversation {
            client_kind: ck.into(),
            client_namespace: cns.into(),
            client: c.into(),
            server_kind: sk.into(),
            server_namespace: sns.into(),
            server: s.into(),
            client_az_id: "use1-az1".into(),
            client_az: "us-east-1a".into(),
            server_az_id: "use1-az2".into(),
            server_az: "us-east-1b".into(),
            class: "cross-az-billed".into(),
            pricing_rule: Some("default".into()),
            free_reason: None,
            bytes_to_server: bytes,
            bytes_to_client: 0,
            bytes,
            records: 1,
            cost_usd: Decimal::ZERO,
        }
    }

    #[test]
    fn chargeback_pays_by_the_client_pod_else_the_serving_service() {
        let mut r = crate::measurement::build::without_traffic(
            Default::default(),
            &crate::pricing::Rates::default(),
            &crate::pricing::transfer::Rules::bundled(),
            None,
            vec![],
        );
        let gib = 1u64 << 30;
        r.conversations = vec![
            conv("deployment", "shop", "web", "service", "shop", "cache", 3 * gib),
            conv("elb", "", "elb:lb", "service", "shop", "web", 2 * gib),
            conv("deployment", "tools", "job", "rds", "", "rds:db", gib),
            conv("nat", "", "nat:n", "external", "", "external", 5 * gib),
        ];
        let mut labels = BTreeMap::new();
        labels.insert(Entity::new(EntityKind::Deployment, "shop", "web"), BTreeMap::from([("team".to_string(), "checkout".to_string())]));
        labels.insert(Entity::new(EntityKind::Service, "shop", "web"), BTreeMap::from([("team".to_string(), "frontend".to_string())]));
        let rows = |c: Chargeback| c.rows.into_iter().map(|r| (r.group, r.cross_az_billed_bytes, r.cost_usd)).collect::<Vec<_>>();
        let usd = |n: i64| Decimal::new(n, 2);
        assert_eq!(
            rows(chargeback(&r, &GroupBy::Label("team".into()), &labels)),
            vec![
                ("(outside Kubernetes)".to_string(), 5 * gib, usd(10)),
                ("checkout".to_string(), 3 * gib, usd(6)),
                ("frontend".to_string(), 2 * gib, usd(4)),
                ("(no team label)".to_string(), gib, usd(2)),
            ]
        );
        assert_eq!(
            rows(chargeback(&r, &GroupBy::Namespace, &labels)),
            vec![("(outside Kubernetes)".to_string(), 5 * gib, usd(10)), ("shop".to_string(), 5 * gib, usd(10)), ("tools".to_string(), gib, usd(2))]
        );
    }
}
