//! `system_configurations`: settings an operator can change without a deploy, read through a
//! per-container cache so a changed value takes effect within the cache's lifetime (30 s).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};

use super::GenericClient;
use domain::{
    credits::PlanLimits,
    email::EmailKind,
    plan::Plan,
    search::SearchKind,
    settings::{self as definitions, Enrichment, Key, Limit, Retention, Timing, Value},
};

/// The settings as the functions read them: every definition's stored value, parsed by its type.
/// A stored value that breaks its rule (only SQL written by hand can store one: the admin API
/// refuses it) is logged as an error naming the setting and read as its default.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    values: HashMap<(&'static str, &'static str), Value>,
}

impl Settings {
    /// Parses stored `(category, key, value)` rows; rows of unknown settings are ignored.
    pub fn from_pairs<I: IntoIterator<Item = (String, String, String)>>(rows: I) -> Self {
        let mut values = HashMap::new();
        for (category, key, raw) in rows {
            let Some(def) = definitions::find(&category, &key) else {
                continue;
            };
            match def.parse(&raw) {
                Ok(value) => {
                    values.insert((def.category, def.key), value);
                }
                Err(rule) => tracing::error!(
                    setting = %format!("{category}.{key}"),
                    value = %raw,
                    "stored setting {rule}; its default applies"
                ),
            }
        }
        Self { values }
    }

    fn value(&self, key: Key) -> Value {
        let def = key.definition();
        self.values
            .get(&(def.category, def.key))
            .cloned()
            .unwrap_or_else(|| def.default_value())
    }

    /// A number setting. Each key's type is fixed by its definition, and a test reads every
    /// getter, so the other arm cannot be reached by a stored value.
    fn number(&self, key: Key) -> i64 {
        match self.value(key) {
            Value::Number(n) => n,
            other => unreachable!("{key:?} is {other:?}, not a number"),
        }
    }

    fn duration(&self, key: Key) -> Duration {
        match self.value(key) {
            Value::Duration(d) => d,
            other => unreachable!("{key:?} is {other:?}, not a duration"),
        }
    }

    /// Search-API calls (steps) one search of this kind may make.
    pub fn max_api_calls(&self, kind: SearchKind) -> i32 {
        self.number(Key::MaxApiCalls(kind)) as i32
    }

    /// Creators a search looks for when the request does not say.
    pub fn default_target_results(&self, kind: SearchKind) -> i32 {
        self.number(Key::TargetResults(kind)) as i32
    }

    /// Delay between two steps; SQS allows at most 15 minutes, in whole seconds.
    pub fn continuation_delay(&self) -> Duration {
        self.duration(Key::Timing(Timing::ContinuationDelay))
    }

    pub fn job_timeout(&self) -> Duration {
        self.duration(Key::Timing(Timing::JobTimeout))
    }

    pub fn stalled_after(&self) -> Duration {
        self.duration(Key::Timing(Timing::StalledAfter))
    }

    pub fn completed_retention(&self) -> Duration {
        self.duration(Key::Retention(Retention::Completed))
    }

    pub fn failed_retention(&self) -> Duration {
        self.duration(Key::Retention(Retention::Failed))
    }

    pub fn profile_concurrency(&self) -> usize {
        self.number(Key::Enrichment(Enrichment::ProfileConcurrency)) as usize
    }

    /// The plan's limits, for the credit rule (`domain::credits`).
    pub fn limits(&self, plan: Plan) -> PlanLimits {
        PlanLimits {
            max_running: self.number(Key::Limit(plan, Limit::MaxRunningSearches)),
            period_credits: self.number(Key::Limit(plan, Limit::PeriodCredits)),
            credits_per_search: self.number(Key::Limit(plan, Limit::CreditsPerSearch)),
        }
    }

    /// How long after its anchor (step 1, or the trial's start) an email is due.
    pub fn email_delay(&self, kind: EmailKind) -> Duration {
        self.duration(Key::EmailDelay(kind))
    }

