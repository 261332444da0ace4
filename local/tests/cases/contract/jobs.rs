//! Searches and their jobs: starting one, reading and exporting it, cancelling it; and a job
//! page with creators against its schema.

use serde_json::{json, Value};
use shared::config::Config;
use testkit::TestDb;

use super::case::{As::*, Case, Then::*};

const NIKE: &str = r#"{"campaignId": "$campaign", "keywords": ["nike"]}"#;

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case::new("a TikTok search starts", A, "POST", "/scraping/tiktok", 202)
        .body(r#"{"campaignId": "$campaign", "keywords": ["nike"], "targetResults": 10}"#)
        .then(&[Save("job", "/jobId")]),
    Case::new("a second search in the campaign is a conflict", A, "POST", "/scraping/tiktok", 409)
        .body(r#"{"campaignId": "$campaign", "username": "nike"}"#),
    Case::new("another user's campaign cannot be searched", B, "POST", "/scraping/tiktok", 404)
        .body(NIKE),
    Case::new("an unknown platform is refused", A, "POST", "/scraping/myspace", 400)
        .body(NIKE),
    Case::new("the campaign list shows the search", A, "GET", "/campaigns", 200)
        .then(&[Equals("/campaigns/0/latestJob/id", r#""$job""#)]),
    Case::new("the campaign is read", A, "GET", "/campaigns/$campaign", 200),
    Case::new("the job is read", A, "GET", "/jobs/$job", 200),
    Case::new("a page of no creators is refused", A, "GET", "/jobs/$job?limit=0", 400),
    Case::new("another user's job is not found", B, "GET", "/jobs/$job", 404),
    Case::new("an unknown job is not found", A, "GET", "/jobs/$random", 404),
    Case::new("the job's creators export as CSV", A, "GET", "/jobs/$job/creators.csv", 200)
        .then(&[StartsWith("\u{feff}Username,Display name")]),
    Case::new("the campaign's creators export as CSV", A, "GET",
        "/campaigns/$campaign/creators.csv", 200)
        .then(&[StartsWith("\u{feff}Platform,Username")]),
    Case::new("another user cannot export the campaign", B, "GET",
        "/campaigns/$campaign/creators.csv", 404),
    Case::new("another user cannot export the job", B, "GET", "/jobs/$job/creators.csv", 404),
    Case::new("another user cannot cancel the job", B, "DELETE", "/jobs/$job", 404),
    Case::new("the job is cancelled", A, "DELETE", "/jobs/$job", 200),
    Case::new("a cancelled job cannot be cancelled again", A, "DELETE", "/jobs/$job", 409),
];

#[tokio::test]
async fn a_search_with_creators_matches_the_described_job_page() {
    let db = TestDb::new().await;
    let job = db.seed_job("user_a", "completed", 3).await;
    let api_spec = super::schema::yaml("openapi.yaml");
    let req = testkit::ApiRequest::new("GET", "/jobs/{jobId}")
        .user("user_a")
        .path_param("jobId", &job.to_string());
    let res = job_status_body(&db, req).await;
    let schema = json!({"$ref": "#/components/schemas/JobPage"});
    let errors = super::schema::errors(&api_spec, &schema, &res);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert_eq!(res["creators"].as_array().unwrap().len(), 3);
}

async fn job_status_body(db: &TestDb, req: testkit::ApiRequest) -> Value {
    let config = Config::from_lookup(|k| (k == "DATABASE_URL").then(|| db.url.clone())).unwrap();
    let queue = queue::SqsQueue::new(testkit::sqs::client().await, "unused");
    let app = local::app::App::new(
        &config,
        db.pool.clone(),
        queue,
        None,
        pipeline::creator_api::CreatorApi::new(&config.creator_api, "k").unwrap(),
    );
    let res = app.invoke_http("job-status", req.build()).await.unwrap();
    testkit::body_json(&res)
}
