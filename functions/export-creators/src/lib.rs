//! `GET /jobs/{jobId}/creators.csv` — every creator of a search as CSV (RFC 4180, UTF-8, header row).
//!
//! Cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`) are prefixed
//! with `'`, since bios and names are written by strangers.

use lambda_http::{
    http::{header, StatusCode},
    Body, Request, Response,
};
use shared::{
    db::{self, jobs, results},
    http::{self, ApiError},
    pipeline::creator::CreatorRecord,
};

pub const HEADER: [&str; 10] = [
    "name",
    "handle",
    "platform",
    "followers",
    "emails",
    "bio",
    "profile_url",
    "video_url",
    "views",
    "likes",
];

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    http::respond(req, |user, req| async move {
        let id = http::path_uuid(&req, "jobId")?;
        let client = pool.get().await?;
        jobs::find_for_user(&client, &user, id)
            .await?
            .ok_or(ApiError::NotFound("job"))?;
        let creators = results::all(&client, id).await?;
        let csv = to_csv(&creators).map_err(|e| ApiError::Internal(e.into()))?;
        Ok(Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
            .header(
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"creators-{id}.csv\""),
            )
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::Binary(csv))
            .expect("a valid response"))
    })
    .await
}

/// The CSV document for `creators`.
pub fn to_csv(creators: &[CreatorRecord]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(256 * (creators.len() + 1)));
    out.write_record(HEADER)?;
    for r in creators {
        let c = &r.creator;
        let video = r.video.as_ref();
        let number = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
        out.write_record([
            safe(&c.name),
            safe(&c.unique_id),
            r.platform.clone(),
            number(c.followers),
            c.emails.join("; "),
            safe(c.bio.as_deref().unwrap_or_default()),
            c.profile_url.clone(),
            video.and_then(|v| v.url.clone()).unwrap_or_default(),
            number(video.and_then(|v| v.statistics.views)),
            number(video.and_then(|v| v.statistics.likes)),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

fn safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}
