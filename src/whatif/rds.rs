//! `whatif rds`: per database, single-AZ vs Multi-AZ DB instance vs Multi-AZ DB cluster, each in
//! each placement, priced with instance hours, storage and the cross-AZ bytes its clients would send.
//!
//! Measured bytes come from the attribution Report (per client, client AZ and DB interface) and the
//! per-day DB traffic (where the writer was); deployments and roles from the network inventory.

use crate::error::Error;
use crate::measurement::Measurement;
use crate::measurement::facts::DbDay;
use crate::model::inventory::{DbRole, EniOwner, Inventory};
use crate::pricing::rds::{Deployment, PriceTable, cluster_class, cluster_engine, engine_key};
use crate::pricing::{HOURS_PER_MONTH, cost, per_month, round_usd};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Typical failover times (AWS RDS user guide): Multi-AZ DB instance 60–120 s, cluster under 35 s.
pub const INSTANCE_FAILOVER_SECONDS: [u32; 2] = [60, 120];
pub const CLUSTER_FAILOVER_SECONDS: [u32; 2] = [0, 35];
/// Share of a single instance's bytes assumed to be reads when nothing tells (`--read-fraction`).
pub const DEFAULT_READ_FRACTION: Decimal = Decimal::from_parts(5, 0, 0, false, 1);

/// A database as the inventory describes it: a cluster, or a DB instance, or an RDS interface alone.
#[derive(Clone, Debug, PartialEq)]
pub struct DbFacts {
    pub id: String,
    pub deployment: Deployment,
    pub engine: Option<String>,
    pub class: Option<String>,
    pub storage_gb: Option<i64>,
    pub storage_type: Option<String>,
    /// AZs of its DB subnet group: where it can be placed.
    pub subnet_azs: Vec<String>,
    pub members: Vec<DbMember>,
}

impl DbFacts {
    /// Each member's role (`writer`, `standby`, `reader`) by its interface's server name and AZ.
    fn roles(&self) -> BTreeMap<(&str, &str), &str> {
        self.members.iter().map(|m| ((m.server.as_str(), m.az.as_str()), m.role.as_str())).collect()
    }

    fn new(id: String, deployment: Deployment) -> DbFacts {
        DbFacts { id, deployment, engine: None, class: None, storage_gb: None, storage_type: None, subnet_azs: Vec::new(), members: Vec::new() }
    }

    /// Whether `--db ID` names it: its identifier, or the identifier of one of its interfaces' owners.
    fn answers_to(&self, id: &str) -> bool {
        self.id == id || self.members.iter().any(|m| m.server.strip_prefix("rds:") == Some(id))
    }

    /// Known only by its interfaces: no `describe-db-instances` facts and none given by flags.
    fn lacks_facts(&self, d: &Defaults) -> bool {
        (self.engine.is_none() && d.engine.is_none()) || (self.class.is_none() && d.class.is_none()) || (self.storage_gb.is_none() && d.storage_gb.is_none())
    }
}

/// One interface of a database: the server label reports use, its role and AZ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbMember {
    pub server: String,
    pub role: String,
    pub az: String,
}

/// The databases of an inventory, grouped as RDS deploys them.
pub fn databases(inv: &Inventory) -> Vec<DbFacts> {
    let zone_name = |z| inv.zone(z).map(|z| z.name.clone().unwrap_or_else(|| z.id.clone())).unwrap_or_default();
    let mut out: BTreeMap<String, DbFacts> = BTreeMap::new();
    let mut named: BTreeSet<&str> = BTreeSet::new();
    for d in &inv.databases {
        named.insert(&d.id);
        let id = d.cluster.clone().unwrap_or_else(|| d.id.clone());
        let deployment = if d.cluster.is_some() {
            Deployment::MultiAzCluster
        } else if d.multi_az {
            Deployment::MultiAzInstance
        } else {
            Deployment::SingleAz
        };
        let f = out.entry(id.clone()).or_insert_with(|| DbFacts::new(id, deployment));
        f.engine = f.engine.take().or(d.engine.clone());
        f.class = f.class.take().or(d.class.clone());
        f.storage_gb = f.storage_gb.or(d.allocated_storage_gb);
        f.storage_type = f.storage_type.take().or(d.storage_type.clone());
        for s in d.subnets.iter().filter_map(|s| inv.subnet(s)) {
            f.subnet_azs.push(zone_name(s.zone));
        }
        let mut found = false;
        for e in &inv.enis {
            if let EniOwner::Rds { name, role } = &e.owner
                && name == &d.id
            {
                found = true;
                f.members.push(DbMember { server: format!("rds:{name}"), role: role_name(role.unwrap_or(DbRole::Writer)).into(), az: zone_name(e.zone) });
            }
        }
        if !found && let Some(z) = &d.zone_name {
            let role = if d.writer == Some(false) { DbRole::Reader } else { DbRole::Writer };
            f.members.push(DbMember { server: format!("rds:{}", d.id), role: role_name(role).into(), az: z.clone() });
        }
    }
    // RDS interfaces no DB instance was matched to: a database each, known by its interface.
    for e in &inv.enis {
        if let EniOwner::Rds { name, .. } = &e.owner
            && (name.is_empty() || !named.contains(name.as_str()))
        {
            let id = if name.is_empty() { e.id.clone() } else { name.clone() };
            out.entry(id.clone()).or_insert_with(|| DbFacts::new(id.clone(), Deployment::SingleAz)).members.push(DbMember {
                server: format!("rds:{id}"),
                role: "writer".into(),
                az: zone_name(e.zone),
            });
        }
    }
    for f in out.values_mut() {
        f.subnet_azs.sort();
        f.subnet_azs.dedup();
        f.members.sort_by(|a, b| (role_rank(&a.role), &a.az).cmp(&(role_rank(&b.role), &b.az)));
    }
    out.into_values().collect()
}

