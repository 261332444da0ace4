use testkit::{body_json, ApiRequest, TestDb};

async fn cancel(db: &TestDb, user: Option<&str>, job: &str) -> (u16, serde_json::Value) {
    let mut req = ApiRequest::new("DELETE", "/jobs/{jobId}").path_param("jobId", job);
    if let Some(user) = user {
        req = req.user(user);
    }
    let res = cancel_job::handler(&db.pool, req.build()).await;
    (res.status().as_u16(), body_json(&res))
}

async fn status_of(db: &TestDb, job: uuid::Uuid) -> String {
    db.client()
        .await
        .query_one("SELECT status FROM scraping_jobs WHERE id = $1", &[&job])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_running_search_is_cancelled_and_keeps_its_creators() {
    let db = TestDb::new().await;
    let job = db.seed_job("user_a", "processing", 7).await;
    let (status, body) = cancel(&db, Some("user_a"), &job.to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "cancelled");
    assert_eq!(body["processedResults"], 7);
    assert!(body["completedAt"].is_string());
    assert_eq!(status_of(&db, job).await, "cancelled");
    assert_eq!(db.count("scraping_results").await, 7);
}

#[tokio::test]
async fn a_finished_search_cannot_be_cancelled() {
    let db = TestDb::new().await;
    for final_status in ["completed", "error", "timeout", "cancelled"] {
        let job = db.seed_job("user_a", final_status, 1).await;
        let (status, body) = cancel(&db, Some("user_a"), &job.to_string()).await;
        assert_eq!(status, 409, "{final_status}");
        assert_eq!(body["error"]["code"], "job_already_finished");
        assert_eq!(status_of(&db, job).await, final_status);
    }
}

#[tokio::test]
async fn another_users_search_is_a_404_and_stays_running() {
    let db = TestDb::new().await;
    let job = db.seed_job("user_a", "processing", 1).await;
    let (status, _) = cancel(&db, Some("user_b"), &job.to_string()).await;
    assert_eq!(status, 404);
    let (status, _) = cancel(&db, None, &job.to_string()).await;
    assert_eq!(status, 401);
    let (status, _) = cancel(&db, Some("user_a"), "not-a-uuid").await;
    assert_eq!(status, 400);
    assert_eq!(status_of(&db, job).await, "processing");
}
