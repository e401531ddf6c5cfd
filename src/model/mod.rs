//! The domain model every stage shares: addresses, times, zones, interfaces, pods and Services.

pub mod aws_ranges;
pub mod billing;
pub mod entity;
pub mod flow;
pub mod inventory;
pub mod ip;
pub mod k8s;
pub mod time;
pub mod timeline;
