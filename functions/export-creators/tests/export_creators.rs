use testkit::TestApp;

fn rows(csv: &str) -> (Vec<String>, Vec<csv::StringRecord>) {
    let text = csv
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

/// Gives every creator of `job` a bio of about 1.2 kB, ending in its position.
async fn lengthen_bios(app: &TestApp, job: uuid::Uuid) {
    app.db
        .execute(
            "UPDATE scraping_results SET creators = jsonb_set(creators, '{creator,bio}', to_jsonb(repeat('long bio ', 120) || position))
             WHERE job_id = $1",
            &[&job],
        )
        .await;
}

#[tokio::test]
async fn a_keyword_search_exports_its_creators_with_readable_columns_in_discovery_order() {
    let app = TestApp::new().await;
    let job = app.db.seed_job("user_a", "completed", 120).await;
    let res = app.export_creators("user_a", job).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), Some("text/csv; charset=utf-8"));
    let (header, rows) = rows(&res.text);
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
            "Keyword",
            "Profile look-up",
            "Engagement rate",
            "Region",
            "Language",
            "Links",
            "Business email",
            "Business phone",
            "Other handles",
            "Category"
        ]
    );
    assert_eq!(rows.len(), 120);
    // Creators stored without the facts export them empty.
    assert!(rows[5].iter().skip(16).all(str::is_empty), "{:?}", rows[5]);
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
    assert!(res.text.contains("\r\n"), "RFC 4180 line endings");
}

#[tokio::test]
async fn another_users_export_is_a_404() {
    let app = TestApp::new().await;
    let job = app.db.seed_job("user_a", "completed", 3).await;
    let res = app.export_creators("user_b", job).await;
    assert_eq!(res.status, 404);
    assert!(!res.text.contains("creator0"));
}

#[tokio::test]
async fn a_creator_that_cannot_be_read_fails_the_export_instead_of_going_missing() {
    let app = TestApp::new().await;
    let job = app.db.seed_job("user_a", "completed", 3).await;
    app.db
        .execute(
            "UPDATE scraping_results SET creators = '{\"platform\": \"Myspace\"}' WHERE job_id = $1 AND position = 1",
            &[&job],
        )
        .await;
    let res = app.export_creators("user_a", job).await;
    assert_eq!(res.status, 500, "{res}");
    assert!(!res.text.contains("creator0"));
}

#[tokio::test]
async fn an_export_over_the_inline_limit_is_uploaded_and_answered_with_a_link() {
    let app = TestApp::builder().export_bucket().build().await;
    let job = app.db.seed_job("user_a", "completed", 10_000).await;
    // About 1.2 kB a creator: 12 MB, more than Lambda could answer.
    lengthen_bios(&app, job).await;
    let res = app.export_creators("user_a", job).await;
    assert_eq!(res.status, 303, "{res}");
    let link = res.header("location").unwrap();
    assert_eq!(res.json["downloadUrl"], link);
    assert_eq!(res.json["rows"], 10_000);
    assert!(
        res.json["bytes"].as_u64().unwrap() > 6 * 1024 * 1024,
        "{res}"
    );
    let http = shared::tls::http_client().unwrap().build().unwrap();
    let downloaded = http.get(link).send().await.unwrap();
    assert_eq!(downloaded.status(), 200);
    let csv = String::from_utf8(downloaded.bytes().await.unwrap().to_vec()).unwrap();
    let (_, rows) = rows(&csv);
    assert_eq!(rows.len(), 10_000);
    assert_eq!(&rows[9_999][0], "creator9999");
    assert!(rows[9_999][3].ends_with("9999"));
}

#[tokio::test]
async fn without_a_bucket_an_export_too_large_to_answer_is_a_503() {
    let app = TestApp::new().await;
    let job = app.db.seed_job("user_a", "completed", 5_000).await;
    lengthen_bios(&app, job).await;
    assert_eq!(app.export_creators("user_a", job).await.status, 503);
}
