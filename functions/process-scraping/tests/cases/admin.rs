//! Admin actions seen by running searches: a setting changed through the admin API reaches the
//! worker within its cache's lifetime, and a campaign deleted mid-search stops its search.

use std::time::Duration;

use crate::common::{assert_completed, Stack, USER};
use api::admin::AdminState;
use db::settings::SettingsCache;
use domain::admin::Admins;
use serde_json::json;
use testkit::{body_json, ApiRequest, TestDb};

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
    let job = stack.keyword_search(&["airpods pro"], 1000).await;
    // The first step loads the settings (50 search pages allowed) into the worker's cache.
    stack.first_step().await;
    set_setting(&stack.db, "max_api_calls_tiktok_keyword", "2").await;
    tokio::time::sleep(TTL + Duration::from_millis(200)).await;
    let done = stack.finish(&job).await;
    assert_completed(&done, "api_limit_reached");
    assert_eq!(stack.tiktok_pages(), 2);
}

#[tokio::test]
async fn deleting_a_campaign_mid_search_stops_the_search_and_pays_for_nothing_more() {
    let stack = Stack::new().await;
    let job = stack.keyword_search(&["airpods pro"], 1000).await;
    stack.first_step().await;
    let calls = stack.calls();
    let campaign = stack.job_value(&job, "campaign_id").await;
    let req = ApiRequest::new("DELETE", "/campaigns/{campaignId}")
        .user(USER)
        .path_param("campaignId", campaign.as_str().unwrap());
    assert_eq!(
        delete_campaign::handler(&stack.db.pool, req.build())
            .await
            .status(),
        204
    );
    stack.run_until_idle().await;
    assert_eq!(stack.calls(), calls);
    assert!(stack.queue.dead_letters().await.is_empty());
    assert_eq!(stack.db.count("scraping_jobs").await, 0);
    assert_eq!(stack.db.count("scraping_results").await, 0);
    // The calls made before the delete stay charged to the user.
    assert_eq!(stack.ledger().await, calls as i64);
}
