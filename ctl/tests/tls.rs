//! ternctl over TCP with mutual TLS (`--server`, `--ca`, `--cert`, `--key`).

mod support;

use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use support::*;
use tern_proto::{NodeApi, TcpTlsServer, TlsPem, pb};
use tonic::Status;

struct FixedNode;

#[tonic::async_trait]
impl NodeApi for FixedNode {
    async fn status(&self) -> Result<pb::NodeStatus, Status> {
        Ok(pb::NodeStatus {
            node: "tls-node".into(),
            as_number: 64512,
            router_id: "198.18.0.11".into(),
            peers: Vec::new(),
        })
    }

    async fn routes(&self, _: pb::ListRoutesRequest) -> Result<Vec<pb::Destination>, Status> {
        Ok(Vec::new())
    }
}

fn authority(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// (certificate PEM, key PEM)
fn issue(
    authority: &CertifiedIssuer<'static, KeyPair>,
    name: &str,
    usage: ExtendedKeyUsagePurpose,
) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec![name.to_string()]).unwrap();
    params.extended_key_usages = vec![usage];
    let certificate = params.signed_by(&key, authority).unwrap();
    (certificate.pem(), key.serialize_pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ternctl_reaches_the_tcp_api_with_a_client_certificate_and_not_without() {
    let ca = authority("tern test CA");
    let other = authority("some other CA");
    let (server_certificate, server_key) =
        issue(&ca, "127.0.0.1", ExtendedKeyUsagePurpose::ServerAuth);
    let pem = TlsPem {
        certificate: server_certificate.into_bytes(),
        key: server_key.into_bytes(),
        client_ca: ca.pem().into_bytes(),
    };
    let server = TcpTlsServer::bind("127.0.0.1:0".parse().unwrap(), &pem)
        .await
        .unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        server.local_address().unwrap().port()
    );
    tokio::spawn(server.serve(Arc::new(FixedNode), std::future::pending()));

    let directory = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = directory.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let ca_file = write("ca.pem", &ca.pem());
    let (certificate, key) = issue(&ca, "ternctl", ExtendedKeyUsagePurpose::ClientAuth);
    let (certificate, key) = (write("client.pem", &certificate), write("client.key", &key));
    let (stranger, stranger_key) = issue(&other, "ternctl", ExtendedKeyUsagePurpose::ClientAuth);
    let (stranger, stranger_key) = (
        write("other.pem", &stranger),
        write("other.key", &stranger_key),
    );
    let unused = Path::new("/nonexistent.sock");

    let base = ["--server", &url, "--ca", &ca_file];
    let with = |cert: &str, key: &str| -> Vec<String> {
        let mut args: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        args.extend(
            ["--cert", cert, "--key", key, "node", "status", "-o", "json"].map(String::from),
        );
        args
    };
    let args = with(&certificate, &key);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let status = json(&ternctl(unused, &args).await);
    assert_eq!(status["node"], "tls-node");

    let args = with(&stranger, &stranger_key);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let refused = ternctl(unused, &args).await;
    assert_eq!(refused.status.code(), Some(1));
    // The alert (UnknownCA) or just the closed connection, whichever the client sees first.
    let message = stderr(&refused);
    assert!(
        message.contains("ternd may have refused the TLS session"),
        "{message}"
    );

    let mut args: Vec<&str> = base.to_vec();
    args.extend(["node", "status"]);
    let missing = ternctl(unused, &args).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("--server needs --cert"),
        "{}",
        stderr(&missing)
    );
}
