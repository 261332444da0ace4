//! Settings, read once per container from the environment.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `DATABASE_URL` | required unless the next is set | PostgreSQL URL; TLS with the certificate verified (system roots) for any host off this machine unless `sslmode=disable` says otherwise |
//! | `DATABASE_URL_SECRET_ARN` | none | Secrets Manager secret holding the URL, read at cold start through the Parameters and Secrets extension |
//! | `DATABASE_CA_CERT_PATH` | none | extra PEM root certificates for the database (RDS, Supabase) |
//! | `DB_POOL_SIZE` | `2` | connections per warm container (see [`crate::db::pool`] for why it is small) |
//! | `DB_CONNECT_TIMEOUT_MS` | `3000` | time to open one connection |
//! | `DB_STATEMENT_TIMEOUT_MS` | `5000` | server-side limit for any one statement |
//! | `DB_ACQUIRE_TIMEOUT_MS` | `2000` | time a request waits for a pooled connection before answering 503 |
//! | `JOBS_QUEUE_URL` | none | SQS queue of search steps; required by the functions that enqueue or consume |
//! | `QUEUE_VISIBILITY_TIMEOUT_SECS` | `360` | the jobs queue's visibility timeout (the sweeper waits out every delivery of a sent step before sending it again) |
//! | `MAX_RECEIVE_COUNT` | `5` | the queue's redrive `maxReceiveCount`: the last delivery ends a failing job as `error` |
//! | `SCRAPECREATORS_BASE_URL` | `https://api.scrapecreators.com` | creator API |
//! | `SCRAPECREATORS_API_KEY` | none | creator API key; required by `process-scraping` |
//! | `SCRAPECREATORS_API_KEY_SECRET_ARN` | none | Secrets Manager secret holding the key, read like the database URL |
//! | `SCRAPECREATORS_TIMEOUT_MS` | `20000` | per-request timeout for the creator API |
//! | `STEP_LEASE_SECS` | `90` | how long a worker reserves a step; must stay below the queue's visibility timeout |
//! | `SETTINGS_CACHE_TTL_SECS` | `30` | lifetime of the per-container cache of `system_configurations` |
//! | `EMAIL_FROM` | none | the emails' sender, `Name <address>` of a verified SES identity; required by `send-emails` |
//! | `SES_CONFIGURATION_SET` | none | SES configuration set the emails are sent with |
//! | `SES_TIMEOUT_MS` | `10000` | bound of one SES call |
//! | `EMAIL_LINK_KEY` | none | key of the unsubscribe links' HMAC, at least 32 bytes; required by `send-emails` and `email-unsubscribe` |
//! | `EMAIL_LINK_KEY_SECRET_ARN` | none | Secrets Manager secret holding that key, read like the database URL |
//! | `PUBLIC_API_URL` | none | the HTTP API's public address, for the unsubscribe links; required by `send-emails` |
//! | `APP_URL` | `https://app.gemz.io` | the web application, for the emails' links |
//! | `EXPORTS_BUCKET` | none | S3 bucket of exports too large to answer inline; without it such an export answers 503 |
//! | `LOG_FORMAT` | `json` in Lambda, else `text` | log line format |

use std::time::Duration;

/// The shortest unsubscribe-link key accepted: 32 bytes, the HMAC-SHA256 block's half, as much
/// entropy as the digest keeps.
pub const MIN_LINK_KEY_LEN: usize = 32;

/// A setting that is missing or cannot be parsed. The message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("missing environment variable {0}")]
    Missing(&'static str),
    #[error("environment variable {name} is malformed: {reason}")]
    Malformed { name: &'static str, reason: String },
}

/// Database settings.
#[derive(Clone)]
pub struct DatabaseConfig {
    pub url: String,
    pub pool_size: usize,
    pub connect_timeout: Duration,
    pub statement_timeout: Duration,
    pub acquire_timeout: Duration,
}

impl std::fmt::Debug for DatabaseConfig {
    /// The URL carries the password: it is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish_non_exhaustive()
    }
}

/// Creator API settings.
#[derive(Clone)]
pub struct CreatorApiConfig {
    pub base_url: String,
    pub api_key: Option<String>,
    pub timeout: Duration,
}

