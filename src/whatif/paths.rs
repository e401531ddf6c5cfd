//! `whatif paths`: how the cluster is wired to the network, priced from measured bytes.
//!
//! - `lb-target-type` / `external-traffic-policy`: kube-proxy's second hop behind an instance-mode
//!   or Classic load balancer (node → pod in another AZ, billed) that `target-type: ip` or
//!   `externalTrafficPolicy: Local` removes;
//! - `nat-per-az` / `nat-consolidate`: zones that send to a NAT gateway in another AZ, and what
//!   removing a gateway would add;
//! - `nlb-cross-zone`: NLB → target bytes across zones (billed), per load balancer and Service;
//! - `aws-service-endpoint`: S3, DynamoDB and other AWS services reached through a NAT gateway.
//!
//! Every figure is the window's measured bytes scaled to 730 hours. docs/paths.md has the method.

use crate::measurement::facts::{NatDay, NatFlow};
use crate::measurement::{Conversation, Measurement};
use crate::model::inventory::{EniOwner, Inventory, LbKind};
use crate::model::k8s::Snapshot;
use crate::pricing::paths::{ENDPOINT_GB, ENDPOINT_HOUR, NAT_GB, NAT_HOUR, PathPrice, PathPrices};
use crate::pricing::{GB, HOURS_PER_MONTH, cost, per_month, round_usd};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A load-balancer node's or a pod's share above this multiple of the fair share is flagged.
const OVERLOAD: f64 = 1.2;

/// What the attribution pass gives this what-if beyond the Report.
#[derive(Clone, Debug, Default)]
pub struct PathFacts {
    pub nat_flows: Vec<NatFlow>,
    pub nat_days: Vec<NatDay>,
    pub gateways: Vec<Gateway>,
    pub ranges_source: String,
    /// Some flow-log files had no pkt-* fields.
    pub node_level: bool,
    /// Some flow-log files had `pkt-src-aws-service`/`pkt-dst-aws-service`.
    pub aws_service_field: bool,
}

/// A NAT gateway or load balancer of the inventory and the zones it has interfaces in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gateway {
    pub kind: GatewayKind,
    pub name: String,
    pub zones: BTreeSet<String>,
    pub vpc: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum GatewayKind {
    Nat,
    Alb,
    Nlb,
    Clb,
    Gwlb,
}

