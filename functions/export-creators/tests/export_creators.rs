use export::{store::ExportStore, State};
use lambda_http::Body;
use testkit::{ApiRequest, TestDb};

fn state(db: &TestDb, store: Option<ExportStore>) -> State {
    State {
        pool: db.pool.clone(),
        store,
    }
}

async fn export(
    state: &State,
    user: &str,
    job: &str,
) -> (u16, lambda_http::http::HeaderMap, Vec<u8>) {
    let req = ApiRequest::new("GET", "/jobs/{jobId}/creators.csv")
        .user(user)
        .path_param("jobId", job);
    let res = export_creators::handler(state, req.build()).await;
    let body = match res.body() {
        Body::Binary(b) => b.clone(),
        Body::Text(t) => t.clone().into_bytes(),
        _ => Vec::new(),
    };
    (res.status().as_u16(), res.headers().clone(), body)
}

fn rows(csv: &[u8]) -> (Vec<String>, Vec<csv::StringRecord>) {
    let text = std::str::from_utf8(csv).unwrap();
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a byte-order mark first");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    (header, reader.records().map(Result::unwrap).collect())
}

#[tokio::test]
async fn a_keyword_search_exports_its_creators_with_readable_columns_in_discovery_order() {
    let db = TestDb::new().await;
    let job = db.seed_job("user_a", "completed", 120).await;
    let (status, headers, csv) = export(&state(&db, None), "user_a", &job.to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let (header, rows) = rows(&csv);
    assert_eq!(
        header,
        [
            "Username",
            "Display name",
            "Followers",
            "Bio",
            "Emails",
            "Profile URL",
            "Video URL",
            "Video description",
            "Likes",
            "Comments",
            "Shares",
            "Views",
            "Hashtags",
            "Video date",
            "Keyword"
        ]
    );
    assert_eq!(rows.len(), 120);
    assert_eq!(&rows[0][0], "creator0");
    assert_eq!(&rows[119][0], "creator119");
    assert_eq!(&rows[5][1], "Creator 5");
    assert_eq!(&rows[5][2], "1005");
    assert_eq!(
        &rows[5][3],
        "Bio of creator 5 — contact creator5@example.com"
    );
    assert_eq!(&rows[5][4], "creator5@example.com");
    assert_eq!(&rows[5][7], "video 5");
    assert_eq!(&rows[5][11], "50");
    assert_eq!(&rows[5][14], "seed");
    assert!(
        std::str::from_utf8(&csv).unwrap().contains("\r\n"),
        "RFC 4180 line endings"
    );
}

#[tokio::test]
async fn another_users_export_is_a_404() {
    let db = TestDb::new().await;
    let job = db.seed_job("user_a", "completed", 3).await;
    let (status, _, body) = export(&state(&db, None), "user_b", &job.to_string()).await;
    assert_eq!(status, 404);
    assert!(!String::from_utf8_lossy(&body).contains("creator0"));
}

#[tokio::test]
async fn a_creator_that_cannot_be_read_fails_the_export_instead_of_going_missing() {
    let db = TestDb::new().await;
    let job = db.seed_job("user_a", "completed", 3).await;
    db.client()
        .await
        .execute(
            "UPDATE scraping_results SET creators = '{\"platform\": \"Myspace\"}' WHERE job_id = $1 AND position = 1",
            &[&job],
        )
        .await
        .unwrap();
    let (status, _, body) = export(&state(&db, None), "user_a", &job.to_string()).await;
    assert_eq!(status, 500, "{}", String::from_utf8_lossy(&body));
    assert!(!String::from_utf8_lossy(&body).contains("creator0"));
}

/// A bucket of its own in moto's S3 (scripts/test starts moto and sets AWS_ENDPOINT_URL_S3).
async fn bucket() -> ExportStore {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_S3")
        .or_else(|_| std::env::var("AWS_ENDPOINT_URL_SQS"))
        .expect("run with scripts/test, which starts moto");
    let name = format!("gemz-test-{}", uuid::Uuid::new_v4().simple());
    let store = ExportStore::with_endpoint(&name, Some(endpoint));
    store
        .client()
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .unwrap();
    store
}

#[tokio::test]
async fn an_export_over_the_inline_limit_is_uploaded_and_answered_with_a_link() {
    let db = TestDb::new().await;
    let job = db.seed_job("user_a", "completed", 10_000).await;
    // About 1.2 kB a creator: 12 MB, more than Lambda could answer.
    db.client()
        .await
        .execute(
            "UPDATE scraping_results SET creators = jsonb_set(creators, '{creator,bio}', to_jsonb(repeat('long bio ', 120) || position))
             WHERE job_id = $1",
            &[&job],
        )
        .await
        .unwrap();
    let store = bucket().await;
    let (status, headers, body) =
        export(&state(&db, Some(store.clone())), "user_a", &job.to_string()).await;
    assert_eq!(status, 303, "{}", String::from_utf8_lossy(&body));
    let link = headers["location"].to_str().unwrap().to_owned();
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["downloadUrl"], link.as_str());
    assert_eq!(answer["rows"], 10_000);
    assert!(
        answer["bytes"].as_u64().unwrap() > 6 * 1024 * 1024,
        "{answer}"
    );
    let http = shared::tls::http_client().unwrap().build().unwrap();
    let downloaded = http.get(&link).send().await.unwrap();
    assert_eq!(downloaded.status(), 200);
    let csv = downloaded.bytes().await.unwrap();
    let (_, rows) = rows(&csv);
    assert_eq!(rows.len(), 10_000);
    assert_eq!(&rows[9_999][0], "creator9999");
    assert!(rows[9_999][3].ends_with("9999"));
}

#[tokio::test]
async fn without_a_bucket_an_export_too_large_to_answer_is_a_503() {
    let db = TestDb::new().await;
    let job = db.seed_job("user_a", "completed", 5_000).await;
    db.client()
        .await
        .execute(
            "UPDATE scraping_results SET creators = jsonb_set(creators, '{creator,bio}', to_jsonb(repeat('long bio ', 120)))
             WHERE job_id = $1",
            &[&job],
        )
        .await
        .unwrap();
    let (status, _, _) = export(&state(&db, None), "user_a", &job.to_string()).await;
    assert_eq!(status, 503);
}
