//! A plain HTTPS GET for public files outside the AWS APIs (AWS's `ip-ranges.json`), on the same
//! hyper and rustls stack the AWS SDK uses, with the system's root certificates.

use crate::error::Error;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The body of `url` (https, or http for a local stand-in), failing on any status but 200.
pub async fn get(url: &str) -> Result<Vec<u8>, Error> {
    let what = || format!("download `{url}`");
    // The cryptography the AWS SDK's client uses too (sources/aws::https_client).
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
        .map_err(|e| Error::failure(format!("could not {}: no root certificates", what())).caused_by(e))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Empty<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let uri: http::Uri = url.parse().map_err(|e| Error::usage(format!("`{url}` is not a URL")).caused_by(e))?;
    let resp = client.get(uri).await.map_err(|e| Error::failure(format!("could not {}", what())).caused_by(e))?;
    let status = resp.status();
    let body = resp.into_body().collect().await.map_err(|e| Error::failure(format!("could not {}", what())).caused_by(e))?.to_bytes();
    if status != http::StatusCode::OK {
        return Err(Error::failure(format!("could not {}: HTTP {status}", what())));
    }
    Ok(body.to_vec())
}
