//! What the `/admin/*` routes share: their state, the admin check around each route, and the
//! JSON of a setting.

use std::future::Future;

use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use crate::{verified_email, ApiError, Result};
use db::settings::Row;
use domain::{admin::Admins, settings::Definition, settings::ValueType};

/// Built once per container by each admin function.
pub struct AdminState {
    pub pool: db::Pool,
    pub admins: Admins,
}

impl AdminState {
    /// The pool and the deployment's admin lists, from the configuration.
    pub fn from_config(config: &shared::Config) -> anyhow::Result<Self> {
        Ok(Self::with_pool(db::pool(&config.database)?, config))
    }

    /// With a pool the caller already holds.
    pub fn with_pool(pool: db::Pool, config: &shared::Config) -> Self {
        Self {
            pool,
            admins: Admins::new(&config.admin_user_ids, &config.admin_emails),
        }
    }
}

/// Runs an admin route: 403 `forbidden` (nothing read, nothing changed) unless the caller is an
/// admin, then `route` as [`crate::respond`] runs any route.
pub async fn respond<'s, F, Fut>(state: &'s AdminState, req: Request, route: F) -> Response<Body>
where
    F: FnOnce(String, Request) -> Fut,
    Fut: Future<Output = crate::Result<Response<Body>>> + 's,
{
    crate::respond(req, |user, req| async move {
        require_admin(&state.pool, &state.admins, &user, &req).await?;
        route(user, req).await
    })
    .await
}

/// A setting as the admin API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingView {
    pub category: &'static str,
    pub key: &'static str,
    pub value: String,
    #[serde(rename = "type")]
    pub value_type: ValueType,
    pub default: &'static str,
    pub description: &'static str,
    pub rule: String,
    pub hot_reloadable: bool,
    /// False for a stored value that breaks its rule (written by hand in SQL): the functions
    /// then read the default, and log it.
    pub valid: bool,
    pub updated_at: Option<DateTime<Utc>>,
}

impl SettingView {
    /// The view of `def` with its stored row (`None`: not stored, so the default applies).
    pub fn new(def: &'static Definition, row: Option<&Row>) -> Self {
        let value = row.map_or(def.default, |r| r.value.as_str()).to_owned();
        Self {
            category: def.category,
            key: def.key,
            valid: def.parse(&value).is_ok(),
            value,
            value_type: def.value_type,
            default: def.default,
            description: def.description,
            rule: def.rule(),
            hot_reloadable: def.hot_reloadable,
            updated_at: row.map(|r| r.updated_at),
        }
    }
}

/// The definition named by the `category` and `key` path parameters; 404 for an unknown one.
pub fn definition(req: &Request) -> crate::Result<&'static Definition> {
    let category = crate::path_param(req, "category")?;
    let key = crate::path_param(req, "key")?;
    domain::settings::find(&category, &key).ok_or(ApiError::NotFound("setting"))
}

/// Answers 403 `forbidden` unless the caller is an admin: named by the deployment (by id, or by
/// their `email` claim when the token's `email_verified` claim is true) or flagged in their
/// profile. Admin routes call it first, so a non-admin's request reads and changes nothing; a
/// route that changes admin standing checks the caller again inside its transaction.
pub async fn require_admin(
    pool: &db::Pool,
    admins: &domain::admin::Admins,
    user: &str,
    req: &Request,
) -> Result<()> {
    if admins.names(user, verified_email(req).as_deref()) {
        return Ok(());
    }
    let client = pool.get().await?;
    if db::admins::is_flagged(&client, user).await? {
        return Ok(());
    }
    Err(ApiError::Forbidden {
        code: "forbidden",
        message: "Only admins may use this route".into(),
    })
}
