//! Exports: a search's or a campaign's creators as CSV ([`csv`]), read from PostgreSQL a batch
//! at a time (a portal) and written to a file in the function's temporary storage, so memory
//! holds one batch whatever the export's size. An export up to [`INLINE_LIMIT`] is answered
//! inline; a larger one is uploaded to S3 from the file ([`store`]) and answered `303 See Other`
//! with a presigned link, because Lambda answers at most 6 MB.
//!
//! A stored creator that cannot be read fails the export (logged, with how many): a file with a
//! row silently missing would be worse than none.

pub mod csv;
pub mod store;

use lambda_http::{
    http::{header, StatusCode},
    Body, Response,
};
use serde_json::json;

pub use self::csv::Layout;
use self::store::ExportStore;
use api::ApiError;
use db::{results, results::ExportSource};
use domain::{creator::CreatorRecord, creator::FoundBy};

/// Exports up to this size are answered inline: Lambda's 6 MB response limit, less the third
/// that base64 adds to a binary body.
pub const INLINE_LIMIT: usize = 4 * 1024 * 1024;
/// Creators read from the database at a time.
const BATCH: i32 = 500;

/// What the export functions need, built once per container.
pub struct State {
    pub pool: db::Pool,
    /// The bucket of large exports (`EXPORTS_BUCKET`).
    pub store: Option<ExportStore>,
}

impl State {
    pub fn from_config(config: &shared::Config) -> anyhow::Result<Self> {
        Ok(Self {
            pool: db::pool(&config.database)?,
            store: config
                .exports_bucket
                .as_deref()
                .map(|bucket| ExportStore::with_endpoint(bucket, config.exports_endpoint.clone())),
        })
    }
}

/// What an export did, for logs and the benchmark.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    pub bytes: u64,
    pub uploaded: bool,
}

/// The answer to an export: the CSV inline, or a link to it.
pub enum Exported {
    Inline(Vec<u8>),
    Link(String),
}

/// A file of the temporary storage, deleted when dropped.
struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Writes the export of `source` with `layout`; one over [`INLINE_LIMIT`] goes to `store`
/// (absent: such an export is refused with 503).
pub async fn write(
    client: &mut db::PoolClient,
    source: ExportSource,
    layout: Layout,
    store: Option<&ExportStore>,
    object_key: &str,
    filename: &str,
) -> Result<(Exported, Written), ApiError> {
    let file =
        TempFile(std::env::temp_dir().join(format!("gemz-export-{}.csv", uuid::Uuid::new_v4())));
    let mut out = Writer::create(layout, &file.0)?;
    // Each round trip is bounded: a database that stops answering is a 503 within seconds.
    let tx = api::within_round_trip(client.transaction()).await?;
    let portal = api::within_round_trip(results::open_export(&tx, source)).await?;
    let mut unreadable = 0u64;
    loop {
        let batch = api::within_round_trip(results::export_batch(&tx, &portal, BATCH)).await?;
        if batch.is_empty() {
            break;
        }
        for row in batch {
            match parse(row) {
                Ok((record, found_by, skipped)) => out.row(&record, &found_by, skipped)?,
                Err(e) => {
                    unreadable += 1;
                    tracing::error!(error = %e, "a stored creator cannot be read");
                }
            }
        }
    }
    api::within_round_trip(tx.commit()).await?;
    if unreadable > 0 {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "{unreadable} stored creators of the export cannot be read"
        )));
    }
    let mut written = out.finish()?;
    if written.bytes <= INLINE_LIMIT as u64 {
        let bytes = std::fs::read(&file.0).map_err(|e| ApiError::Internal(e.into()))?;
        return Ok((Exported::Inline(bytes), written));
    }
    let store = store.ok_or_else(|| {
        ApiError::Unavailable(anyhow::anyhow!(
            "an export over {INLINE_LIMIT} bytes needs the exports bucket (EXPORTS_BUCKET)"
        ))
    })?;
    let link = store.put_file(object_key, &file.0, filename).await?;
    written.uploaded = true;
    Ok((Exported::Link(link), written))
}

/// Writes the export of `source` and answers it: the file inline, or a link to it in the
/// store. `name` names the download (`{name}.csv`) and, under `exports/`, the stored object.
pub async fn answer(
    state: &State,
    client: &mut db::PoolClient,
    source: ExportSource,
    layout: Layout,
    name: &str,
) -> Result<Response<Body>, ApiError> {
    let filename = format!("{}.csv", name.rsplit('/').next().unwrap_or(name));
    let key = format!("exports/{name}/{}.csv", uuid::Uuid::new_v4());
    let (exported, written) = write(
        client,
        source,
        layout,
        state.store.as_ref(),
        &key,
        &filename,
    )
    .await?;
    tracing::info!(
        rows = written.rows,
        bytes = written.bytes,
        uploaded = written.uploaded,
        "export written"
    );
    Ok(response(exported, &filename, &written))
}

/// The HTTP answer for an export.
pub fn response(exported: Exported, filename: &str, written: &Written) -> Response<Body> {
    match exported {
        Exported::Inline(bytes) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
            .header(
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            )
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::Binary(bytes))
            .expect("a valid response"),
        Exported::Link(url) => {
            let body = json!({"downloadUrl": url, "rows": written.rows, "bytes": written.bytes});
            Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::LOCATION, url)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CACHE_CONTROL, "no-store")
                .body(Body::Binary(body.to_string().into_bytes()))
                .expect("a valid response")
        }
    }
}

/// A stored creator, the searches that found it, and whether its profile look-up was given up
/// (the worker marks such a creator `"enrichment": "skipped"`).
fn parse(
    row: results::ExportRow,
) -> Result<(CreatorRecord, Vec<FoundBy>, bool), serde_json::Error> {
    let skipped = row.creator.get("enrichment").and_then(|v| v.as_str()) == Some("skipped");
    let record: CreatorRecord = serde_json::from_value(row.creator)?;
    let found_by = row
        .found_by
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<Vec<FoundBy>, _>>()?;
    Ok((record, found_by, skipped))
}

/// The CSV as it is written to its file: BOM and header first, then a row per creator.
struct Writer {
    layout: Layout,
    csv: ::csv::Writer<std::fs::File>,
    rows: u64,
}

impl Writer {
    fn create(layout: Layout, path: &std::path::Path) -> Result<Self, ApiError> {
        use std::io::Write as _;
        let internal = |e: std::io::Error| ApiError::Internal(e.into());
        let mut file = std::fs::File::create(path).map_err(internal)?;
        file.write_all(self::csv::BOM).map_err(internal)?;
        let mut csv = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .buffer_capacity(64 * 1024)
            .from_writer(file);
        csv.write_record(layout.header())
            .map_err(|e| ApiError::Internal(e.into()))?;
        Ok(Self {
            layout,
            csv,
            rows: 0,
        })
    }

    fn row(
        &mut self,
        record: &CreatorRecord,
        found_by: &[FoundBy],
        lookup_skipped: bool,
    ) -> Result<(), ApiError> {
        self.csv
            .write_record(self.layout.row(record, found_by, lookup_skipped))
            .map_err(|e| ApiError::Internal(e.into()))?;
        self.rows += 1;
        Ok(())
    }

    fn finish(mut self) -> Result<Written, ApiError> {
        self.csv.flush().map_err(|e| ApiError::Internal(e.into()))?;
        let file = self
            .csv
            .into_inner()
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
        let bytes = file
            .metadata()
            .map_err(|e| ApiError::Internal(e.into()))?
            .len();
        Ok(Written {
            rows: self.rows,
            bytes,
            uploaded: false,
        })
    }
}