/// The NAT gateways and load balancers of the inventory.
pub fn gateways(inv: &Inventory) -> Vec<Gateway> {
    let mut by: BTreeMap<(GatewayKind, String), Gateway> = BTreeMap::new();
    for e in &inv.enis {
        let (kind, name) = match &e.owner {
            EniOwner::NatGateway { id } => (GatewayKind::Nat, id.clone()),
            EniOwner::LoadBalancer { kind, name } => (
                match kind {
                    LbKind::Application => GatewayKind::Alb,
                    LbKind::Network => GatewayKind::Nlb,
                    LbKind::Classic => GatewayKind::Clb,
                    LbKind::Gateway => GatewayKind::Gwlb,
                },
                name.clone(),
            ),
            _ => continue,
        };
        let zone = inv.zone(e.zone).map(|z| z.shown()).unwrap_or_default();
        let g = by.entry((kind, name.clone())).or_insert_with(|| Gateway { kind, name, zones: BTreeSet::new(), vpc: e.vpc.clone().unwrap_or_default() });
        if !zone.is_empty() {
            g.zones.insert(zone);
        }
    }
    by.into_values().collect()
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub prices: PathPrices,
    /// Where the prices came from, for the report.
    pub prices_source: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PathsWhatIf {
    /// Hours of flow logs the figures scale from.
    pub window_hours: Option<u64>,
    pub region: Option<String>,
    /// Inter-AZ, out + in, per GB (2^30 bytes).
    pub inter_az_per_gb_usd: Decimal,
    /// The NAT gateway and endpoint prices used, with their sources.
    pub prices: Vec<PathPrice>,
    pub prices_source: String,
    /// One row per change, largest saving first.
    pub changes: Vec<PathChange>,
    /// Sum of the positive savings, without `nat-consolidate` rows (alternatives to each other).
    pub total_monthly_savings_usd: Decimal,
    /// Paths that could not be estimated, and why.
    pub not_estimated: Vec<NotEstimated>,
    /// What is known of regional NAT gateways' cross-AZ billing.
    pub regional_nat_gateways: String,
    /// Where AWS services were recognised from.
    pub aws_services_from: String,
    pub assumptions: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PathChange {
    /// `lb-target-type`, `external-traffic-policy`, `nat-per-az`, `nat-consolidate`, `nlb-cross-zone`, `aws-service-endpoint`.
    pub kind: String,
    /// `namespace/service` for the Service-level kinds, else the NAT gateway, load balancer or AWS service.
    pub target: String,
    /// The bytes the change acts on, over the window.
    pub measured_cross_az_bytes: u64,
    /// Per 730-hour month, net of any added hourly cost; negative when the change costs more.
    pub monthly_savings_usd: Decimal,
    /// `low`, `medium` or `high`, then why.
    pub risk: String,
    /// The exact edit: the annotation, the Service field, the CLI or Terraform resource.
    pub change: String,
    /// What today's path costs per month, of what the change acts on.
    pub monthly_cost_today_usd: Decimal,
    /// Hourly costs the change adds (+) or removes (−), per month.
    pub added_monthly_usd: Decimal,
    /// Monthly GB at which the change pays for itself (for changes with an hourly cost).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_even_gb_per_month: Option<Decimal>,
    /// Bytes the NAT gateways processed for this service (aws-service-endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat_processed_bytes: Option<u64>,
    /// Zone of the clients (NAT kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_az: Option<String>,
    /// Ready endpoints of the Service per zone (Service kinds).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub endpoints_by_zone: BTreeMap<String, u64>,
    /// The other way to the same saving, with its own risk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative: Option<String>,
    pub evidence: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotEstimated {
    /// The kind of change, as in `changes[].kind`.
    pub kind: String,
    pub reason: String,
}

/// What is known of regional NAT gateways, with sources (docs/paths.md).
pub const REGIONAL_NAT: &str = "A regional NAT gateway spans AZs and keeps a configuration per AZ for the traffic leaving that AZ (EC2 API AvailabilityZoneAddress; Amazon VPC user guide, 'Regional NAT gateways for automatic multi-AZ expansion'). It is billed per AZ it is active in, at the zonal hourly and per-GB rates (AWS Pricing Calculator, usage types <P>-RegionalNatGateway-Hours/-Bytes). No AWS source found states whether traffic from one AZ is ever processed in another, so its cross-AZ charge is unknown: crossaz does not price regional NAT gateways' placement (their records carry resource-id, not interface-id).";

fn zone_of(c: &Conversation, client: bool) -> String {
    let (name, id) = if client { (&c.client_az, &c.client_az_id) } else { (&c.server_az, &c.server_az_id) };
    if name.is_empty() { id.clone() } else { name.clone() }
}

fn monthly(bytes: u64, per_gb: Decimal, hours: u64) -> Decimal {
    per_month(cost(bytes, per_gb), hours.max(1))
}

fn gb_per_month(bytes: u64, hours: u64) -> Decimal {
    per_month(Decimal::from(bytes) / Decimal::from(GB), hours.max(1))
}

fn risk_level(imbalance: f64) -> &'static str {
    if imbalance <= OVERLOAD {
        "low"
    } else if imbalance <= 2.0 {
        "medium"
    } else {
        "high"
    }
}

/// Ready endpoints of a Service by zone and by node, from the latest snapshot.
fn endpoints(snapshot: Option<&Snapshot>, ns: &str, name: &str) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let (mut by_zone, mut by_node) = (BTreeMap::new(), BTreeMap::new());
    let Some(s) = snapshot else { return (by_zone, by_node) };
    for slice in s.slices.iter().filter(|sl| sl.namespace == ns && sl.service.as_deref() == Some(name)) {
        for e in slice.endpoints.iter().filter(|e| e.ready != Some(false)) {
            *by_zone.entry(e.zone.clone().unwrap_or_else(|| "(no zone)".into())).or_default() += 1;
            *by_node.entry(e.node_name.clone().unwrap_or_else(|| "(no node)".into())).or_default() += 1;
        }
    }
    (by_zone, by_node)
}

fn fmt_zones(z: &BTreeMap<String, u64>) -> String {
    if z.is_empty() {
        return "unknown (no EndpointSlice in the snapshot)".into();
    }
    z.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ")
}

fn usd(d: Decimal) -> String {
    crate::human::human_usd(d)
}

pub fn analyze(m: &Measurement, facts: &PathFacts, snapshot: Option<&Snapshot>, opts: &Options) -> PathsWhatIf {
    let hours = m.window.hours.unwrap_or(0);
    let region = m.region.clone();
    let mut out = PathsWhatIf {
        window_hours: m.window.hours,
        region: region.clone(),
        inter_az_per_gb_usd: m.pricing.per_gb("default"),
        prices: Vec::new(),
        prices_source: opts.prices_source.clone(),
        changes: Vec::new(),
        total_monthly_savings_usd: Decimal::ZERO,
        not_estimated: Vec::new(),
        regional_nat_gateways: REGIONAL_NAT.into(),
        aws_services_from: String::new(),
        assumptions: Vec::new(),
        notes: Vec::new(),
    };
    if hours == 0 || m.conversations.is_empty() {
        for kind in ["lb-target-type", "nat-per-az", "nlb-cross-zone", "aws-service-endpoint"] {
            out.not_estimated.push(NotEstimated {
                kind: kind.into(),
                reason: "no flow-log records were counted in the window: there are no measured bytes to scale".into(),
            });
        }
        return out;
    }
    let price = |item: &str| region.as_deref().and_then(|r| opts.prices.get(r, item)).cloned();
    let nat_prices = (price(NAT_HOUR), price(NAT_GB));
    let endpoint_prices = (price(ENDPOINT_HOUR), price(ENDPOINT_GB));
    for p in [&nat_prices.0, &nat_prices.1, &endpoint_prices.0, &endpoint_prices.1].into_iter().flatten() {
        out.prices.push(p.clone());
        if p.evidence != "primary" {
            out.assumptions.push(format!("{} in {} is ${}: {} ({}, {})", p.item, p.region, p.usd, p.source, p.evidence, p.date));
        }
    }
    load_balancers(m, facts, snapshot, hours, &mut out);
    nat_placement(m, facts, hours, nat_prices.0.as_ref(), &mut out);
    nlb_cross_zone(m, facts, snapshot, hours, &mut out);
    aws_services(m, facts, hours, (nat_prices.1.as_ref(), endpoint_prices.0.as_ref(), endpoint_prices.1.as_ref()), &mut out);
    for c in &mut out.changes {
        c.monthly_savings_usd = round_usd(c.monthly_savings_usd);
        c.monthly_cost_today_usd = round_usd(c.monthly_cost_today_usd);
        c.added_monthly_usd = round_usd(c.added_monthly_usd);
        c.break_even_gb_per_month = c.break_even_gb_per_month.map(|g| g.round_dp(3).normalize());
    }
    out.changes.sort_by(|a, b| b.monthly_savings_usd.cmp(&a.monthly_savings_usd).then_with(|| a.kind.cmp(&b.kind)).then_with(|| a.target.cmp(&b.target)));
    // Consolidations are alternatives to each other and to a NAT gateway per AZ: not summed.
    out.total_monthly_savings_usd =
        out.changes.iter().filter(|c| c.kind != "nat-consolidate").map(|c| c.monthly_savings_usd).filter(|s| *s > Decimal::ZERO).sum();
    out
}

fn gateway<'f>(facts: &'f PathFacts, name: &str) -> Option<&'f Gateway> {
    facts.gateways.iter().find(|g| g.name == name)
}

