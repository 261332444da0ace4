//! The application as its tests use it: a fresh database (and, when asked for, a queue in the SQS
//! emulator, the creator-API replay, a bucket for large exports), and one method per HTTP route,
//! named after the function that serves it. Each method sends a real API Gateway v2 event
//! ([`ApiRequest`]) to that function's handler, as Lambda would, and answers a [`TestResponse`].
//!
//! testkit depends on the function crates and calls their handlers itself; each function's tests
//! depend on testkit in turn, a cycle Cargo allows through dev-dependencies (the integration tests
//! link the one library the app calls). Handlers handed in as closures would have kept the
//! function crates out of testkit, but every test file would then wire the states and handlers of
//! the routes it calls, which is the copy this harness exists to remove. The dependencies sit
//! behind the `app` feature, so that the crates the functions build on (`db`, `queue`, `shared`),
//! the worker's suite, `local` and `bench` do not build every function to use the rest of
//! testkit. `process-scraping` (the SQS worker) is not among them: its suite drives it with its
//! own stack.
//!
//! ```ignore
//! let app = TestApp::builder().queue().build().await;
//! app.db.onboard(&["user_a"]).await;
//! let campaign = app.new_campaign("user_a", "keyword").await;
//! let res = app
//!     .start_scraping("user_a", "tiktok", json!({"campaignId": campaign, "keywords": ["nike"]}))
//!     .idempotency_key("k-1")
//!     .await;
//! assert_eq!(res.status, 202, "{res}");
//! let job = res.json["jobId"].as_str().unwrap();
//! assert_eq!(app.job_status("user_a", job).await.status, 200);
//! assert_eq!(app.job_status(None, job).await.status, 401);
//! ```

use std::{
    fmt,
    future::{Future, IntoFuture},
    pin::Pin,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use api::{admin::AdminState, usage};
use db::settings::SettingsCache;
use domain::admin::Admins;
use email::link::LinkSigner;
use export::store::ExportStore;
use lambda_http::{http::HeaderMap, Body, Response};
use queue::SqsQueue;
use serde_json::{json, Value};
use tokio::sync::OnceCell;

use crate::{ses, ApiRequest, Replay, TestDb, TestQueue};

/// The secret of the unsubscribe links the app signs and checks.
pub const LINK_SECRET: &[u8] = b"test link secret";

/// The brand description [`onboarding_body`] gives step 2 (long enough to pass its check).
pub const BRAND: &str = "We make plant-based protein snacks for busy runners and gym-goers.";

/// A valid body for onboarding step `step` (`step-1`, `step-2`, `complete`): Ada Lovelace of
/// Engines Ltd, with [`BRAND`].
pub fn onboarding_body(step: &str) -> Value {
    match step {
        "step-1" => json!({"fullName": "Ada Lovelace", "businessName": "Engines Ltd"}),
        "step-2" => json!({"brandDescription": BRAND}),
        _ => json!({}),
    }
}

/// What a function answered.
pub struct TestResponse {
    pub status: u16,
    pub headers: HeaderMap,
    /// The body as text (JSON, CSV or HTML); empty when there is none.
    pub text: String,
    /// The body parsed, when the response says it is JSON; `Null` otherwise.
    pub json: Value,
}

/// A handler's answer, for a handler called outside the app (with a broken pool, say).
impl From<Response<Body>> for TestResponse {
    fn from(response: Response<Body>) -> Self {
        let (parts, body) = response.into_parts();
        let text = match body {
            Body::Text(t) => t,
            Body::Binary(b) => String::from_utf8(b).expect("a UTF-8 body"),
            _ => String::new(),
        };
        let says_json = parts
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let json = if says_json {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("the body says it is JSON but is not ({e}): {text}"))
        } else {
            Value::Null
        };
        Self {
            status: parts.status.as_u16(),
            headers: parts.headers,
            text,
            json,
        }
    }
}

impl TestResponse {
    /// A header's value, if it is there.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The error's code (`error.code`), or `""` when the answer is not an error.
    pub fn error_code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or_default()
    }

    /// The field the first detail of the error names (`error.details[0].field`), or `""`.
    pub fn error_field(&self) -> &str {
        self.json["error"]["details"][0]["field"]
            .as_str()
            .unwrap_or_default()
    }
}

/// The status and the body, for assertion messages.
impl fmt::Display for TestResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.text)
    }
}

