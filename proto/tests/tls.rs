//! The TCP + mutual-TLS transport: a client certificate from the configured CA is let in; no
//! certificate, a self-signed one, or one from another CA is refused.

use std::time::Duration;

use tern_proto::pb;
use tern_proto::pb::node_client::NodeClient;
use tern_proto::testing::{Pair, TestAuthority, self_signed_client, serve_fixed_node};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

/// A server for `localhost` from `authority`, trusting its clients; its port.
async fn server(authority: &TestAuthority) -> u16 {
    serve_fixed_node(authority, "localhost").await.port()
}

/// Ask for the status with `client` (or no client certificate); the node name on success.
async fn status(port: u16, server_ca: &str, client: Option<&Pair>) -> Result<String, String> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(server_ca))
        .domain_name("localhost");
    if let Some(client) = client {
        tls = tls.identity(Identity::from_pem(&client.certificate, &client.key));
    }
    let attempt = async {
        let channel = Endpoint::from_shared(format!("https://127.0.0.1:{port}"))
            .map_err(|e| e.to_string())?
            .tls_config(tls)
            .map_err(|e| e.to_string())?
            .connect()
            .await
            .map_err(|e| format!("connect: {e:?}"))?;
        let reply = NodeClient::new(channel)
            .get_status(pb::GetStatusRequest {})
            .await
            .map_err(|e| format!("call: {e}"))?;
        Ok(reply.into_inner().node)
    };
    tokio::time::timeout(Duration::from_secs(10), attempt)
        .await
        .expect("the attempt finishes")
}

/// The TLS alert names `reason`; with TLS 1.3 the client may instead see the connection
/// closed before it reads the alert (the server's refusal follows the client's Finished).
fn refused_because(error: &str, reason: &str) -> bool {
    error.contains(reason) || error.contains("connection closed")
}

#[tokio::test]
async fn a_client_certificate_from_the_configured_ca_is_accepted() {
    let authority = TestAuthority::new("tern test CA");
    let port = server(&authority).await;
    let client = authority.client("ternctl");
    let node = status(port, &authority.pem(), Some(&client)).await;
    assert_eq!(node, Ok("tls-node".to_string()));
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused() {
    let authority = TestAuthority::new("tern test CA");
    let port = server(&authority).await;
    let result = status(port, &authority.pem(), None).await;
    let error = result.expect_err("refused");
    assert!(refused_because(&error, "CertificateRequired"), "{error}");
}

#[tokio::test]
async fn a_self_signed_client_certificate_is_refused() {
    let authority = TestAuthority::new("tern test CA");
    let port = server(&authority).await;
    let result = status(
        port,
        &authority.pem(),
        Some(&self_signed_client("intruder")),
    )
    .await;
    let error = result.expect_err("refused");
    assert!(refused_because(&error, "UnknownCA"), "{error}");
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_refused() {
    let authority = TestAuthority::new("tern test CA");
    let other = TestAuthority::new("some other CA");
    let port = server(&authority).await;
    let client = other.client("ternctl");
    let result = status(port, &authority.pem(), Some(&client)).await;
    let error = result.expect_err("refused");
    assert!(refused_because(&error, "UnknownCA"), "{error}");
}

#[tokio::test]
async fn the_client_checks_the_server_too() {
    let authority = TestAuthority::new("tern test CA");
    let other = TestAuthority::new("some other CA");
    let port = server(&authority).await;
    let client = authority.client("ternctl");
    let result = status(port, &other.pem(), Some(&client)).await;
    let error = result.expect_err("refused");
    assert!(refused_because(&error, "UnknownIssuer"), "{error}");
}
