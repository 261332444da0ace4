//! The exports bucket locally: a bucket of moto's S3 (the server that also plays SQS and SES).

use export::store::ExportStore;

/// The local exports bucket unless `EXPORTS_BUCKET` names another.
pub const BUCKET: &str = "gemz-exports";

/// Creates `bucket` in the S3 emulator at `endpoint`, unless it is there already.
pub async fn ensure_bucket(bucket: &str, endpoint: &str) -> anyhow::Result<()> {
    let store = ExportStore::with_endpoint(bucket, Some(endpoint.to_owned()));
    let created = store.client().create_bucket().bucket(bucket).send().await;
    if let Err(e) = created {
        let text = aws_sdk_s3::error::DisplayErrorContext(&e).to_string();
        anyhow::ensure!(
            text.contains("BucketAlreadyOwnedByYou") || text.contains("BucketAlreadyExists"),
            "Failed to create the exports bucket {bucket}: {text}"
        );
    }
    eprintln!("exports: large ones go to s3://{bucket} at {endpoint}");
    Ok(())
}
