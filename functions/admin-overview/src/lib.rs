//! `GET /admin/overview` — is the pipeline healthy? Searches by status over the last 24 hours,
//! running and stalled searches, the dead-letter queue's depth, search steps and creator-API
//! credits of the searches active in the last 24 hours, and the most frequent error messages.

use std::time::Duration;

use api::{admin, admin::AdminState};
use db::{settings::SettingsCache, PoolClient};
use lambda_http::{http::StatusCode, Body, Request, Response};
use queue::SqsQueue;
use serde_json::{json, Map, Value};

pub struct State {
    pub admin: AdminState,
    /// The jobs queue's dead-letter queue (`DEAD_LETTER_QUEUE_URL`), when configured.
    pub dead_letters: Option<SqsQueue>,
    pub settings: SettingsCache,
}

/// The longest the overview waits for SQS before answering without the queue's depth.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn handler(state: &State, req: Request) -> Response<Body> {
    admin::respond(&state.admin, req, |_, _| async move {
        let client = state.admin.pool.get().await?;
        let settings = state.settings.get(&client).await?;
        let stalled_after = settings.stalled_after().as_secs_f64();
        let by_status = searches_by_status(&client).await?;
        let running = running_searches(&client, stalled_after).await?;
        let (step_calls, credits) = step_calls_and_credits(&client).await?;
        let errors = top_errors(&client).await?;
        // The connection goes back to the pool before the wait on SQS.
        drop(client);
        let dead_letters = dead_letter_queue(state.dead_letters.as_ref()).await;
        let body = json!({
            "last24Hours": {"searchesByStatus": by_status, "searchStepCalls": step_calls, "credits": credits, "topErrors": errors},
            "running": running,
            "deadLetterQueue": dead_letters,
        });
        Ok(api::json_response(StatusCode::OK, &body))
    })
    .await
}

/// Searches created in the last 24 hours, counted by status.
async fn searches_by_status(client: &PoolClient) -> api::Result<Map<String, Value>> {
    let rows = client
        .query(
            "SELECT status, count(*) FROM scraping_jobs WHERE created_at > now() - interval '24 hours' GROUP BY status ORDER BY status",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<_, String>(0), json!(r.get::<_, i64>(1))))
        .collect())
}

/// Searches pending and processing, and those of them with no progress for `stalled_after`
/// seconds.
async fn running_searches(client: &PoolClient, stalled_after: f64) -> api::Result<Value> {
    let running = client
        .query_one(
            "SELECT count(*) FILTER (WHERE status = 'pending'),
                    count(*) FILTER (WHERE status = 'processing'),
                    count(*) FILTER (WHERE updated_at < now() - make_interval(secs => $1))
               FROM scraping_jobs WHERE status IN ('pending', 'processing')",
            &[&stalled_after],
        )
        .await?;
    Ok(json!({
        "pending": running.get::<_, i64>(0),
        "processing": running.get::<_, i64>(1),
        "stalled": running.get::<_, i64>(2),
        "stalledAfterSeconds": stalled_after,
    }))
}

/// Search steps run and creator-API credits used by the searches active in the last 24 hours.
async fn step_calls_and_credits(client: &PoolClient) -> api::Result<(i64, i64)> {
    let calls = client
        .query_one(
            "SELECT COALESCE(sum(processed_runs), 0)::bigint, COALESCE(sum(credits_used), 0)::bigint
               FROM scraping_jobs WHERE updated_at > now() - interval '24 hours'",
            &[],
        )
        .await?;
    Ok((calls.get(0), calls.get(1)))
}

/// The five most frequent error messages of the searches failed in the last 24 hours.
async fn top_errors(client: &PoolClient) -> api::Result<Vec<Value>> {
    let errors = client
        .query(
            "SELECT COALESCE(error, '(no message)'), count(*) FROM scraping_jobs
              WHERE status = 'error' AND completed_at > now() - interval '24 hours'
              GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5",
            &[],
        )
        .await?;
    Ok(errors
        .iter()
        .map(|r| json!({"message": r.get::<_, String>(0), "count": r.get::<_, i64>(1)}))
        .collect())
}

/// The dead-letter queue's depth, or why it is missing: an overview without it beats none.
async fn dead_letter_queue(queue: Option<&SqsQueue>) -> Value {
    let Some(queue) = queue else {
        return json!({"configured": false, "depth": null});
    };
    match tokio::time::timeout(QUEUE_TIMEOUT, queue.depth()).await {
        Ok(Ok(depth)) => json!({"configured": true, "depth": depth}),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "could not read the dead-letter queue's depth");
            json!({"configured": true, "depth": null, "error": "the queue did not answer"})
        }
        Err(_) => {
            json!({"configured": true, "depth": null, "error": "the queue did not answer in time"})
        }
    }
}
