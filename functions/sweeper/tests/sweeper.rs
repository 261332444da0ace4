use std::time::Duration;

use db::settings::SettingsCache;
use testkit::{TestDb, TestQueue};

async fn state(db: &TestDb, queue: &TestQueue) -> sweeper::State<queue::SqsQueue> {
    sweeper::State {
        pool: db.pool.clone(),
        queue: queue.queue(),
        settings: SettingsCache::new(Duration::ZERO),
        message_lifetime: Duration::ZERO,
    }
}

async fn exec(db: &TestDb, sql: &str, job: uuid::Uuid) {
    db.client().await.execute(sql, &[&job]).await.unwrap();
}

async fn status_of(db: &TestDb, job: uuid::Uuid) -> Option<String> {
    db.client()
        .await
        .query_opt("SELECT status FROM scraping_jobs WHERE id = $1", &[&job])
        .await
        .unwrap()
        .map(|r| r.get(0))
}

#[tokio::test]
async fn overdue_searches_end_as_timeout() {
    let db = TestDb::new().await;
    let queue = TestQueue::new(3).await;
    let overdue = db.seed_job("user_a", "processing", 2).await;
    let fine = db.seed_job("user_a", "processing", 2).await;
    exec(
        &db,
        "UPDATE scraping_jobs SET timeout_at = now() - interval '1 minute' WHERE id = $1",
        overdue,
    )
    .await;
    let sweep = sweeper::sweep(&state(&db, &queue).await).await.unwrap();
    assert_eq!(sweep.timed_out, 1);
    assert_eq!(status_of(&db, overdue).await.as_deref(), Some("timeout"));
    assert_eq!(status_of(&db, fine).await.as_deref(), Some("processing"));
}

#[tokio::test]
async fn a_stalled_search_gets_its_step_sent_again_once_per_stall_period() {
    let db = TestDb::new().await;
    let queue = TestQueue::new(3).await;
    let stalled = db.seed_job("user_a", "processing", 2).await;
    let busy = db.seed_job("user_a", "processing", 2).await;
    exec(
        &db,
        "UPDATE scraping_jobs SET updated_at = now() - interval '10 minutes' WHERE id = $1",
        stalled,
    )
    .await;
    exec(&db, "UPDATE scraping_jobs SET updated_at = now() - interval '10 minutes', lease_token = gen_random_uuid(), lease_expires_at = now() + interval '1 minute' WHERE id = $1", busy).await;
    let state = state(&db, &queue).await;
    assert_eq!(sweeper::sweep(&state).await.unwrap().resent, 1);
    let event = queue
        .receive(Duration::from_secs(1))
        .await
        .expect("a re-sent step");
    let bodies: Vec<serde_json::Value> = event
        .records
        .iter()
        .map(|r| serde_json::from_str(r.body.as_deref().unwrap()).unwrap())
        .collect();
    assert_eq!(bodies, [serde_json::json!({"jobId": stalled, "step": 1})]);
    assert_eq!(
        sweeper::sweep(&state).await.unwrap().resent,
        0,
        "not again until it stalls again"
    );
}

