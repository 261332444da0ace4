//! The exports bucket locally: a bucket of moto's S3 (the server that also plays SQS and SES).

use shared::{config::Config, export::store::ExportStore};

/// The local exports bucket unless `EXPORTS_BUCKET` names another.
pub const BUCKET: &str = "gemz-exports";

/// Creates the configured bucket in the emulator (`AWS_ENDPOINT_URL_S3`); nothing for real S3.
pub async fn ensure_bucket(config: &Config) -> anyhow::Result<()> {
    let (Some(bucket), Some(endpoint)) = (&config.exports_bucket, &config.exports_endpoint) else {
        return Ok(());
    };
    let store = ExportStore::with_endpoint(bucket, Some(endpoint.clone()));
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