/// A request to one route, sent when awaited; headers, query parameters and claims can be added
/// before.
#[must_use = "a call is sent when it is awaited"]
pub struct Call<'a> {
    app: &'a TestApp,
    request: ApiRequest,
}

impl Call<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    pub fn idempotency_key(self, key: &str) -> Self {
        self.header("idempotency-key", key)
    }

    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.query(name, value);
        self
    }

    /// Another verified claim of the caller's token, such as `email`.
    pub fn claim(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.claim(name, value);
        self
    }
}

impl<'a> IntoFuture for Call<'a> {
    type Output = TestResponse;
    type IntoFuture = Pin<Box<dyn Future<Output = TestResponse> + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.app.send(self.request))
    }
}

/// Which parts of the application a test needs besides its database.
#[must_use]
pub struct TestAppBuilder {
    pool_size: usize,
    queue: bool,
    replay: bool,
    export_bucket: bool,
    admin_ids: String,
    admin_emails: String,
    ses: Option<(String, String)>,
    mock_checkout: bool,
}

impl TestAppBuilder {
    /// The mock checkout (`POST /billing/subscribe`) turned off, as in a deployment; the tests
    /// have it on, as `local serve` does.
    pub fn without_mock_checkout(mut self) -> Self {
        self.mock_checkout = false;
        self
    }

    /// Database connections in the pool (4 by default).
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size;
        self
    }

    /// A jobs queue of its own in the SQS emulator (3 deliveries, then its dead-letter queue).
    pub fn queue(mut self) -> Self {
        self.queue = true;
        self
    }

    /// The creator API replayed from the recorded exchanges.
    pub fn replay(mut self) -> Self {
        self.replay = true;
        self
    }

    /// A bucket of its own in moto's S3 for exports too large to answer inline; without it the
    /// export functions have no bucket, as when `EXPORTS_BUCKET` is not set.
    pub fn export_bucket(mut self) -> Self {
        self.export_bucket = true;
        self
    }

    /// The admins named by configuration (`ADMIN_USER_IDS`, `ADMIN_EMAILS`: comma-separated);
    /// none by default.
    pub fn admins(mut self, user_ids: &str, emails: &str) -> Self {
        self.admin_ids = user_ids.to_owned();
        self.admin_emails = emails.to_owned();
        self
    }

    /// The email sender reaches SES at `endpoint` and sends from `from` (by default moto itself,
    /// from [`ses::FROM`]).
    pub fn ses(mut self, endpoint: &str, from: &str) -> Self {
        self.ses = Some((endpoint.to_owned(), from.to_owned()));
        self
    }

    pub async fn build(self) -> TestApp {
        let db = TestDb::with_pool_size(self.pool_size).await;
        let queue = if self.queue {
            Some(TestQueue::new(3).await)
        } else {
            None
        };
        let replay = if self.replay {
            Some(Replay::start().await)
        } else {
            None
        };
        let export_store = if self.export_bucket {
            Some(export_bucket().await)
        } else {
            None
        };
        TestApp {
            db,
            queue,
            replay,
            export_store,
            admins: Admins::new(&self.admin_ids, &self.admin_emails),
            ses: self.ses,
            mock_checkout: self.mock_checkout,
            ses_verified: OnceCell::new(),
            queue_down: AtomicBool::new(false),
        }
    }
}

/// A bucket of its own in moto's S3 (`AWS_ENDPOINT_URL_S3`, else the SQS emulator's endpoint).
async fn export_bucket() -> ExportStore {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_S3")
        .or_else(|_| std::env::var("AWS_ENDPOINT_URL_SQS"))
        .expect(
            "AWS_ENDPOINT_URL_S3 is not set: run the tests with scripts/test, which starts moto",
        );
    let name = format!("gemz-test-{}", uuid::Uuid::new_v4().simple());
    let store = ExportStore::with_endpoint(&name, Some(endpoint));
    store
        .client()
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("create the exports bucket");
    store
}

/// The application with a database of its own; see the [module](self). The route methods take
/// the caller first (`"user_a"`, or `None` for a request without a verified user) and return a
/// [`Call`] to await; [`TestApp::send`] takes any other request.
pub struct TestApp {
    pub db: TestDb,
    queue: Option<TestQueue>,
    replay: Option<Replay>,
    export_store: Option<ExportStore>,
    admins: Admins,
    ses: Option<(String, String)>,
    mock_checkout: bool,
    ses_verified: OnceCell<()>,
    queue_down: AtomicBool,
}

