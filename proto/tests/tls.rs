//! The TCP + mutual-TLS transport: a client certificate from the configured CA is let in; no
//! certificate, a self-signed one, or one from another CA is refused.

use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use tern_proto::pb::node_client::NodeClient;
use tern_proto::{NodeApi, TcpTlsServer, TlsPem, pb};
use tonic::Status;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

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

struct Authority {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, PEM.
struct Pair {
    certificate: String,
    key: String,
}

impl Authority {
    fn new(name: &str) -> Authority {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Authority { issuer }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    fn issue(&self, names: &[&str], usage: ExtendedKeyUsagePurpose) -> Pair {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.extended_key_usages = vec![usage];
        let certificate = params.signed_by(&key, &self.issuer).unwrap();
        Pair {
            certificate: certificate.pem(),
            key: key.serialize_pem(),
        }
    }
}

fn self_signed_client() -> Pair {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["intruder".to_string()]).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    Pair {
        certificate: params.self_signed(&key).unwrap().pem(),
        key: key.serialize_pem(),
    }
}

/// Start a server whose certificate comes from `authority` and which trusts client
/// certificates from `authority`; return its port.
async fn server(authority: &Authority) -> u16 {
    let identity = authority.issue(&["localhost"], ExtendedKeyUsagePurpose::ServerAuth);
    let pem = TlsPem {
        certificate: identity.certificate.into_bytes(),
        key: identity.key.into_bytes(),
        client_ca: authority.pem().into_bytes(),
    };
    let server = TcpTlsServer::bind("127.0.0.1:0".parse().unwrap(), &pem)
        .await
        .unwrap();
    let port = server.local_address().unwrap().port();
    tokio::spawn(server.serve(Arc::new(FixedNode), std::future::pending()));
    port
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
    let authority = Authority::new("tern test CA");
    let port = server(&authority).await;
    let client = authority.issue(&["ternctl"], ExtendedKeyUsagePurpose::ClientAuth);
    let node = status(port, &authority.pem(), Some(&client)).await;
    assert_eq!(node, Ok("tls-node".to_string()));
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused() {
    let authority = Authority::new("tern test CA");
    let port = server(&authority).await;
    let result = status(port, &authority.pem(), None).await;
    let error = result.expect_err("refused");
    assert!(refused_because(&error, "CertificateRequired"), "{error}");
}

#[tokio::test]
async fn a_self_signed_client_certificate_is_refused() {
    let authority = Authority::new("tern test CA");
    let port = server(&authority).await;
    let result = status(port, &authority.pem(), Some(&self_signed_client())).await;
    let error = result.expect_err("refused");
    assert!(refused_because(&error, "UnknownCA"), "{error}");
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_refused() {
    let authority = Authority::new("tern test CA");
    let other = Authority::new("some other CA");
    let port = server(&authority).await;
    let client = other.issue(&["ternctl"], ExtendedKeyUsagePurpose::ClientAuth);
    let result = status(port, &authority.pem(), Some(&client)).await;
    let error = result.expect_err("refused");
    assert!(refused_because(&error, "UnknownCA"), "{error}");
}

#[tokio::test]
async fn the_client_checks_the_server_too() {
    let authority = Authority::new("tern test CA");
    let other = Authority::new("some other CA");
    let port = server(&authority).await;
    let client = authority.issue(&["ternctl"], ExtendedKeyUsagePurpose::ClientAuth);
    let result = status(port, &other.pem(), Some(&client)).await;
    let error = result.expect_err("refused");
    assert!(refused_because(&error, "UnknownIssuer"), "{error}");
}
