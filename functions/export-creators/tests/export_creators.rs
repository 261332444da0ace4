use lambda_http::Body;
use testkit::{ApiRequest, TestDb};

async fn export(db: &TestDb, user: &str, job: &str) -> (u16, String, String) {
    let req = ApiRequest::new("GET", "/jobs/{jobId}/creators.csv")
        .user(user)
        .path_param("jobId", job);
    let res = export_creators::handler(&db.pool, req.build()).await;
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = match res.body() {
        Body::Binary(b) => String::from_utf8(b.clone()).unwrap(),
        Body::Text(t) => t.clone(),
        _ => String::new(),
    };
    (res.status().as_u16(), content_type, body)
}

#[tokio::test]
async fn every_creator_is_exported_in_discovery_order_with_a_header() {
    let db = TestDb::new().await;
    let job = db.seed_job("user_a", "completed", 120).await;
    let (status, content_type, csv) = export(&db, "user_a", &job.to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/csv; charset=utf-8");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        export_creators::HEADER
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 120);
    assert_eq!(&rows[0][1], "creator0");
    assert_eq!(&rows[119][1], "creator119");
    assert_eq!(&rows[5][4], "creator5@example.com");
    assert_eq!(
        &rows[5][5],
        "Bio of creator 5 — contact creator5@example.com"
    );
    assert_eq!(&rows[5][8], "50");
    assert!(csv.contains("\r\n"), "RFC 4180 line endings");
}

#[tokio::test]
async fn commas_quotes_newlines_and_formulas_are_quoted_safely() {
    use shared::pipeline::creator::{Creator, CreatorRecord, FoundBy};
    let record = CreatorRecord {
        platform: "TikTok".into(),
        creator: Creator {
            name: "=HYPERLINK(\"http://evil\")".into(),
            unique_id: "a,b".into(),
            bio: Some("line one\nline \"two\"".into()),
            emails: vec!["a@x.io".into(), "b@y.io".into()],
            profile_url: "https://www.tiktok.com/@a".into(),
            ..Creator::default()
        },
        video: None,
        hashtags: vec![],
        found_by: FoundBy::Keyword("k".into()),
    };
    let csv = String::from_utf8(export_creators::to_csv(&[record]).unwrap()).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(&row[0], "'=HYPERLINK(\"http://evil\")");
    assert_eq!(&row[1], "a,b");
    assert_eq!(&row[4], "a@x.io; b@y.io");
    assert_eq!(&row[5], "line one\nline \"two\"");
}

#[tokio::test]
async fn another_users_export_is_a_404() {
    let db = TestDb::new().await;
    let job = db.seed_job("user_a", "completed", 3).await;
    let (status, _, body) = export(&db, "user_b", &job.to_string()).await;
    assert_eq!(status, 404);
    assert!(!body.contains("creator0"));
}