fn settings() -> SettingsCache {
    SettingsCache::new(Duration::ZERO)
}

impl TestApp {
    /// A fresh database and nothing else.
    pub async fn new() -> Self {
        Self::builder().build().await
    }

    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            pool_size: 4,
            queue: false,
            replay: false,
            export_bucket: false,
            admin_ids: String::new(),
            admin_emails: String::new(),
            ses: None,
            mock_checkout: true,
        }
    }

    /// The jobs queue (built with [`TestAppBuilder::queue`]).
    pub fn queue(&self) -> &TestQueue {
        self.queue
            .as_ref()
            .expect("this app has no queue: build it with TestApp::builder().queue()")
    }

    /// The creator-API replay (built with [`TestAppBuilder::replay`]).
    pub fn replay(&self) -> &Replay {
        self.replay
            .as_ref()
            .expect("this app has no replay: build it with TestApp::builder().replay()")
    }

    /// While down, every send to the jobs queue fails (the functions are given a queue URL that
    /// does not exist), as during an SQS outage.
    pub fn set_queue_down(&self, down: bool) {
        self.queue_down.store(down, Ordering::SeqCst);
    }

    /// The jobs queue as the functions get it.
    pub fn job_queue(&self) -> SqsQueue {
        let queue = self.queue();
        if self.queue_down.load(Ordering::SeqCst) {
            SqsQueue::new(queue.client.clone(), format!("{}-missing", queue.url))
        } else {
            queue.queue()
        }
    }

    /// The signer of the unsubscribe links, with the app's secret.
    pub fn links(&self) -> LinkSigner {
        LinkSigner::new(LINK_SECRET)
    }

    fn admin(&self) -> AdminState {
        AdminState {
            pool: self.db.pool.clone(),
            admins: self.admins.clone(),
        }
    }

    fn export(&self) -> export::State {
        export::State {
            pool: self.db.pool.clone(),
            store: self.export_store.clone(),
        }
    }

    fn usage(&self) -> usage::State {
        usage::State {
            pool: self.db.pool.clone(),
            settings: settings(),
        }
    }

    /// Sends `request` to the function that serves its route (any request: no caller, a raw
    /// body, unusual headers); the route methods below build the usual ones.
    pub async fn send(&self, request: ApiRequest) -> TestResponse {
        let route = request.route_key();
        let req = request.build();
        let pool = &self.db.pool;
        let response = match route.as_str() {
            "POST /campaigns" => create_campaign::handler(pool, req).await,
            "GET /campaigns" => list_campaigns::handler(pool, req).await,
            "GET /campaigns/{campaignId}" => get_campaign::handler(pool, req).await,
            "PATCH /campaigns/{campaignId}" => update_campaign::handler(pool, req).await,
            "DELETE /campaigns/{campaignId}" => delete_campaign::handler(pool, req).await,
            "GET /campaigns/{campaignId}/creators.csv" => {
                export_campaign_creators::handler(&self.export(), req).await
            }
            "POST /scraping/{platform}" => {
                let state = start_scraping::State {
                    pool: pool.clone(),
                    queue: self.job_queue(),
                    settings: settings(),
                };
                start_scraping::handler(&state, req).await
            }
            "GET /jobs/{jobId}" => job_status::handler(pool, req).await,
            "DELETE /jobs/{jobId}" => cancel_job::handler(pool, req).await,
            "GET /jobs/{jobId}/creators.csv" => export_creators::handler(&self.export(), req).await,
            "GET /onboarding/status" => onboarding_status::handler(pool, req).await,
            "PATCH /onboarding/{step}" => {
                let state = onboarding_step::State {
                    pool: pool.clone(),
                    settings: settings(),
                };
                onboarding_step::handler(&state, req).await
            }
            "GET /usage" => get_usage::handler(&self.usage(), req).await,
            "POST /billing/subscribe" => {
                let state = billing_subscribe::State {
                    usage: self.usage(),
                    mock_checkout: self.mock_checkout,
                };
                billing_subscribe::handler(&state, req).await
            }
            "GET /email/unsubscribe" | "POST /email/unsubscribe" => {
                let state = email_unsubscribe::State {
                    pool: pool.clone(),
                    links: self.links(),
                };
                email_unsubscribe::handler(&state, req).await
            }
            "GET /admin/users" => admin_list_users::handler(&self.admin(), req).await,
            "PUT /admin/users/{userId}/admin" => admin_set_admin::handler(&self.admin(), req).await,
            "GET /admin/config" => admin_list_config::handler(&self.admin(), req).await,
            "GET /admin/config/changes" => admin_config_changes::handler(&self.admin(), req).await,
            "GET /admin/config/{category}/{key}" => {
                admin_get_config::handler(&self.admin(), req).await
            }
            "PUT /admin/config/{category}/{key}" => {
                admin_update_config::handler(&self.admin(), req).await
            }
            "DELETE /admin/config/{category}/{key}" => {
                admin_reset_config::handler(&self.admin(), req).await
            }
            "GET /admin/overview" => {
                let state = admin_overview::State {
                    admin: self.admin(),
                    dead_letters: self
                        .queue
                        .as_ref()
                        .map(|q| SqsQueue::new(q.client.clone(), q.dlq_url.clone())),
                    settings: settings(),
                };
                admin_overview::handler(&state, req).await
            }
            other => panic!("no function serves {other}"),
        };
        TestResponse::from(response)
    }

    /// `request` as `user` (none: no verified caller), sent when awaited.
    fn call<'u>(&self, user: impl Into<Option<&'u str>>, request: ApiRequest) -> Call<'_> {
        let request = match user.into() {
            Some(user) => request.user(user),
            None => request,
        };
        Call { app: self, request }
    }

    /// `POST /campaigns`.
    pub fn create_campaign<'u>(&self, user: impl Into<Option<&'u str>>, body: Value) -> Call<'_> {
        self.call(user, ApiRequest::new("POST", "/campaigns").json(body))
    }

    /// `GET /campaigns` (`page`, `limit`: [`Call::query`]).
    pub fn list_campaigns<'u>(&self, user: impl Into<Option<&'u str>>) -> Call<'_> {
        self.call(user, ApiRequest::new("GET", "/campaigns"))
    }

    /// `GET /campaigns/{campaignId}`.
    pub fn get_campaign<'u>(
        &self,
        user: impl Into<Option<&'u str>>,
        campaign: impl fmt::Display,
    ) -> Call<'_> {
        let req = ApiRequest::new("GET", "/campaigns/{campaignId}")
            .path_param("campaignId", &campaign.to_string());
        self.call(user, req)
    }

    /// `PATCH /campaigns/{campaignId}`.
    pub fn update_campaign<'u>(
        &self,
        user: impl Into<Option<&'u str>>,
        campaign: impl fmt::Display,
        body: Value,
    ) -> Call<'_> {
        let req = ApiRequest::new("PATCH", "/campaigns/{campaignId}")
            .path_param("campaignId", &campaign.to_string())
            .json(body);
        self.call(user, req)
    }

    /// `DELETE /campaigns/{campaignId}`.
    pub fn delete_campaign<'u>(
        &self,
        user: impl Into<Option<&'u str>>,
        campaign: impl fmt::Display,
    ) -> Call<'_> {
        let req = ApiRequest::new("DELETE", "/campaigns/{campaignId}")
            .path_param("campaignId", &campaign.to_string());
        self.call(user, req)
    }

    /// `GET /campaigns/{campaignId}/creators.csv`.
    pub fn export_campaign_creators<'u>(
        &self,
        user: impl Into<Option<&'u str>>,
        campaign: impl fmt::Display,
    ) -> Call<'_> {
        let req = ApiRequest::new("GET", "/campaigns/{campaignId}/creators.csv")
            .path_param("campaignId", &campaign.to_string());
        self.call(user, req)
    }

    /// `POST /scraping/{platform}`: starts a search (the app must have a queue).
    pub fn start_scraping<'u>(
        &self,
        user: impl Into<Option<&'u str>>,
        platform: &str,
        body: Value,
    ) -> Call<'_> {
        let req = ApiRequest::new("POST", "/scraping/{platform}")
            .path_param("platform", platform)
            .json(body);
        self.call(user, req)
    }

    /// `GET /jobs/{jobId}` (`offset`, `limit`: [`Call::query`]).
    pub fn job_status<'u>(
        &self,
        user: impl Into<Option<&'u str>>,
        job: impl fmt::Display,
    ) -> Call<'_> {
        let req = ApiRequest::new("GET", "/jobs/{jobId}").path_param("jobId", &job.to_string());
        self.call(user, req)
    }

    /// `DELETE /jobs/{jobId}`.
    pub fn cancel_job<'u>(
        &self,
        user: impl Into<Option<&'u str>>,
        job: impl fmt::Display,
    ) -> Call<'_> {
        let req = ApiRequest::new("DELETE", "/jobs/{jobId}").path_param("jobId", &job.to_string());
        self.call(user, req)
    }

    /// `GET /jobs/{jobId}/creators.csv`.
    pub fn export_creators<'u>(
        &self,
        user: impl Into<Option<&'u str>>,
        job: impl fmt::Display,
    ) -> Call<'_> {
        let req = ApiRequest::new("GET", "/jobs/{jobId}/creators.csv")
            .path_param("jobId", &job.to_string());
        self.call(user, req)
    }

    /// `GET /onboarding/status`.
    pub fn onboarding_status<'u>(&self, user: impl Into<Option<&'u str>>) -> Call<'_> {
        self.call(user, ApiRequest::new("GET", "/onboarding/status"))
    }

    /// `PATCH /onboarding/{step}`.
    pub fn onboarding_step<'u>(
        &self,
        user: impl Into<Option<&'u str>>,
        step: &str,
        body: Value,
    ) -> Call<'_> {
        let req = ApiRequest::new("PATCH", "/onboarding/{step}")
            .path_param("step", step)
            .json(body);
        self.call(user, req)
    }

    /// `GET /usage`.
    pub fn get_usage<'u>(&self, user: impl Into<Option<&'u str>>) -> Call<'_> {
        self.call(user, ApiRequest::new("GET", "/usage"))
    }

    /// `POST /billing/subscribe` to `plan`.
    pub fn billing_subscribe<'u>(&self, user: impl Into<Option<&'u str>>, plan: &str) -> Call<'_> {
        let req = ApiRequest::new("POST", "/billing/subscribe").json(json!({ "plan": plan }));
        self.call(user, req)
    }

    /// `GET /email/unsubscribe?token=…`: the link of an email, opened (no login).
    pub fn email_unsubscribe(&self, token: &str) -> Call<'_> {
        self.call(
            None,
            ApiRequest::new("GET", "/email/unsubscribe").query("token", token),
        )
    }

    /// `POST /email/unsubscribe?token=…` with `List-Unsubscribe=One-Click`: a mail client's
    /// one-click unsubscribe (RFC 8058, no login).
    pub fn email_unsubscribe_one_click(&self, token: &str) -> Call<'_> {
        let req = ApiRequest::new("POST", "/email/unsubscribe")
            .query("token", token)
            .header("content-type", "application/x-www-form-urlencoded")
            .raw_body("List-Unsubscribe=One-Click");
        self.call(None, req)
    }

    /// `GET /admin/users` (`admin=true|false`: [`Call::query`]).
    pub fn admin_list_users<'u>(&self, user: impl Into<Option<&'u str>>) -> Call<'_> {
        self.call(user, ApiRequest::new("GET", "/admin/users"))
    }

    /// `PUT /admin/users/{userId}/admin` with `{"isAdmin": is_admin}`.
    pub fn admin_set_admin<'u>(
        &self,
        user: impl Into<Option<&'u str>>,
        target: &str,
        is_admin: bool,
    ) -> Call<'_> {
        let req = ApiRequest::new("PUT", "/admin/users/{userId}/admin")
            .path_param("userId", target)
            .json(json!({ "isAdmin": is_admin }));
        self.call(user, req)
    }

    /// `GET /admin/config`.
    pub fn admin_list_config<'u>(&self, user: impl Into<Option<&'u str>>) -> Call<'_> {
        self.call(user, ApiRequest::new("GET", "/admin/config"))
    }

    fn setting_route(method: &str, category: &str, key: &str) -> ApiRequest {
        ApiRequest::new(method, "/admin/config/{category}/{key}")
            .path_param("category", category)
            .path_param("key", key)
    }

    /// `GET /admin/config/{category}/{key}`.
    pub fn admin_get_config<'u>(
        &self,
        user: impl Into<Option<&'u str>>,
        category: &str,
        key: &str,
    ) -> Call<'_> {
        self.call(user, Self::setting_route("GET", category, key))
    }

    /// `PUT /admin/config/{category}/{key}` with `{"value": value}`.
    pub fn admin_update_config<'u>(
        &self,
        user: impl Into<Option<&'u str>>,
        category: &str,
        key: &str,
        value: Value,
    ) -> Call<'_> {
        let req = Self::setting_route("PUT", category, key).json(json!({ "value": value }));
        self.call(user, req)
    }

    /// `DELETE /admin/config/{category}/{key}`: back to the default.
    pub fn admin_reset_config<'u>(
        &self,
        user: impl Into<Option<&'u str>>,
        category: &str,
        key: &str,
    ) -> Call<'_> {
        self.call(user, Self::setting_route("DELETE", category, key))
    }

    /// `GET /admin/config/changes`.
    pub fn admin_config_changes<'u>(&self, user: impl Into<Option<&'u str>>) -> Call<'_> {
        self.call(user, ApiRequest::new("GET", "/admin/config/changes"))
    }

    /// `GET /admin/overview` (with the dead-letter queue's depth when the app has a queue).
    pub fn admin_overview<'u>(&self, user: impl Into<Option<&'u str>>) -> Call<'_> {
        self.call(user, ApiRequest::new("GET", "/admin/overview"))
    }

    /// Creates a campaign named "Launch" through `POST /campaigns` and returns its id.
    pub async fn new_campaign(&self, user: &str, search_type: &str) -> uuid::Uuid {
        let res = self
            .create_campaign(user, json!({"name": "Launch", "searchType": search_type}))
            .await;
        assert_eq!(res.status, 201, "{res}");
        res.json["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("a campaign id")
    }

    /// Runs the three onboarding steps through `PATCH /onboarding/{step}` with
    /// [`onboarding_body`], as `user` with `email` in the token (none: no such claim).
    pub async fn complete_onboarding(&self, user: &str, email: Option<&str>) {
        for step in ["step-1", "step-2", "complete"] {
            let mut call = self.onboarding_step(user, step, onboarding_body(step));
            if let Some(email) = email {
                call = call.claim("email", email);
            }
            let res = call.await;
            assert_eq!(res.status, 200, "{step}: {res}");
        }
    }

    /// Every message waiting in the jobs queue, as JSON (received, so not visible again for the
    /// queue's 30 s visibility timeout).
    pub async fn messages(&self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(event) = self.queue().receive(Duration::ZERO).await {
            for record in event.records {
                let body = record.body.as_deref().expect("a message body");
                out.push(serde_json::from_str(body).expect("a JSON message"));
            }
        }
        out
    }

    /// Messages in the jobs queue, visible or not.
    pub async fn queue_depth(&self) -> i64 {
        let queue = self.queue();
        queue.depth(&queue.url).await
    }

    /// One run of the sweeper (the app must have a queue), counting a sent message as
    /// deliverable for no time at all.
    pub async fn sweep(&self) -> sweeper::Sweep {
        self.sweep_with_message_lifetime(Duration::ZERO).await
    }

    /// One run of the sweeper, a sent message being deliverable for `message_lifetime` (the
    /// queue's visibility timeout times its deliveries).
    pub async fn sweep_with_message_lifetime(&self, message_lifetime: Duration) -> sweeper::Sweep {
        let state = sweeper::State {
            pool: self.db.pool.clone(),
            queue: self.job_queue(),
            settings: settings(),
            message_lifetime,
        };
        sweeper::sweep(&state).await.expect("a sweep")
    }

    /// One run of the email sender, with no invocation deadline, through the SES the app was
    /// built with (moto by default, its sending domain verified).
    pub async fn send_emails(&self) -> send_emails::Run {
        self.ses_verified
            .get_or_init(|| ses::verify(ses::DOMAIN))
            .await;
        let (endpoint, from) = match &self.ses {
            Some((endpoint, from)) => (endpoint.clone(), from.clone()),
            None => (ses::endpoint(), ses::FROM.to_owned()),
        };
        let state = send_emails::State {
            pool: self.db.pool.clone(),
            ses: ses::ses(&endpoint, &from),
            settings: settings(),
            links: self.links(),
            public_api_url: "https://api.example.com".into(),
            app_url: "https://app.example.com".into(),
        };
        send_emails::send_due(&state, None).await.expect("a run")
    }

    /// `migrate` invoked with `event` (a direct invocation, or a CloudFormation custom resource's).
    pub async fn migrate(&self, event: Value) -> anyhow::Result<Value> {
        let http = shared::tls::http_client()?.build()?;
        migrate::handler(&self.db.pool, &http, event).await
    }
}
