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

async fn list_all<K>(client: &kube::Client, what: &str, items: &mut Vec<Value>, requests: &mut usize) -> Result<(), Error>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let api: Api<K> = Api::all(client.clone());
    let mut params = ListParams::default().limit(500);
    loop {
        let list = api.list(&params).await.map_err(|e| Error::failure(format!("failed to list {what}")).caused_by(e))?;
        *requests += 1;
        for obj in &list.items {
            let mut v = serde_json::to_value(obj).map_err(|e| Error::failure(format!("cannot encode a {what} object")).caused_by(e))?;
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
pub async fn snapshot(client: &kube::Client) -> Result<(Value, usize), Error> {
    let mut items = Vec::new();
    let mut requests = 0;
    list_all::<Node>(client, "nodes", &mut items, &mut requests).await?;
    list_all::<Pod>(client, "pods", &mut items, &mut requests).await?;
    list_all::<Service>(client, "services", &mut items, &mut requests).await?;
    list_all::<EndpointSlice>(client, "endpointslices", &mut items, &mut requests).await?;
    Ok((json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}), requests))
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
    crate::report::write::atomic_write(&path, &bytes)?;
    Ok(path)
}
