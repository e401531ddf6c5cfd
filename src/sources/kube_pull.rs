//! `crossaz pull k8s`: nodes, pods, Services and EndpointSlices from the Kubernetes API (kube-rs,
//! with the kubeconfig or in-cluster config), written as one kubectl-style List per snapshot.

use crate::error::Error;
use crate::model::time::format_time;
use crate::workspace::Workspace;
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Connects with `--kubeconfig`/`--context`, else `KUBECONFIG`/`~/.kube/config`, else in-cluster.
pub async fn client(kubeconfig: Option<&Path>, context: Option<&str>) -> Result<kube::Client, Error> {
    let fail = |e: &dyn std::fmt::Display| {
        Error::failure("cannot connect to the Kubernetes API").caused_by(e).hint("check `kubectl get nodes` works, or pass `--kubeconfig` and `--context`")
    };
    let options = KubeConfigOptions { context: context.map(str::to_string), ..KubeConfigOptions::default() };
    let config = match kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path).map_err(|e| fail(&e))?;
            kube::Config::from_custom_kubeconfig(kc, &options).await.map_err(|e| fail(&e))?
        }
        None if context.is_some() => kube::Config::from_kubeconfig(&options).await.map_err(|e| fail(&e))?,
        None => kube::Config::infer().await.map_err(|e| fail(&e))?,
    };
    kube::Client::try_from(config).map_err(|e| fail(&e))
}

/// How a failed API request is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// 410 Gone: the list's continue token expired; list again from the start.
    Gone,
    /// 429, 5xx, a dropped connection or a timeout: try again later.
    Transient,
    /// Anything else (401, 403, 404, …): retrying will not help.
    Fatal,
}

pub fn classify(e: &kube::Error) -> Failure {
    match e {
        kube::Error::Api(s) if s.code == 410 => Failure::Gone,
        kube::Error::Api(s) if s.code == 429 || s.code >= 500 => Failure::Transient,
        kube::Error::Api(_) => Failure::Fatal,
        kube::Error::Auth(_) | kube::Error::InferConfig(_) | kube::Error::Discovery(_) | kube::Error::BuildRequest(_) => Failure::Fatal,
        _ => Failure::Transient,
    }
}

/// A failed snapshot: what was being listed, how it failed and why.
#[derive(Debug)]
pub struct SnapshotError {
    pub what: String,
    pub failure: Failure,
    pub error: kube::Error,
}

impl SnapshotError {
    pub fn into_error(self) -> Error {
        let hint = match self.failure {
            Failure::Fatal => {
                "check `kubectl get nodes` works with the same kubeconfig and context (the identity needs list on nodes, pods, services and endpointslices)"
            }
            _ => "the API server did not answer in time; `crossaz pull k8s --every` keeps trying and records the gap",
        };
        Error::failure(format!("failed to list {}", self.what)).caused_by(self.error).hint(hint)
    }
}

async fn list_all<K>(client: &kube::Client, what: &str, items: &mut Vec<Value>, requests: &mut usize) -> Result<(), SnapshotError>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let api: Api<K> = Api::all(client.clone());
    let first = items.len();
    let mut relists = 0;
    let mut params = ListParams::default().limit(500);
    loop {
        let list = match api.list(&params).await {
            Ok(l) => l,
            Err(e) => {
                *requests += 1;
                let failure = classify(&e);
                // An expired continue token: what was listed is stale; start this kind again.
                if failure == Failure::Gone && relists < 3 {
                    relists += 1;
                    items.truncate(first);
                    params = ListParams::default().limit(500);
                    continue;
                }
                return Err(SnapshotError { what: what.to_string(), failure, error: e });
            }
        };
        *requests += 1;
        for obj in &list.items {
            let mut v = match serde_json::to_value(obj) {
                Ok(v) => v,
                Err(e) => return Err(SnapshotError { what: what.to_string(), failure: Failure::Fatal, error: kube::Error::SerdeError(e) }),
            };
            // As `kubectl get -o json` prints it: without managedFields.
            if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("managedFields");
            }
            items.push(v);
        }
        match list.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => params = params.continue_token(&c),
            None => return Ok(()),
        }
    }
}

