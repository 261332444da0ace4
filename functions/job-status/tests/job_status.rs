use serde_json::Value;
use testkit::{body_json, ApiRequest, TestDb};

async fn get(db: &TestDb, user: Option<&str>, job: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let mut req = ApiRequest::new("GET", "/jobs/{jobId}").path_param("jobId", job);
    if let Some(user) = user {
        req = req.user(user);
    }
    for (k, v) in query {
        req = req.query(k, v);
    }
    let res = job_status::handler(&db.pool, req.build()).await;
    (res.status().as_u16(), body_json(&res))
}

#[tokio::test]
async fn a_large_job_is_read_one_page_at_a_time_in_discovery_order() {
    let db = TestDb::new().await;
    let job = db.seed_job("user_a", "completed", 1000).await.to_string();
    let (status, body) = get(&db, Some("user_a"), &job, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["creators"].as_array().unwrap().len(),
        50,
        "the default page"
    );
    assert_eq!(body["pagination"]["total"], 1000);
    assert_eq!(body["pagination"]["nextOffset"], 50);
    assert_eq!(body["status"], "completed");
    assert_eq!(body["keywords"], serde_json::json!(["seed"]));
    let first_size = body.to_string().len();

    let (_, page) = get(
        &db,
        Some("user_a"),
        &job,
        &[("offset", "950"), ("limit", "50")],
    )
    .await;
    let handles: Vec<&str> = page["creators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["creator"]["uniqueId"].as_str().unwrap())
        .collect();
    assert_eq!(handles.first(), Some(&"creator950"));
    assert_eq!(handles.last(), Some(&"creator999"));
    assert_eq!(page["pagination"]["nextOffset"], Value::Null);
    let last_size = page.to_string().len();
    assert!(
        last_size < first_size * 2,
        "the answer does not grow with the job"
    );

    let (_, beyond) = get(&db, Some("user_a"), &job, &[("offset", "5000")]).await;
    assert_eq!(beyond["creators"], serde_json::json!([]));
}

#[tokio::test]
async fn out_of_range_paging_and_bad_ids_are_400() {
    let db = TestDb::new().await;
    let job = db.seed_job("user_a", "processing", 3).await.to_string();
    for (k, v) in [
        ("limit", "0"),
        ("limit", "201"),
        ("offset", "-1"),
        ("limit", "abc"),
        ("offset", "1.5"),
    ] {
        let (status, err) = get(&db, Some("user_a"), &job, &[(k, v)]).await;
        assert_eq!(status, 400, "{k}={v}");
        assert_eq!(err["error"]["details"][0]["field"], k);
    }
    for bad in [
        "nope",
        "00000000-0000-0000-0000-00000000000g",
        "%00",
        "../campaigns",
    ] {
        let (status, _) = get(&db, Some("user_a"), bad, &[]).await;
        assert_eq!(status, 400, "{bad}");
    }
}

#[tokio::test]
async fn another_users_job_is_a_404_like_a_missing_one_and_no_user_a_401() {
    let db = TestDb::new().await;
    let job = db.seed_job("user_a", "processing", 3).await.to_string();
    let (theirs_status, theirs) = get(&db, Some("user_b"), &job, &[]).await;
    let (missing_status, missing) =
        get(&db, Some("user_b"), &uuid::Uuid::new_v4().to_string(), &[]).await;
    assert_eq!((theirs_status, missing_status), (404, 404));
    assert_eq!(theirs, missing);
    let (status, _) = get(&db, None, &job, &[]).await;
    assert_eq!(status, 401);
}
