use std::time::Duration;

use serde_json::json;
use testkit::TestApp;

async fn app() -> TestApp {
    TestApp::builder().queue().build().await
}

#[tokio::test]
async fn overdue_searches_end_as_timeout() {
    let app = app().await;
    let overdue = app.db.seed_job("user_a", "processing", 2).await;
    let fine = app.db.seed_job("user_a", "processing", 2).await;
    app.db
        .execute(
            "UPDATE scraping_jobs SET timeout_at = now() - interval '1 minute' WHERE id = $1",
            &[&overdue],
        )
        .await;
    assert_eq!(app.sweep().await.timed_out, 1);
    assert_eq!(app.db.job_status(overdue).await.as_deref(), Some("timeout"));
    assert_eq!(app.db.job_status(fine).await.as_deref(), Some("processing"));
}

#[tokio::test]
async fn a_stalled_search_gets_its_step_sent_again_once_per_stall_period() {
    let app = app().await;
    let stalled = app.db.seed_job("user_a", "processing", 2).await;
    let busy = app.db.seed_job("user_a", "processing", 2).await;
    app.db
        .execute(
            "UPDATE scraping_jobs SET updated_at = now() - interval '10 minutes' WHERE id = $1",
            &[&stalled],
        )
        .await;
    app.db.execute("UPDATE scraping_jobs SET updated_at = now() - interval '10 minutes', lease_token = gen_random_uuid(), lease_expires_at = now() + interval '1 minute' WHERE id = $1", &[&busy]).await;
    assert_eq!(app.sweep().await.resent, 1);
    assert_eq!(app.messages().await, [json!({"jobId": stalled, "step": 1})]);
    assert_eq!(
        app.sweep().await.resent,
        0,
        "not again until it stalls again"
    );
}

#[tokio::test]
async fn a_step_whose_message_may_still_be_delivered_is_not_sent_again() {
    let app = app().await;
    // Sent 10 minutes ago and stalled since: with a 360 s visibility timeout and 5 deliveries,
    // the message may come back for 30 minutes after it was sent.
    let waiting = app.db.seed_job("user_a", "processing", 2).await;
    let lost = app.db.seed_job("user_a", "processing", 2).await;
    app.db.execute("UPDATE scraping_jobs SET updated_at = now() - interval '10 minutes', enqueued_at = now() - interval '10 minutes' WHERE id = $1", &[&waiting]).await;
    app.db.execute("UPDATE scraping_jobs SET updated_at = now() - interval '40 minutes', enqueued_at = now() - interval '40 minutes' WHERE id = $1", &[&lost]).await;
    let sweep = app
        .sweep_with_message_lifetime(Duration::from_secs(360 * 5))
        .await;
    assert_eq!(sweep.resent, 1);
    let messages = app.messages().await;
    assert_eq!(messages.len(), 1, "only the lost step, sent again");
    assert_eq!(messages[0]["jobId"], json!(lost));
}

#[tokio::test]
async fn finished_searches_are_deleted_with_their_creators_after_their_retention() {
    let app = app().await;
    let finished = |status: &'static str, days: i32| {
        let db = &app.db;
        async move {
            let job = db.seed_job("user_a", status, 3).await;
            let sql = "UPDATE scraping_jobs SET completed_at = now() - make_interval(days => $2) WHERE id = $1";
            db.execute(sql, &[&job, &days]).await;
            job
        }
    };
    let old_done = finished("completed", 31).await;
    let recent_done = finished("completed", 29).await;
    let old_error = finished("error", 8).await;
    let recent_error = finished("cancelled", 6).await;
    // A cancelled search keeps its creators like a completed one: 8 days is not yet 30.
    let old_cancelled = finished("cancelled", 8).await;
    assert_eq!(app.sweep().await.deleted, 2);
    assert_eq!(app.db.job_status(old_done).await, None);
    assert_eq!(app.db.job_status(old_error).await, None);
    assert!(app.db.job_status(recent_done).await.is_some());
    assert!(app.db.job_status(recent_error).await.is_some());
    assert!(app.db.job_status(old_cancelled).await.is_some());
    assert_eq!(app.db.count("scraping_results").await, 9);
}

