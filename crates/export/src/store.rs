//! Where exports too large to answer inline go: an S3 bucket, uploaded from the export's file
//! (streamed from disk, never held in memory) and handed out as a presigned URL. The bucket's
//! lifecycle rule deletes exports after a day (template.yaml).

use std::time::Duration;

use anyhow::Context as _;
use aws_sdk_s3::{
    config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion},
    presigning::PresigningConfig,
    primitives::ByteStream,
};

/// The exports bucket.
#[derive(Clone, Debug)]
pub struct ExportStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    /// How long a download link works.
    pub link_ttl: Duration,
}

impl ExportStore {
    /// A client configured as Lambda provides it (region, the role's keys); `endpoint` for an
    /// emulator, which is then addressed path-style.
    pub fn with_endpoint(bucket: &str, endpoint: Option<String>) -> Self {
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(aws_http::client())
            .region(aws_http::region())
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(Duration::from_secs(20))
                    .build(),
            );
        if let Some(credentials) = aws_http::credentials(endpoint.is_some()) {
            config = config.credentials_provider(credentials);
        }
        if let Some(endpoint) = endpoint {
            config = config.endpoint_url(endpoint).force_path_style(true);
        }
        Self {
            client: aws_sdk_s3::Client::from_conf(config.build()),
            bucket: bucket.to_owned(),
            link_ttl: Duration::from_secs(15 * 60),
        }
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Uploads the file at `path` as `key`; a link that downloads it as `filename`, valid for
    /// the store's TTL.
    pub async fn put_file(
        &self,
        key: &str,
        path: &std::path::Path,
        filename: &str,
    ) -> anyhow::Result<String> {
        let body = ByteStream::from_path(path)
            .await
            .context("Failed to read the export's file")?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("text/csv; charset=utf-8")
            .body(body)
            .send()
            .await
            .context("Failed to upload the export")?;
        let link = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(format!("attachment; filename=\"{filename}\""))
            .response_content_type("text/csv; charset=utf-8")
            .presigned(PresigningConfig::expires_in(self.link_ttl)?)
            .await
            .context("Failed to sign the export's link")?;
        Ok(link.uri().to_owned())
    }
}
