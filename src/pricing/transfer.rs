//! Which cross-AZ paths AWS bills: the rules of `transfer-rules.json`, one row per path, each
//! with its source. Attribution, reconciliation and every what-if read them from here.

use serde::{Deserialize, Serialize};

const BUNDLED: &str = include_str!("transfer-rules.json");
pub const FORMAT: &str = "crossaz-transfer-rules/1";

/// What an end of a conversation is, as far as AWS billing cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Peer {
    /// Pods, nodes, EC2 instances: the default.
    Compute,
    Alb,
    Clb,
    Nlb,
    Gwlb,
    Nat,
    Vpce,
    Tgw,
    ClientVpn,
    Rds,
    Elasticache,
    Msk,
    Efs,
    Opensearch,
    Eks,
    Lambda,
    /// An interface crossaz cannot name.
    Eni,
    Unattributed,
    External,
}

/// `*` or one kind of end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Pattern {
    Any(AnyMarker),
    Is(Peer),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnyMarker {
    #[serde(rename = "*")]
    Any,
}

impl Pattern {
    fn matches(self, p: Peer) -> bool {
        match self {
            Pattern::Any(_) => true,
            Pattern::Is(q) => q == p,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Billed {
    /// $0.01/GB out at the sender and $0.01/GB in at the receiver.
    Both,
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    Primary,
    Secondary,
    /// No source found: billed, and listed under the report's assumptions.
    Assumption,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub client: Pattern,
    pub server: Pattern,
    /// Also matches with client and server swapped.
    pub either: bool,
    /// Only between two interfaces of one resource (one database, one MSK cluster).
    pub same_resource: bool,
    pub billed: Billed,
    pub evidence: Evidence,
    pub source: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: String,
    #[allow(dead_code)]
    about: String,
    rules: Vec<Rule>,
}

/// Index of a rule in [`Rules::list`]; small enough to sit in every aggregation key.
pub type RuleIdx = u8;

#[derive(Clone, Debug, PartialEq)]
pub struct Rules {
    pub list: Vec<Rule>,
}

impl Rules {
    /// The rules shipped with crossaz.
    pub fn bundled() -> Rules {
        Rules::parse(BUNDLED).expect("the bundled transfer rules are valid")
    }

    /// Reads a table replacing the bundled one (`--transfer-rules FILE`).
    pub fn load(path: &std::path::Path) -> Result<Rules, crate::error::Error> {
        let text = crate::limits::read_text(path, crate::limits::MAX_TABLE_BYTES, "a transfer-rules table")?;
        Rules::parse(&text).map_err(|e| {
            crate::error::Error::usage(format!("invalid transfer rules `{}`", path.display()))
                .caused_by(e)
                .hint("start from the bundled table, src/pricing/transfer-rules.json (format `crossaz-transfer-rules/1`; the last rule must match `*` and `*`)")
        })
    }

    pub fn parse(text: &str) -> Result<Rules, String> {
        let f: File = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if f.format != FORMAT {
            return Err(format!("format is `{}`, expected `{FORMAT}`", f.format));
        }
        if f.rules.is_empty() || f.rules.len() > usize::from(RuleIdx::MAX) {
            return Err("expected between 1 and 255 rules".into());
        }
        let last = f.rules.last().expect("non-empty");
        if !matches!((last.client, last.server), (Pattern::Any(_), Pattern::Any(_))) || last.same_resource {
            return Err(format!("the last rule (`{}`) must match every pair (`*`, `*`)", last.id));
        }
        let mut ids: Vec<&str> = f.rules.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("rule `{}` appears twice", w[0]));
        }
        Ok(Rules { list: f.rules })
    }

    /// The first rule for a conversation between two AZs: `same_resource` when both ends are
    /// interfaces of one database or cluster.
    pub fn lookup(&self, client: Peer, server: Peer, same_resource: bool) -> RuleIdx {
        let hit = |r: &Rule| {
            if r.same_resource && !same_resource {
                return false;
            }
            (r.client.matches(client) && r.server.matches(server)) || (r.either && r.client.matches(server) && r.server.matches(client))
        };
        self.list.iter().position(hit).unwrap_or(self.list.len() - 1) as RuleIdx
    }

    pub fn get(&self, idx: RuleIdx) -> &Rule {
        &self.list[usize::from(idx)]
    }

    pub fn by_id(&self, id: &str) -> Option<&Rule> {
        self.list.iter().find(|r| r.id == id)
    }

    pub fn is_free(&self, idx: RuleIdx) -> bool {
        self.get(idx).billed == Billed::None
    }
}

impl Default for Rules {
    fn default() -> Rules {
        Rules::bundled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(r: &Rules, c: Peer, s: Peer, same: bool) -> &str {
        &r.get(r.lookup(c, s, same)).id
    }

    #[test]
    fn bundled_rules_decide_each_path() {
        let r = Rules::bundled();
        assert_eq!(id(&r, Peer::Alb, Peer::Compute, false), "alb-to-target");
        // A pod calling an internal ALB pays like any other cross-AZ hop.
        assert_eq!(id(&r, Peer::Compute, Peer::Alb, false), "default");
        assert_eq!(id(&r, Peer::Clb, Peer::Compute, false), "clb-to-instance");
        assert_eq!(id(&r, Peer::Compute, Peer::Vpce, false), "privatelink-interface-endpoint");
        assert_eq!(id(&r, Peer::Tgw, Peer::Compute, false), "transit-gateway-attachment");
        assert_eq!(id(&r, Peer::Rds, Peer::Rds, true), "rds-multi-az-replication");
        assert_eq!(id(&r, Peer::Rds, Peer::Rds, false), "rds-clients");
        assert_eq!(id(&r, Peer::Compute, Peer::Rds, false), "rds-clients");
        assert_eq!(id(&r, Peer::Compute, Peer::Nat, false), "nat-gateway");
        assert_eq!(id(&r, Peer::Nlb, Peer::Compute, false), "nlb");
        assert_eq!(id(&r, Peer::Compute, Peer::Compute, false), "default");
        assert!(r.is_free(r.lookup(Peer::Alb, Peer::Compute, false)));
        assert!(!r.is_free(r.lookup(Peer::Compute, Peer::Alb, false)));
        for rule in &r.list {
            assert!(!rule.source.is_empty(), "rule `{}` has no source", rule.id);
            if rule.evidence == Evidence::Assumption {
                assert_eq!(rule.billed, Billed::Both, "an unsourced path stays billed: `{}`", rule.id);
            }
        }
    }

    #[test]
    fn rejects_tables_without_a_catch_all() {
        let text = BUNDLED.replace(
            r#""id": "default",
      "client": "*", "server": "*""#,
            r#""id": "default",
      "client": "compute", "server": "*""#,
        );
        assert!(Rules::parse(&text).unwrap_err().contains("must match every pair"));
    }
}
