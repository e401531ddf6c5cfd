//! One integration-test binary (each test binary is a large link); modules by topic.

mod util;

mod bad_input;
mod bench;
mod moto;
mod proxy;
mod pull;
mod reconcile;
mod cli;
mod corpora;
mod demo;
mod iam;
mod kube_api;
mod outputs;
mod rules;
mod truth;
