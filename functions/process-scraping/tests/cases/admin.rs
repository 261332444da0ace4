//! Admin actions seen by running searches: a setting changed through the admin API reaches the
//! worker within its cache's lifetime, and a campaign deleted mid-search stops its search.

use std::time::Duration;

use crate::common::{Stack, USER};
use api::admin::AdminState;
use db::settings::SettingsCache;
use domain::admin::Admins;
use serde_json::json;
use testkit::{body_json, ApiRequest, TestDb};

const KEYWORD_PATH: &str = "/v1/tiktok/search/keyword";
const TTL: Duration = Duration::from_millis(800);

async fn set_setting(db: &TestDb, key: &str, value: &str) {
    let state = AdminState {
        pool: db.pool.clone(),
        admins: Admins::new("ops", ""),
    };
    let req = ApiRequest::new("PUT", "/admin/config/{category}/{key}")
        .user("ops")
        .path_param("category", "api_limits")
        .path_param("key", key)
        .json(json!({ "value": value }));
    let res = admin_update_config::handler(&state, req.build()).await;
    assert_eq!(res.status(), 200, "{}", body_json(&res));
}

#[tokio::test]
async fn a_setting_changed_through_the_admin_api_reaches_a_running_worker_within_the_cache_ttl() {
    let mut stack = Stack::new().await;
    stack.worker.settings = SettingsCache::new(TTL);
    let job = stack
        .search(
            "tiktok",
            json!({"keywords": ["airpods pro"], "targetResults": 1000}),
        )
        .await;
    // The first step loads the settings (50 search pages allowed) into the worker's cache.
    assert_eq!(stack.deliver_once().await, 1);
    set_setting(&stack.db, "max_api_calls_tiktok_keyword", "2").await;
    tokio::time::sleep(TTL + Duration::from_millis(200)).await;
    stack.run_until_idle().await;
    let done = stack.status(&job, 0, 1).await;
    assert_eq!(done["completionReason"], "api_limit_reached", "{done}");
    assert_eq!(stack.replay.calls(KEYWORD_PATH), 2);
}

#[tokio::test]
async fn deleting_a_campaign_mid_search_stops_the_search_and_pays_for_nothing_more() {
    let stack = Stack::new().await;
    let job = stack
        .search(
            "tiktok",
            json!({"keywords": ["airpods pro"], "targetResults": 1000}),
        )
        .await;
    assert_eq!(stack.deliver_once().await, 1);
    let calls = stack.replay.log().len();
    let campaign: uuid::Uuid = stack
        .db
        .client()
        .await
        .query_one(
            "SELECT campaign_id FROM scraping_jobs WHERE id = $1::text::uuid",
            &[&job],
        )
        .await
        .unwrap()
        .get(0);
    let req = ApiRequest::new("DELETE", "/campaigns/{campaignId}")
        .user(USER)
        .path_param("campaignId", &campaign.to_string());
    assert_eq!(
        delete_campaign::handler(&stack.db.pool, req.build())
            .await
            .status(),
        204
    );
    stack.run_until_idle().await;
    assert_eq!(stack.replay.log().len(), calls);
    assert!(stack.queue.dead_letters().await.is_empty());
    assert_eq!(stack.db.count("scraping_jobs").await, 0);
    assert_eq!(stack.db.count("scraping_results").await, 0);
    // The calls made before the delete stay charged to the user.
    let ledger: i64 = stack
        .db
        .client()
        .await
        .query_one(
            "SELECT COALESCE(sum(credits), 0)::bigint FROM credit_ledger",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(ledger, calls as i64);
}