    /// Provider calls one email may take before it is failed.
    pub fn email_max_attempts(&self) -> i32 {
        self.number(Key::EmailMaxAttempts) as i32
    }

    pub fn instagram_profiles_per_step(&self) -> usize {
        self.number(Key::Enrichment(Enrichment::InstagramProfilesPerStep)) as usize
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

/// Inserts every defined setting that is missing (with its default) and brings each row's type,
/// description and reload flag in line with its definition; stored values are never touched.
/// Run by [`super::migrate`] after the migrations.
pub async fn seed(client: &tokio_postgres::Client) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare(
            "INSERT INTO system_configurations (category, key, value, value_type, description, is_hot_reloadable)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (category, key) DO UPDATE
                SET value_type = EXCLUDED.value_type, description = EXCLUDED.description,
                    is_hot_reloadable = EXCLUDED.is_hot_reloadable, updated_at = system_configurations.updated_at
              WHERE (system_configurations.value_type, system_configurations.description, system_configurations.is_hot_reloadable)
                    IS DISTINCT FROM (EXCLUDED.value_type, EXCLUDED.description, EXCLUDED.is_hot_reloadable)",
        )
        .await?;
    for d in definitions::DEFINITIONS {
        client
            .execute(
                &stmt,
                &[
                    &d.category,
                    &d.key,
                    &d.default,
                    &d.value_type.as_str(),
                    &d.description,
                    &d.hot_reloadable,
                ],
            )
            .await?;
    }
    Ok(())
}

/// A setting's stored row.
#[derive(Debug, Clone)]
pub struct Row {
    pub category: String,
    pub key: String,
    pub value: String,
    pub updated_at: DateTime<Utc>,
}

fn row(r: &tokio_postgres::Row) -> Row {
    Row {
        category: r.get("category"),
        key: r.get("key"),
        value: r.get("value"),
        updated_at: r.get("updated_at"),
    }
}

/// Every stored setting, by category and key.
pub async fn rows(client: &impl GenericClient) -> Result<Vec<Row>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT category, key, value, updated_at FROM system_configurations ORDER BY category, key",
            &[],
        )
        .await?;
    Ok(rows.iter().map(row).collect())
}

/// One stored setting.
pub async fn get(
    client: &impl GenericClient,
    category: &str,
    key: &str,
) -> Result<Option<Row>, tokio_postgres::Error> {
    let row_opt = client
        .query_opt(
            "SELECT category, key, value, updated_at FROM system_configurations WHERE category = $1 AND key = $2",
            &[&category, &key],
        )
        .await?;
    Ok(row_opt.as_ref().map(row))
}

/// Stores `value` (already validated by its definition) and audits the change, in one
/// transaction; a value equal to the stored one changes nothing and writes no audit entry.
pub async fn set(
    client: &mut deadpool_postgres::Client,
    def: &definitions::Definition,
    value: &str,
    changed_by: &str,
) -> Result<Row, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let old: Option<String> = tx
        .query_opt(
            "SELECT value FROM system_configurations WHERE category = $1 AND key = $2 FOR UPDATE",
            &[&def.category, &def.key],
        )
        .await?
        .map(|r| r.get(0));
    if old.as_deref() != Some(value) {
        tx.execute(
            "INSERT INTO system_configurations (category, key, value, value_type, description, is_hot_reloadable)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (category, key) DO UPDATE SET value = EXCLUDED.value",
            &[
                &def.category,
                &def.key,
                &value,
                &def.value_type.as_str(),
                &def.description,
                &def.hot_reloadable,
            ],
        )
        .await?;
        tx.execute(
            "INSERT INTO system_configuration_changes (category, key, old_value, new_value, changed_by)
             VALUES ($1, $2, $3, $4, $5)",
            &[&def.category, &def.key, &old, &value, &changed_by],
        )
        .await?;
    }
    let stored = tx
        .query_one(
            "SELECT category, key, value, updated_at FROM system_configurations WHERE category = $1 AND key = $2",
            &[&def.category, &def.key],
        )
        .await?;
    tx.commit().await?;
    Ok(row(&stored))
}

