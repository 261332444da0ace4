use testkit::TestApp;

#[tokio::test]
async fn every_search_of_a_campaign_is_one_file_with_each_creator_once_and_all_that_found_it() {
    let app = TestApp::new().await;
    let first = app.db.seed_job("user_a", "completed", 5).await;
    let client = app.db.client().await;
    let campaign: uuid::Uuid = client
        .query_one(
            "SELECT campaign_id FROM scraping_jobs WHERE id = $1",
            &[&first],
        )
        .await
        .unwrap()
        .get(0);
    // A second search of the campaign, similar to @someone, that found creator3 and creator4 again
    // and creator9 besides.
    let second: uuid::Uuid = client
        .query_one(
            "INSERT INTO scraping_jobs (user_id, campaign_id, platform, search_type, target_username, target_results,
                 status, processed_results, processed_runs, timeout_at, completed_at)
             VALUES ('user_a', $1, 'TikTok', 'similar', 'someone', 50, 'completed', 3, 1, now() + interval '1 hour', now())
             RETURNING id",
            &[&campaign],
        )
        .await
        .unwrap()
        .get(0);
    client
        .execute(
            "INSERT INTO scraping_results (job_id, step, position, creator_key, creators, relevance)
             SELECT $1, 0, row_number() OVER () - 1, creator_key,
                    jsonb_set(creators, '{foundBy}', '{\"similarTo\": \"someone\"}') || '{\"relevance\": 42.5}', 42.5
               FROM scraping_results WHERE job_id = $2 AND creator_key IN ('creator3', 'creator4')",
            &[&second, &first],
        )
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO scraping_results (job_id, step, position, creator_key, creators, relevance)
             SELECT $1, 0, 2, 'creator9', jsonb_set(jsonb_set(creators, '{creator,uniqueId}', '\"creator9\"'),
                    '{foundBy}', '{\"similarTo\": \"someone\"}'), 10
               FROM scraping_results WHERE job_id = $2 AND creator_key = 'creator0'",
            &[&second, &first],
        )
        .await
        .unwrap();
    let res = app.export_campaign_creators("user_a", campaign).await;
    assert_eq!(res.status, 200, "{res}");
    let text = res.text.strip_prefix('\u{feff}').unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[0], "Platform");
    // The creator facts follow the older columns, "Found by" last of those.
    let searches = header.iter().position(|h| h == "Found by").unwrap();
    assert_eq!(header[searches + 1], "Engagement rate");
    assert_eq!(header.last().unwrap(), "Category");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let handles: Vec<&str> = rows.iter().map(|r| &r[1]).collect();
    assert_eq!(
        handles,
        ["creator0", "creator1", "creator2", "creator3", "creator4", "creator9"],
        "each creator once, the first search's first"
    );
    let found_by = |handle: &str| {
        let row = rows.iter().find(|r| &r[1] == handle).unwrap();
        row[searches].to_owned()
    };
    assert_eq!(found_by("creator0"), "keyword \"seed\"");
    let both = found_by("creator3");
    assert!(
        both.contains("keyword \"seed\"") && both.contains("similar to @someone"),
        "{both}"
    );
    assert_eq!(found_by("creator9"), "similar to @someone");
}

#[tokio::test]
async fn another_users_campaign_is_a_404() {
    let app = TestApp::new().await;
    let job = app.db.seed_job("user_a", "completed", 2).await;
    let campaign: uuid::Uuid = app
        .db
        .client()
        .await
        .query_one(
            "SELECT campaign_id FROM scraping_jobs WHERE id = $1",
            &[&job],
        )
        .await
        .unwrap()
        .get(0);
    let res = app.export_campaign_creators("user_b", campaign).await;
    assert_eq!(res.status, 404);
    assert!(!res.text.contains("creator0"));
}
