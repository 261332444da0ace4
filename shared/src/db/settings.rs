//! `system_configurations`: settings an operator can change without a deploy, read through a
//! per-container cache so a changed value takes effect within the cache's lifetime (30 s).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use super::GenericClient;
use crate::domain::{campaign::SearchType, search::Platform};

/// The settings the pipeline reads, with the seeded defaults as fallbacks for absent or malformed
/// rows (a typo in the table must not stop searches).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    values: HashMap<(String, String), String>,
}

impl Settings {
    pub fn from_pairs<I: IntoIterator<Item = (String, String, String)>>(rows: I) -> Self {
        Self {
            values: rows.into_iter().map(|(c, k, v)| ((c, k), v)).collect(),
        }
    }

    fn number(&self, category: &str, key: &str, default: i64) -> i64 {
        self.values
            .get(&(category.to_owned(), key.to_owned()))
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .unwrap_or(default)
    }

    fn kind(platform: Platform, search_type: SearchType) -> String {
        format!("{}_{}", platform.slug(), search_type.as_str())
    }

    /// Search-API calls (steps) one job may make.
    pub fn max_api_calls(&self, platform: Platform, search_type: SearchType) -> i32 {
        let key = format!("max_api_calls_{}", Self::kind(platform, search_type));
        self.number("api_limits", &key, 50).clamp(1, 10_000) as i32
    }

    /// Creators a search looks for when the request does not say.
    pub fn default_target_results(&self, platform: Platform, search_type: SearchType) -> i32 {
        let key = format!("target_results_{}", Self::kind(platform, search_type));
        self.number("search_defaults", &key, 100).clamp(1, 1000) as i32
    }

    /// Delay between two steps; SQS allows at most 15 minutes.
    pub fn continuation_delay(&self) -> Duration {
        Duration::from_secs(
            self.number("timing", "continuation_delay_seconds", 2)
                .min(900) as u64,
        )
    }

    pub fn job_timeout(&self) -> Duration {
        Duration::from_secs(self.number("timing", "job_timeout_minutes", 60).max(1) as u64 * 60)
    }

    pub fn stalled_after(&self) -> Duration {
        Duration::from_secs(self.number("timing", "stalled_after_seconds", 300).max(30) as u64)
    }

    pub fn completed_retention_days(&self) -> i32 {
        self.number("retention", "completed_job_days", 30).max(1) as i32
    }

    pub fn failed_retention_days(&self) -> i32 {
        self.number("retention", "failed_job_days", 7).max(1) as i32
    }

    pub fn profile_concurrency(&self) -> usize {
        self.number("enrichment", "profile_concurrency", 5)
            .clamp(1, 20) as usize
    }

    pub fn instagram_profiles_per_step(&self) -> usize {
        self.number("enrichment", "instagram_profiles_per_step", 10)
            .clamp(1, 50) as usize
    }
}

/// Reads every setting.
#[tracing::instrument(skip(client))]
pub async fn load(client: &impl GenericClient) -> Result<Settings, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached("SELECT category, key, value FROM system_configurations")
        .await?;
    let rows = client.query(&stmt, &[]).await?;
    Ok(Settings::from_pairs(
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))),
    ))
}

/// A per-container cache of [`Settings`] with a fixed lifetime.
#[derive(Debug)]
pub struct SettingsCache {
    ttl: Duration,
    cached: Mutex<Option<(Instant, Arc<Settings>)>>,
}

impl SettingsCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            cached: Mutex::new(None),
        }
    }

    /// The cached settings, reloaded when older than the lifetime.
    pub async fn get(
        &self,
        client: &impl GenericClient,
    ) -> Result<Arc<Settings>, tokio_postgres::Error> {
        if let Some((at, settings)) = self.cached.lock().expect("settings lock").as_ref() {
            if at.elapsed() < self.ttl {
                return Ok(Arc::clone(settings));
            }
        }
        let fresh = Arc::new(load(client).await?);
        *self.cached.lock().expect("settings lock") = Some((Instant::now(), Arc::clone(&fresh)));
        Ok(fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_or_missing_values_fall_back_to_defaults() {
        let s = Settings::from_pairs([
            (
                "api_limits".into(),
                "max_api_calls_tiktok_keyword".into(),
                "7".into(),
            ),
            (
                "timing".into(),
                "continuation_delay_seconds".into(),
                "soon".into(),
            ),
        ]);
        assert_eq!(s.max_api_calls(Platform::TikTok, SearchType::Keyword), 7);
        assert_eq!(s.max_api_calls(Platform::YouTube, SearchType::Keyword), 50);
        assert_eq!(s.continuation_delay(), Duration::from_secs(2));
    }
}
