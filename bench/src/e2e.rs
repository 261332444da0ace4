//! Many concurrent searches through the real queue, worker containers polling it as the event
//! source mapping does.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicI64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use aws_sdk_sqs::types::MessageSystemAttributeName;
use db::settings::SettingsCache;
use local::harness::USER;
use pipeline::worker::Worker;
use queue::SqsQueue;
use serde_json::json;
use testkit::{ApiRequest, TestDb, TestQueue};

use crate::{
    env::{watch_backends, worker, Env},
    report::{section, table},
};

const POOL_SIZE: usize = 2;

/// `searches` TikTok keyword searches of 4 pages started at once, `containers` workers.
pub async fn end_to_end(env: &Env, searches: usize, containers: usize) -> anyhow::Result<()> {
    // A queue and campaign of their own, so earlier figures' leftovers are not counted.
    let test_queue = TestQueue::new(5).await;
    let campaign: uuid::Uuid = env.db.client().await
        .query_one(&format!("INSERT INTO campaigns (user_id, name, search_type) VALUES ('{USER}', 'End to end', 'keyword') RETURNING id"), &[])
        .await?.get(0);
    env.db
        .set_setting("max_api_calls_tiktok_keyword", "4")
        .await;
    let queue = SqsQueue::new(test_queue.client.clone(), &test_queue.url);
    let steps = Arc::new(AtomicI64::new(0));
    let pollers = emulated_containers(env, &test_queue, containers, campaign, &steps)?;
    let running = Arc::new(AtomicBool::new(true));
    let watcher = watch_backends(
        testkit::admin_url(),
        env.db.name.clone(),
        "bench-worker".into(),
        running.clone(),
    );

    let t = Instant::now();
    start_searches(env, &queue, campaign, searches).await?;
    futures::future::join_all(pollers.into_iter().map(|c| tokio::spawn(c.poll()))).await;
    let elapsed = t.elapsed();
    running.store(false, Ordering::SeqCst);
    let (_, max_connections) = watcher.await?;
    let completed: i64 = env.db.client().await
        .query_one("SELECT count(*) FROM scraping_jobs WHERE status = 'completed' AND campaign_id = $1 AND processed_runs = 4", &[&campaign])
        .await?.get(0);
    let steps = steps.load(Ordering::SeqCst);
    report(
        searches,
        containers,
        completed,
        steps,
        elapsed,
        max_connections,
    );
    Ok(())
}

/// One worker per emulated container, each with its own pool, as Lambda runs them, polling
/// `test_queue` until `campaign`'s searches are done and counting the steps they took.
fn emulated_containers(
    env: &Env,
    test_queue: &TestQueue,
    containers: usize,
    campaign: uuid::Uuid,
    steps: &Arc<AtomicI64>,
) -> anyhow::Result<Vec<Container>> {
    let queue = SqsQueue::new(test_queue.client.clone(), &test_queue.url);
    let mut config = TestDb::config(&env.db.url, POOL_SIZE);
    config.url = format!("{}?application_name=bench-worker", env.db.url);
    let api_timeout = Duration::from_secs(10);
    let settings_ttl = Duration::from_secs(30);
    (0..containers)
        .map(|_| {
            Ok(Container {
                worker: worker(
                    &config,
                    &queue,
                    env.replay.base_url(),
                    api_timeout,
                    settings_ttl,
                )?,
                queue: test_queue.client.clone(),
                url: test_queue.url.clone(),
                pool: env.db.pool.clone(),
                campaign,
                steps: steps.clone(),
            })
        })
        .collect()
}

/// Starts `searches` searches in `campaign` at once, through the handler.
async fn start_searches(
    env: &Env,
    queue: &SqsQueue,
    campaign: uuid::Uuid,
    searches: usize,
) -> anyhow::Result<()> {
    let start_state = start_scraping::State {
        pool: env.db.pool.clone(),
        queue: queue.clone(),
        settings: SettingsCache::new(Duration::from_secs(30)),
    };
    let starts = (0..searches).map(|_| {
        let req = ApiRequest::new("POST", "/scraping/{platform}")
            .user(USER)
            .path_param("platform", "tiktok")
            .json(
                json!({"campaignId": campaign, "keywords": ["airpods pro"], "targetResults": 1000}),
            );
        start_scraping::handler(&start_state, req.build())
    });
    for res in futures::future::join_all(starts).await {
        anyhow::ensure!(res.status() == 202, "start failed: {}", res.status());
    }
    Ok(())
}

/// One emulated worker container polling the queue until the campaign's searches are done.
struct Container {
    worker: Worker<SqsQueue>,
    queue: aws_sdk_sqs::Client,
    url: String,
    pool: db::Pool,
    campaign: uuid::Uuid,
    steps: Arc<AtomicI64>,
}

impl Container {
    async fn poll(self) {
        loop {
            let out = self
                .queue
                .receive_message()
                .queue_url(&self.url)
                .max_number_of_messages(5)
                .wait_time_seconds(1)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .unwrap();
            let messages = out.messages.unwrap_or_default();
            if !messages.is_empty() {
                self.handle(&messages).await;
            } else if self.running().await == 0 {
                return;
            }
        }
    }

    /// The worker's handler on one batch; the records it did not report failed are deleted.
    async fn handle(&self, messages: &[aws_sdk_sqs::types::Message]) {
        let event = testkit::sqs::to_event(messages, &self.url);
        let response = process_scraping::handler(&self.worker, event.clone()).await;
        let done = event.records.len() - response.batch_item_failures.len();
        self.steps.fetch_add(done as i64, Ordering::SeqCst);
        let failed: Vec<String> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        for r in &event.records {
            if !failed.contains(r.message_id.as_ref().unwrap()) {
                self.queue
                    .delete_message()
                    .queue_url(&self.url)
                    .receipt_handle(r.receipt_handle.clone().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    /// The campaign's searches still running.
    async fn running(&self) -> i64 {
        self.pool.get().await.unwrap()
            .query_one("SELECT count(*) FROM scraping_jobs WHERE status IN ('pending','processing') AND campaign_id = $1", &[&self.campaign])
            .await.unwrap().get(0)
    }
}

fn report(
    searches: usize,
    containers: usize,
    completed: i64,
    steps: i64,
    elapsed: Duration,
    max_connections: i64,
) {
    section(&format!("End to end: {searches} concurrent TikTok keyword searches of 4 pages, {containers} worker containers x {POOL_SIZE} connections"));
    table(&["figure", "value"]);
    println!("| searches completed (4 pages each) | {completed} of {searches} |");
    println!("| wall time | {:.2} s |", elapsed.as_secs_f64());
    println!(
        "| searches/s | {:.2} |",
        completed as f64 / elapsed.as_secs_f64()
    );
    println!("| steps/s | {:.1} |", steps as f64 / elapsed.as_secs_f64());
    println!(
        "| most worker connections open at once | {max_connections} (bound {}) |",
        containers * POOL_SIZE
    );
}
