//! What-if estimates: what a change would save, from the cluster state and measured traffic.

pub mod kube_proxy;
pub mod paths;
pub mod rds;
pub mod routing;
pub mod topology;