fn role_name(r: DbRole) -> &'static str {
    match r {
        DbRole::Writer => "writer",
        DbRole::Reader => "reader",
        DbRole::Standby => "standby",
    }
}

fn role_rank(r: &str) -> u8 {
    match r {
        "writer" => 0,
        "standby" => 1,
        _ => 2,
    }
}

/// Facts for databases the inventory does not describe (`--engine`, `--class`, …).
#[derive(Clone, Debug, Default)]
pub struct Defaults {
    pub engine: Option<String>,
    pub class: Option<String>,
    pub storage_gb: Option<i64>,
    pub storage_type: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub ids: Vec<String>,
    pub read_fraction: Option<Decimal>,
    pub rto_seconds: Option<u32>,
    pub defaults: Defaults,
    pub prices: PriceTable,
    pub prices_source: String,
    /// The `--prices` file alone: a database known only by its interfaces takes its engine, class
    /// and storage type from it when it prices exactly one of each in the region.
    pub prices_file: Option<PriceTable>,
}

/// The one value `pick` finds in the `--prices` file's rows for `region`, if exactly one.
fn only_one(file: Option<&PriceTable>, region: &str, pick: impl Fn(&PriceTable, &str) -> BTreeSet<String>) -> Option<String> {
    let set = pick(file?, region);
    if set.len() == 1 { set.into_iter().next() } else { None }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RdsWhatIf {
    pub region: String,
    pub window_hours: u64,
    /// Out + in, per GB (2^30 bytes).
    pub price_per_gb_usd: Decimal,
    pub prices_source: String,
    pub rto_seconds: Option<u32>,
    pub databases: Vec<DbWhatIf>,
    pub total: RdsTotals,
    pub assumptions: Vec<String>,
    /// Databases left out, and why.
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RdsTotals {
    pub today_monthly_usd: Decimal,
    pub recommended_monthly_usd: Decimal,
    pub monthly_savings_usd: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DbWhatIf {
    pub id: String,
    pub engine: String,
    pub class: String,
    pub storage_gb: i64,
    pub storage_type: String,
    pub current_option: Deployment,
    /// Where the writer was at the end of the window.
    pub current_writer_az: Option<String>,
    pub members: Vec<DbMember>,
    /// AZs the database can be placed in (its DB subnet group's).
    pub placement_azs: Vec<String>,
    /// Bytes both ways between clients in each AZ and the database, over the window.
    pub client_bytes_by_az: BTreeMap<String, u64>,
    pub writer_bytes_by_az: BTreeMap<String, u64>,
    pub reader_bytes_by_az: BTreeMap<String, u64>,
    /// Bytes from clients whose AZ is unknown (outside the VPC): no placement changes them.
    pub unknown_az_bytes: u64,
    pub clients: Vec<DbClient>,
    /// Per day, the writer's bytes by the AZ that received them.
    pub writer_timeline: Vec<WriterDay>,
    pub failovers: Vec<Failover>,
    /// The share of bytes treated as reads, and where it comes from: `measured`, `flag` or `default`.
    pub read_fraction: Decimal,
    pub read_fraction_from: String,
    pub today: TodayCost,
    pub options: Vec<DbOption>,
    pub recommendation: Option<Recommendation>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbClient {
    pub client_kind: String,
    pub client_namespace: String,
    pub client: String,
    pub client_az: String,
    /// `writer` (includes a Multi-AZ instance's standby after a failover) or `reader`.
    pub endpoint_role: String,
    pub bytes: u64,
    pub cross_az_bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriterDay {
    pub date: String,
    pub bytes_by_az: BTreeMap<String, u64>,
    /// The AZ that received most of the day's writer bytes.
    pub writer_az: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failover {
    /// The first day the writer's bytes went mostly to the new AZ.
    pub date: String,
    pub from_az: String,
    pub to_az: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TodayCost {
    pub cross_az_bytes: u64,
    pub monthly_instance_usd: Decimal,
    pub monthly_storage_usd: Decimal,
    pub monthly_cross_az_usd: Decimal,
    pub monthly_total_usd: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DbOption {
    pub option: Deployment,
    pub writer_az: String,
    /// For clusters: `reader-endpoint` (a random reader) or `zone-local` (the reader in the client's AZ).
    pub reads: Option<String>,
    pub reader_azs: Vec<String>,
    pub standby_az: Option<String>,
    pub class: String,
    /// True for today's deployment and writer AZ.
    pub current: bool,
    /// Projected over the measured window.
    pub cross_az_bytes: u64,
    pub monthly_instance_usd: Decimal,
    pub monthly_storage_usd: Decimal,
    pub monthly_cross_az_usd: Decimal,
    pub monthly_total_usd: Decimal,
    pub failover_seconds: Option<[u32; 2]>,
    pub survives_az_loss: bool,
    /// Against `--rto`; null without it.
    pub meets_rto: Option<bool>,
    /// After a failover, in the placement that costs most.
    pub after_failover: Option<AfterFailover>,
    pub price_sources: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AfterFailover {
    pub writer_az: String,
    pub cross_az_bytes: u64,
    pub monthly_cross_az_usd: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub option: Deployment,
    pub writer_az: String,
    pub reads: Option<String>,
    pub monthly_total_usd: Decimal,
    /// Today's total minus the recommendation's; negative when surviving an AZ loss costs more.
    pub monthly_savings_usd: Decimal,
    pub why: String,
    /// True when the recommendation is to keep today's deployment and placement.
    pub keep: bool,
}

/// A deployment's monthly instance and storage cost, unrounded, with the prices' sources.
struct Priced {
    instance: Decimal,
    storage: Decimal,
    sources: Vec<String>,
}

/// Bytes a client AZ sends to the writer and to readers, as the projection splits them.
#[derive(Clone, Copy, Debug, Default)]
struct Split {
    reads: u64,
    writes: u64,
}

pub fn analyze(m: &Measurement, dbs: &[DbFacts], days: &[DbDay], o: &Options) -> Result<RdsWhatIf, Error> {
    let region = m.region.clone().ok_or_else(|| {
        Error::failure("the region is not known, so RDS prices cannot be chosen")
            .hint("pass `--network` with `aws ec2 describe-availability-zones` or `describe-subnets` output")
    })?;
    let hours = m.window.hours.filter(|h| *h > 0).ok_or_else(|| Error::failure("the flow logs hold no counted record: no window to measure"))?;
    // Clients and a database in different AZs: the transfer rule `rds-clients`.
    let per_gb = m.pricing.per_gb("rds-clients");
    let monthly = |window_usd: Decimal| per_month(window_usd, hours);
    for id in &o.ids {
        if !dbs.iter().any(|d| d.answers_to(id)) {
            return Err(Error::usage(format!("no database `{id}` in the network inventory"))
                .hint("name a DB instance or cluster identifier from `aws rds describe-db-instances`, or an RDS interface ID"));
        }
    }
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let measured = |db: &DbFacts| m.conversations.iter().any(|c| c.server_kind == "rds" && db.members.iter().any(|m| m.server == c.server));
    for db in dbs {
        if !o.ids.is_empty() && !o.ids.iter().any(|id| db.answers_to(id)) {
            continue;
        }
        if o.ids.is_empty() && !measured(db) && db.lacks_facts(&o.defaults) {
            notes.push(format!(
                "`{}` is left out: no client reached it in the window and its engine, class or storage is not known (name it with `--db` and the facts to price it)",
                db.id
            ));
            continue;
        }
        out.push(analyze_db(m, db, days, o, &region, per_gb, &monthly)?);
    }
    out.sort_by(|a, b| {
        let s = |d: &DbWhatIf| d.recommendation.as_ref().map(|r| r.monthly_savings_usd).unwrap_or_default();
        s(b).cmp(&s(a)).then(a.id.cmp(&b.id))
    });
    let mut total = RdsTotals::default();
    for d in &out {
        total.today_monthly_usd += d.today.monthly_total_usd;
        let rec = d.recommendation.as_ref().map(|r| r.monthly_total_usd).unwrap_or(d.today.monthly_total_usd);
        total.recommended_monthly_usd += rec;
    }
    total.monthly_savings_usd = total.today_monthly_usd - total.recommended_monthly_usd;
    Ok(RdsWhatIf {
        region,
        window_hours: hours,
        price_per_gb_usd: per_gb,
        prices_source: o.prices_source.clone(),
        rto_seconds: o.rto_seconds,
        databases: out,
        total,
        assumptions: vec![
            format!("a month is {HOURS_PER_MONTH} hours; the traffic of the {hours}-hour window repeats"),
            "clients stay in their AZs; their bytes to the database do not depend on where it runs".into(),
            "replication between the writer and its standby or readers is not billed (AWS)".into(),
            "a reader endpoint spreads connections evenly over the readers".into(),
            format!(
                "reads and writes cannot be told apart in flow logs: for a DB instance {}% of bytes are taken as reads unless `--read-fraction` says otherwise; for a cluster, bytes to readers are reads",
                (DEFAULT_READ_FRACTION * Decimal::from(100)).normalize()
            ),
            "prices are on-demand, without Reserved Instances, backups, I/O or Extended Support".into(),
        ],
        notes,
    })
}

fn az_of(name: &str, id: &str) -> Option<String> {
    match (name, id) {
        ("", "") => None,
        ("", id) => Some(id.to_string()),
        (n, _) => Some(n.to_string()),
    }
}

/// What a database runs as: engine, instance class and storage, from the inventory, the flags or
/// the `--prices` file.
struct DbSpec {
    engine: &'static str,
    class: String,
    storage_gb: i64,
    storage_type: String,
}

fn db_spec(db: &DbFacts, o: &Options, region: &str) -> Result<DbSpec, Error> {
    let missing = |what: &str, flag: &str| {
        Error::failure(format!("database `{}`: its {what} is not known", db.id)).hint(format!(
            "add `aws rds describe-db-instances` output to `--network`, or pass `{flag}` (or a `--prices` file pricing one engine, class and storage type)"
        ))
    };
    let file = o.prices_file.as_ref();
    let engine_raw = db
        .engine
        .clone()
        .or(o.defaults.engine.clone())
        .or_else(|| only_one(file, region, |t, r| t.instances.iter().filter(|p| p.region == r).map(|p| p.engine.clone()).collect()))
        .ok_or_else(|| missing("engine", "--engine postgres"))?;
    let class = db
        .class
        .clone()
        .or(o.defaults.class.clone())
        .or_else(|| only_one(file, region, |t, r| t.instances.iter().filter(|p| p.region == r).map(|p| p.class.clone()).collect()))
        .ok_or_else(|| missing("instance class", "--class db.m6gd.large"))?;
    let storage_gb = db.storage_gb.or(o.defaults.storage_gb).ok_or_else(|| missing("allocated storage", "--storage-gb 100"))?;
    let storage_type = db
        .storage_type
        .clone()
        .or(o.defaults.storage_type.clone())
        .or_else(|| only_one(file, region, |t, r| t.storage.iter().filter(|p| p.region == r).map(|p| p.storage_type.clone()).collect()))
        .ok_or_else(|| missing("storage type", "--storage-type gp3"))?;
    let Some(engine) = engine_key(&engine_raw) else {
        return Err(Error::failure(format!("database `{}`: engine `{engine_raw}` is not priced: only MySQL and PostgreSQL are", db.id))
            .hint("leave it out with `--db`, naming the others"));
    };
    Ok(DbSpec { engine, class, storage_gb, storage_type })
}

/// The database's measured clients: bytes per client AZ and endpoint role, per client, and today's
/// cross-AZ bytes and cost.
#[derive(Default)]
struct ClientTraffic {
    writer_bytes: BTreeMap<String, u64>,
    reader_bytes: BTreeMap<String, u64>,
    unknown_az_bytes: u64,
    clients: Vec<DbClient>,
    today_cross_bytes: u64,
    today_cross_usd: Decimal,
}

impl ClientTraffic {
    /// Bytes both ways per client AZ, writer and readers together.
    fn client_bytes(&self) -> BTreeMap<String, u64> {
        let mut all = self.writer_bytes.clone();
        for (z, b) in &self.reader_bytes {
            *all.entry(z.clone()).or_default() += b;
        }
        all
    }
}

fn client_traffic(m: &Measurement, db: &DbFacts) -> ClientTraffic {
    let servers = db.roles();
    let member_servers: BTreeSet<&str> = db.members.iter().map(|m| m.server.as_str()).collect();
    let mut t = ClientTraffic::default();
    // (kind, namespace, client, client AZ, endpoint role) → (bytes, cross-AZ bytes)
    type ClientKey = (String, String, String, String, String);
    let mut clients: BTreeMap<ClientKey, (u64, u64)> = BTreeMap::new();
    // The database's own replication (between its members) is not a client's traffic.
    let is_member_client = |c: &crate::measurement::Conversation| c.client_kind == "rds" && member_servers.contains(c.client.as_str());
    for c in m.conversations.iter().filter(|c| c.server_kind == "rds" && member_servers.contains(c.server.as_str()) && !is_member_client(c)) {
        let server_az = az_of(&c.server_az, &c.server_az_id).unwrap_or_default();
        // A Multi-AZ instance's standby serves only after a failover, as the writer.
        let role = match servers.get(&(c.server.as_str(), server_az.as_str())) {
            Some(&"reader") => "reader",
            _ => "writer",
        };
        if c.class == "cross-az-billed" {
            t.today_cross_bytes += c.bytes;
            t.today_cross_usd += c.cost_usd;
        }
        let Some(client_az) = az_of(&c.client_az, &c.client_az_id).filter(|_| c.class != "internet-other") else {
            t.unknown_az_bytes += c.bytes;
            continue;
        };
        *(if role == "reader" { &mut t.reader_bytes } else { &mut t.writer_bytes }).entry(client_az.clone()).or_default() += c.bytes;
        let e = clients.entry((c.client_kind.clone(), c.client_namespace.clone(), c.client.clone(), client_az, role.to_string())).or_default();
        e.0 += c.bytes;
        if c.class == "cross-az-billed" {
            e.1 += c.bytes;
        }
    }
    t.clients = clients
        .into_iter()
        .map(|((client_kind, client_namespace, client, client_az, endpoint_role), (bytes, cross_az_bytes))| DbClient {
            client_kind,
            client_namespace,
            client,
            client_az,
            endpoint_role,
            bytes,
            cross_az_bytes,
        })
        .collect();
    t.clients.sort_by(|a, b| {
        b.cross_az_bytes.cmp(&a.cross_az_bytes).then(b.bytes.cmp(&a.bytes)).then_with(|| (&a.client, &a.client_az).cmp(&(&b.client, &b.client_az)))
    });
    t
}

/// Where the writer was, day by day; the days it moved; where it was at the end.
fn writer_history(db: &DbFacts, days: &[DbDay]) -> (Vec<WriterDay>, Vec<Failover>, Option<String>) {
    let servers = db.roles();
    let mut by_day: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
    for d in days.iter().filter(|d| db.members.iter().any(|m| m.server == d.server)) {
        if servers.get(&(d.server.as_str(), d.server_az.as_str())) == Some(&"reader") {
            continue;
        }
        *by_day.entry(&d.date).or_default().entry(d.server_az.clone()).or_default() += d.bytes;
    }
    let timeline: Vec<WriterDay> = by_day
        .into_iter()
        .map(|(date, bytes_by_az)| {
            let writer_az = bytes_by_az.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(z, _)| z.clone()).unwrap_or_default();
            WriterDay { date: date.to_string(), bytes_by_az, writer_az }
        })
        .collect();
    let failovers: Vec<Failover> = timeline
        .windows(2)
        .filter(|w| w[0].writer_az != w[1].writer_az)
        .map(|w| Failover { date: w[1].date.clone(), from_az: w[0].writer_az.clone(), to_az: w[1].writer_az.clone() })
        .collect();
    let current = timeline.last().map(|d| d.writer_az.clone()).or_else(|| db.members.iter().find(|m| m.role == "writer").map(|m| m.az.clone()));
    (timeline, failovers, current)
}

/// The share of bytes taken as reads, where it comes from, and each client AZ's reads and writes:
/// measured for a cluster (bytes to readers), else `--read-fraction` or the default.
fn read_split(o: &Options, is_cluster: bool, t: &ClientTraffic, client_bytes: &BTreeMap<String, u64>) -> (Decimal, &'static str, BTreeMap<String, Split>) {
    match o.read_fraction {
        None if is_cluster => {
            let total: u64 = client_bytes.values().sum();
            let reads: u64 = t.reader_bytes.values().sum();
            let f = if total == 0 { Decimal::ZERO } else { (Decimal::from(reads) / Decimal::from(total)).round_dp(4) };
            let split = client_bytes
                .keys()
                .map(|z| (z.clone(), Split { reads: t.reader_bytes.get(z).copied().unwrap_or(0), writes: t.writer_bytes.get(z).copied().unwrap_or(0) }))
                .collect();
            (f, "measured", split)
        }
        given => {
            let f = given.unwrap_or(DEFAULT_READ_FRACTION);
            let split = client_bytes
                .iter()
                .map(|(z, &t)| {
                    let reads = (Decimal::from(t) * f).floor().try_into().unwrap_or(0u64);
                    (z.clone(), Split { reads, writes: t - reads })
                })
                .collect();
            (f, if given.is_some() { "flag" } else { "default" }, split)
        }
    }
}

/// The AZs a database can run in: its DB subnet group's, else its members' and its clients'.
fn placement_azs(db: &DbFacts, client_bytes: &BTreeMap<String, u64>) -> Vec<String> {
    if !db.subnet_azs.is_empty() {
        return db.subnet_azs.clone();
    }
    let mut placement: Vec<String> = db.members.iter().map(|m| m.az.clone()).chain(client_bytes.keys().cloned()).filter(|z| !z.is_empty()).collect();
    placement.sort();
    placement.dedup();
    placement
}

/// Everything one database's options are priced from.
struct Pricing<'a> {
    db: &'a DbFacts,
    o: &'a Options,
    region: &'a str,
    spec: &'a DbSpec,
    per_gb: Decimal,
    monthly: &'a dyn Fn(Decimal) -> Decimal,
    client_bytes: &'a BTreeMap<String, u64>,
    split: &'a BTreeMap<String, Split>,
    placement: &'a [String],
    current_writer_az: Option<&'a str>,
}

impl Pricing<'_> {
    fn price(&self, d: Deployment, class: &str) -> Result<Priced, Error> {
        let i = self.o.prices.instance(self.region, self.spec.engine, class, d)?;
        let s = self.o.prices.storage(self.region, self.spec.engine, &self.spec.storage_type, d)?;
        let src = |derived: bool, source: &str, date: &str| format!("{}{source} ({date})", if derived { "[derived] " } else { "" });
        Ok(Priced {
            instance: i.usd_per_hour * Decimal::from(HOURS_PER_MONTH),
            storage: s.usd_per_gb_month * Decimal::from(self.spec.storage_gb),
            sources: vec![src(i.derived, &i.source, &i.date), src(s.derived, &s.source, &s.date)],
        })
    }

    /// Cross-AZ bytes over the window, priced per month.
    fn usd(&self, bytes: u64) -> Decimal {
        (self.monthly)(cost(bytes, self.per_gb))
    }

    /// Cross-AZ bytes with one instance (the writer) in `writer`.
    fn cross_single(&self, writer: &str) -> u64 {
        self.client_bytes.iter().filter(|(z, _)| z.as_str() != writer).map(|(_, b)| *b).sum::<u64>()
    }

    /// Cross-AZ bytes of a cluster: writes away from the writer's AZ, and reads through the reader
    /// endpoint (spread over the readers) or from the reader in the client's AZ.
    fn cross_cluster(&self, writer: &str, readers: &[String], zone_local: bool) -> u64 {
        self.split
            .iter()
            .map(|(z, s)| {
                let writes = if z != writer { s.writes } else { 0 };
                let reads = if zone_local {
                    if z == writer || readers.contains(z) { 0 } else { s.reads }
                } else {
                    let away = readers.iter().filter(|r| *r != z).count() as u64;
                    s.reads * away / readers.len().max(1) as u64
                };
                writes + reads
            })
            .sum()
    }

    /// The two other AZs with the most client bytes hold the readers.
    fn readers_for(&self, writer: &str) -> Vec<String> {
        let mut others: Vec<&String> = self.placement.iter().filter(|z| *z != writer).collect();
        others.sort_by(|a, b| self.client_bytes.get(*b).copied().unwrap_or(0).cmp(&self.client_bytes.get(*a).copied().unwrap_or(0)).then(a.cmp(b)));
        let mut r: Vec<String> = others.into_iter().take(2).cloned().collect();
        r.sort();
        r
    }

    fn rto_ok(&self, f: Option<[u32; 2]>) -> Option<bool> {
        self.o.rto_seconds.map(|rto| f.is_some_and(|[_, hi]| hi <= rto))
    }

    fn is_current(&self, d: Deployment, writer: &str) -> bool {
        d == self.db.deployment && self.current_writer_az == Some(writer)
    }

    /// An option's placement and money; the callers add what depends on the deployment.
    fn priced_option(&self, option: Deployment, writer: &str, class: &str, p: &Priced, bytes: u64) -> DbOption {
        DbOption {
            option,
            writer_az: writer.to_string(),
            reads: None,
            reader_azs: vec![],
            standby_az: None,
            class: class.to_string(),
            current: self.is_current(option, writer),
            cross_az_bytes: bytes,
            monthly_instance_usd: p.instance,
            monthly_storage_usd: p.storage,
            monthly_cross_az_usd: self.usd(bytes),
            monthly_total_usd: p.instance + p.storage + self.usd(bytes),
            failover_seconds: None,
            survives_az_loss: false,
            meets_rto: None,
            after_failover: None,
            price_sources: p.sources.clone(),
            notes: vec![],
        }
    }

    fn single_az(&self, writer: &str, p: &Priced) -> DbOption {
        DbOption {
            meets_rto: self.o.rto_seconds.map(|_| false),
            notes: vec!["no standby: losing its AZ stops the database until it is restored elsewhere".into()],
            ..self.priced_option(Deployment::SingleAz, writer, &self.spec.class, p, self.cross_single(writer))
        }
    }

    /// A Multi-AZ DB instance with its writer in `writer`; after a failover, the standby in the
    /// AZ that costs most.
    fn multi_az_instance(&self, writer: &str, p: &Priced) -> DbOption {
        let worst = self.placement.iter().filter(|z| *z != writer).max_by(|x, y| self.cross_single(x).cmp(&self.cross_single(y)).then(y.cmp(x))).cloned();
        let after = worst.as_ref().map(|z| AfterFailover {
            writer_az: z.clone(),
            cross_az_bytes: self.cross_single(z),
            monthly_cross_az_usd: round_usd(self.usd(self.cross_single(z))),
        });
        let standby = self
            .db
            .members
            .iter()
            .find(|m| m.role == "standby" && self.db.deployment == Deployment::MultiAzInstance && self.is_current(Deployment::MultiAzInstance, writer))
            .map(|m| m.az.clone());
        DbOption {
            standby_az: standby,
            failover_seconds: Some(INSTANCE_FAILOVER_SECONDS),
            survives_az_loss: true,
            meets_rto: self.rto_ok(Some(INSTANCE_FAILOVER_SECONDS)),
            after_failover: after,
            notes: vec!["the standby serves no reads; RDS picks its AZ".into()],
            ..self.priced_option(Deployment::MultiAzInstance, writer, &self.spec.class, p, self.cross_single(writer))
        }
    }

    /// A Multi-AZ DB cluster with its writer in `writer`, reads through the reader endpoint and
    /// zone-local; after a failover, a reader becomes the writer and the old writer a reader.
    fn multi_az_clusters(&self, writer: &str, class: &str, p: &Priced) -> [DbOption; 2] {
        let readers = self.readers_for(writer);
        [false, true].map(|zone_local| {
            let bytes = self.cross_cluster(writer, &readers, zone_local);
            let after = readers
                .iter()
                .map(|r| {
                    let mut rs: Vec<String> = readers.iter().filter(|x| *x != r).cloned().chain(std::iter::once(writer.to_string())).collect();
                    rs.sort();
                    (r.clone(), self.cross_cluster(r, &rs, zone_local))
                })
                .max_by(|x, y| x.1.cmp(&y.1).then(y.0.cmp(&x.0)))
                .map(|(z, b)| AfterFailover { writer_az: z, cross_az_bytes: b, monthly_cross_az_usd: round_usd(self.usd(b)) });
            let base = self.priced_option(Deployment::MultiAzCluster, writer, class, p, bytes);
            DbOption {
                reads: Some(if zone_local { "zone-local" } else { "reader-endpoint" }.into()),
                reader_azs: readers.clone(),
                current: base.current && !zone_local,
                failover_seconds: Some(CLUSTER_FAILOVER_SECONDS),
                survives_az_loss: true,
                meets_rto: self.rto_ok(Some(CLUSTER_FAILOVER_SECONDS)),
                after_failover: after,
                notes: vec![if zone_local {
                    "reads use the instance endpoint of the reader in the client's AZ (the writer's AZ reads from the writer): the application must route them"
                        .into()
                } else {
                    "reads go through the reader endpoint, which does not prefer the client's AZ".into()
                }],
                ..base
            }
        })
    }

    /// Every deployment in every AZ it can run in; notes say why an option is missing.
    fn options(&self, notes: &mut Vec<String>) -> Result<Vec<DbOption>, Error> {
        let (class, placement) = (&self.spec.class, self.placement);
        let single = self.price(Deployment::SingleAz, class)?;
        let multi = if placement.len() >= 2 { Some(self.price(Deployment::MultiAzInstance, class)?) } else { None };
        if placement.len() < 2 {
            notes.push(format!("its DB subnet group spans {} AZ: Multi-AZ needs two or more", placement.len()));
        }
        let cluster = match (cluster_class(class), cluster_engine(self.spec.engine), placement.len() >= 3) {
            (Some(cc), true, true) => Some((self.price(Deployment::MultiAzCluster, &cc)?, cc)),
            (None, _, _) => {
                notes.push(format!(
                    "{class} has no Multi-AZ DB cluster class (clusters run on c6gd, m5d, m6gd, m6id, m6idn, m8gd, r5d, r6gd, r6id, r6idn, r8gd, x2iedn)"
                ));
                None
            }
            (_, _, false) => {
                notes.push(format!("a Multi-AZ DB cluster needs three AZs; its DB subnet group spans {}", placement.len()));
                None
            }
            _ => None,
        };
        if let Some((_, cc)) = &cluster
            && cc != class
        {
            notes.push(format!("a Multi-AZ DB cluster cannot run on {class}: priced on the nearest supported class, {cc}"));
        }
        let mut options = Vec::new();
        for a in placement {
            options.push(self.single_az(a, &single));
            if let Some(p) = &multi {
                options.push(self.multi_az_instance(a, p));
            }
            if let Some((p, cc)) = &cluster {
                options.extend(self.multi_az_clusters(a, cc, p));
            }
        }
        Ok(options)
    }

    /// Today: the deployment as it is, with the bytes as measured.
    fn today(&self, t: &ClientTraffic) -> Result<TodayCost, Error> {
        let class = &self.spec.class;
        let current_class = if self.db.deployment == Deployment::MultiAzCluster { cluster_class(class).unwrap_or(class.clone()) } else { class.clone() };
        let now = self.price(self.db.deployment, &current_class)?;
        Ok(TodayCost {
            cross_az_bytes: t.today_cross_bytes,
            monthly_instance_usd: round_usd(now.instance),
            monthly_storage_usd: round_usd(now.storage),
            monthly_cross_az_usd: round_usd((self.monthly)(t.today_cross_usd)),
            monthly_total_usd: round_usd(now.instance + now.storage + (self.monthly)(t.today_cross_usd)),
        })
    }
}

fn analyze_db(
    m: &Measurement,
    db: &DbFacts,
    days: &[DbDay],
    o: &Options,
    region: &str,
    per_gb: Decimal,
    monthly: &dyn Fn(Decimal) -> Decimal,
) -> Result<DbWhatIf, Error> {
    let spec = db_spec(db, o, region)?;
    let is_cluster = db.deployment == Deployment::MultiAzCluster;
    let traffic = client_traffic(m, db);
    let client_bytes = traffic.client_bytes();
    let (writer_timeline, failovers, current_writer_az) = writer_history(db, days);
    let (read_fraction, read_fraction_from, split) = read_split(o, is_cluster, &traffic, &client_bytes);
    let placement = placement_azs(db, &client_bytes);
    let pricing = Pricing {
        db,
        o,
        region,
        spec: &spec,
        per_gb,
        monthly,
        client_bytes: &client_bytes,
        split: &split,
        placement: &placement,
        current_writer_az: current_writer_az.as_deref(),
    };
    let mut notes = Vec::new();
    let mut options = pricing.options(&mut notes)?;
    let today = pricing.today(&traffic)?;
    if !failovers.is_empty() {
        notes.push(format!(
            "the writer moved {} time(s) in the window ({}): measured bytes include both placements",
            failovers.len(),
            failovers.iter().map(|f| format!("{} {}→{}", f.date, f.from_az, f.to_az)).collect::<Vec<_>>().join(", ")
        ));
    }
    if traffic.unknown_az_bytes > 0 {
        notes.push(format!("{} bytes came from clients outside the VPC's AZs: no placement changes them", traffic.unknown_az_bytes));
    }
    let mut recommendation = recommend(&options, &today, o.rto_seconds);
    if let Some(r) = &mut recommendation
        && is_cluster
        && r.option != Deployment::MultiAzCluster
        && read_fraction > Decimal::ZERO
    {
        r.why.push_str(&format!(
            "; it moves the readers' work ({}% of the bytes) onto one instance: check that instance's CPU and connections first, or pass `--rto` if failover time matters",
            (read_fraction * Decimal::from(100)).round_dp(1).normalize()
        ));
    }
    for opt in &mut options {
        opt.monthly_instance_usd = round_usd(opt.monthly_instance_usd);
        opt.monthly_storage_usd = round_usd(opt.monthly_storage_usd);
        opt.monthly_cross_az_usd = round_usd(opt.monthly_cross_az_usd);
        opt.monthly_total_usd = round_usd(opt.monthly_total_usd);
    }
    Ok(DbWhatIf {
        id: db.id.clone(),
        engine: spec.engine.to_string(),
        class: spec.class,
        storage_gb: spec.storage_gb,
        storage_type: spec.storage_type,
        current_option: db.deployment,
        current_writer_az,
        members: db.members.clone(),
        placement_azs: placement,
        client_bytes_by_az: client_bytes,
        writer_bytes_by_az: traffic.writer_bytes,
        reader_bytes_by_az: traffic.reader_bytes,
        unknown_az_bytes: traffic.unknown_az_bytes,
        clients: traffic.clients,
        writer_timeline,
        failovers,
        read_fraction,
        read_fraction_from: read_fraction_from.into(),
        today,
        options,
        recommendation,
        notes,
    })
}

/// The cheapest option that survives the loss of an AZ and meets `--rto`; ties, and savings under
/// $1 a month, go to today's deployment, then to fewer cross-AZ bytes.
fn recommend(options: &[DbOption], today: &TodayCost, rto: Option<u32>) -> Option<Recommendation> {
    let qualifies = |o: &&DbOption| o.survives_az_loss && o.meets_rto != Some(false);
    let cheapest = options
        .iter()
        .filter(qualifies)
        .min_by(|a, b| a.monthly_total_usd.cmp(&b.monthly_total_usd).then(b.current.cmp(&a.current)).then(a.cross_az_bytes.cmp(&b.cross_az_bytes)))?;
    let best = match options.iter().filter(qualifies).find(|o| o.current) {
        Some(current) if current.monthly_total_usd - cheapest.monthly_total_usd < Decimal::ONE => current,
        _ => cheapest,
    };
    let total = round_usd(best.monthly_total_usd);
    let savings = today.monthly_total_usd - total;
    let mut why = format!("the cheapest option that survives the loss of an AZ{}", rto.map(|r| format!(" and fails over within {r} s")).unwrap_or_default());
    if best.current && !std::ptr::eq(best, cheapest) {
        why = format!(
            "today's deployment, within $1/month of the cheapest option that survives the loss of an AZ ({} in {})",
            cheapest.option.as_str(),
            cheapest.writer_az
        );
    } else if best.current {
        why.push_str("; it is today's deployment");
    }
    Some(Recommendation {
        option: best.option,
        writer_az: best.writer_az.clone(),
        reads: best.reads.clone(),
        monthly_total_usd: total,
        monthly_savings_usd: savings,
        why,
        keep: best.current,
    })
}
