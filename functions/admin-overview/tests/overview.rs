use std::time::Duration;

use api::admin::AdminState;
use db::settings::SettingsCache;
use domain::admin::Admins;
use queue::SqsQueue;
use testkit::{body_json, ApiRequest, TestDb, TestQueue};

#[tokio::test]
async fn the_overview_counts_searches_stalls_errors_calls_and_dead_letters() {
    let db = TestDb::new().await;
    let queue = TestQueue::new(3).await;
    for body in ["one", "two"] {
        queue
            .client
            .send_message()
            .queue_url(&queue.dlq_url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    db.seed_job("user_a", "completed", 3).await;
    db.seed_job("user_a", "processing", 1).await;
    let stalled = db.seed_job("user_b", "processing", 0).await;
    for _ in 0..2 {
        let failed = db.seed_job("user_b", "error", 0).await;
        db.client()
            .await
            .execute(
                "UPDATE scraping_jobs SET error = 'The creator API rejected our key' WHERE id = $1",
                &[&failed],
            )
            .await
            .unwrap();
    }
    db.client()
        .await
        .execute(
            "UPDATE scraping_jobs SET updated_at = now() - interval '1 hour' WHERE id = $1",
            &[&stalled],
        )
        .await
        .unwrap();
    let state = admin_overview::State {
        admin: AdminState {
            pool: db.pool.clone(),
            admins: Admins::new("ops", ""),
        },
        dead_letters: Some(SqsQueue::new(queue.client.clone(), queue.dlq_url.clone())),
        settings: SettingsCache::new(Duration::ZERO),
    };
    let res = admin_overview::handler(
        &state,
        ApiRequest::new("GET", "/admin/overview")
            .user("ops")
            .build(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body = body_json(&res);
    let last = &body["last24Hours"];
    assert_eq!(last["searchesByStatus"]["completed"], 1, "{body}");
    assert_eq!(last["searchesByStatus"]["processing"], 2);
    assert_eq!(last["searchesByStatus"]["error"], 2);
    assert_eq!(last["searchStepCalls"], 5, "one step per seeded search");
    assert_eq!(last["credits"], 0);
    assert_eq!(
        last["topErrors"][0]["message"],
        "The creator API rejected our key"
    );
    assert_eq!(last["topErrors"][0]["count"], 2);
    assert_eq!(body["running"]["processing"], 2);
    assert_eq!(body["running"]["stalled"], 1);
    assert_eq!(body["deadLetterQueue"]["depth"], 2);
}
