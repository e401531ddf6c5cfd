//! The canonical, versioned Report: the measurement and the analyses' results, composed. Every
//! output format (table, CSV, JSON, Parquet, HTML, Markdown) renders from it;
//! `docs/output-schema.md` documents it field by field.

pub mod focus;
pub mod html;
pub mod markdown;
pub mod render;
pub mod render_paths;
pub mod render_rds;
pub mod render_routing;
pub mod review_view;
pub mod views;

pub use crate::measurement::{
    AthenaQuery, BytesByClass, Conversation, Day, InputsInfo, Measurement, OtherVpcInfo, OverlapInfo, PricingInfo, ReasonBytes, RecordsInfo, ResourceDay,
    RuleInfo, ServerDay, Summary, UnattributedInfo, UncountedInfo, WindowInfo, ZoneInfo,
};
use serde::{Deserialize, Serialize};

/// 2: transfer rules (`pricing.rules`, `pricing_rule`, `free_reason`), other VPCs, flow-log overlaps, assumptions.
/// 3: `daily[].by_server`, `review` (`crossaz review`).
/// 4: `paths` (`crossaz whatif paths`).
/// 5: `resources` (cross-AZ bytes per billed resource), `reconciliation.by_resource`, `allocation`.
/// Reports of versions 2 to 5 can be read back.
pub const SCHEMA_VERSION: u32 = 5;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: String,
    /// What the attribution pass measured; its fields sit at the top level of the JSON.
    #[serde(flatten)]
    pub measurement: Measurement,
    /// Present after `attribute --allocate-bill`: each resource's billed inter-AZ dollars split over
    /// the conversations that moved its bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation: Option<crate::allocate::Allocation>,
    /// Present when billing data (Cost Explorer) was given: how much of the bill the flow logs explain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconciliation: Option<crate::reconcile::Reconciliation>,
    /// Present after `crossaz whatif routing`: per Service, what topology-aware routing would save.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<crate::whatif::routing::RoutingWhatIf>,
    /// Present after `crossaz whatif rds`: per database, each deployment option priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rds: Option<crate::whatif::rds::RdsWhatIf>,
    /// Present after `crossaz whatif paths`: load-balancer, NAT gateway and endpoint changes, priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<crate::whatif::paths::PathsWhatIf>,
    /// Present after `crossaz review`: month over month, actions, chargeback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<crate::review::Review>,
}

impl Report {
    /// A Report of one measurement and no analyses yet.
    pub fn new(measurement: Measurement) -> Report {
        Report {
            schema_version: SCHEMA_VERSION,
            tool: format!("crossaz {}", env!("CARGO_PKG_VERSION")),
            measurement,
            allocation: None,
            reconciliation: None,
            routing: None,
            rds: None,
            paths: None,
            review: None,
        }
    }

    /// This Report as the month a review compares with.
    pub fn as_baseline(&self, label: String, source: String) -> crate::review::BaselineInput<'_> {
        crate::review::BaselineInput { measurement: &self.measurement, tool: self.tool.clone(), label, source }
    }

    /// The what-ifs this Report holds, for the review's ranked actions.
    pub fn whatifs(&self) -> crate::review::WhatIfs<'_> {
        crate::review::WhatIfs { routing: self.routing.as_ref(), rds: self.rds.as_ref(), paths: self.paths.as_ref() }
    }
}