impl std::fmt::Debug for CreatorApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatorApiConfig")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The email sender's settings.
#[derive(Clone)]
pub struct EmailConfig {
    pub from: Option<String>,
    pub configuration_set: Option<String>,
    pub ses_timeout: Duration,
    pub link_secret: Option<String>,
    pub public_api_url: Option<String>,
    pub app_url: String,
}

impl std::fmt::Debug for EmailConfig {
    /// The link secret is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailConfig")
            .field("from", &self.from)
            .field("configuration_set", &self.configuration_set)
            .field("public_api_url", &self.public_api_url)
            .field("app_url", &self.app_url)
            .finish_non_exhaustive()
    }
}

/// Every setting of every function. Functions read what they use; the few settings that only some
/// functions need are checked by the `require_*` methods so a missing one fails the cold start loudly.
#[derive(Clone, Debug)]
pub struct Config {
    pub database: DatabaseConfig,
    pub jobs_queue_url: Option<String>,
    /// The jobs queue's dead-letter queue, whose depth the operator overview reports.
    pub dead_letter_queue_url: Option<String>,
    pub max_receive_count: u32,
    pub queue_visibility_timeout: Duration,
    pub step_lease_secs: u64,
    pub creator_api: CreatorApiConfig,
    pub settings_cache_ttl: Duration,
    /// Who is an admin besides the users flagged `is_admin`: `ADMIN_USER_IDS`, comma-separated,
    /// as read (the admin functions parse both lists).
    pub admin_user_ids: String,
    /// `ADMIN_EMAILS`, comma-separated, as read.
    pub admin_emails: String,
    /// Secrets Manager ids to resolve at cold start (see [`crate::runtime::init`]).
    pub database_secret: Option<String>,
    pub api_key_secret: Option<String>,
    pub email_link_secret: Option<String>,
    pub email: EmailConfig,
    pub exports_bucket: Option<String>,
    /// `AWS_ENDPOINT_URL_S3`: an S3 emulator, addressed path-style.
    pub exports_endpoint: Option<String>,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can pass a map instead of the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&lookup);
        let database_secret = env.optional("DATABASE_URL_SECRET_ARN");
        let url = match (env.optional("DATABASE_URL"), &database_secret) {
            (Some(url), _) => url,
            (None, Some(_)) => String::new(),
            (None, None) => return Err(ConfigError::Missing("DATABASE_URL")),
        };
        Ok(Self {
            database_secret,
            api_key_secret: env.optional("SCRAPECREATORS_API_KEY_SECRET_ARN"),
            database: DatabaseConfig {
                url,
                pool_size: env.parsed("DB_POOL_SIZE", 2usize)?,
                connect_timeout: env.millis("DB_CONNECT_TIMEOUT_MS", 3_000)?,
                statement_timeout: env.millis("DB_STATEMENT_TIMEOUT_MS", 5_000)?,
                acquire_timeout: env.millis("DB_ACQUIRE_TIMEOUT_MS", 2_000)?,
            },
            jobs_queue_url: env.optional("JOBS_QUEUE_URL"),
            max_receive_count: env.parsed("MAX_RECEIVE_COUNT", 5u32)?,
            queue_visibility_timeout: Duration::from_secs(
                env.parsed("QUEUE_VISIBILITY_TIMEOUT_SECS", 360u64)?,
            ),
            step_lease_secs: env.parsed("STEP_LEASE_SECS", 90u64)?,
            creator_api: CreatorApiConfig {
                base_url: env
                    .optional("SCRAPECREATORS_BASE_URL")
                    .unwrap_or_else(|| "https://api.scrapecreators.com".to_owned()),
                api_key: env.optional("SCRAPECREATORS_API_KEY"),
                timeout: env.millis("SCRAPECREATORS_TIMEOUT_MS", 20_000)?,
            },
            settings_cache_ttl: Duration::from_secs(env.parsed("SETTINGS_CACHE_TTL_SECS", 30u64)?),
            admin_user_ids: env.optional("ADMIN_USER_IDS").unwrap_or_default(),
            admin_emails: env.optional("ADMIN_EMAILS").unwrap_or_default(),
            dead_letter_queue_url: env.optional("DEAD_LETTER_QUEUE_URL"),
            email_link_secret: env.optional("EMAIL_LINK_KEY_SECRET_ARN"),
            exports_bucket: env.optional("EXPORTS_BUCKET"),
            exports_endpoint: env.optional("AWS_ENDPOINT_URL_S3"),
            email: EmailConfig {
                from: env.optional("EMAIL_FROM"),
                configuration_set: env.optional("SES_CONFIGURATION_SET"),
                ses_timeout: env.millis("SES_TIMEOUT_MS", 10_000)?,
                link_secret: env.optional("EMAIL_LINK_KEY"),
                public_api_url: env.optional("PUBLIC_API_URL"),
                app_url: env
                    .optional("APP_URL")
                    .unwrap_or_else(|| "https://app.gemz.io".to_owned()),
            },
        })
    }

    /// The jobs queue URL, for the functions that send or receive search steps.
    pub fn require_queue_url(&self) -> Result<&str, ConfigError> {
        self.jobs_queue_url
            .as_deref()
            .ok_or(ConfigError::Missing("JOBS_QUEUE_URL"))
    }

    /// How long a sent step message may still be delivered: every delivery's visibility timeout.
    pub fn message_lifetime(&self) -> Duration {
        self.queue_visibility_timeout * self.max_receive_count
    }

    /// The unsubscribe links' key, for the functions that sign or check them. A short key could be
    /// guessed offline from one link, so fewer than [`MIN_LINK_KEY_LEN`] bytes is refused.
    pub fn require_link_secret(&self) -> Result<&str, ConfigError> {
        let key = self
            .email
            .link_secret
            .as_deref()
            .ok_or(ConfigError::Missing("EMAIL_LINK_KEY"))?;
        if key.len() < MIN_LINK_KEY_LEN {
            return Err(ConfigError::Malformed {
                name: "EMAIL_LINK_KEY",
                reason: format!("must be at least {MIN_LINK_KEY_LEN} bytes long"),
            });
        }
        Ok(key)
    }

    /// The creator API key, for the worker.
    pub fn require_api_key(&self) -> Result<&str, ConfigError> {
        self.creator_api
            .api_key
            .as_deref()
            .ok_or(ConfigError::Missing("SCRAPECREATORS_API_KEY"))
    }
}

struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    fn optional(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    fn parsed<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + Default,
        T::Err: std::fmt::Display,
    {
        let Some(raw) = self.optional(name) else {
            return Ok(default);
        };
        let value: T = raw
            .trim()
            .parse()
            .map_err(|e: T::Err| ConfigError::Malformed {
                name,
                reason: e.to_string(),
            })?;
        if value <= T::default() {
            return Err(ConfigError::Malformed {
                name,
                reason: "must be greater than zero".into(),
            });
        }
        Ok(value)
    }

    fn millis(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.parsed(name, default).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn a_missing_database_url_is_named_in_the_error() {
        let err = config(&[]).unwrap_err();
        assert_eq!(err.to_string(), "missing environment variable DATABASE_URL");
    }

    #[test]
    fn a_malformed_number_names_its_variable() {
        let err = config(&[("DATABASE_URL", "postgres://x"), ("DB_POOL_SIZE", "two")]).unwrap_err();
        assert!(err.to_string().contains("DB_POOL_SIZE"), "{err}");
    }

    #[test]
    fn zero_is_rejected_for_sizes_and_timeouts() {
        let err = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("DB_CONNECT_TIMEOUT_MS", "0"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("DB_CONNECT_TIMEOUT_MS"), "{err}");
    }

    #[test]
    fn a_short_link_key_is_refused() {
        let short = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("EMAIL_LINK_KEY", "secret"),
        ])
        .unwrap();
        let err = short.require_link_secret().unwrap_err();
        assert!(err.to_string().contains("EMAIL_LINK_KEY"), "{err}");
        let key = "k".repeat(MIN_LINK_KEY_LEN);
        let long = config(&[("DATABASE_URL", "postgres://x"), ("EMAIL_LINK_KEY", &key)]).unwrap();
        assert_eq!(long.require_link_secret().unwrap(), key);
    }

    #[test]
    fn defaults_apply_when_only_the_database_is_given() {
        let c = config(&[("DATABASE_URL", "postgres://x")]).unwrap();
        assert_eq!(c.database.pool_size, 2);
        assert_eq!(c.settings_cache_ttl, Duration::from_secs(30));
        assert_eq!(c.max_receive_count, 5);
        assert!(matches!(
            c.require_queue_url(),
            Err(ConfigError::Missing("JOBS_QUEUE_URL"))
        ));
    }
}
