//! A whole search stack for journeys: a fresh database, a queue with its dead-letter queue in the
//! SQS emulator, the creator API replayed, and the real handlers; messages are moved from the
//! queue to `process-scraping` as `SqsEvent` batches, as Lambda's event source mapping does.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use db::settings::SettingsCache;
use lambda_http::Body;
use pipeline::{
    creator_api::CreatorApi,
    worker::{Options, Worker},
};
use serde_json::{json, Value};
use shared::config::CreatorApiConfig;
use testkit::{body_json, ApiRequest, Chaos, ChaosQueue, Replay, TestDb, TestQueue};

pub const MAX_RECEIVES: u32 = 3;
pub const USER: &str = "user_a";
/// The creator API's TikTok keyword search: one call a page.
pub const KEYWORD_PATH: &str = "/v1/tiktok/search/keyword";
/// The creator API's TikTok profile: one call a look-up.
pub const PROFILE_PATH: &str = "/v1/tiktok/profile";

pub struct Stack {
    pub db: TestDb,
    pub replay: Replay,
    pub queue: TestQueue,
    pub worker: Worker<ChaosQueue>,
    pub start: start_scraping::State<ChaosQueue>,
    /// Seconds a failed record stays invisible before it comes back (0: at once).
    pub retry_visibility: i32,
}

impl Stack {
    pub async fn new() -> Self {
        Self::with(Replay::start().await, "test-key").await
    }

    pub async fn with(replay: Replay, api_key: &str) -> Self {
        let db = TestDb::new().await;
        db.onboard(&[USER]).await;
        // Steps follow each other at once; the 2 s production delay would only slow the tests.
        db.set_setting("continuation_delay", "0").await;
        let queue = TestQueue::new(MAX_RECEIVES).await;
        let api = CreatorApi::new(
            &CreatorApiConfig {
                base_url: replay.base_url().to_owned(),
                api_key: Some(api_key.to_owned()),
                timeout: Duration::from_secs(2),
            },
            api_key,
        )
        .unwrap();
        let options = Options {
            max_receive_count: MAX_RECEIVES,
            lease: Duration::from_secs(20),
            settings_ttl: Duration::ZERO,
        };
        let worker_queue = ChaosQueue::new(queue.queue(), Chaos::None);
        let worker = Worker::new(db.pool.clone(), worker_queue, api, options);
        let start = start_scraping::State {
            pool: db.pool.clone(),
            queue: ChaosQueue::new(queue.queue(), Chaos::None),
            settings: SettingsCache::new(Duration::ZERO),
        };
        Self {
            db,
            replay,
            queue,
            worker,
            start,
            retry_visibility: 0,
        }
    }

    pub async fn setting(&self, key: &str, value: &str) {
        self.db.set_setting(key, value).await;
    }

