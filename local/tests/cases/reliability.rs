//! Bad input, isolation between users, and a database restart in the middle of searches, through
//! the local gateway (real HTTP, real JWT check) over a real database and queue.

use std::time::{Duration, Instant};

use crate::common::serve;
use local::{auth::Auth, services::Postgres};
use serde_json::{json, Value};
use testkit::{Replay, TestDb, TestQueue};

/// A request of the corpus: method, path, content type, body.
type Probe<'a> = (&'a str, String, Option<&'a str>, Option<Vec<u8>>);

/// A fingerprint of every row of every table.
async fn snapshot(db: &TestDb) -> Vec<(String, String)> {
    let client = db.client().await;
    let mut out = Vec::new();
    for table in [
        "user_profiles",
        "campaigns",
        "scraping_jobs",
        "scraping_results",
        "system_configurations",
        "search_jobs",
        "search_results",
    ] {
        let row = client
            .query_one(&format!("SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {table} t"), &[])
            .await
            .unwrap();
        out.push((table.to_owned(), row.get(0)));
    }
    out
}

#[tokio::test]
async fn a_corpus_of_malformed_requests_gets_4xx_json_errors_and_changes_nothing() {
    let db = TestDb::new().await;
    db.onboard(&["user_a"]).await;
    let (queue, replay) = (TestQueue::new(5).await, Replay::start().await);
    let api = serve(&db.url, db.pool.clone(), &queue, &replay).await;
    // Something to aim at: a campaign of user_a, and user_b's own campaign.
    let (_, campaign) = api
        .json(
            "POST",
            "/campaigns",
            &api.a,
            json!({"name": "A", "searchType": "keyword"}),
        )
        .await;
    let a_campaign = campaign["id"].as_str().unwrap().to_owned();
    let (_, campaign) = api
        .json(
            "POST",
            "/campaigns",
            &api.b,
            json!({"name": "B", "searchType": "keyword"}),
        )
        .await;
    let b_campaign = campaign["id"].as_str().unwrap().to_owned();
    let job = db.seed_job("user_b", "processing", 2).await.to_string();
    let before = snapshot(&db).await;

    let big = "x".repeat(20_000);
    let random = uuid::Uuid::new_v4().to_string();
    let json_ct = Some("application/json");
    let j = |v: Value| Some(v.to_string().into_bytes());
    let raw = |s: &str| Some(s.as_bytes().to_vec());
    let scrape = |body: Value| {
        (
            "POST",
            "/scraping/tiktok".to_owned(),
            json_ct,
            Some(body.to_string().into_bytes()),
        )
    };
    let keyword = |k: Value| scrape(json!({"campaignId": b_campaign, "keywords": k}));
    let mut corpus: Vec<Probe> = vec![
        ("POST", "/campaigns".into(), json_ct, raw("{")),
        ("POST", "/campaigns".into(), json_ct, raw("")),
        ("POST", "/campaigns".into(), json_ct, raw("[]")),
        ("POST", "/campaigns".into(), json_ct, raw("null")),
        ("POST", "/campaigns".into(), json_ct, raw("\"name\"")),
        (
            "POST",
            "/campaigns".into(),
            json_ct,
            j(json!({"name": 123, "searchType": "keyword"})),
        ),
        (
            "POST",
            "/campaigns".into(),
            json_ct,
            j(json!({"name": "x"})),
        ),
        (
            "POST",
            "/campaigns".into(),
            json_ct,
            j(json!({"name": "x", "searchType": "KEYWORD"})),
        ),
        (
            "POST",
            "/campaigns".into(),
            json_ct,
            j(json!({"name": "x", "searchType": "keyword", "userId": "user_a"})),
        ),
        (
            "POST",
            "/campaigns".into(),
            json_ct,
            j(json!({"name": "   ", "searchType": "keyword"})),
        ),
        (
            "POST",
            "/campaigns".into(),
            json_ct,
            j(json!({"name": "n".repeat(101), "searchType": "keyword"})),
        ),
        (
            "POST",
            "/campaigns".into(),
            json_ct,
            j(json!({"name": "x", "searchType": "keyword", "description": "d".repeat(501)})),
        ),
        (
            "POST",
            "/campaigns".into(),
            json_ct,
            j(json!({"name": "x", "searchType": "keyword", "description": 5})),
        ),
        (
            "POST",
            "/campaigns".into(),
            json_ct,
            j(json!({"name": big, "searchType": "keyword"})),
        ),
        (
            "POST",
            "/campaigns".into(),
            Some("text/plain"),
            raw("name=x"),
        ),
        (
            "POST",
            "/campaigns".into(),
            Some("application/x-www-form-urlencoded"),
            raw("name=x&searchType=keyword"),
        ),
        (
            "POST",
            "/campaigns".into(),
            json_ct,
            j(json!({"name": "nul\u{0}byte", "searchType": "keyword"})),
        ),
        (
            "POST",
            "/campaigns".into(),
            json_ct,
            j(json!({"name": "👩‍👩‍👧‍👦".repeat(26), "searchType": "keyword"})),
        ),
        (
            "POST",
            "/campaigns".into(),
            json_ct,
            raw("{\"name\": \"\\ud800\", \"searchType\": \"keyword\"}"),
        ),
        (
            "POST",
            "/campaigns".into(),
            json_ct,
            Some(vec![0xff, 0xfe, 0x00, 0x7b]),
        ),
        (
            "POST",
            "/campaigns".into(),
            json_ct,
            j(
                json!({"name": "x", "searchType": "keyword", "searchType2": "'; DROP TABLE campaigns; --"}),
            ),
        ),
        ("GET", "/campaigns?page=0".into(), None, None),
        ("GET", "/campaigns?page=-1".into(), None, None),
        ("GET", "/campaigns?limit=0".into(), None, None),
        ("GET", "/campaigns?limit=101".into(), None, None),
        ("GET", "/campaigns?limit=abc".into(), None, None),
        (
            "GET",
            "/campaigns?page=99999999999999999999999".into(),
            None,
            None,
        ),
        ("GET", "/campaigns?limit=1e2".into(), None, None),
        ("GET", "/campaigns/not-a-uuid".into(), None, None),
        (
            "GET",
            "/campaigns/..%2F..%2Fetc%2Fpasswd".into(),
            None,
            None,
        ),
        (
            "GET",
            "/campaigns/%27%20OR%20%271%27%3D%271".into(),
            None,
            None,
        ),
        ("GET", format!("/campaigns/{random}"), None, None),
        ("GET", format!("/campaigns/{a_campaign}"), None, None),
        ("PATCH", "/onboarding/step-3".into(), json_ct, j(json!({}))),
        (
            "PATCH",
            "/onboarding/..%2Fstatus".into(),
            json_ct,
            j(json!({})),
        ),
        ("PATCH", "/onboarding/step-1".into(), json_ct, j(json!({}))),
        (
            "PATCH",
            "/onboarding/step-1".into(),
            json_ct,
            j(json!({"fullName": "", "businessName": ""})),
        ),
        (
            "PATCH",
            "/onboarding/step-1".into(),
            json_ct,
            j(json!({"fullName": ["a"], "businessName": "b"})),
        ),
        (
            "PATCH",
            "/onboarding/step-1".into(),
            json_ct,
            j(json!({"fullName": "a", "businessName": "b", "isAdmin": true})),
        ),
        (
            "PATCH",
            "/onboarding/step-1".into(),
            json_ct,
            raw("{\"fullName\": "),
        ),
        (
            "PATCH",
            "/onboarding/step-1".into(),
            Some("text/plain"),
            raw("hello"),
        ),
        (
            "PATCH",
            "/onboarding/step-2".into(),
            json_ct,
            j(json!({"brandDescription": "x".repeat(60)})),
        ),
        (
            "PATCH",
            "/onboarding/step-2".into(),
            json_ct,
            j(json!({"brandDescription": "short"})),
        ),
        (
            "PATCH",
            "/onboarding/complete".into(),
            json_ct,
            j(json!({})),
        ),
        (
            "PATCH",
            "/onboarding/complete".into(),
            json_ct,
            j(json!({"trialDays": 365})),
        ),
        ("GET", "/onboarding/status".into(), None, None),
        (
            "POST",
            "/scraping/twitter".into(),
            json_ct,
            j(json!({"campaignId": b_campaign, "keywords": ["a"]})),
        ),
        (
            "POST",
            "/scraping/TIKTOK".into(),
            json_ct,
            j(json!({"campaignId": b_campaign, "keywords": ["a"]})),
        ),
        (
            "POST",
            "/scraping/..%2F..%2Fcampaigns".into(),
            json_ct,
            j(json!({"campaignId": b_campaign, "keywords": ["a"]})),
        ),
        scrape(json!({"keywords": ["a"]})),
        scrape(json!({"campaignId": "1 OR 1=1", "keywords": ["a"]})),
        scrape(json!({"campaignId": a_campaign, "keywords": ["a"]})),
        scrape(json!({"campaignId": random, "keywords": ["a"]})),
        keyword(json!([])),
        keyword(json!((0..11).map(|i| format!("k{i}")).collect::<Vec<_>>())),
        keyword(json!([""])),
        keyword(json!([123])),
        keyword(json!("nike")),
        keyword(json!(["\u{1}\u{2}"])),
        keyword(json!(["k".repeat(101)])),
        scrape(json!({"campaignId": b_campaign, "username": "has spaces"})),
        scrape(json!({"campaignId": b_campaign, "username": "../../etc/passwd"})),
        scrape(json!({"campaignId": b_campaign, "username": "x'; DROP TABLE scraping_jobs; --"})),
        scrape(json!({"campaignId": b_campaign, "keywords": ["a"], "username": "b"})),
        scrape(json!({"campaignId": b_campaign, "keywords": ["a"], "targetResults": 0})),
        scrape(json!({"campaignId": b_campaign, "keywords": ["a"], "targetResults": 1001})),
        scrape(json!({"campaignId": b_campaign, "keywords": ["a"], "targetResults": -1})),
        scrape(json!({"campaignId": b_campaign, "keywords": ["a"], "targetResults": 1.5})),
        scrape(json!({"campaignId": b_campaign, "keywords": ["a"], "targetResults": 1e30})),
        scrape(
            json!({"campaignId": b_campaign, "keywords": ["a"], "targetResults": 9_223_372_036_854_775_807_i64}),
        ),
        scrape(json!({"campaignId": b_campaign, "keywords": ["a"], "region": "USA"})),
        scrape(json!({"campaignId": b_campaign, "keywords": ["a"], "priority": 1})),
        scrape(json!({"campaignId": b_campaign, "username": "nike"})),
        (
            "POST",
            "/scraping/instagram".into(),
            json_ct,
            j(json!({"campaignId": b_campaign, "keywords": ["a"]})),
        ),
        ("GET", "/jobs/not-a-uuid".into(), None, None),
        ("GET", format!("/jobs/{job}?offset=-1"), None, None),
        ("GET", format!("/jobs/{job}?limit=201"), None, None),
        ("GET", format!("/jobs/{job}?limit=0"), None, None),
        ("GET", format!("/jobs/{random}"), None, None),
        ("DELETE", "/jobs/not-a-uuid".into(), None, None),
        ("DELETE", format!("/jobs/{random}"), None, None),
        (
            "GET",
            "/jobs/..%2F..%2Fcampaigns/creators.csv".into(),
            None,
            None,
        ),
        ("GET", format!("/jobs/{random}/creators.csv"), None, None),
    ];
    // user_b sends everything, except the onboarding steps out of order, which need a user with
    // no profile: user_b has none either, so all of them are answered before anything is written.
    assert!(corpus.len() >= 60, "{}", corpus.len());
    let mut failures = Vec::new();
    for (method, path, ct, body) in corpus.drain(..) {
        let (status, text) = api.send(method, &path, &api.b, ct, body).await;
        let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let ok = (400..500).contains(&status)
            && parsed["error"]["code"].is_string()
            && parsed["error"]["message"].is_string();
        if !ok {
            failures.push(format!("{method} {path} -> {status} {text}"));
        }
    }
    assert!(
        failures.is_empty(),
        "not a 4xx JSON error:\n{}",
        failures.join("\n")
    );
    assert_eq!(
        snapshot(&db).await,
        before,
        "a rejected request changed rows"
    );
}

