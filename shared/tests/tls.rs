//! The one TLS stack (rustls with ring) against a real TLS server on loopback, with a certificate
//! authority made for the test: the creator API's client and the SQS client complete handshakes
//! with servers they should trust and refuse those they should not.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use shared::pipeline::queue::{JobQueue, SqsQueue, StepMessage};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
    sync::mpsc,
};

/// A certificate authority and a server certificate it signed for `name`.
struct Pki {
    ca_pem: String,
    server: rustls::ServerConfig,
}

fn pki(name: &str) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec![name.to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let server = rustls::ServerConfig::builder_with_provider(shared::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        server,
    }
}

fn write_pem(pem: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("gemz-test-ca-{}.pem", uuid::Uuid::new_v4()));
    std::fs::write(&path, pem).unwrap();
    path
}

/// An HTTPS server answering every request with `body` (as `content_type`); the head and body of
/// each request it decrypted arrive on the returned channel.
async fn serve(
    config: rustls::ServerConfig,
    content_type: &'static str,
    body: &'static str,
) -> (SocketAddr, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake: nothing is received.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n) = tls.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request);
                    if let Some(head_end) = text.find("\r\n\r\n") {
                        let length = text[..head_end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if request.len() >= head_end + 4 + length {
                            break;
                        }
                    }
                }
                let _ = tx.send(String::from_utf8_lossy(&request).into_owned());
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (addr, rx)
}

#[tokio::test]
async fn the_http_client_trusts_a_server_signed_by_its_roots_and_no_other() {
    let pki = pki("localhost");
    let ca = write_pem(&pki.ca_pem);
    let (addr, mut received) = serve(pki.server, "application/json", r#"{"ok":true}"#).await;
    let url = format!(
        "https://localhost:{}/v1/tiktok/profile?handle=nike",
        addr.port()
    );

    let roots = shared::tls::roots(Some(ca.to_str().unwrap())).unwrap();
    let trusting = shared::tls::http_client_with_roots(roots)
        .unwrap()
        .build()
        .unwrap();
    let answer = trusting.get(&url).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), r#"{"ok":true}"#);
    let request = received.recv().await.unwrap();
    assert!(
        request.starts_with("GET /v1/tiktok/profile?handle=nike HTTP/1.1"),
        "{request}"
    );

    // The system's roots alone do not hold the test authority: the handshake is refused, and the
    // server decrypts nothing.
    let system = shared::tls::http_client().unwrap().build().unwrap();
    let refused = system.get(&url).send().await.unwrap_err();
    assert!(refused.is_connect(), "{refused:?}");
    assert!(
        tokio::time::timeout(Duration::from_millis(200), received.recv())
            .await
            .is_err(),
        "the server received a request over a refused connection"
    );
    std::fs::remove_file(ca).unwrap();
}

#[tokio::test]
async fn the_http_client_refuses_a_certificate_for_another_name() {
    let pki = pki("api.example.com");
    let ca = write_pem(&pki.ca_pem);
    let (addr, _received) = serve(pki.server, "application/json", "{}").await;
    let roots = shared::tls::roots(Some(ca.to_str().unwrap())).unwrap();
    let client = shared::tls::http_client_with_roots(roots)
        .unwrap()
        .build()
        .unwrap();
    let refused = client
        .get(format!("https://localhost:{}/", addr.port()))
        .send()
        .await
        .unwrap_err();
    assert!(refused.is_connect(), "{refused:?}");
    std::fs::remove_file(ca).unwrap();
}

#[tokio::test]
async fn the_sqs_client_sends_over_tls_with_the_system_roots() {
    let pki = pki("localhost");
    let ca = write_pem(&pki.ca_pem);
    // The SDK's client reads the system roots, which `SSL_CERT_FILE` names (as the template sets
    // it); each test runs in its own process.
    std::env::set_var("SSL_CERT_FILE", &ca);
    std::env::set_var("AWS_ACCESS_KEY_ID", "test");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
    std::env::set_var("AWS_REGION", "us-east-1");
    let (addr, mut received) = serve(
        pki.server,
        "application/x-amz-json-1.0",
        r#"{"MessageId":"5fea7756-0ea4-451a-a703-a558b933e274","MD5OfMessageBody":"00000000000000000000000000000000"}"#,
    )
    .await;
    std::env::set_var(
        "AWS_ENDPOINT_URL_SQS",
        format!("https://localhost:{}", addr.port()),
    );
    let queue = SqsQueue::from_env("https://localhost/000000000000/jobs").await;
    let job_id = uuid::Uuid::new_v4();
    let message = StepMessage { job_id, step: 3 };
    let id = queue
        .send(&message, Duration::from_secs(2))
        .await
        .expect("sent over TLS");
    assert_eq!(id, "5fea7756-0ea4-451a-a703-a558b933e274");
    let request = received.recv().await.unwrap();
    assert!(
        request
            .to_ascii_lowercase()
            .contains("x-amz-target: amazonsqs.sendmessage"),
        "{request}"
    );
    assert!(request.contains(&job_id.to_string()), "{request}");
    std::fs::remove_file(ca).unwrap();
}