/// Kube-proxy's second hop behind instance-mode and Classic load balancers.
fn load_balancers(m: &Measurement, facts: &PathFacts, snapshot: Option<&Snapshot>, hours: u64, out: &mut PathsWhatIf) {
    // Services a load balancer reaches, with the load balancers.
    let mut fed: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for c in m.conversations.iter().filter(|c| c.client_kind == "elb" && c.server_kind == "service") {
        fed.entry((c.server_namespace.clone(), c.server.clone())).or_default().insert(c.client.trim_start_matches("elb:").to_string());
    }
    let mut found_second_hop = false;
    for ((ns, svc), lbs) in &fed {
        let service = snapshot.and_then(|s| s.services.iter().find(|x| &x.namespace == ns && &x.name == svc));
        let node_ports = service.is_some_and(|s| s.ports.iter().any(|p| p.node_port.is_some_and(|n| n != 0)));
        if service.is_some() && !node_ports {
            continue; // ip targets: the load balancer reaches the pods directly.
        }
        if service.is_some_and(|s| s.external_traffic_policy.as_deref() == Some("Local")) {
            continue;
        }
        let hops: Vec<&Conversation> = m
            .conversations
            .iter()
            .filter(|c| c.client_kind == "node" && c.server_kind == "service" && &c.server_namespace == ns && &c.server == svc && c.class == "cross-az-billed")
            .collect();
        let bytes: u64 = hops.iter().map(|c| c.bytes).sum();
        if bytes == 0 {
            continue;
        }
        found_second_hop = true;
        let per_gb = m.pricing.per_gb("default");
        let save = monthly(bytes, per_gb, hours);
        let (by_zone, by_node) = endpoints(snapshot, ns, svc);
        // With Local, each node with a ready pod gets an equal share from a cross-zone LB; its pods split it.
        let pods: u64 = by_node.values().sum();
        let fewest = by_node.values().copied().min().unwrap_or(0);
        let imbalance = if fewest > 0 { pods as f64 / (by_node.len() as f64 * fewest as f64) } else { f64::INFINITY };
        let local_risk = if by_node.is_empty() {
            "unknown: no EndpointSlice for the Service in the snapshot, so the spread of its pods over nodes is unknown".to_string()
        } else {
            format!(
                "{}: with Local each node with a ready pod gets an equal share and splits it over its own pods: the busiest pod would take {imbalance:.2}× its fair share ({} pods on {} nodes); nodes without a pod fail the health check",
                risk_level(imbalance),
                pods,
                by_node.len()
            )
        };
        let lb_kinds: BTreeSet<GatewayKind> = lbs.iter().filter_map(|l| gateway(facts, l).map(|g| g.kind)).collect();
        let lb_list = lbs.iter().cloned().collect::<Vec<_>>().join(", ");
        let local_change = format!("kubectl patch service -n {ns} {svc} --type merge -p '{{\"spec\":{{\"externalTrafficPolicy\":\"Local\"}}}}'");
        let (kind, risk, change, alternative) = if lb_kinds.contains(&GatewayKind::Alb) {
            (
                "lb-target-type",
                "low: the ALB then sends to pod IPs (free across AZs for an ALB); needs the AWS Load Balancer Controller and pods reachable from the ALB's subnets (VPC CNI); inject the pod readiness gate (namespace label elbv2.k8s.aws/pod-readiness-gate-inject=enabled) so rollouts drain".to_string(),
                format!("on the Ingress that routes to Service {ns}/{svc} (ALB {lb_list}): annotation `alb.ingress.kubernetes.io/target-type: ip` (or `targetType: ip` in its TargetGroupBinding)"),
                Some(format!("`externalTrafficPolicy: Local` saves the same ({local_change}); risk {local_risk}")),
            )
        } else {
            let lb = if lb_kinds.contains(&GatewayKind::Clb) { "Classic Load Balancer" } else { "load balancer" };
            (
                "external-traffic-policy",
                local_risk,
                local_change,
                Some(format!(
                    "or serve it through the AWS Load Balancer Controller with IP targets instead of the {lb} (`service.beta.kubernetes.io/aws-load-balancer-type: external` and `service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip`); an NLB then bills its own cross-zone bytes"
                )),
            )
        };
        let zones: BTreeSet<String> = hops.iter().map(|c| format!("{}→{}", zone_of(c, true), zone_of(c, false))).collect();
        out.changes.push(PathChange {
            kind: kind.into(),
            target: format!("{ns}/{svc}"),
            measured_cross_az_bytes: bytes,
            monthly_savings_usd: save,
            risk,
            change,
            monthly_cost_today_usd: save,
            added_monthly_usd: Decimal::ZERO,
            break_even_gb_per_month: None,
            nat_processed_bytes: None,
            client_az: None,
            endpoints_by_zone: by_zone.clone(),
            alternative,
            evidence: format!(
                "{lb_list} reaches the Service on its NodePort; kube-proxy forwarded {:.3} GB from nodes to pods in other AZs ({}) in {hours} h; ready endpoints by zone: {}",
                Decimal::from(bytes) / Decimal::from(GB),
                zones.into_iter().collect::<Vec<_>>().join(", "),
                fmt_zones(&by_zone)
            ),
        });
    }
    if !found_second_hop {
        let reason = if fed.is_empty() {
            "no load balancer reaches a Service in the flow logs (no load-balancer interface was logged, or no Service is behind one)".to_string()
        } else {
            format!(
                "the {} Service(s) behind load balancers show no billed node→pod second hop (IP targets, `externalTrafficPolicy: Local`, or pods in the receiving node's AZ)",
                fed.len()
            )
        };
        out.not_estimated.push(NotEstimated { kind: "lb-target-type".into(), reason });
    }
}