#[tokio::test]
async fn no_route_reads_or_changes_another_users_data() {
    let db = TestDb::new().await;
    db.onboard(&["user_a"]).await;
    let (queue, replay) = (TestQueue::new(5).await, Replay::start().await);
    let api = serve(&db.url, db.pool.clone(), &queue, &replay).await;
    api.json(
        "PATCH",
        "/onboarding/step-1",
        &api.a,
        json!({"fullName": "Ada", "businessName": "Engines"}),
    )
    .await;
    let (_, campaign) = api
        .json(
            "POST",
            "/campaigns",
            &api.a,
            json!({"name": "A", "searchType": "keyword"}),
        )
        .await;
    let campaign = campaign["id"].as_str().unwrap().to_owned();
    let (status, started) = api
        .json(
            "POST",
            "/scraping/tiktok",
            &api.a,
            json!({"campaignId": campaign, "keywords": ["nike"]}),
        )
        .await;
    assert_eq!(status, 202);
    let job = started["jobId"].as_str().unwrap().to_owned();
    let before = snapshot(&db).await;

    let requests: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/campaigns/{campaign}"), None),
        (
            "PATCH",
            format!("/campaigns/{campaign}"),
            Some(json!({"name": "Mine now"})),
        ),
        ("DELETE", format!("/campaigns/{campaign}"), None),
        ("GET", "/usage".into(), None),
        (
            "POST",
            "/scraping/tiktok".into(),
            Some(json!({"campaignId": campaign, "keywords": ["x"]})),
        ),
        ("GET", format!("/jobs/{job}"), None),
        ("GET", format!("/jobs/{job}/creators.csv"), None),
        ("DELETE", format!("/jobs/{job}"), None),
        ("GET", "/onboarding/status".into(), None),
        (
            "PATCH",
            "/onboarding/step-2".into(),
            Some(json!({"brandDescription": "x".repeat(60)})),
        ),
    ];
    for (method, path, body) in requests {
        let (status, text) = match body {
            Some(b) => {
                api.send(
                    method,
                    &path,
                    &api.b,
                    Some("application/json"),
                    Some(b.to_string().into_bytes()),
                )
                .await
            }
            None => api.send(method, &path, &api.b, None, None).await,
        };
        let expected = if path.starts_with("/onboarding/step-2") {
            409
        } else if path.starts_with("/scraping/") {
            // user_b has not completed onboarding: the start is refused before anything is read.
            403
        } else {
            404
        };
        assert_eq!(status, expected, "{method} {path}: {text}");
        assert!(
            !text.contains("nike") && !text.contains("Engines"),
            "{method} {path} leaked: {text}"
        );
    }
    let (status, list) = api.json("GET", "/campaigns", &api.b, json!(null)).await;
    assert_eq!(status, 200);
    assert_eq!(list["campaigns"], json!([]));
    assert_eq!(snapshot(&db).await, before);

    // Without a token, or with a forged one, nothing is reached at all.
    for path in ["/campaigns", "/onboarding/status", &format!("/jobs/{job}")] {
        let res = api.request("GET", path, None, None, None).await;
        assert_eq!(res.status, 401);
        let forged = Auth::new(b"other key").mint("user_a", 1).unwrap();
        let res = api.request("GET", path, Some(&forged), None, None).await;
        assert_eq!(res.status, 401);
    }
}

