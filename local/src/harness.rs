//! The world the compiled functions run in for the runtime harness test and the benchmarks: a
//! fresh database seeded with the ids the files in `events/` name, a queue, the creator-API
//! replay, and the environment variables Lambda and the template would give the functions.

use std::path::Path;

use serde_json::Value;
use testkit::{Replay, TestDb, TestQueue};

/// The user, campaigns and job the event files refer to.
pub const USER: &str = "user_2demo";
pub const KEYWORD_CAMPAIGN: &str = "6f1c2a3e-8d4b-4c55-9a0e-1b2c3d4e5f60";
pub const SIMILAR_CAMPAIGN: &str = "7a2d3b4f-9e5c-4d66-8b1f-2c3d4e5f6a71";
pub const JOB: &str = "0b7d5e1a-2c3f-4a6b-8d9e-0f1a2b3c4d5e";
/// The key that signed the token of `events/email-unsubscribe.json`: the local default.
pub const LINK_SECRET: &str = "gemz-local-email-link-secret-for-local-use-only";

/// An event file of `events/`.
pub fn event(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../events/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The system's CA bundle file (Debian's or Amazon Linux's path).
pub fn ca_bundle() -> String {
    [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
    .unwrap_or_default()
    .to_owned()
}

/// The campaigns and the job the event files name, for `USER`; rows already there are kept.
pub async fn seed_event_ids(client: &tokio_postgres::Client) -> Result<(), tokio_postgres::Error> {
    client
        .batch_execute(&format!(
            "INSERT INTO campaigns (id, user_id, name, search_type) VALUES
                 ('{KEYWORD_CAMPAIGN}', '{USER}', 'Keyword campaign', 'keyword'),
                 ('{SIMILAR_CAMPAIGN}', '{USER}', 'Similar campaign', 'similar')
             ON CONFLICT (id) DO NOTHING;
             INSERT INTO scraping_jobs (id, user_id, campaign_id, platform, search_type, keywords, target_results, timeout_at)
             VALUES ('{JOB}', '{USER}', '{KEYWORD_CAMPAIGN}', 'TikTok', 'keyword', '[\"nike\"]', 100, now() + interval '1 hour')
             ON CONFLICT (id) DO NOTHING;"
        ))
        .await?;
    // Searching needs completed onboarding; a profile already there is left as it is.
    let has_profile = client
        .query_opt("SELECT 1 FROM user_profiles WHERE user_id = $1", &[&USER])
        .await?
        .is_some();
    if !has_profile {
        testkit::db::onboard(client, USER).await?;
    }
    Ok(())
}

/// moto's server, which plays SQS, SES and S3 (`local up` starts it for `scripts/test`).
fn emulator() -> String {
    std::env::var("AWS_ENDPOINT_URL_SQS").unwrap_or_default()
}

pub struct FunctionEnv {
    pub db: TestDb,
    pub queue: TestQueue,
    pub replay: Replay,
}

impl FunctionEnv {
    pub async fn new() -> Self {
        let db = TestDb::with_pool_size(4).await;
        let client = db.client().await;
        seed_event_ids(&client)
            .await
            .expect("seed the event files' ids");
        client
            .batch_execute(
                "UPDATE system_configurations SET value = '0' WHERE key = 'continuation_delay'",
            )
            .await
            .expect("no delay between steps");
        drop(client);
        // The emulator's sending identity and exports bucket, as the deployment has them.
        if !emulator().is_empty() {
            crate::mail::verify_sender(&emulator(), crate::mail::LOCAL_FROM)
                .await
                .expect("verify the local sender in the SES emulator");
            crate::exports::ensure_bucket(crate::exports::BUCKET, &emulator())
                .await
                .expect("the exports bucket in the S3 emulator");
        }
        Self {
            db,
            queue: TestQueue::new(5).await,
            replay: Replay::start().await,
        }
    }

    /// The function's environment besides Lambda's own (see `runtime_api::lambda_env`).
    pub fn vars(&self) -> Vec<(String, String)> {
        [
            ("DATABASE_URL", self.db.url.clone()),
            ("JOBS_QUEUE_URL", self.queue.url.clone()),
            ("DEAD_LETTER_QUEUE_URL", self.queue.dlq_url.clone()),
            // The admin events' `email` claim.
            ("ADMIN_EMAILS", "ops@example.com".into()),
            ("ADMIN_USER_IDS", String::new()),
            // One role locally: the migrations' owner is the functions' role.
            ("DATABASE_APP_ROLE", String::new()),
            (
                "AWS_ENDPOINT_URL_SQS",
                std::env::var("AWS_ENDPOINT_URL_SQS").unwrap_or_default(),
            ),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("SCRAPECREATORS_BASE_URL", self.replay.base_url().into()),
            ("SCRAPECREATORS_API_KEY", "test".into()),
            ("RUST_LOG", "warn".into()),
            // The unsubscribe event's token is signed with the local key (`app::link_secret`).
            ("EMAIL_LINK_KEY", LINK_SECRET.into()),
            // The webhook event's signature is the local key's (`app::LOCAL_STRIPE_WEBHOOK_KEY`).
            (
                "STRIPE_WEBHOOK_KEY",
                crate::app::LOCAL_STRIPE_WEBHOOK_KEY.into(),
            ),
            ("EMAIL_FROM", crate::mail::LOCAL_FROM.into()),
            ("SES_CONFIGURATION_SET", String::new()),
            ("PUBLIC_API_URL", "http://127.0.0.1:3000".into()),
            ("APP_URL", "http://127.0.0.1:5173".into()),
            ("EXPORTS_BUCKET", crate::exports::BUCKET.into()),
            ("AWS_ENDPOINT_URL_S3", emulator()),
            ("AWS_ENDPOINT_URL_SESV2", emulator()),
            // As template.yaml sets it: TLS clients read one CA bundle instead of a directory.
            ("SSL_CERT_FILE", ca_bundle()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}