/// NAT gateway placement: zones using a gateway in another AZ, and gateways that could go.
fn nat_placement(m: &Measurement, facts: &PathFacts, hours: u64, nat_hour: Option<&PathPrice>, out: &mut PathsWhatIf) {
    let nats: Vec<&Gateway> = facts.gateways.iter().filter(|g| g.kind == GatewayKind::Nat).collect();
    if nats.is_empty() {
        let internet: u64 = m.summary.bytes.internet_other;
        out.not_estimated.push(NotEstimated {
            kind: "nat-per-az".into(),
            reason: format!(
                "the network inventory lists no NAT gateway ({:.3} GB went to the internet): NAT placement is unknown — add the NAT gateways' interfaces (`aws ec2 describe-network-interfaces`) to `--network`",
                Decimal::from(internet) / Decimal::from(GB)
            ),
        });
        return;
    }
    if facts.nat_days.is_empty() {
        let ids: Vec<&str> = nats.iter().map(|g| g.name.as_str()).collect();
        out.not_estimated.push(NotEstimated {
            kind: "nat-per-az".into(),
            reason: format!(
                "no flow-log record of the NAT gateways' interfaces ({}): which zone uses which gateway is unknown — log the whole VPC, not only the nodes' subnets",
                ids.join(", ")
            ),
        });
        return;
    }
    let Some(hour) = nat_hour else {
        out.not_estimated.push(NotEstimated {
            kind: "nat-per-az".into(),
            reason: format!(
                "no NAT gateway price for {}: pass `--prices FILE` (docs/paths.md) or run `crossaz pull prices`",
                m.region.as_deref().unwrap_or("this region (the report has no region)")
            ),
        });
        return;
    };
    let per_gb = m.pricing.per_gb("nat-gateway");
    let gateway_month = hour.usd * Decimal::from(HOURS_PER_MONTH);
    let nat_zone: BTreeMap<&str, &str> = facts.nat_days.iter().map(|d| (d.nat.as_str(), d.nat_az.as_str())).collect();
    let zone_has_nat = |z: &str| nats.iter().any(|g| g.zones.contains(z));
    let nat_in = |z: &str| nats.iter().find(|g| g.zones.contains(z)).map(|g| g.name.clone());
    let zones: BTreeSet<&str> = facts.nat_days.iter().map(|d| d.client_az.as_str()).filter(|z| !z.is_empty()).collect();
    for z in &zones {
        let days: Vec<&NatDay> = facts.nat_days.iter().filter(|d| d.client_az == *z).collect();
        let last = days.iter().map(|d| d.date.as_str()).max().unwrap_or("");
        let foreign_now: BTreeSet<&str> = days.iter().filter(|d| d.date == last && d.nat_az != *z).map(|d| d.nat.as_str()).collect();
        let crossed: u64 = days.iter().filter(|d| d.nat_az != *z).map(|d| d.bytes).sum();
        if crossed == 0 {
            continue;
        }
        if foreign_now.is_empty() {
            let dates: BTreeSet<&str> = days.iter().filter(|d| d.nat_az != *z).map(|d| d.date.as_str()).collect();
            out.notes.push(format!(
                "{z} sent {:.3} GB to NAT gateways in other AZs on {} ({} to {}), but used its own zone's gateway on its last day ({last}): a past route change, nothing to do now",
                Decimal::from(crossed) / Decimal::from(GB),
                if dates.len() == 1 { "one day".to_string() } else { format!("{} days", dates.len()) },
                dates.first().copied().unwrap_or(""),
                dates.last().copied().unwrap_or("")
            ));
            continue;
        }
        for nat in foreign_now {
            let bytes: u64 = days.iter().filter(|d| d.nat == nat).map(|d| d.bytes).sum();
            let save_transfer = monthly(bytes, per_gb, hours);
            let own = nat_in(z);
            let added = if zone_has_nat(z) { Decimal::ZERO } else { gateway_month };
            let break_even = (!zone_has_nat(z)).then(|| gateway_month / per_gb);
            let change = match &own {
                Some(o) => format!(
                    "point the default route of {z}'s private subnets at its own NAT gateway {o}: `aws ec2 replace-route --route-table-id <route table of {z}'s private subnets> --destination-cidr-block 0.0.0.0/0 --nat-gateway-id {o}`"
                ),
                None => format!(
                    "create a NAT gateway in a public subnet of {z} (Terraform `aws_nat_gateway` with `subnet_id` in {z}; terraform-aws-modules/vpc: `one_nat_gateway_per_az = true`, `single_nat_gateway = false`) and route {z}'s private subnets to it"
                ),
            };
            out.changes.push(PathChange {
                kind: "nat-per-az".into(),
                target: nat.to_string(),
                measured_cross_az_bytes: bytes,
                monthly_savings_usd: save_transfer - added,
                risk: "low: a NAT gateway in each AZ is AWS's recommendation; it also keeps a zone's internet access when another AZ fails".into(),
                change,
                monthly_cost_today_usd: save_transfer,
                added_monthly_usd: added,
                break_even_gb_per_month: break_even,
                nat_processed_bytes: None,
                client_az: Some(z.to_string()),
                endpoints_by_zone: BTreeMap::new(),
                alternative: None,
                evidence: format!(
                    "{z} sent and received {:.3} GB through {nat} in {} over {hours} h ({:.1} GB per month){}",
                    Decimal::from(bytes) / Decimal::from(GB),
                    nat_zone.get(nat).copied().unwrap_or("another AZ"),
                    gb_per_month(bytes, hours),
                    if zone_has_nat(z) { String::new() } else { format!("; {z} has no NAT gateway: a new one costs {} per month", usd(gateway_month)) }
                ),
            });
        }
    }
    // Consolidation: each gateway serving its own zone, removed, its zone routed to the busiest other.
    let mut through: BTreeMap<&str, u64> = BTreeMap::new();
    for d in &facts.nat_days {
        *through.entry(d.nat.as_str()).or_default() += d.bytes;
    }
    if nats.len() < 2 {
        return;
    }
    for g in &nats {
        let Some(gz) = g.zones.iter().next() else { continue };
        let own_bytes: u64 = facts.nat_days.iter().filter(|d| d.nat == g.name && d.client_az == *gz).map(|d| d.bytes).sum();
        let Some(keep) =
            nats.iter().filter(|h| h.name != g.name).max_by_key(|h| (through.get(h.name.as_str()).copied().unwrap_or(0), std::cmp::Reverse(h.name.clone())))
        else {
            continue;
        };
        let new_cross = monthly(own_bytes, per_gb, hours);
        let idle = through.get(g.name.as_str()).copied().unwrap_or(0) == 0;
        out.changes.push(PathChange {
            kind: "nat-consolidate".into(),
            target: g.name.clone(),
            measured_cross_az_bytes: own_bytes,
            monthly_savings_usd: gateway_month - new_cross,
            risk: format!(
                "high: {gz} would reach the internet through {} in {}; losing that AZ would cut every zone it serves",
                keep.name,
                keep.zones.iter().next().map_or("another AZ", String::as_str)
            ),
            change: format!(
                "route {gz}'s private subnets to {} (`aws ec2 replace-route … --nat-gateway-id {}`), then `aws ec2 delete-nat-gateway --nat-gateway-id {}`",
                keep.name, keep.name, g.name
            ),
            monthly_cost_today_usd: Decimal::ZERO,
            added_monthly_usd: -gateway_month,
            break_even_gb_per_month: Some(gateway_month / per_gb),
            nat_processed_bytes: None,
            client_az: Some(gz.clone()),
            endpoints_by_zone: BTreeMap::new(),
            alternative: None,
            evidence: if idle {
                format!("{} carried no traffic in {hours} h: an idle gateway costs {} per month", g.name, usd(gateway_month))
            } else {
                format!(
                    "{gz} moved {:.3} GB through its own {} in {hours} h ({:.1} GB per month), which would cross AZs; the gateway costs {} per month",
                    Decimal::from(own_bytes) / Decimal::from(GB),
                    g.name,
                    gb_per_month(own_bytes, hours),
                    usd(gateway_month)
                )
            },
        });
    }
}

