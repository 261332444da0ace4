//! The SQS client over TLS: the SDK's requests go through reqwest and rustls with ring, verifying
//! the server against the system's roots, here the bundle `SSL_CERT_FILE` names (as the template
//! sets it). Its own test binary, so that no other test has loaded the roots first.

use std::time::Duration;

use queue::{JobQueue, SqsQueue, StepMessage};
use testkit::tls::{pki, serve, write_pem};

#[tokio::test]
async fn the_sqs_client_sends_over_tls_with_the_system_roots() {
    let pki = pki("localhost");
    let ca = write_pem(&pki.ca_pem);
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
