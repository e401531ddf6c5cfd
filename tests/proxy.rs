//! A small fault-injecting HTTP/1.1 proxy in front of moto: it counts requests and, by rule,
//! answers some with 5xx or throttling errors, or holds them (to kill a pull half-way).

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Forward,
    /// `503 Service Unavailable`, empty body.
    Unavailable,
    /// `400` with a JSON `ThrottlingException` (JSON protocols: Cost Explorer, CloudWatch Logs).
    Throttle,
    /// `503 SlowDown` in S3's XML error format.
    SlowDown,
    /// Never answer.
    Hold,
    /// `403` with an `AccessDeniedException` (JSON protocols and REST-JSON, e.g. EKS).
    Deny,
    /// `200` with this JSON body: a stand-in for a service moto lacks (Data Exports), or for what
    /// moto does not do (Athena's FAILED queries and result pages).
    Respond(String),
    /// This exact answer, status line and headers included (e.g. an S3 object other than the one listed).
    Raw(Vec<u8>),
}

pub struct Request {
    pub method: String,
    pub target: String,
    /// The `X-Amz-Target` header (JSON protocols) or empty.
    pub amz_target: String,
    /// How many requests came before this one.
    pub index: usize,
    pub body: String,
}

pub struct Proxy {
    pub url: String,
    pub requests: Arc<AtomicUsize>,
    pub injected: Arc<AtomicUsize>,
}

type Rule = Arc<dyn Fn(&Request) -> Action + Send + Sync>;

pub fn start(upstream: &str, rule: impl Fn(&Request) -> Action + Send + Sync + 'static) -> Proxy {
    let upstream = upstream.trim_start_matches("http://").to_string();
    let requests = Arc::new(AtomicUsize::new(0));
    let injected = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = std::sync::mpsc::channel();
    let (r, i) = (requests.clone(), injected.clone());
    let rule: Rule = Arc::new(rule);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap().port()).unwrap();
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let (upstream, rule, r, i) = (upstream.clone(), rule.clone(), r.clone(), i.clone());
                tokio::spawn(async move {
                    let _ = serve(client, &upstream, rule, r, i).await;
                });
            }
        });
    });
    let port = rx.recv().unwrap();
    Proxy { url: format!("http://127.0.0.1:{port}"), requests, injected }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn serve(mut client: TcpStream, upstream: &str, rule: Rule, count: Arc<AtomicUsize>, injected: Arc<AtomicUsize>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        // One request: headers, then a Content-Length or chunked body.
        let head_end = loop {
            if let Some(p) = find(&buf, b"\r\n\r\n") {
                break p + 4;
            }
            let mut chunk = [0u8; 65536];
            let n = client.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let header =
            |name: &str| head.lines().find_map(|l| l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string()));
        let body_len = header("content-length").and_then(|v| v.parse::<usize>().ok());
        let total = match body_len {
            Some(n) => head_end + n,
            None if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) => loop {
                if let Some(p) = find(&buf[head_end..], b"0\r\n\r\n") {
                    break head_end + p + 5;
                }
                let mut chunk = [0u8; 65536];
                let n = client.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(());
                }
                buf.extend_from_slice(&chunk[..n]);
            },
            None => head_end,
        };
        while buf.len() < total {
            let mut chunk = [0u8; 65536];
            let n = client.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let request: Vec<u8> = buf.drain(..total).collect();
        let first = head.lines().next().unwrap_or_default().to_string();
        let mut parts = first.split_whitespace();
        let req = Request {
            method: parts.next().unwrap_or_default().to_string(),
            target: parts.next().unwrap_or_default().to_string(),
            amz_target: header("x-amz-target").unwrap_or_default(),
            index: count.fetch_add(1, Ordering::SeqCst),
            body: String::from_utf8_lossy(&request[head_end..]).into_owned(),
        };
        let action = rule(&req);
        if action != Action::Forward {
            injected.fetch_add(1, Ordering::SeqCst);
        }
        let response: Vec<u8> = match action {
            Action::Hold => {
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                return Ok(());
            }
            Action::Unavailable => b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n".to_vec(),
            Action::SlowDown => {
                let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
                format!("HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
            }
            Action::Throttle => {
                let body = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
                format!(
                    "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-ErrorType: ThrottlingException\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes()
            }
            Action::Deny => {
                let body =
                    r#"{"__type":"AccessDeniedException","message":"User: arn:aws:iam::123456789012:user/crossaz is not authorized to perform this action"}"#;
                format!(
                    "HTTP/1.1 403 Forbidden\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-ErrorType: AccessDeniedException\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes()
            }
            Action::Respond(body) => {
                format!("HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
            }
            Action::Raw(answer) => answer,
            Action::Forward => {
                // Forward with `Connection: close` and relay the whole answer.
                let mut up = TcpStream::connect(upstream).await?;
                let text = String::from_utf8_lossy(&request[..head_end]).to_string();
                let mut new_head = String::new();
                for line in text.split("\r\n").filter(|l| !l.is_empty()) {
                    if !line.to_ascii_lowercase().starts_with("connection:") {
                        new_head.push_str(line);
                        new_head.push_str("\r\n");
                    }
                }
                new_head.push_str("Connection: close\r\n\r\n");
                up.write_all(new_head.as_bytes()).await?;
                up.write_all(&request[head_end..]).await?;
                let mut answer = Vec::new();
                up.read_to_end(&mut answer).await?;
                answer
            }
        };
        client.write_all(&response).await?;
    }
}
