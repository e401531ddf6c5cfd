//! One integration-test binary (each test binary is a large link); modules by topic.

mod util;

mod athena;
mod athena_api;
mod bad_input;
mod bench;
mod bill;
mod billing_export;
mod cli;
mod config;
mod corpora;
mod demo;
mod doctor;
mod fuzz_corpus;
mod hints;
mod iam;
mod kube_api;
mod module_graph;
mod moto;
mod outputs;
mod paths;
mod price_list;
mod proxy;
mod pull;
mod rds;
mod readme;
mod real_account;
mod reconcile;
mod review;
mod routing;
mod rules;
mod setup;
mod stub_http;
mod topology;
mod truth;