/// NLB → target bytes across zones, per load balancer and target Service.
///
/// Turning cross-zone off removes the NLB → target crossings, but an NLB zone without a ready
/// target drops out of DNS: clients of that zone then reach another zone's NLB node, a crossing
/// they did not always make before. That added client leg is subtracted (clients resolve the
/// NLB's zonal addresses evenly, today over all its zones, then over the zones with targets).
fn nlb_cross_zone(m: &Measurement, facts: &PathFacts, snapshot: Option<&Snapshot>, hours: u64, out: &mut PathsWhatIf) {
    let is_nlb = |lb: &str, c: &Conversation| gateway(facts, lb).map(|g| g.kind == GatewayKind::Nlb).unwrap_or(c.pricing_rule.as_deref() == Some("nlb"));
    // (lb, server kind, namespace, server) → (cross-zone bytes, all bytes)
    let mut by: BTreeMap<(String, String, String, String), (u64, u64)> = BTreeMap::new();
    // lb → client zone → bytes clients in the VPC sent and received through it
    let mut clients: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for c in &m.conversations {
        if c.client_kind == "elb" {
            let lb = c.client.trim_start_matches("elb:");
            if is_nlb(lb, c) && matches!(c.class.as_str(), "cross-az-billed" | "same-az") {
                let e = by.entry((lb.to_string(), c.server_kind.clone(), c.server_namespace.clone(), c.server.clone())).or_default();
                if c.class == "cross-az-billed" {
                    e.0 += c.bytes;
                }
                e.1 += c.bytes;
            }
        } else if c.server_kind == "elb" && matches!(c.class.as_str(), "cross-az-billed" | "same-az") {
            let lb = c.server.trim_start_matches("elb:");
            if is_nlb(lb, c) {
                *clients.entry(lb.to_string()).or_default().entry(zone_of(c, true)).or_default() += c.bytes;
            }
        }
    }
    by.retain(|_, (cross, _)| *cross > 0);
    if by.is_empty() {
        let nlbs = facts.gateways.iter().filter(|g| g.kind == GatewayKind::Nlb).count();
        out.not_estimated.push(NotEstimated {
            kind: "nlb-cross-zone".into(),
            reason: if nlbs == 0 {
                "the network inventory lists no Network Load Balancer".into()
            } else {
                format!(
                    "no billed cross-zone bytes from the {nlbs} Network Load Balancer(s) to their targets (cross-zone off, or their interfaces are not logged)"
                )
            },
        });
        return;
    }
    let per_gb = m.pricing.per_gb("nlb");
    let lb_total: BTreeMap<String, u64> = by.iter().fold(BTreeMap::new(), |mut m, ((lb, ..), (_, all))| {
        *m.entry(lb.clone()).or_default() += all;
        m
    });
    for ((lb, kind, ns, server), (bytes, all)) in by {
        let service = kind == "service";
        let (by_zone, _) = if service { endpoints(snapshot, &ns, &server) } else { Default::default() };
        let lb_zones = gateway(facts, &lb).map(|g| g.zones.clone()).unwrap_or_default();
        let with_targets: BTreeSet<&String> = lb_zones.iter().filter(|z| by_zone.get(*z).copied().unwrap_or(0) > 0).collect();
        // Client legs that would newly cross, as a share of this Service's part of the load balancer.
        let mut added_client = Decimal::ZERO;
        let mut modelled = false;
        if !with_targets.is_empty() && !lb_zones.is_empty() {
            modelled = true;
            let (n_all, n_t) = (Decimal::from(lb_zones.len() as u64), Decimal::from(with_targets.len() as u64));
            let share = Decimal::from(all) / Decimal::from(lb_total.get(&lb).copied().unwrap_or(all).max(1));
            for (cz, b) in clients.get(&lb).into_iter().flatten() {
                let now = (n_all - Decimal::from(u64::from(lb_zones.contains(cz)))) / n_all;
                let after = (n_t - Decimal::from(u64::from(with_targets.contains(cz)))) / n_t;
                added_client += Decimal::from(*b) * share * (after - now);
            }
        }
        let risk = if !service {
            "unknown: the targets are not a Kubernetes Service, so their spread over zones is unknown".to_string()
        } else if by_zone.is_empty() {
            "unknown: no EndpointSlice for the Service in the snapshot".to_string()
        } else if with_targets.is_empty() {
            "high: none of the load balancer's zones has a ready target".into()
        } else {
            // Without cross-zone each of the LB's zones with targets gets an equal share, split over that zone's targets.
            let served: Vec<u64> = with_targets.iter().map(|z| by_zone.get(*z).copied().unwrap_or(0)).collect();
            let total: u64 = served.iter().sum();
            let fewest = served.iter().copied().min().unwrap_or(1).max(1);
            let imbalance = total as f64 / (served.len() as f64 * fewest as f64);
            let empty: Vec<&str> = lb_zones.iter().filter(|z| !with_targets.contains(z)).map(String::as_str).collect();
            let level = if empty.is_empty() { risk_level(imbalance) } else { risk_level(imbalance.max(1.5)) };
            let mut text =
                format!("{level}: each zone's NLB node would serve only its own zone's targets; the busiest target would take {imbalance:.2}× its fair share");
            if !empty.is_empty() {
                text.push_str(&format!(
                    "; the zones without a ready target ({}) drop out of the NLB's DNS, so their clients cross to another zone's node and an outage of the zones with targets takes the Service down",
                    empty.join(", ")
                ));
            }
            text
        };
        let target = if service { format!("{ns}/{server}") } else { lb.clone() };
        let change = if service {
            format!(
                "on Service {ns}/{server}: annotation `service.beta.kubernetes.io/aws-load-balancer-attributes: load_balancing.cross_zone.enabled=false` (AWS Load Balancer Controller), or `aws elbv2 modify-target-group-attributes --target-group-arn <{lb}'s target group for {ns}/{server}> --attributes Key=load_balancing.cross_zone.enabled,Value=false`"
            )
        } else {
            format!("`aws elbv2 modify-load-balancer-attributes --load-balancer-arn <{lb}> --attributes Key=load_balancing.cross_zone.enabled,Value=false`")
        };
        let today = monthly(bytes, per_gb, hours);
        let added = per_month(cost(1, per_gb) * added_client, hours.max(1));
        out.changes.push(PathChange {
            kind: "nlb-cross-zone".into(),
            target,
            measured_cross_az_bytes: bytes,
            nat_processed_bytes: None,
            monthly_savings_usd: today - added,
            risk,
            change,
            monthly_cost_today_usd: today,
            added_monthly_usd: Decimal::ZERO,
            break_even_gb_per_month: None,
            client_az: None,
            endpoints_by_zone: by_zone.clone(),
            alternative: None,
            evidence: format!(
                "NLB {lb} sent and received {:.3} GB to targets in other zones in {hours} h (billed); load balancer zones: {}; ready endpoints by zone: {}; {}",
                Decimal::from(bytes) / Decimal::from(GB),
                lb_zones.iter().cloned().collect::<Vec<_>>().join(", "),
                fmt_zones(&by_zone),
                if !modelled {
                    "the client legs' change is unknown".to_string()
                } else if added_client > Decimal::ZERO {
                    format!(
                        "clients' legs to the NLB would cross {:.3} GB more (zones without targets leave DNS), priced {}",
                        added_client / Decimal::from(GB),
                        usd(added)
                    )
                } else {
                    format!("clients' legs to the NLB would cross {:.3} GB less (every client reaches a node with targets)", -added_client / Decimal::from(GB))
                }
            ),
        });
    }
}

