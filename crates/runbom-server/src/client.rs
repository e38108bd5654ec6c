//! The client side of the server's API, for the CLI: uploading expected inventories and
//! fetching an application's VEX document.

use runbom_model::expected::ExpectedInventory;

/// What can go wrong talking to a server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the server `{url}`")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the server `{url}` answered {status}: {message}")]
    Refused {
        url: String,
        status: u16,
        message: String,
    },
}

/// An HTTP client with runbom's TLS setup (rustls with the ring provider).
pub(crate) fn http_client(timeout: std::time::Duration) -> Result<reqwest::Client, reqwest::Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(timeout).build()
}

/// `GET /api/v1/applications/{app}/vex?format=FORMAT` (`cyclonedx` or `openvex`): the document
/// as the server wrote it, with every finding's triage analysis.
pub async fn fetch_vex(
    server: &str,
    token: &str,
    app: &str,
    format: &str,
) -> Result<String, ClientError> {
    let url = format!(
        "{}/api/v1/applications/{}/vex?format={}",
        server.trim_end_matches('/'),
        segment(app),
        segment(format)
    );
    let unreachable = |source| ClientError::Unreachable {
        url: url.clone(),
        source,
    };
    let client = http_client(std::time::Duration::from_secs(60)).map_err(unreachable)?;
    let response = client
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(unreachable)?;
    if response.status().is_success() {
        return response.text().await.map_err(unreachable);
    }
    Err(refused(url.clone(), response).await)
}

/// A refusal, with the reason the server gave in its `{"error": …}` body.
async fn refused(url: String, response: reqwest::Response) -> ClientError {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    ClientError::Refused {
        url,
        status,
        message: body["error"]
            .as_str()
            .unwrap_or("no reason given")
            .to_owned(),
    }
}

/// `PUT /api/v1/applications/{app}/releases/{release}/expected`.
pub async fn push_expected(
    server: &str,
    token: &str,
    app: &str,
    release: &str,
    inventory: &ExpectedInventory,
) -> Result<(), ClientError> {
    let url = format!(
        "{}/api/v1/applications/{}/releases/{}/expected",
        server.trim_end_matches('/'),
        segment(app),
        segment(release)
    );
    let unreachable = |source| ClientError::Unreachable {
        url: url.clone(),
        source,
    };
    let client = http_client(std::time::Duration::from_secs(60)).map_err(unreachable)?;
    let response = client
        .put(&url)
        .bearer_auth(token)
        .json(inventory)
        .send()
        .await
        .map_err(unreachable)?;
    if response.status().is_success() {
        return Ok(());
    }
    Err(refused(url, response).await)
}

/// Percent-encodes a URL path segment.
pub(crate) fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
