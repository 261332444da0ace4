//! `GET /jobs/{jobId}?offset=&limit=` — a search's progress and one page of its creators.
//!
//! Polled every few seconds while a search runs, so the answer is one page whatever the size of
//! the job: two indexed queries. Keyword searches answer in discovery order; similar searches by
//! words best first (`relevance`), an order that may change while the search runs or its creators
//! are being enriched, and is fixed once both have ended (`pagination.order`, `pagination.stable`).
//! `enriching` counts the creators whose look-ups are still to come.

use api::{views::JobView, ApiError};
use db::{enrichment, jobs, results, results::Order};
use domain::campaign::SearchType;
use lambda_http::{http::StatusCode, Body, Request, Response};
use serde::Serialize;
use serde_json::value::RawValue;

/// The answer: the job's fields, then the page of creators as stored, then paging.
#[derive(Serialize)]
struct Page<'a> {
    #[serde(flatten)]
    job: JobView<'a>,
    creators: &'a [Box<RawValue>],
    pagination: Pagination,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Pagination {
    offset: i64,
    limit: i64,
    total: i64,
    next_offset: Option<i64>,
    /// `discovery` (as found) or `relevance` (best first).
    order: &'static str,
    /// Whether a creator's position is final: true once the search has ended. While a similar
    /// search runs, a better creator found later moves the others down.
    stable: bool,
}

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    api::respond(req, |user, req| async move {
        let id = api::path_uuid(&req, "jobId")?;
        let offset = api::query_int(&req, "offset", 0, 1_000_000)?.unwrap_or(0);
        let limit = api::query_int(&req, "limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
        let client = pool.get().await?;
        let job = jobs::find_for_user(&client, &user, id)
            .await?
            .ok_or(ApiError::NotFound("job"))?;
        // Polling is how a search past its deadline is noticed: it is stored as `timeout` here.
        let job = jobs::time_out_if_overdue(&client, job).await?;
        let order = order_of(&job);
        let creators = results::page(&client, id, offset, limit, order).await?;
        let enriching = enrichment::pending(&client, id).await?;
        let total = i64::from(job.processed_results);
        let next = offset + creators.len() as i64;
        let body = Page {
            job: JobView {
                enriching: Some(enriching),
                ..JobView::of(&job)
            },
            creators: &creators,
            pagination: Pagination {
                offset,
                limit,
                total,
                next_offset: (next < total).then_some(next),
                order: match order {
                    Order::Discovery => "discovery",
                    Order::Relevance => "relevance",
                },
                stable: order == Order::Discovery || (job.status.is_final() && enriching == 0),
            },
        };
        Ok(api::json_response(StatusCode::OK, &body))
    })
    .await
}

/// Similar searches are read best first; Instagram's related profiles keep Instagram's order
/// (they carry no relevance, so the relevance order is theirs as found).
fn order_of(job: &jobs::Job) -> Order {
    match job.search_type {
        SearchType::Similar => Order::Relevance,
        SearchType::Keyword => Order::Discovery,
    }
}