/// Services reached through a NAT gateway: S3 and DynamoDB by gateway endpoint, others by interface endpoint.
fn aws_services(m: &Measurement, facts: &PathFacts, hours: u64, prices: (Option<&PathPrice>, Option<&PathPrice>, Option<&PathPrice>), out: &mut PathsWhatIf) {
    out.aws_services_from = if facts.aws_service_field {
        format!("the records' pkt-src-aws-service/pkt-dst-aws-service, else {}", facts.ranges_source)
    } else {
        format!("{} (the flow logs have no pkt-dst-aws-service field)", facts.ranges_source)
    };
    let kind = "aws-service-endpoint";
    if facts.nat_flows.is_empty() {
        out.not_estimated
            .push(NotEstimated { kind: kind.into(), reason: "no flow-log record of a NAT gateway's interface: what the NAT gateways carry is unknown".into() });
        return;
    }
    if facts.nat_flows.iter().all(|f| !f.far_known) {
        out.not_estimated.push(NotEstimated {
            kind: kind.into(),
            reason: "the NAT gateways' records lack pkt-dstaddr/pkt-srcaddr, so the far address (S3, ECR, the internet) is unknown: add them to the flow log's format (docs/flow-log-format.md)".into(),
        });
        return;
    }
    let (Some(nat_gb), Some(ep_hour), Some(ep_gb)) = prices else {
        out.not_estimated.push(NotEstimated {
            kind: kind.into(),
            reason: format!(
                "no NAT gateway or interface endpoint price for {}: pass `--prices FILE` (docs/paths.md) or run `crossaz pull prices`",
                m.region.as_deref().unwrap_or("this region")
            ),
        });
        return;
    };
    let region = m.region.clone().unwrap_or_default();
    let per_gb = m.pricing.per_gb("nat-gateway");
    // (service) → (bytes, cross-AZ bytes, client zones)
    let mut by: BTreeMap<String, (u64, u64, BTreeSet<String>)> = BTreeMap::new();
    let mut elsewhere: BTreeMap<String, u64> = BTreeMap::new();
    for f in facts.nat_flows.iter().filter(|f| f.far_known && !f.service.is_empty()) {
        let same_region = f.service_region.is_empty() || f.service_region == region || f.service_region == "GLOBAL";
        let endpointable = !matches!(
            f.service.as_str(),
            "EC2"
                | "CLOUDFRONT"
                | "CLOUDFRONT_ORIGIN_FACING"
                | "GLOBALACCELERATOR"
                | "ROUTE53"
                | "ROUTE53_HEALTHCHECKS"
                | "ROUTE53_HEALTHCHECKS_PUBLISHING"
                | "WORKSPACES_GATEWAYS"
        );
        if !same_region || !endpointable || f.service_region == "GLOBAL" {
            *elsewhere.entry(format!("{} ({})", f.service, if f.service_region.is_empty() { "?" } else { &f.service_region })).or_default() += f.bytes;
            continue;
        }
        let e = by.entry(f.service.clone()).or_default();
        e.0 += f.bytes;
        if f.client_az != f.nat_az {
            e.1 += f.bytes;
        }
        e.2.insert(f.client_az.clone());
    }
    if !elsewhere.is_empty() {
        let list: Vec<String> = elsewhere.iter().map(|(k, v)| format!("{k}: {:.3} GB", Decimal::from(*v) / Decimal::from(GB))).collect();
        out.notes.push(format!(
            "NAT gateways also carried traffic to AWS addresses no VPC endpoint of {region} serves (other regions, EC2 public addresses, CloudFront, …): {}",
            list.join(", ")
        ));
    }
    if by.is_empty() {
        out.not_estimated.push(NotEstimated {
            kind: kind.into(),
            reason: format!("no traffic through the NAT gateways went to an AWS service of {region} that a VPC endpoint serves"),
        });
        return;
    }
    for (service, (bytes, cross, zones)) in by {
        let today = monthly(bytes, nat_gb.usd, hours) + monthly(cross, per_gb, hours);
        let gateway_endpoint = matches!(service.as_str(), "S3" | "DYNAMODB");
        let service_name = if service == "DYNAMODB" { "dynamodb".to_string() } else { service.to_lowercase() };
        let (save, added, break_even, risk, change) = if gateway_endpoint {
            (
                today,
                Decimal::ZERO,
                None,
                "low: gateway endpoints are free; bucket or table policies that match `aws:SourceIp` stop matching (use `aws:SourceVpce`/`aws:SourceVpc`); other regions' endpoints still go through the NAT gateway".to_string(),
                format!(
                    "`aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --service-name com.amazonaws.{region}.{service_name} --vpc-id <VPC> --route-table-ids <the private subnets' route tables>` (Terraform `aws_vpc_endpoint` with `vpc_endpoint_type = \"Gateway\"`)"
                ),
            )
        } else {
            let n = zones.len().max(1) as u64;
            let hourly = ep_hour.usd * Decimal::from(n * HOURS_PER_MONTH);
            let endpoint = hourly + monthly(bytes, ep_gb.usd, hours);
            // GB per month at which the NAT path's per-GB cost pays for the endpoint's hours.
            let nat_per_gb = nat_gb.usd + if bytes > 0 { per_gb * Decimal::from(cross) / Decimal::from(bytes) } else { Decimal::ZERO };
            let margin = nat_per_gb - ep_gb.usd;
            let be = (margin > Decimal::ZERO).then(|| hourly / margin);
            let change = if today > endpoint {
                format!(
                    "an interface endpoint in each of the {n} zones for each AWS service behind these bytes (flow logs cannot name it: ECR's API uses `com.amazonaws.{region}.ecr.api` and `.ecr.dkr`, with image layers from S3): `aws ec2 create-vpc-endpoint --vpc-endpoint-type Interface --service-name com.amazonaws.{region}.<service> --vpc-id <VPC> --subnet-ids <one private subnet per zone> --private-dns-enabled` (Terraform `aws_vpc_endpoint`, `vpc_endpoint_type = \"Interface\"`)"
                )
            } else {
                format!(
                    "keep the NAT gateway: an interface endpoint in {n} zones would cost {} per month, more than the {} the NAT path costs",
                    usd(endpoint),
                    usd(today)
                )
            };
            (
                today - endpoint,
                hourly,
                be,
                "low: private DNS sends the service's names to the endpoint; each additional service needs its own endpoint (and its hours)".to_string(),
                change,
            )
        };
        out.changes.push(PathChange {
            kind: kind.into(),
            target: service.clone(),
            measured_cross_az_bytes: cross,
            nat_processed_bytes: Some(bytes),
            monthly_savings_usd: save,
            risk,
            change,
            monthly_cost_today_usd: today,
            added_monthly_usd: added,
            break_even_gb_per_month: break_even,
            client_az: None,
            endpoints_by_zone: BTreeMap::new(),
            alternative: None,
            evidence: format!(
                "NAT gateways processed {:.3} GB to and from {service} in {hours} h, {:.3} GB of it from another AZ; NAT processing ${}/GB, inter-AZ ${}/GB{}",
                Decimal::from(bytes) / Decimal::from(GB),
                Decimal::from(cross) / Decimal::from(GB),
                nat_gb.usd,
                per_gb,
                if gateway_endpoint {
                    String::new()
                } else {
                    format!("; interface endpoint ${}/h per zone and ${}/GB, no inter-AZ charge since 2022", ep_hour.usd, ep_gb.usd)
                }
            ),
        });
    }
    if !facts.aws_service_field {
        out.notes.push(format!(
            "AWS services were recognised from {}: add `pkt-dst-aws-service` and `pkt-src-aws-service` to the flow log's format to have AWS name them",
            facts.ranges_source
        ));
    }
}

