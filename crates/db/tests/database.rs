mod cases {
    mod migrations;
    mod roles;
}

use std::time::Duration;

use db::settings::SettingsCache;
use domain::search::SearchKind;
use testkit::TestDb;

#[tokio::test]
async fn migrations_run_again_apply_nothing_and_seed_nothing_twice() {
    let db = TestDb::new().await;
    let mut client = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(client.1);
    assert_eq!(db::migrate(&mut client.0).await.unwrap(), 0);
    let seeded = db.count("system_configurations").await;
    assert_eq!(seeded, domain::settings::DEFINITIONS.len() as i64);
}

#[tokio::test]
async fn a_changed_setting_is_seen_once_the_cache_expires() {
    let db = TestDb::new().await;
    let cache = SettingsCache::new(Duration::from_millis(300));
    let client = db.client().await;
    let before = cache.get(&client).await.unwrap();
    assert_eq!(before.max_api_calls(SearchKind::TikTokKeyword), 50);
    db.set_setting("max_api_calls_tiktok_keyword", "7").await;
    let cached = cache.get(&client).await.unwrap();
    assert_eq!(
        cached.max_api_calls(SearchKind::TikTokKeyword),
        50,
        "still cached"
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    let fresh = cache.get(&client).await.unwrap();
    assert_eq!(fresh.max_api_calls(SearchKind::TikTokKeyword), 7);
}

#[tokio::test]
async fn the_pool_reuses_one_connection_across_sequential_requests() {
    let db = TestDb::with_pool_size(2).await;
    let mut backends = std::collections::HashSet::new();
    for _ in 0..50 {
        let client = db.pool.get().await.unwrap();
        let pid: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0);
        backends.insert(pid);
    }
    assert_eq!(
        backends.len(),
        1,
        "sequential requests share one server connection"
    );
    assert_eq!(db.pool.status().size, 1);
}

#[tokio::test]
async fn a_url_that_requires_tls_is_not_sent_in_plain_text() {
    let db = TestDb::new().await;
    let mut config = TestDb::config(&format!("{}?sslmode=require", db.url), 1);
    config.connect_timeout = Duration::from_secs(2);
    let pool = db::pool(&config).unwrap();
    // The local test server has no TLS: the connection must fail rather than fall back.
    let err = pool.get().await.expect_err("no plain-text fallback");
    assert!(format!("{err:?}").to_lowercase().contains("tls"), "{err:?}");
}

#[tokio::test]
async fn connections_killed_while_idle_are_replaced_transparently() {
    let db = TestDb::with_pool_size(1).await;
    {
        let c = db.pool.get().await.unwrap();
        c.query_one("SELECT 1", &[]).await.unwrap();
    }
    // Kill every connection to the test database, as a database restart or a frozen container's
    // expired socket would.
    let admin = tokio_postgres::connect(&testkit::admin_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(admin.1);
    admin
        .0
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&db.name],
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let c = db.pool.get().await.unwrap();
    assert_eq!(
        c.query_one("SELECT 1", &[]).await.unwrap().get::<_, i32>(0),
        1
    );
}

#[tokio::test]
async fn creators_with_nul_characters_are_stored_without_them() {
    use domain::{
        creator::{Creator, CreatorRecord, FoundBy},
        search::Platform,
    };
    let db = TestDb::new().await;
    let job = db.seed_job("user_a", "processing", 0).await;
    let record = CreatorRecord {
        platform: Platform::TikTok,
        creator: Creator {
            name: "nul\0name".into(),
            unique_id: "nul\0handle".into(),
            bio: Some("bio with \0 inside".into()),
            profile_url: "https://www.tiktok.com/@x".into(),
            ..Creator::default()
        },
        video: None,
        hashtags: vec!["tag\0".into()],
        found_by: FoundBy::Keyword("k".into()),
        relevance: None,
        published_at: None,
    };
    let client = db.client().await;
    let stored = db::results::insert(&client, job, 0, 0, &[record], &[true])
        .await
        .unwrap();
    assert_eq!(stored.count, 1);
    assert_eq!(stored.pending, vec![0]);
    let row = client
        .query_one(
            "SELECT creator_key, creators->'creator'->>'bio' FROM scraping_results",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "nulhandle");
    assert_eq!(row.get::<_, String>(1), "bio with  inside");
}

#[tokio::test]
async fn pooled_connections_carry_the_session_timeouts_set_after_connecting() {
    let db = TestDb::new().await;
    let client = db.client().await;
    let row = client
        .query_one(
            "SELECT current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "10s", "TestDb's pools use 10 s");
    assert_eq!(row.get::<_, String>(1), "1min");
}
