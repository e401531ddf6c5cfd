//! A minimal HTTP/1.1 server for stand-ins of APIs that cannot run here (the Kubernetes API
//! server, the AWS Price List API): it reads each request (with its body), counts it and answers
//! with what `handler` returns.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// `(status line, content type, body)`, e.g. `("200 OK", "application/json", text)`.
pub type Response = (&'static str, &'static str, String);

pub struct Server {
    pub url: String,
    pub requests: Arc<AtomicUsize>,
}

pub fn serve(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Server {
    let (tx, rx) = std::sync::mpsc::channel();
    let requests = Arc::new(AtomicUsize::new(0));
    let count = requests.clone();
    let handler = Arc::new(handler);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap().port()).unwrap();
            loop {
                let Ok((mut conn, _)) = listener.accept().await else { continue };
                let (handler, count) = (handler.clone(), count.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    loop {
                        let mut chunk = [0u8; 8192];
                        let Ok(n) = conn.read(&mut chunk).await else { return };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..end]).to_string();
                            let mut lines = head.lines();
                            let mut first = lines.next().unwrap_or_default().split_whitespace();
                            let method = first.next().unwrap_or_default().to_string();
                            let target = first.next().unwrap_or("/").to_string();
                            let headers: Vec<(String, String)> =
                                lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
                            let len: usize =
                                headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-length")).and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
                            if buf.len() < end + 4 + len {
                                break; // the body is still coming
                            }
                            let body = buf[end + 4..end + 4 + len].to_vec();
                            buf.drain(..end + 4 + len);
                            count.fetch_add(1, Ordering::SeqCst);
                            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                            let req = Request { method, path: path.to_string(), query: query.to_string(), headers, body };
                            let (status, content_type, text) = handler(&req);
                            let resp = format!("HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{text}", text.len());
                            if conn.write_all(resp.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
    });
    let port = rx.recv().unwrap();
    Server { url: format!("http://127.0.0.1:{port}"), requests }
}