#[cfg(test)]
mod tests {
    //! docs/paths.md's hand-computed examples.
    use super::*;
    use crate::model::k8s::{Endpoint, EndpointSlice};
    use crate::pricing::Rates;
    use crate::pricing::transfer::Rules;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn report(conversations: Vec<Conversation>) -> Measurement {
        let mut r = crate::measurement::build::without_traffic(Default::default(), &Rates::default(), &Rules::bundled(), Some("ap-northeast-2".into()), vec![]);
        r.window.hours = Some(HOURS_PER_MONTH);
        r.conversations = conversations;
        r
    }

    fn conv(client: (&str, &str, &str), server: (&str, &str, &str), class: &str, bytes: u64) -> Conversation {
        Conversation {
            client_kind: client.0.into(),
            client_namespace: String::new(),
            client: client.1.into(),
            server_kind: server.0.into(),
            server_namespace: if server.0 == "service" { "shop".into() } else { String::new() },
            server: server.1.into(),
            client_az_id: String::new(),
            client_az: client.2.into(),
            server_az_id: String::new(),
            server_az: server.2.into(),
            class: class.into(),
            pricing_rule: None,
            free_reason: None,
            bytes_to_server: bytes,
            bytes_to_client: 0,
            bytes,
            records: 1,
            cost_usd: Decimal::ZERO,
        }
    }

