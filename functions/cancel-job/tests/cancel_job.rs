use testkit::TestApp;

#[tokio::test]
async fn a_running_search_is_cancelled_and_keeps_its_creators() {
    let app = TestApp::new().await;
    let job = app.db.seed_job("user_a", "processing", 7).await;
    let res = app.cancel_job("user_a", job).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json["status"], "cancelled");
    assert_eq!(res.json["processedResults"], 7);
    assert!(res.json["completedAt"].is_string());
    assert_eq!(app.db.job_status(job).await.as_deref(), Some("cancelled"));
    assert_eq!(app.db.count("scraping_results").await, 7);
}

#[tokio::test]
async fn a_finished_search_cannot_be_cancelled() {
    let app = TestApp::new().await;
    for final_status in ["completed", "error", "timeout", "cancelled"] {
        let job = app.db.seed_job("user_a", final_status, 1).await;
        let res = app.cancel_job("user_a", job).await;
        assert_eq!(res.status, 409, "{final_status}");
        assert_eq!(res.error_code(), "job_already_finished");
        assert_eq!(app.db.job_status(job).await.as_deref(), Some(final_status));
    }
}

#[tokio::test]
async fn another_users_search_is_a_404_and_stays_running() {
    let app = TestApp::new().await;
    let job = app.db.seed_job("user_a", "processing", 1).await;
    assert_eq!(app.cancel_job("user_b", job).await.status, 404);
    assert_eq!(app.cancel_job(None, job).await.status, 401);
    assert_eq!(app.cancel_job("user_a", "not-a-uuid").await.status, 400);
    assert_eq!(app.db.job_status(job).await.as_deref(), Some("processing"));
}