#[tokio::test]
async fn searches_survive_a_database_restart_and_requests_fail_fast_while_it_is_down() {
    let dir = std::env::temp_dir().join(format!("gemz-state-{}", uuid::Uuid::new_v4().simple()));
    let postgres = Postgres::private(&dir).await.unwrap();
    let mut config = TestDb::config(&postgres.url, 2);
    config.acquire_timeout = Duration::from_secs(2);
    config.connect_timeout = Duration::from_secs(2);
    let pool = db::pool(&config).unwrap();
    db::migrate(&mut pool.get().await.unwrap()).await.unwrap();
    let client = pool.get().await.unwrap();
    testkit::db::onboard(&client, "user_a").await.unwrap();
    for (key, value) in [
        ("max_running_searches_trial", "5"),
        ("continuation_delay", "0"),
        ("max_api_calls_tiktok_keyword", "3"),
    ] {
        testkit::db::set_setting(&client, key, value).await;
    }
    drop(client);
    let (queue, replay) = (TestQueue::new(5).await, Replay::start().await);
    let api = serve(&postgres.url, pool.clone(), &queue, &replay).await;

    let (_, campaign) = api
        .json(
            "POST",
            "/campaigns",
            &api.a,
            json!({"name": "A", "searchType": "keyword"}),
        )
        .await;
    let campaign = campaign["id"].as_str().unwrap().to_owned();
    let mut jobs = Vec::new();
    for _ in 0..5 {
        let (status, started) = api
            .json(
                "POST",
                "/scraping/tiktok",
                &api.a,
                json!({"campaignId": campaign, "keywords": ["airpods pro"], "targetResults": 1000}),
            )
            .await;
        assert_eq!(status, 202);
        jobs.push(started["jobId"].as_str().unwrap().to_owned());
    }
    let deliver = || async {
        if let Some(event) = queue.receive(Duration::from_secs(1)).await {
            let response = process_scraping::handler(&api.app.worker, event.clone()).await;
            queue.settle(&event, &response).await;
            event.records.len()
        } else {
            0
        }
    };
    deliver().await;

    postgres.stop().unwrap();
    let t = Instant::now();
    let (status, body) = api
        .send("GET", &format!("/jobs/{}", jobs[0]), &api.a, None, None)
        .await;
    let waited = t.elapsed();
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("service_unavailable"));
    eprintln!(
        "answered 503 after {} ms with the database down",
        waited.as_millis()
    );
    assert!(
        waited < Duration::from_secs(10),
        "the request hung for {waited:?}"
    );
    deliver().await; // steps fail and go back to the queue

    postgres.restart().unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let delivered = deliver().await;
        let running: i64 = pool
            .get()
            .await
            .unwrap()
            .query_one(
                "SELECT count(*) FROM scraping_jobs WHERE status IN ('pending', 'processing')",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if delivered == 0 && running == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "searches did not finish after the restart"
        );
    }
    let client = pool.get().await.unwrap();
    for job in &jobs {
        let id = uuid::Uuid::parse_str(job).unwrap();
        let row = client
            .query_one(
                "SELECT j.status, j.processed_runs, j.processed_results, (SELECT count(*) FROM scraping_results r WHERE r.job_id = j.id),
                        (SELECT count(DISTINCT creator_key) FROM scraping_results r WHERE r.job_id = j.id)
                 FROM scraping_jobs j WHERE id = $1",
                &[&id],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "completed", "{job}");
        assert_eq!(row.get::<_, i32>(1), 3);
        assert_eq!(i64::from(row.get::<_, i32>(2)), row.get::<_, i64>(3));
        assert_eq!(row.get::<_, i64>(3), row.get::<_, i64>(4));
    }
    pool.close();
    drop(postgres);
    let _ = std::fs::remove_dir_all(&dir);
}
