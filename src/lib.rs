//! crossaz: attributes AWS cross-AZ data transfer in VPC Flow Logs to Kubernetes workloads and
//! Services, prices it, and estimates what to do about it.
//!
//! Data flows one way: `sources` → `model` → `attribution` / `pricing` → `report`;
//! `cli` wires the stages together for each subcommand.

pub mod allocate;
pub mod athena;
pub mod attribution;
pub mod bench;
pub mod cli;
pub mod config;
pub mod error;
pub mod fuzzing;
pub mod generate;
pub mod limits;
pub mod model;
pub mod pipeline;
pub mod pricing;
pub mod printer;
pub mod reconcile;
pub mod report;
pub mod review;
pub mod sources;
pub mod whatif;
pub mod workspace;