/// One snapshot: a List of nodes, pods, Services and EndpointSlices, all namespaces.
pub async fn snapshot(client: &kube::Client) -> Result<(Value, usize), SnapshotError> {
    let mut items = Vec::new();
    let mut requests = 0;
    list_all::<Node>(client, "nodes", &mut items, &mut requests).await?;
    list_all::<Pod>(client, "pods", &mut items, &mut requests).await?;
    list_all::<Service>(client, "services", &mut items, &mut requests).await?;
    list_all::<EndpointSlice>(client, "endpointslices", &mut items, &mut requests).await?;
    let mut list = json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items});
    // The API server's `/version`, as `kubectl version -o json` names it: which routing modes it takes.
    // Without it (a refused request), the nodes' kubelet versions still bound it from below.
    requests += 1;
    if let Ok(v) = client.apiserver_version().await {
        list["serverVersion"] = json!({"major": v.major, "minor": v.minor, "gitVersion": v.git_version, "platform": v.platform});
    }
    Ok((list, requests))
}

/// The EC2 instances of the cluster's nodes, from their `providerID` (`aws:///zone/i-…`).
pub async fn node_instances(client: &kube::Client) -> Result<Vec<String>, Error> {
    let api: Api<Node> = Api::all(client.clone());
    let nodes = api.list(&ListParams::default()).await.map_err(|e| Error::failure("failed to list nodes").caused_by(e))?;
    let mut ids: Vec<String> = nodes
        .items
        .iter()
        .filter_map(|n| n.spec.as_ref()?.provider_id.as_deref()?.rsplit('/').next().map(str::to_string))
        .filter(|i| i.starts_with("i-"))
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// A snapshot, trying again with exponential backoff (`base`, 2 × `base`, …) after transient errors.
pub async fn snapshot_with_retries(
    client: &kube::Client,
    attempts: u32,
    base: std::time::Duration,
    retried: &mut u32,
) -> Result<(Value, usize), SnapshotError> {
    let mut k = 0;
    loop {
        match snapshot(client).await {
            Ok(s) => return Ok(s),
            Err(e) if e.failure != Failure::Fatal && k + 1 < attempts => {
                tokio::time::sleep(base * 2u32.pow(k.min(5))).await;
                k += 1;
                *retried += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// What `pull k8s --every` records for later reads: the interval and the snapshots it missed.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PullState {
    /// Seconds between snapshots.
    pub every: u64,
    pub failures: Vec<MissedSnapshot>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MissedSnapshot {
    /// RFC 3339.
    pub at: String,
    pub error: String,
}

pub fn state_path(ws: &Workspace) -> PathBuf {
    ws.state().join("pull-k8s.json")
}

/// Reads the state `pull k8s --every` keeps, if any.
pub fn read_state(ws: &Workspace) -> Option<PullState> {
    serde_json::from_slice(&std::fs::read(state_path(ws)).ok()?).ok()
}

pub fn write_state(ws: &Workspace, state: &PullState) -> Result<(), Error> {
    let path = state_path(ws);
    std::fs::create_dir_all(ws.state()).map_err(|e| Error::io("create", &ws.state(), e))?;
    let bytes = serde_json::to_vec_pretty(state).map_err(|e| Error::failure("cannot encode the pull state").caused_by(e))?;
    crate::write::atomic_write(&path, &bytes)
}

/// Writes a snapshot as `<RFC 3339 time>.json.gz`, atomically.
pub fn write_snapshot(ws: &Workspace, at: i64, v: &Value) -> Result<PathBuf, Error> {
    let dir = ws.k8s();
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
    let path = dir.join(format!("{}.json.gz", format_time(at)));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&serde_json::to_vec(v).map_err(|e| Error::failure("cannot encode the snapshot").caused_by(e))?)
        .map_err(|e| Error::io("compress", &path, e))?;
    let bytes = gz.finish().map_err(|e| Error::io("compress", &path, e))?;
    crate::write::atomic_write(&path, &bytes)?;
    Ok(path)
}
