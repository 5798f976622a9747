//! Test fixtures for the mutual-TLS transport (feature `testing`): a throw-away certificate
//! authority that issues server and client certificates, and a [`FixedNode`] API to serve.
//! Used by this crate's and `ternctl`'s tests; never compiled into `ternd`.

use std::net::SocketAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use tonic::Status;

use crate::{NodeApi, TcpTlsServer, TlsPem, pb};

/// A certificate and its private key, both PEM.
pub struct Pair {
    /// The certificate.
    pub certificate: String,
    /// Its key.
    pub key: String,
}

/// A self-signed certificate authority.
pub struct TestAuthority {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestAuthority {
    /// A new authority with common name `name`.
    pub fn new(name: &str) -> TestAuthority {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("CA key");
        let issuer = CertifiedIssuer::self_signed(params, key).expect("CA certificate");
        TestAuthority { issuer }
    }

    /// The authority's certificate, PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `name` (a DNS name or an IP address).
    pub fn server(&self, name: &str) -> Pair {
        self.issue(name, ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A client certificate for `name`.
    pub fn client(&self, name: &str) -> Pair {
        self.issue(name, ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn issue(&self, name: &str, usage: ExtendedKeyUsagePurpose) -> Pair {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(vec![name.to_string()]).expect("parameters");
        params.extended_key_usages = vec![usage];
        let certificate = params.signed_by(&key, &self.issuer).expect("certificate");
        Pair {
            certificate: certificate.pem(),
            key: key.serialize_pem(),
        }
    }
}

/// A client certificate no authority signed.
pub fn self_signed_client(name: &str) -> Pair {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec![name.to_string()]).expect("parameters");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    Pair {
        certificate: params.self_signed(&key).expect("certificate").pem(),
        key: key.serialize_pem(),
    }
}

/// A node API that answers status with node `tls-node`, AS 64512, and no peers or routes.
pub struct FixedNode;

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

/// Serve [`FixedNode`] over TCP + mutual TLS on 127.0.0.1 (a free port), with a server
/// certificate for `server_name` from `authority`, trusting clients of `authority`.
pub async fn serve_fixed_node(authority: &TestAuthority, server_name: &str) -> SocketAddr {
    let identity = authority.server(server_name);
    let pem = TlsPem {
        certificate: identity.certificate.into_bytes(),
        key: identity.key.into_bytes(),
        client_ca: authority.pem().into_bytes(),
    };
    let server = TcpTlsServer::bind(SocketAddr::from(([127, 0, 0, 1], 0)), &pem)
        .await
        .expect("bind the TLS server");
    let address = server.local_address().expect("its address");
    tokio::spawn(server.serve(Arc::new(FixedNode), std::future::pending()));
    address
}
