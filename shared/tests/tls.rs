//! The one TLS stack (rustls with ring) against a real TLS server on loopback (`testkit::tls`),
//! with a certificate authority made for the test: the HTTP client completes handshakes with
//! servers it should trust and refuses those it should not. (The SQS client's test is queue's
//! `tests/tls_sqs.rs`: it sets `SSL_CERT_FILE`, which the process-wide root store reads once.)

use std::time::Duration;

use testkit::tls::{pki, serve, write_pem};

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