    pub async fn campaign(&self, search_type: &str) -> String {
        let req = ApiRequest::new("POST", "/campaigns")
            .user(USER)
            .json(json!({"name": "Journey", "searchType": search_type}));
        body_json(&create_campaign::handler(&self.db.pool, req.build()).await)["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// `POST /scraping/{platform}` as `USER`.
    pub async fn start_search(&self, platform: &str, body: Value) -> (u16, Value) {
        let req = ApiRequest::new("POST", "/scraping/{platform}")
            .user(USER)
            .path_param("platform", platform)
            .json(body);
        let res = start_scraping::handler(&self.start, req.build()).await;
        (res.status().as_u16(), body_json(&res))
    }

    /// Starts a search in a new campaign and returns the job id.
    pub async fn search(&self, platform: &str, mut body: Value) -> String {
        let search_type = if body.get("username").is_some() {
            "similar"
        } else {
            "keyword"
        };
        body["campaignId"] = json!(self.campaign(search_type).await);
        let (status, answer) = self.start_search(platform, body).await;
        assert_eq!(status, 202, "{answer}");
        answer["jobId"].as_str().unwrap().to_owned()
    }

    /// Starts a TikTok keyword search for `keywords` in a new campaign; returns the job id.
    pub async fn keyword_search(&self, keywords: &[&str], target: u32) -> String {
        self.keyword_search_on("tiktok", keywords, target).await
    }

    /// Starts a keyword search on `platform` in a new campaign; returns the job id.
    pub async fn keyword_search_on(
        &self,
        platform: &str,
        keywords: &[&str],
        target: u32,
    ) -> String {
        self.search(
            platform,
            json!({"keywords": keywords, "targetResults": target}),
        )
        .await
    }

    /// Starts a search for creators like `username` on `platform` in a new campaign; returns the
    /// job id.
    pub async fn similar_search(&self, platform: &str, username: &str, target: u32) -> String {
        self.search(
            platform,
            json!({"username": username, "targetResults": target}),
        )
        .await
    }

    /// Delivers the next batch, which holds a search's first step alone.
    pub async fn first_step(&self) {
        assert_eq!(self.deliver_once().await, 1, "the first step alone");
    }

    /// Runs every search to its end; returns `job`'s status page with its first creator.
    pub async fn finish(&self, job: &str) -> Value {
        self.finish_page(job, 1).await
    }

    /// Runs every search to its end; returns `job`'s status page with its first `limit` creators.
    pub async fn finish_page(&self, job: &str, limit: i64) -> Value {
        self.run_until_idle().await;
        self.status(job, 0, limit).await
    }

    /// `DELETE /jobs/{jobId}` as `USER`.
    pub async fn cancel(&self, job: &str) -> (u16, Value) {
        let req = ApiRequest::new("DELETE", "/jobs/{jobId}")
            .user(USER)
            .path_param("jobId", job);
        let res = cancel_job::handler(&self.db.pool, req.build()).await;
        (res.status().as_u16(), body_json(&res))
    }

    /// Delivers one batch, if a message is waiting; returns how many records it held.
    pub async fn deliver_once(&self) -> usize {
        let Some(event) = self.queue.receive(Duration::from_secs(1)).await else {
            return 0;
        };
        let n = event.records.len();
        let response = process_scraping::handler(&self.worker, event.clone()).await;
        self.queue
            .settle_after(&event, &response, self.retry_visibility)
            .await;
        n
    }

    /// Delivers batches until no job is running, no creator waits for its look-up, and the queue
    /// is empty (at most 60 s).
    pub async fn run_until_idle(&self) {
        self.run_until_idle_within(Duration::from_secs(60)).await;
    }

    /// [`Self::run_until_idle`], for at most `limit`.
    pub async fn run_until_idle_within(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let delivered = self.deliver_once().await;
            if delivered == 0 && self.idle().await {
                return;
            }

            assert!(
                Instant::now() < deadline,
                "searches did not finish within {limit:?}"
            );
        }
    }

    /// No job running, no creator waiting for its look-up, the queue empty.
    pub async fn idle(&self) -> bool {
        self.running_jobs().await == 0
            && self.enriching().await == 0
            && self.queue.depth(&self.queue.url).await == 0
    }

    /// As Lambda's event source mapping with `containers` concurrent invocations: each takes
    /// batches of up to `batch` messages, until every search has ended and its look-ups are done
    /// (at most `limit`).
    pub async fn run_concurrently_until_idle(
        &self,
        containers: usize,
        batch: i32,
        limit: Duration,
    ) {
        let deadline = Instant::now() + limit;
        let container = || async {
            loop {
                if let Some(event) = self
                    .queue
                    .receive_batch(Duration::from_secs(1), batch)
                    .await
                {
                    let response = process_scraping::handler(&self.worker, event.clone()).await;
                    self.queue
                        .settle_after(&event, &response, self.retry_visibility)
                        .await;
                } else if self.idle().await {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "searches did not finish within {limit:?}"
                );
            }
        };
        futures::future::join_all((0..containers).map(|_| container())).await;
    }

    /// Creators of any search still waiting for their look-up.
    pub async fn enriching(&self) -> i64 {
        self.db
            .client()
            .await
            .query_one(
                "SELECT count(*) FROM scraping_results WHERE enrichment = 'pending'",
                &[],
            )
            .await
            .unwrap()
            .get(0)
    }

    pub async fn running_jobs(&self) -> i64 {
        self.db
            .client()
            .await
            .query_one(
                "SELECT count(*) FROM scraping_jobs WHERE status IN ('pending', 'processing')",
                &[],
            )
            .await
            .unwrap()
            .get(0)
    }

    pub async fn status(&self, job: &str, offset: i64, limit: i64) -> Value {
        let req = ApiRequest::new("GET", "/jobs/{jobId}")
            .user(USER)
            .path_param("jobId", job)
            .query("offset", &offset.to_string())
            .query("limit", &limit.to_string());
        let res = job_status::handler(&self.db.pool, req.build()).await;
        assert_eq!(res.status(), 200);
        body_json(&res)
    }

    /// TikTok keyword pages the creator API was asked for, failed calls included.
    pub fn tiktok_pages(&self) -> usize {
        self.replay.calls(KEYWORD_PATH)
    }

    /// TikTok profile look-ups the creator API was asked for, failed calls included.
    pub fn tiktok_lookups(&self) -> usize {
        self.replay.calls(PROFILE_PATH)
    }

    /// Every creator-API call the replay answered.
    pub fn calls(&self) -> usize {
        self.replay.log().len()
    }

    /// The credits search `job` counted.
    pub async fn credits_used(&self, job: &str) -> i64 {
        self.job_value(job, "credits_used").await.as_i64().unwrap()
    }

    /// The credits in `USER`'s ledger.
    pub async fn ledger(&self) -> i64 {
        self.db
            .client()
            .await
            .query_one(
                "SELECT COALESCE(sum(credits), 0)::bigint FROM credit_ledger WHERE user_id = $1",
                &[&USER],
            )
            .await
            .unwrap()
            .get(0)
    }

    /// `expr` over search `job`'s row of `scraping_jobs`, as JSON.
    pub async fn job_value(&self, job: &str, expr: &str) -> Value {
        let sql = format!("SELECT to_jsonb({expr}) FROM scraping_jobs WHERE id = $1::text::uuid");
        self.db
            .client()
            .await
            .query_one(&sql, &[&job])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .get(0)
    }

    /// `UPDATE scraping_jobs SET {set}` on search `job`'s row alone.
    pub async fn update_job(&self, job: &str, set: &str) {
        let sql = format!("UPDATE scraping_jobs SET {set} WHERE id = $1::text::uuid");
        assert_eq!(self.db.execute(&sql, &[&job]).await, 1, "{sql}");
    }

    /// Moves search `job`'s deadline a second into the past.
    pub async fn pass_deadline(&self, job: &str) {
        self.update_job(job, "timeout_at = now() - interval '1 second'")
            .await;
    }

    /// Every creator through the status pages, 50 at a time.
    pub async fn all_creators(&self, job: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let page = self.status(job, offset, 50).await;
            let creators = page["creators"].as_array().unwrap().clone();
            out.extend(creators);
            match page["pagination"]["nextOffset"].as_i64() {
                Some(next) => offset = next,
                None => return out,
            }
        }
    }