#[tokio::test]
async fn retention_deletes_in_bounded_batches_until_nothing_expired_is_left() {
    let app = app().await;
    app.db
        .batch_execute(
            "WITH campaign AS (
                 INSERT INTO campaigns (user_id, name, search_type) VALUES ('user_a', 'old', 'keyword') RETURNING id)
             INSERT INTO scraping_jobs (user_id, campaign_id, platform, search_type, keywords, target_results,
                 status, timeout_at, completed_at)
             SELECT 'user_a', campaign.id, 'TikTok', 'keyword', '[\"old\"]', 10, 'timeout', now(), now() - interval '40 days'
               FROM campaign, generate_series(1, 120)",
        )
        .await;
    assert_eq!(
        app.sweep().await.deleted,
        120,
        "three statements of at most 50"
    );
    assert_eq!(app.db.count("scraping_jobs").await, 0);
}

#[tokio::test]
async fn creators_whose_enrichment_was_never_sent_get_it_sent_and_rows_out_of_attempts_are_skipped()
{
    let app = app().await;
    let job = app.db.seed_job("user_a", "processing", 12).await;
    // Positions 0-9: pending, their message lost in a crash a while ago; 10: sent just now (its
    // message may still be delivered); 11: claimed three times already.
    app.db
        .execute(
            "UPDATE scraping_results SET enrichment = 'pending', created_at = now() - interval '5 minutes'
              WHERE job_id = $1",
            &[&job],
        )
        .await;
    app.db
        .execute(
            "UPDATE scraping_results SET enrich_enqueued_at = now() WHERE job_id = $1 AND position = 10",
            &[&job],
        )
        .await;
    app.db
        .execute(
            "UPDATE scraping_results SET enrich_attempts = 3 WHERE job_id = $1 AND position = 11",
            &[&job],
        )
        .await;
    let lifetime = Duration::from_secs(3600);
    assert_eq!(
        app.sweep_with_message_lifetime(lifetime)
            .await
            .enrichment_resent,
        10
    );

    let mut sent: Vec<i32> = Vec::new();
    for message in app.messages().await {
        let Some(positions) = message.get("enrich") else {
            continue;
        };
        assert_eq!(message["jobId"], job.to_string());
        let positions: Vec<i32> = serde_json::from_value(positions.clone()).unwrap();
        assert!(
            positions.len() <= 5,
            "a message holds profile_concurrency creators"
        );
        sent.extend(positions);
    }
    sent.sort_unstable();
    assert_eq!(sent, (0..10).collect::<Vec<_>>());
    let skipped: i64 = app
        .db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM scraping_results WHERE job_id = $1 AND enrichment = 'skipped'",
            &[&job],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(skipped, 1, "the row out of attempts");

    // Sent once: the next sweep leaves them to their messages.
    assert_eq!(
        app.sweep_with_message_lifetime(lifetime)
            .await
            .enrichment_resent,
        0
    );
}

#[tokio::test]
async fn a_database_that_stops_answering_mid_sweep_fails_the_sweep_instead_of_holding_it() {
    let app = app().await;
    let proxy = testkit::FreezeProxy::start(app.db.server_addr()).await;
    let state = sweeper::State {
        pool: app.db.pool_via(proxy.addr()),
        queue: app.job_queue(),
        settings: db::settings::SettingsCache::new(Duration::ZERO),
        message_lifetime: Duration::ZERO,
    };
    sweeper::sweep(&state)
        .await
        .expect("a sweep while the database answers");
    // Frozen with the sweep's connection open and just used (no verification before reuse): its
    // statements are sent and never answered, and no TCP timer fires.
    proxy.freeze();
    let err = sweeper::sweep(&state).await.unwrap_err();
    assert!(err.to_string().contains("did not answer"), "{err:#}");
    proxy.thaw();
    // The next sweep works again (on a connection verified or replaced).
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    sweeper::sweep(&state)
        .await
        .expect("a sweep after the thaw");
}

#[tokio::test]
async fn idempotency_keys_past_a_day_are_forgotten_in_bounded_batches() {
    let app = app().await;
    app.db
        .execute(
            "INSERT INTO idempotency_keys (user_id, route, key, request_hash, status_code, response, created_at)
             SELECT 'user_a', 'POST /campaigns', 'k' || n, 'h', 201, '{}',
                    now() - CASE WHEN n <= 12000 THEN interval '25 hours' ELSE interval '1 hour' END
               FROM generate_series(1, 12010) n",
            &[],
        )
        .await;
    assert_eq!(app.sweep().await.forgotten_keys, 12_000);
    assert_eq!(app.db.count("idempotency_keys").await, 10);
    assert_eq!(app.sweep().await.forgotten_keys, 0);
}
