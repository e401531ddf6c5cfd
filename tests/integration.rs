//! One integration-test binary (each test binary is a large link); modules by topic.

mod util;

mod bad_input;
mod bench;
mod cli;
mod corpora;
mod demo;
mod outputs;
mod rules;
mod truth;