    pub async fn csv(&self, job: &str) -> String {
        let req = ApiRequest::new("GET", "/jobs/{jobId}/creators.csv")
            .user(USER)
            .path_param("jobId", job);
        let state = export::State {
            pool: self.db.pool.clone(),
            store: None,
        };
        let res = export_creators::handler(&state, req.build()).await;
        assert_eq!(res.status(), 200);
        match res.body() {
            Body::Binary(b) => String::from_utf8(b.clone()).unwrap(),
            Body::Text(t) => t.clone(),
            _ => String::new(),
        }
    }

    /// Invariants every finished job keeps: counters equal the stored creators, positions are
    /// 0..n without gaps, no creator twice.
    pub async fn assert_consistent(&self, job: &str) {
        let id = uuid::Uuid::parse_str(job).unwrap();
        let row = self
            .db
            .client()
            .await
            .query_one(
                "SELECT j.processed_results, count(r.id), count(DISTINCT r.creator_key),
                        coalesce(max(r.position), -1), j.status
                 FROM scraping_jobs j LEFT JOIN scraping_results r ON r.job_id = j.id
                 WHERE j.id = $1 GROUP BY j.id",
                &[&id],
            )
            .await
            .unwrap();
        let (counter, rows, distinct, max_pos): (i32, i64, i64, i32) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        assert_eq!(
            i64::from(counter),
            rows,
            "processed_results equals the creators stored"
        );
        assert_eq!(rows, distinct, "no creator twice");
        assert_eq!(i64::from(max_pos) + 1, rows, "positions are gap-free");
        let status: String = row.get(4);
        assert!(
            ["completed", "error", "timeout", "cancelled"].contains(&status.as_str()),
            "final: {status}"
        );
    }
}

/// Asserts that the search behind status page `done` is in `status`, showing the page if not.
pub fn assert_status(done: &Value, status: &str) {
    assert_eq!(done["status"], status, "{done}");
}

/// Asserts that the search behind status page `done` completed, for `reason`.
pub fn assert_completed(done: &Value, reason: &str) {
    assert_status(done, "completed");
    assert_eq!(done["completionReason"], reason, "{done}");
}

/// Asserts that the search behind status page `done` ended as `error`, with a message that says
/// `what`.
pub fn assert_error(done: &Value, what: &str) {
    assert_status(done, "error");
    assert!(done["error"].as_str().unwrap().contains(what), "{done}");
}

/// The unique authors of recorded TikTok keyword pages, in order: the oracle for keyword journeys.
pub fn tiktok_authors(prefix: &str, pages: std::ops::RangeInclusive<usize>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in pages {
        let path = testkit::replay::fixtures_dir()
            .join(format!("tiktok-search-keyword/{prefix}-page{n}.json"));
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for item in v["response"]["body"]["search_item_list"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let handle = item["aweme_info"]["author"]["unique_id"]
                .as_str()
                .unwrap()
                .to_owned();
            if !out.iter().any(|h| h.eq_ignore_ascii_case(&handle)) {
                out.push(handle);
            }
        }
    }
    out
}