/// An audited change.
#[derive(Debug, Clone)]
pub struct Change {
    pub id: i64,
    pub category: String,
    pub key: String,
    pub old_value: Option<String>,
    pub new_value: String,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

/// Audited changes, newest first: `limit` of them after skipping `offset`.
pub async fn changes(
    client: &impl GenericClient,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Change>, i64), tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT id, category, key, old_value, new_value, changed_by, changed_at, count(*) OVER () AS total
               FROM system_configuration_changes ORDER BY changed_at DESC, id DESC LIMIT $1 OFFSET $2",
            &[&limit, &offset],
        )
        .await?;
    let total = match rows.first() {
        Some(r) => r.get("total"),
        None => client
            .query_one("SELECT count(*) FROM system_configuration_changes", &[])
            .await?
            .get(0),
    };
    let changes = rows
        .iter()
        .map(|r| Change {
            id: r.get("id"),
            category: r.get("category"),
            key: r.get("key"),
            old_value: r.get("old_value"),
            new_value: r.get("new_value"),
            changed_by: r.get("changed_by"),
            changed_at: r.get("changed_at"),
        })
        .collect();
    Ok((changes, total))
}

/// A per-container cache of [`Settings`] with a fixed lifetime.
#[derive(Debug)]
pub struct SettingsCache {
    ttl: Duration,
    cached: Mutex<Option<(Instant, Arc<Settings>)>>,
}

impl SettingsCache {
    /// A cache with the configured lifetime (`SETTINGS_CACHE_TTL_SECS`).
    pub fn from_config(config: &shared::Config) -> Self {
        Self::new(config.settings_cache_ttl)
    }

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
    fn every_getter_reads_its_default_by_its_type() {
        let s = Settings::from_pairs(Vec::new());
        for kind in [
            SearchKind::TikTokKeyword,
            SearchKind::YouTubeKeyword,
            SearchKind::TikTokSimilar,
            SearchKind::InstagramSimilar,
            SearchKind::YouTubeSimilar,
        ] {
            assert!(s.max_api_calls(kind) > 0 && s.default_target_results(kind) > 0);
        }
        for plan in Plan::ALL {
            let limits = s.limits(plan);
            assert!(
                limits.max_running > 0 && limits.credits_per_search > 0,
                "{plan}"
            );
        }
        for kind in [
            EmailKind::Welcome,
            EmailKind::AbandonmentReminder,
            EmailKind::TrialDay2,
            EmailKind::TrialDay5,
            EmailKind::TrialExpiry,
        ] {
            let _ = s.email_delay(kind);
        }
        assert_eq!(s.limits(Plan::Pro).max_running, 5);
        assert_eq!(s.continuation_delay(), Duration::from_secs(2));
        let _ = (s.job_timeout(), s.stalled_after(), s.completed_retention());
        let _ = (
            s.failed_retention(),
            s.profile_concurrency(),
            s.email_max_attempts(),
        );
        let _ = s.instagram_profiles_per_step();
    }

    #[test]
    fn stored_values_are_read_by_type_and_a_broken_one_reads_as_its_default() {
        let s = Settings::from_pairs([
            (
                "api_limits".into(),
                "max_api_calls_tiktok_keyword".into(),
                "7".into(),
            ),
            ("timing".into(), "job_timeout".into(), "2h".into()),
            ("timing".into(), "continuation_delay".into(), "soon".into()),
            ("timing".into(), "no_such_setting".into(), "1".into()),
        ]);
        assert_eq!(s.max_api_calls(SearchKind::TikTokKeyword), 7);
        assert_eq!(s.max_api_calls(SearchKind::YouTubeKeyword), 50);
        assert_eq!(s.job_timeout(), Duration::from_secs(7_200));
        assert_eq!(s.continuation_delay(), Duration::from_secs(2));
    }
}
