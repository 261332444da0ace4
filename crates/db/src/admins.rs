//! Admin flags on `user_profiles` (who else is an admin is decided in [`domain::admin`]).

use chrono::{DateTime, Utc};

use super::GenericClient;
use domain::admin::Admins;

/// A user as the admin screens list them.
#[derive(Debug, Clone)]
pub struct AdminUser {
    pub user_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Whether the stored address was verified by its owner when it was stored.
    pub email_verified: bool,
    pub is_admin: bool,
    pub updated_at: DateTime<Utc>,
}

impl AdminUser {
    /// The stored address, only when its owner verified it (what deployment-named admin
    /// addresses are matched against).
    pub fn verified_email(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.email_verified)
    }

    /// Whether this user is an admin: flagged, or named by the deployment.
    pub fn is_admin_with(&self, named: &Admins) -> bool {
        self.is_admin || named.names(&self.user_id, self.verified_email())
    }
}

const COLUMNS: &str =
    "user_id, COALESCE(full_name, name) AS name, email, email_verified, is_admin, updated_at";

fn from_row(r: &tokio_postgres::Row) -> AdminUser {
    AdminUser {
        user_id: r.get("user_id"),
        name: r.get("name"),
        email: r.get("email"),
        email_verified: r.get("email_verified"),
        is_admin: r.get("is_admin"),
        updated_at: r.get("updated_at"),
    }
}

/// Whether the user's profile is flagged admin.
#[tracing::instrument(skip(client))]
pub async fn is_flagged(
    client: &impl GenericClient,
    user_id: &str,
) -> Result<bool, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached("SELECT is_admin FROM user_profiles WHERE user_id = $1")
        .await?;
    Ok(client
        .query_opt(&stmt, &[&user_id])
        .await?
        .is_some_and(|r| r.get(0)))
}

/// Users with a profile that are admins (`admins == true`: flagged or named by the deployment)
/// or are not, by most recently updated; `limit` after `offset`, and the total.
#[tracing::instrument(skip(client, named))]
pub async fn list(
    client: &impl GenericClient,
    named: &Admins,
    admins: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AdminUser>, i64), tokio_postgres::Error> {
    let sql = format!(
        "SELECT {COLUMNS}, count(*) OVER () AS total FROM user_profiles
          WHERE (is_admin OR user_id = ANY($1) OR (email_verified AND lower(email) = ANY($2))) = $3
          ORDER BY updated_at DESC, user_id LIMIT $4 OFFSET $5"
    );
    let rows = client
        .query(
            &sql,
            &[&named.user_ids, &named.emails, &admins, &limit, &offset],
        )
        .await?;
    let total = rows.first().map_or(0, |r| r.get("total"));
    Ok((rows.iter().map(from_row).collect(), total))
}

/// Every user with a profile who may be an admin (flagged, named by id, or holding a verified
/// address the deployment names), locked until the transaction ends, in user id order so two
/// transactions lock them alike. A change of admin standing reads them here first: two admins
/// demoting each other at once are then checked one after the other, and the second sees the
/// first's change. Rows the database matched loosely are checked again by
/// [`AdminUser::is_admin_with`].
#[tracing::instrument(skip(client, named))]
pub async fn lock_admins(
    client: &impl GenericClient,
    named: &Admins,
) -> Result<Vec<AdminUser>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM user_profiles
          WHERE is_admin OR user_id = ANY($1) OR (email_verified AND lower(email) = ANY($2))
          ORDER BY user_id FOR UPDATE"
    );
    let rows = client
        .query(&sql, &[&named.user_ids, &named.emails])
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Sets the flag, creating the profile when the user has none.
#[tracing::instrument(skip(client))]
pub async fn set_flag(
    client: &impl GenericClient,
    user_id: &str,
    is_admin: bool,
) -> Result<AdminUser, tokio_postgres::Error> {
    let sql = format!(
        "INSERT INTO user_profiles (user_id, is_admin) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET is_admin = EXCLUDED.is_admin
         RETURNING {COLUMNS}"
    );
    Ok(from_row(
        &client.query_one(&sql, &[&user_id, &is_admin]).await?,
    ))
}
