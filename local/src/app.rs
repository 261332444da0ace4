//! Everything the functions need, built once, and the dispatch from a function name to the same
//! handler code the Lambda binaries run.

use std::{sync::Arc, time::Duration};

use api::admin::AdminState;
use db::{settings::SettingsCache, Pool};
use lambda_http::{Body, Request, Response};
use pipeline::{creator_api::CreatorApi, worker::Worker};
use queue::SqsQueue;
use shared::config::Config;

pub struct App {
    pub pool: Pool,
    pub start: start_scraping::State<SqsQueue>,
    pub worker: Worker<SqsQueue>,
    pub sweeper: sweeper::State<SqsQueue>,
    pub overview: admin_overview::State,
    pub usage: api::usage::State,
    pub billing: billing_subscribe::State,
    pub stripe: stripe_webhook::State,
    pub onboarding: onboarding_step::State,
    pub unsubscribe: email_unsubscribe::State,
    pub exports: export::State,
}

/// The Stripe webhook's signing secret locally: `STRIPE_WEBHOOK_KEY` (what `stripe listen`
/// prints, to forward test-mode events), else this fixed one (events signed locally only).
pub const LOCAL_STRIPE_WEBHOOK_KEY: &str = "whsec_gemz_local_stripe_webhook_key_for_local_use_only";

/// The mock checkout is on locally unless `MOCK_CHECKOUT=0`.
fn mock_checkout() -> bool {
    std::env::var("MOCK_CHECKOUT").map_or(true, |v| v.trim() != "0")
}

/// The unsubscribe links' key: `EMAIL_LINK_KEY`, else a fixed local one (local links only).
pub fn link_secret(config: &Config) -> Vec<u8> {
    config
        .email
        .link_secret
        .clone()
        .unwrap_or_else(|| crate::harness::LINK_SECRET.to_owned())
        .into_bytes()
}

impl App {
    /// `dead_letters`: the jobs queue's dead-letter queue, for the operator overview.
    pub fn new(
        config: &Config,
        pool: Pool,
        queue: SqsQueue,
        dead_letters: Option<SqsQueue>,
        api: CreatorApi,
    ) -> Arc<Self> {
        let cache = || SettingsCache::from_config(config);
        Arc::new(Self {
            exports: export::State {
                pool: pool.clone(),
                store: config.exports_bucket.as_deref().map(|bucket| {
                    export::store::ExportStore::with_endpoint(
                        bucket,
                        config.exports_endpoint.clone(),
                    )
                }),
            },
            unsubscribe: email_unsubscribe::State {
                pool: pool.clone(),
                links: email::link::LinkSigner::new(&link_secret(config)),
            },
            onboarding: onboarding_step::State {
                pool: pool.clone(),
                settings: cache(),
            },
            usage: api::usage::State {
                pool: pool.clone(),
                settings: cache(),
            },
            billing: billing_subscribe::State {
                usage: api::usage::State {
                    pool: pool.clone(),
                    settings: cache(),
                },
                mock_checkout: mock_checkout(),
            },
            stripe: stripe_webhook::State::new(
                pool.clone(),
                std::env::var("STRIPE_WEBHOOK_KEY")
                    .unwrap_or_else(|_| LOCAL_STRIPE_WEBHOOK_KEY.to_owned()),
            )
            .expect("STRIPE_WEBHOOK_KEY is a signing secret (whsec_...)"),
            overview: admin_overview::State {
                admin: AdminState::with_pool(pool.clone(), config),
                dead_letters,
                settings: cache(),
            },
            start: start_scraping::State {
                pool: pool.clone(),
                queue: queue.clone(),
                settings: cache(),
            },
            worker: Worker {
                pool: pool.clone(),
                queue: queue.clone(),
                api,
                settings: cache(),
                max_receive_count: config.max_receive_count,
                lease: Duration::from_secs(config.step_lease_secs),
                refusal_patience: pipeline::worker::REFUSAL_PATIENCE,
            },
            sweeper: sweeper::State {
                pool: pool.clone(),
                queue,
                settings: cache(),
                message_lifetime: config.message_lifetime(),
            },
            pool,
        })
    }

    /// Runs `function`'s handler with an API Gateway request.
    pub async fn invoke_http(&self, function: &str, req: Request) -> Option<Response<Body>> {
        let pool = &self.pool;
        let admin = &self.overview.admin;
        Some(match function {
            "create-campaign" => create_campaign::handler(pool, req).await,
            "list-campaigns" => list_campaigns::handler(pool, req).await,
            "get-campaign" => get_campaign::handler(pool, req).await,
            "onboarding-step" => onboarding_step::handler(&self.onboarding, req).await,
            "onboarding-status" => onboarding_status::handler(pool, req).await,
            "start-scraping" => start_scraping::handler(&self.start, req).await,
            "job-status" => job_status::handler(pool, req).await,
            "cancel-job" => cancel_job::handler(pool, req).await,
            "export-creators" => export_creators::handler(&self.exports, req).await,
            "export-campaign-creators" => {
                export_campaign_creators::handler(&self.exports, req).await
            }
            "update-campaign" => update_campaign::handler(pool, req).await,
            "delete-campaign" => delete_campaign::handler(pool, req).await,
            "admin-list-users" => admin_list_users::handler(admin, req).await,
            "admin-set-admin" => admin_set_admin::handler(admin, req).await,
            "admin-list-config" => admin_list_config::handler(admin, req).await,
            "admin-get-config" => admin_get_config::handler(admin, req).await,
            "admin-update-config" => admin_update_config::handler(admin, req).await,
            "admin-reset-config" => admin_reset_config::handler(admin, req).await,
            "admin-config-changes" => admin_config_changes::handler(admin, req).await,
            "admin-overview" => admin_overview::handler(&self.overview, req).await,
            "get-usage" => get_usage::handler(&self.usage, req).await,
            "billing-subscribe" => billing_subscribe::handler(&self.billing, req).await,
            "stripe-webhook" => stripe_webhook::handler(&self.stripe, req).await,
            "email-unsubscribe" => email_unsubscribe::handler(&self.unsubscribe, req).await,
            _ => return None,
        })
    }
}
