use testkit::TestApp;

#[tokio::test]
async fn the_overview_counts_searches_stalls_errors_calls_and_dead_letters() {
    let app = TestApp::builder().queue().admins("ops", "").build().await;
    for body in ["one", "two"] {
        let queue = app.queue();
        let send = queue.client.send_message().queue_url(&queue.dlq_url);
        send.message_body(body).send().await.unwrap();
    }
    app.db.seed_job("user_a", "completed", 3).await;
    app.db.seed_job("user_a", "processing", 1).await;
    let stalled = app.db.seed_job("user_b", "processing", 0).await;
    for _ in 0..2 {
        let failed = app.db.seed_job("user_b", "error", 0).await;
        app.db
            .execute(
                "UPDATE scraping_jobs SET error = 'The creator API rejected our key' WHERE id = $1",
                &[&failed],
            )
            .await;
    }
    app.db
        .execute(
            "UPDATE scraping_jobs SET updated_at = now() - interval '1 hour' WHERE id = $1",
            &[&stalled],
        )
        .await;
    let res = app.admin_overview("ops").await;
    assert_eq!(res.status, 200, "{res}");
    let last = &res.json["last24Hours"];
    assert_eq!(last["searchesByStatus"]["completed"], 1, "{res}");
    assert_eq!(last["searchesByStatus"]["processing"], 2);
    assert_eq!(last["searchesByStatus"]["error"], 2);
    assert_eq!(last["searchStepCalls"], 5, "one step per seeded search");
    assert_eq!(last["credits"], 0);
    assert_eq!(
        last["topErrors"][0]["message"],
        "The creator API rejected our key"
    );
    assert_eq!(last["topErrors"][0]["count"], 2);
    assert_eq!(res.json["running"]["processing"], 2);
    assert_eq!(res.json["running"]["stalled"], 1);
    assert_eq!(res.json["deadLetterQueue"]["depth"], 2);
}
