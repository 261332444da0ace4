use deadpool_postgres::Pool;
use shared::config::DatabaseConfig;
use std::time::Duration;
use tokio_postgres::NoTls;

/// A database of its own for one test: created empty, migrated with the project's migrations, and
/// dropped when the value is dropped.
pub struct TestDb {
    pub pool: Pool,
    pub name: String,
    pub url: String,
    admin_url: String,
}

/// The server tests run against: `TEST_DATABASE_URL`, else `DATABASE_URL`, else the local server.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let prefix = match base.rfind('/') {
        Some(i) if base[..i].contains("//") && i > base.find("//").unwrap() + 1 => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{prefix}/{db}?{q}"),
        None => format!("{prefix}/{db}"),
    }
}

async fn admin_client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test server at {url}: {e}"));
    tokio::spawn(conn);
    client
}

/// [`TestDb::set_setting`] on a connection of the caller's (a database behind a proxy, say).
pub async fn set_setting(client: &tokio_postgres::Client, key: &str, value: &str) {
    let updated = client
        .execute(
            "UPDATE system_configurations SET value = $2 WHERE key = $1",
            &[&key, &value],
        )
        .await
        .expect("update a setting");
    assert_eq!(updated, 1, "no setting is named {key}");
}

/// Completes `user`'s onboarding with a 7-day trial starting now (a profile is created when
/// absent), as `PATCH /onboarding/complete` would.
pub async fn onboard(
    client: &tokio_postgres::Client,
    user: &str,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "INSERT INTO user_profiles (user_id, full_name, business_name, onboarding_step, trial_status,
                 subscription_status, trial_start_date, trial_end_date)
             VALUES ($1, 'Test User', 'Test Business', 'completed', 'active', 'trialing', now(), now() + interval '7 days')
             ON CONFLICT (user_id) DO UPDATE SET onboarding_step = 'completed', trial_status = 'active',
                 subscription_status = 'trialing', trial_start_date = now(), trial_end_date = now() + interval '7 days'",
            &[&user],
        )
        .await?;
    Ok(())
}

impl TestDb {
    /// Creates and migrates a new database with a pool of `pool_size` connections.
    pub async fn new() -> Self {
        Self::with_pool_size(4).await
    }

    pub async fn with_pool_size(pool_size: usize) -> Self {
        let admin_url = admin_url();
        let name = format!("gemz_test_{}", uuid::Uuid::new_v4().simple());
        admin_client(&admin_url)
            .await
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create the test database");
        let url = with_database(&admin_url, &name);
        let mut client = admin_client(&url).await;
        db::migrate(&mut client).await.expect("migrations apply");
        let pool = db::pool(&Self::config(&url, pool_size)).expect("pool");
        Self {
            pool,
            name,
            url,
            admin_url,
        }
    }

    /// The database settings the functions would get for this database.
    pub fn config(url: &str, pool_size: usize) -> DatabaseConfig {
        DatabaseConfig {
            url: url.to_owned(),
            pool_size,
            connect_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(5),
        }
    }

    /// The server's address (for a proxy in front of it) and the database URL through `proxy`.
    pub fn server_addr(&self) -> std::net::SocketAddr {
        let (host, port) = self.host_port();
        let host = if host == "localhost" {
            "127.0.0.1"
        } else {
            host.as_str()
        };
        format!("{host}:{port}").parse().expect("host:port")
    }

