use serde_json::{json, Value};
use testkit::TestApp;

#[tokio::test]
async fn a_large_job_is_read_one_page_at_a_time_in_discovery_order() {
    let app = TestApp::new().await;
    let job = app.db.seed_job("user_a", "completed", 1000).await;
    let res = app.job_status("user_a", job).await;
    assert_eq!(res.status, 200);
    let body = &res.json;
    assert_eq!(
        body["creators"].as_array().unwrap().len(),
        50,
        "the default page"
    );
    assert_eq!(body["pagination"]["total"], 1000);
    assert_eq!(body["pagination"]["nextOffset"], 50);
    assert_eq!(body["status"], "completed");
    assert_eq!(body["keywords"], json!(["seed"]));
    let first_size = body.to_string().len();

    let page = app
        .job_status("user_a", job)
        .query("offset", "950")
        .query("limit", "50")
        .await
        .json;
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

    let beyond = app.job_status("user_a", job).query("offset", "5000").await;
    assert_eq!(beyond.json["creators"], json!([]));
}

#[tokio::test]
async fn out_of_range_paging_and_bad_ids_are_400() {
    let app = TestApp::new().await;
    let job = app.db.seed_job("user_a", "processing", 3).await;
    for (k, v) in [
        ("limit", "0"),
        ("limit", "201"),
        ("offset", "-1"),
        ("limit", "abc"),
        ("offset", "1.5"),
    ] {
        let res = app.job_status("user_a", job).query(k, v).await;
        assert_eq!((res.status, res.error_field()), (400, k), "{k}={v}");
    }
    for bad in [
        "nope",
        "00000000-0000-0000-0000-00000000000g",
        "%00",
        "../campaigns",
    ] {
        assert_eq!(app.job_status("user_a", bad).await.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn another_users_job_is_a_404_like_a_missing_one_and_no_user_a_401() {
    let app = TestApp::new().await;
    let job = app.db.seed_job("user_a", "processing", 3).await;
    let theirs = app.job_status("user_b", job).await;
    let missing = app.job_status("user_b", uuid::Uuid::new_v4()).await;
    assert_eq!((theirs.status, missing.status), (404, 404));
    assert_eq!(theirs.json, missing.json);
    assert_eq!(app.job_status(None, job).await.status, 401);
}

#[tokio::test]
async fn creators_stored_without_facts_read_with_every_fact_null_beside_ones_that_have_them() {
    let app = TestApp::new().await;
    let job = app.db.seed_job("user_a", "completed", 3).await;
    // Creator 1 as a search now stores it: with its facts.
    app.db
        .execute(
            "UPDATE scraping_results SET creators = jsonb_set(creators, '{creator}',
                 creators -> 'creator' || '{\"region\": \"US\", \"engagementRate\": 0.0819,
                 \"otherHandles\": {\"instagram\": \"brookemonk\"}, \"links\": null}'::jsonb)
              WHERE job_id = $1 AND position = 1",
            &[&job],
        )
        .await;
    let res = app.job_status("user_a", job).await;
    assert_eq!(res.status, 200);
    let creators = res.json["creators"].as_array().unwrap();
    let old = &creators[0]["creator"];
    for fact in [
        "engagementRate",
        "region",
        "language",
        "links",
        "businessEmail",
        "businessPhone",
        "otherHandles",
        "category",
    ] {
        assert_eq!(old.get(fact), Some(&Value::Null), "{fact}");
    }
    assert_eq!(old["uniqueId"], "creator0");
    let new = &creators[1]["creator"];
    assert_eq!(new["region"], "US");
    assert_eq!(new["engagementRate"], 0.0819);
    assert_eq!(new["otherHandles"], json!({"instagram": "brookemonk"}));
    assert_eq!(new["language"], Value::Null);
}
