//! crossaz: attributes AWS cross-AZ data transfer in VPC Flow Logs to Kubernetes workloads and
//! Services, prices it, and estimates what to do about it.
//!
//! Data flows one way, up the floors of docs/architecture.md: `sources` → `model` →
//! `attribution` → `measurement` → analyses (`whatif`, `reconcile`, `allocate`, `review`) → `report`;
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
pub mod human;
pub mod limits;
pub mod measurement;
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
pub mod write;