    fn host_port(&self) -> (String, u16) {
        let after = self
            .url
            .split_once('@')
            .map_or(self.url.as_str(), |(_, a)| a);
        let authority = after.split('/').next().unwrap_or(after);
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse().unwrap_or(5432)),
            None => (authority.to_owned(), 5432),
        }
    }

    /// A pool of two connections to this database through `proxy`, with the functions'
    /// production timeouts (2 s pool wait, 3 s connect, 5 s statements).
    pub fn pool_via(&self, proxy: std::net::SocketAddr) -> Pool {
        let (host, port) = self.host_port();
        let url = self
            .url
            .replacen(&format!("{host}:{port}"), &proxy.to_string(), 1);
        assert_ne!(url, self.url, "the database URL names host:port");
        db::pool(&DatabaseConfig {
            url,
            pool_size: 2,
            connect_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(2),
        })
        .expect("a pool through the proxy")
    }

    /// A connection for assertions.
    pub async fn client(&self) -> deadpool_postgres::Object {
        self.pool.get().await.expect("a test connection")
    }

    /// Gives `users` completed onboarding and a trial that started now (what searching needs).
    pub async fn onboard(&self, users: &[&str]) {
        let client = self.client().await;
        for user in users {
            onboard(&client, user).await.expect("onboard a test user");
        }
    }

    /// Stores `value` for the setting named `key`, as an operator's SQL would: no check of the
    /// value (a broken one stays broken), no audit row. Panics unless exactly one setting has
    /// that name.
    pub async fn set_setting(&self, key: &str, value: &str) {
        let client = self.client().await;
        set_setting(&client, key, value).await;
    }

    /// Runs one statement and returns the rows it changed (panics on an error).
    pub async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> u64 {
        self.client()
            .await
            .execute(sql, params)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs statements without parameters (panics on an error).
    pub async fn batch_execute(&self, sql: &str) {
        self.client()
            .await
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The stored status of search `job`; `None` once it is deleted.
    pub async fn job_status(&self, job: uuid::Uuid) -> Option<String> {
        self.client()
            .await
            .query_opt("SELECT status FROM scraping_jobs WHERE id = $1", &[&job])
            .await
            .expect("read a job's status")
            .map(|row| row.get(0))
    }

    /// `SELECT count(*)` of a table, for "nothing was written" checks.
    pub async fn count(&self, table: &str) -> i64 {
        self.client()
            .await
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .expect("count")
            .get(0)
    }
}

impl TestDb {
    /// A campaign and a TikTok keyword job of `user` with `creators` stored creators (discovery
    /// order `creator0`, `creator1`, ...), in `status`; for tests of the read paths.
    pub async fn seed_job(&self, user: &str, status: &str, creators: usize) -> uuid::Uuid {
        let client = self.client().await;
        let campaign: uuid::Uuid = client
            .query_one(
                "INSERT INTO campaigns (user_id, name, search_type) VALUES ($1, 'seeded', 'keyword') RETURNING id",
                &[&user],
            )
            .await
            .expect("seed a campaign")
            .get(0);
        let finished = !matches!(status, "pending" | "processing");
        let job: uuid::Uuid = client
            .query_one(
                "INSERT INTO scraping_jobs (user_id, campaign_id, platform, search_type, keywords, target_results,
                     status, processed_results, processed_runs, timeout_at, completed_at)
                 VALUES ($1, $2, 'TikTok', 'keyword', '[\"seed\"]', 1000, $3, $4, 1, now() + interval '1 hour',
                     CASE WHEN $5 THEN now() END)
                 RETURNING id",
                &[&user, &campaign, &status, &(creators as i32), &finished],
            )
            .await
            .expect("seed a job")
            .get(0);
        client
            .execute(
                "INSERT INTO scraping_results (job_id, step, position, creator_key, creators)
                 SELECT $1, 0, n, 'creator' || n, jsonb_build_object(
                     'platform', 'TikTok', 'hashtags', '[]'::jsonb, 'foundBy', jsonb_build_object('keyword', 'seed'),
                     'creator', jsonb_build_object('name', 'Creator ' || n, 'uniqueId', 'creator' || n,
                         'followers', 1000 + n, 'avatarUrl', null, 'profilePicUrl', null,
                         'bio', 'Bio of creator ' || n || ' — contact creator' || n || '@example.com',
                         'emails', jsonb_build_array('creator' || n || '@example.com'), 'verified', false,
                         'profileUrl', 'https://www.tiktok.com/@creator' || n),
                     'video', jsonb_build_object('description', 'video ' || n, 'url', 'https://www.tiktok.com/@creator' || n || '/video/' || n,
                         'statistics', jsonb_build_object('likes', n, 'comments', 0, 'shares', 0, 'views', 10 * n)))
                 FROM generate_series(0, $2 - 1) AS n",
                &[&job, &(creators as i32)],
            )
            .await
            .expect("seed creators");
        job
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.pool.close();
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on; a short-lived thread
        // with its own runtime removes the database.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let (client, conn) = tokio_postgres::connect(&admin, NoTls).await.ok()?;
                tokio::spawn(conn);
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .ok()
            })
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced_and_the_query_kept() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/postgres?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