#[tokio::test]
async fn a_step_whose_message_may_still_be_delivered_is_not_sent_again() {
    let db = TestDb::new().await;
    let queue = TestQueue::new(3).await;
    // Sent 10 minutes ago and stalled since: with a 360 s visibility timeout and 5 deliveries,
    // the message may come back for 30 minutes after it was sent.
    let waiting = db.seed_job("user_a", "processing", 2).await;
    let lost = db.seed_job("user_a", "processing", 2).await;
    exec(&db, "UPDATE scraping_jobs SET updated_at = now() - interval '10 minutes', enqueued_at = now() - interval '10 minutes' WHERE id = $1", waiting).await;
    exec(&db, "UPDATE scraping_jobs SET updated_at = now() - interval '40 minutes', enqueued_at = now() - interval '40 minutes' WHERE id = $1", lost).await;
    let mut state = state(&db, &queue).await;
    state.message_lifetime = Duration::from_secs(360 * 5);
    assert_eq!(sweeper::sweep(&state).await.unwrap().resent, 1);
    let event = queue
        .receive(Duration::from_secs(1))
        .await
        .expect("the lost step, sent again");
    let body: serde_json::Value =
        serde_json::from_str(event.records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(body["jobId"], serde_json::json!(lost));
    assert_eq!(event.records.len(), 1);
}

#[tokio::test]
async fn finished_searches_are_deleted_with_their_creators_after_their_retention() {
    let db = TestDb::new().await;
    let queue = TestQueue::new(3).await;
    let old_done = db.seed_job("user_a", "completed", 3).await;
    let recent_done = db.seed_job("user_a", "completed", 3).await;
    let old_error = db.seed_job("user_a", "error", 3).await;
    let recent_error = db.seed_job("user_a", "cancelled", 3).await;
    exec(
        &db,
        "UPDATE scraping_jobs SET completed_at = now() - interval '31 days' WHERE id = $1",
        old_done,
    )
    .await;
    exec(
        &db,
        "UPDATE scraping_jobs SET completed_at = now() - interval '29 days' WHERE id = $1",
        recent_done,
    )
    .await;
    exec(
        &db,
        "UPDATE scraping_jobs SET completed_at = now() - interval '8 days' WHERE id = $1",
        old_error,
    )
    .await;
    exec(
        &db,
        "UPDATE scraping_jobs SET completed_at = now() - interval '6 days' WHERE id = $1",
        recent_error,
    )
    .await;
    // A cancelled search keeps its creators like a completed one: 8 days is not yet 30.
    let old_cancelled = db.seed_job("user_a", "cancelled", 3).await;
    exec(
        &db,
        "UPDATE scraping_jobs SET completed_at = now() - interval '8 days' WHERE id = $1",
        old_cancelled,
    )
    .await;
    let sweep = sweeper::sweep(&state(&db, &queue).await).await.unwrap();
    assert_eq!(sweep.deleted, 2);
    assert_eq!(status_of(&db, old_done).await, None);
    assert_eq!(status_of(&db, old_error).await, None);
    assert!(status_of(&db, recent_done).await.is_some());
    assert!(status_of(&db, recent_error).await.is_some());
    assert!(status_of(&db, old_cancelled).await.is_some());
    assert_eq!(db.count("scraping_results").await, 9);
}

#[tokio::test]
async fn retention_deletes_in_bounded_batches_until_nothing_expired_is_left() {
    let db = TestDb::new().await;
    let queue = TestQueue::new(3).await;
    let client = db.client().await;
    let campaign: uuid::Uuid = client
        .query_one(
            "INSERT INTO campaigns (user_id, name, search_type) VALUES ('user_a', 'old', 'keyword') RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    client
        .execute(
            "INSERT INTO scraping_jobs (user_id, campaign_id, platform, search_type, keywords, target_results,
                 status, timeout_at, completed_at)
             SELECT 'user_a', $1, 'TikTok', 'keyword', '[\"old\"]', 10, 'timeout', now(), now() - interval '40 days'
               FROM generate_series(1, 120)",
            &[&campaign],
        )
        .await
        .unwrap();
    let sweep = sweeper::sweep(&state(&db, &queue).await).await.unwrap();
    assert_eq!(sweep.deleted, 120, "three statements of at most 50");
    assert_eq!(db.count("scraping_jobs").await, 0);
}

#[tokio::test]
async fn creators_whose_enrichment_was_never_sent_get_it_sent_and_rows_out_of_attempts_are_skipped()
{
    let db = TestDb::new().await;
    let queue = TestQueue::new(3).await;
    let job = db.seed_job("user_a", "processing", 12).await;
    // Positions 0-9: pending, their message lost in a crash a while ago; 10: sent just now (its
    // message may still be delivered); 11: claimed three times already.
    exec(
        &db,
        "UPDATE scraping_results SET enrichment = 'pending', created_at = now() - interval '5 minutes'
          WHERE job_id = $1",
        job,
    )
    .await;
    exec(
        &db,
        "UPDATE scraping_results SET enrich_enqueued_at = now() WHERE job_id = $1 AND position = 10",
        job,
    )
    .await;
    exec(
        &db,
        "UPDATE scraping_results SET enrich_attempts = 3 WHERE job_id = $1 AND position = 11",
        job,
    )
    .await;
    let mut state = state(&db, &queue).await;
    state.message_lifetime = Duration::from_secs(3600);
    let sweep = sweeper::sweep(&state).await.unwrap();
    assert_eq!(sweep.enrichment_resent, 10);

    let mut sent: Vec<i32> = Vec::new();
    while let Some(event) = queue.receive(Duration::from_secs(1)).await {
        for record in &event.records {
            let body: serde_json::Value =
                serde_json::from_str(record.body.as_deref().unwrap()).unwrap();
            if let Some(positions) = body.get("enrich") {
                assert_eq!(body["jobId"], job.to_string());
                let positions: Vec<i32> = serde_json::from_value(positions.clone()).unwrap();
                assert!(
                    positions.len() <= 5,
                    "a message holds profile_concurrency creators"
                );
                sent.extend(positions);
            }
        }
        let response = aws_lambda_events::sqs::SqsBatchResponse::default();
        queue.settle(&event, &response).await;
    }
    sent.sort_unstable();
    assert_eq!(sent, (0..10).collect::<Vec<_>>());
    let skipped: i64 = db
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
    let again = sweeper::sweep(&state).await.unwrap();
    assert_eq!(again.enrichment_resent, 0);
}
