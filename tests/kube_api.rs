//! A stand-in Kubernetes API server for the `pull k8s` test: no API server can be installed on this
//! machine (docs/pull.md), so this serves recorded objects on the paths a client lists — with
//! discovery documents and `limit`/`continue` paging — and kubectl checks it answers like one.

#![allow(dead_code)]

use serde_json::{Value, json};

pub type ApiServer = crate::stub_http::Server;

fn resource(name: &str, kind: &str, namespaced: bool) -> Value {
    json!({"name": name, "singularName": "", "namespaced": namespaced, "kind": kind, "verbs": ["get", "list", "watch"]})
}

fn answer(path: &str, query: &str, items: &[Value]) -> Option<Value> {
    let list = |api_version: &str, kind: &str, of: &str| {
        let mut selected: Vec<Value> = items.iter().filter(|i| i["kind"] == of).cloned().collect();
        // Like a busy API server, answer at most 7 items a page, whatever the limit asked.
        let limit = query.split('&').find_map(|kv| kv.strip_prefix("limit=")).and_then(|v| v.parse::<usize>().ok()).map(|l| l.min(7));
        let start = query.split('&').find_map(|kv| kv.strip_prefix("continue=")).and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
        let end = limit.map_or(selected.len(), |l| (start + l).min(selected.len()));
        let mut meta = json!({"resourceVersion": "4242"});
        if end < selected.len() {
            meta["continue"] = json!(end.to_string());
        }
        selected = selected[start..end].to_vec();
        json!({"apiVersion": api_version, "kind": kind, "metadata": meta, "items": selected})
    };
    Some(match path {
        "/api" => {
            json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
        }
        "/apis" => {
            json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [{"name": "discovery.k8s.io",
            "versions": [{"groupVersion": "discovery.k8s.io/v1", "version": "v1"}], "preferredVersion": {"groupVersion": "discovery.k8s.io/v1", "version": "v1"}}]})
        }
        "/api/v1" => {
            json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": [resource("nodes", "Node", false), resource("pods", "Pod", true), resource("services", "Service", true)]})
        }
        "/apis/discovery.k8s.io/v1" => {
            json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "discovery.k8s.io/v1", "resources": [resource("endpointslices", "EndpointSlice", true)]})
        }
        "/version" => json!({"major": "1", "minor": "33", "gitVersion": "v1.33.5"}),
        "/api/v1/nodes" => list("v1", "NodeList", "Node"),
        "/api/v1/pods" => list("v1", "PodList", "Pod"),
        "/api/v1/services" => list("v1", "ServiceList", "Service"),
        "/apis/discovery.k8s.io/v1/endpointslices" => list("discovery.k8s.io/v1", "EndpointSliceList", "EndpointSlice"),
        _ => return None,
    })
}

pub fn start(items: Vec<Value>) -> ApiServer {
    start_scripted(items, |_| None)
}

/// A Status body as the API server sends it with an error.
pub fn status(code: u16, reason: &str) -> String {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "code": code, "message": reason}).to_string()
}

/// Like [`start`], but `script` may answer a request first (to fail it).
pub fn start_scripted(
    items: Vec<Value>,
    script: impl Fn(&crate::stub_http::Request) -> Option<crate::stub_http::Response> + Send + Sync + 'static,
) -> ApiServer {
    crate::stub_http::serve(move |r| {
        match script(r).map(Some).unwrap_or_else(|| answer(&r.path, &r.query, &items).map(|v| ("200 OK", "application/json", v.to_string()))) {
            Some(resp) => resp,
            None => (
                "404 Not Found",
                "application/json",
                json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404}).to_string(),
            ),
        }
    })
}

#[allow(dead_code)]
fn unused_start(items: Vec<Value>) -> ApiServer {
    crate::stub_http::serve(move |r| match answer(&r.path, &r.query, &items) {
        Some(v) => ("200 OK", "application/json", v.to_string()),
        None => (
            "404 Not Found",
            "application/json",
            json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404}).to_string(),
        ),
    })
}

/// A kubeconfig pointing at the server.
pub fn kubeconfig(dir: &std::path::Path, url: &str) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {url}\nusers:\n- name: test\n  user:\n    token: not-a-secret\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: test\ncurrent-context: test\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}