    fn gw(kind: GatewayKind, name: &str, zones: &[&str]) -> Gateway {
        Gateway { kind, name: name.into(), zones: zones.iter().map(|z| z.to_string()).collect(), vpc: String::new() }
    }

    fn opts() -> Options {
        Options { prices: PathPrices::bundled(), prices_source: "bundled".into() }
    }

    const G: u64 = GB;

    #[test]
    fn no_records_give_a_reason_for_every_kind() {
        let w = analyze(&report(vec![]), &PathFacts::default(), None, &opts());
        assert!(w.changes.is_empty());
        let kinds: Vec<&str> = w.not_estimated.iter().map(|n| n.kind.as_str()).collect();
        assert_eq!(kinds, ["lb-target-type", "nat-per-az", "nlb-cross-zone", "aws-service-endpoint"]);
        assert!(w.not_estimated.iter().all(|n| n.reason.starts_with("no flow-log records were counted")));
    }

    #[test]
    fn a_zone_without_a_nat_gateway() {
        let r = report(vec![conv(("node", "node:n", "c"), ("nat", "nat:nat-a", "a"), "cross-az-billed", 3000 * G)]);
        let facts = PathFacts {
            nat_days: vec![NatDay { date: "2026-10-31".into(), client_az: "c".into(), nat: "nat-a".into(), nat_az: "a".into(), bytes: 3000 * G }],
            gateways: vec![gw(GatewayKind::Nat, "nat-a", &["a"]), gw(GatewayKind::Nat, "nat-b", &["b"])],
            ..PathFacts::default()
        };
        let w = analyze(&r, &facts, None, &opts());
        let c = w.changes.iter().find(|c| c.kind == "nat-per-az").unwrap();
        assert_eq!((c.monthly_savings_usd, c.added_monthly_usd, c.break_even_gb_per_month), (d("16.93"), d("43.07"), Some(d("2153.5"))));
        assert_eq!(c.client_az.as_deref(), Some("c"));
    }

    #[test]
    fn ecr_api_through_nat_keeps_the_nat_gateway() {
        let r = report(vec![conv(("node", "node:n", "a"), ("nat", "nat:nat-a", "a"), "same-az", G)]);
        let flow = |z: &str, gb: u64| NatFlow {
            nat: format!("nat-{z}"),
            nat_az: z.into(),
            client_az: z.into(),
            service: "AMAZON".into(),
            service_region: "ap-northeast-2".into(),
            far_known: true,
            bytes: gb * G,
        };
        let facts = PathFacts { nat_flows: vec![flow("a", 40), flow("b", 30), flow("c", 30)], ..PathFacts::default() };
        let w = analyze(&r, &facts, None, &opts());
        let c = w.changes.iter().find(|c| c.kind == "aws-service-endpoint").unwrap();
        assert_eq!((c.monthly_cost_today_usd, c.monthly_savings_usd, c.break_even_gb_per_month), (d("5.9"), d("-23.57"), Some(d("581.02"))));
        assert!(c.change.starts_with("keep the NAT gateway"));
    }

    #[test]
    fn an_nlb_with_its_only_target_in_one_zone() {
        let mut convs: Vec<Conversation> = ["a", "b", "c"]
            .iter()
            .map(|z| conv(("deployment", "web", z), ("elb", "elb:q", "c"), if *z == "c" { "same-az" } else { "cross-az-billed" }, 300 * G))
            .collect();
        convs.push(conv(("elb", "elb:q", "a"), ("service", "queue", "c"), "cross-az-billed", 600 * G));
        let r = report(convs);
        let facts = PathFacts { gateways: vec![gw(GatewayKind::Nlb, "q", &["a", "b", "c"])], ..PathFacts::default() };
        let endpoint = Endpoint { addresses: vec![], ready: Some(true), zone: Some("c".into()), node_name: Some("n".into()), ..Endpoint::default() };
        let snap = Snapshot {
            slices: vec![EndpointSlice { namespace: "shop".into(), service: Some("queue".into()), endpoints: vec![endpoint], ..EndpointSlice::default() }],
            ..Snapshot::default()
        };
        let w = analyze(&r, &facts, Some(&snap), &opts());
        let c = w.changes.iter().find(|c| c.kind == "nlb-cross-zone").unwrap();
        assert_eq!((c.target.as_str(), c.measured_cross_az_bytes, c.monthly_savings_usd), ("shop/queue", 600 * G, d("12")));
        assert!(c.risk.starts_with("medium"), "{}", c.risk);
    }
}
