//! `db::migrate` on databases that are not fresh: a `scraping_results` of millions of rows, a
//! migration stuck behind a long transaction, a database that applied V14's first text, an index
//! build that was interrupted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use refinery::{Runner, Target};
use testkit::TestDb;
use tokio_postgres::{error::SqlState, Client, NoTls};

/// The request handlers' statement timeout (`DB_STATEMENT_TIMEOUT_MS`' default), which every
/// pooled connection carries.
const HANDLERS_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
/// Rows of the big-table test: `GEMZ_MIGRATION_TEST_ROWS`, else three million.
const DEFAULT_ROWS: i64 = 3_000_000;
const INDEX: &str = "idx_scraping_results_enrichment_pending";
const CHECK: &str = "scraping_results_enrichment_check";

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(connection);
    client
}

/// Empties the test database, then applies `runner`'s migrations up to `version`.
async fn migrated_to(db: &TestDb, runner: Runner, version: i32) {
    db.batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        .await;
    let mut client = connect(&db.url).await;
    runner
        .set_target(Target::Version(version))
        .run_async(&mut client)
        .await
        .expect("migrations up to the version");
}

/// A pool like the request handlers' (their statement timeout set on every connection).
fn handlers_pool(db: &TestDb) -> db::Pool {
    let mut config = TestDb::config(&db.url, 1);
    config.statement_timeout = HANDLERS_STATEMENT_TIMEOUT;
    db::pool(&config).expect("pool")
}

/// A campaign and two jobs (one for the stored rows, one for the writer), at V13's schema.
async fn seed_jobs(client: &Client) -> (uuid::Uuid, uuid::Uuid) {
    let rows = client
        .query(
            "WITH c AS (INSERT INTO campaigns (user_id, name, search_type) VALUES ('u', 'big', 'keyword') RETURNING id)
             INSERT INTO scraping_jobs (user_id, campaign_id, platform, search_type, keywords, target_results, timeout_at)
             SELECT 'u', c.id, 'TikTok', 'keyword', '[\"k\"]', 1000, now() + interval '1 hour'
               FROM c, generate_series(1, 2)
             RETURNING id",
            &[],
        )
        .await
        .expect("seed jobs");
    (rows[0].get(0), rows[1].get(0))
}

/// Stores `rows` creators of `job`, as cheaply as PostgreSQL allows: the secondary indexes are
/// dropped and built again afterwards (a sorted build instead of millions of insertions), and
/// the foreign-key trigger is skipped (`session_replication_role`, which needs a superuser, as
/// the tests' server user is). The table ends exactly as V13 left it, with `rows` rows.
async fn fill(client: &Client, job: uuid::Uuid, rows: i64) {
    client
        .batch_execute(
            "SET session_replication_role = replica; SET synchronous_commit = off;
             SET maintenance_work_mem = '256MB';
             ALTER TABLE scraping_results DROP CONSTRAINT scraping_results_job_id_creator_key_key,
                 DROP CONSTRAINT scraping_results_job_id_position_key;
             DROP INDEX idx_scraping_results_created, idx_scraping_results_job",
        )
        .await
        .expect("drop the secondary indexes");
    let chunk = 1_000_000;
    for start in (0..rows).step_by(chunk) {
        let end = (start + chunk as i64).min(rows) - 1;
        client
            .execute(
                "INSERT INTO scraping_results (job_id, position, step, creator_key, creators)
                 SELECT $1, n, 0, 'c' || lpad(n::text, 9, '0'), '{}' FROM generate_series($2::int, $3::int) AS n",
                &[&job, &(start as i32), &(end as i32)],
            )
            .await
            .expect("fill");
    }
    client
        .batch_execute(
            "CREATE INDEX idx_scraping_results_created ON scraping_results (created_at);
             CREATE INDEX idx_scraping_results_job ON scraping_results (job_id);
             ALTER TABLE scraping_results ADD UNIQUE (job_id, creator_key), ADD UNIQUE (job_id, position);
             RESET session_replication_role; RESET synchronous_commit; RESET maintenance_work_mem;
             ANALYZE scraping_results",
        )
        .await
        .expect("build the secondary indexes again");
}

/// Another connection inserting creators of its job one at a time, each waiting at most its
/// `lock_timeout` for a lock, until stopped.
struct Writer {
    inserted: Arc<AtomicU64>,
    lock_timeouts: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Writer {
    async fn start(url: &str, job: uuid::Uuid, lock_timeout: Duration) -> Self {
        let client = connect(url).await;
        client
            .batch_execute(&format!(
                "SET lock_timeout = '{}ms'",
                lock_timeout.as_millis()
            ))
            .await
            .unwrap();
        let (inserted, lock_timeouts, stop): (Arc<AtomicU64>, Arc<AtomicU64>, Arc<AtomicBool>) =
            (Arc::default(), Arc::default(), Arc::default());
        let task = tokio::spawn({
            let (inserted, lock_timeouts, stop) = (
                Arc::clone(&inserted),
                Arc::clone(&lock_timeouts),
                Arc::clone(&stop),
            );
            async move {
                let mut position = 0i32;
                while !stop.load(Ordering::SeqCst) {
                    let outcome = client
                        .execute(
                            "INSERT INTO scraping_results (job_id, position, step, creator_key, creators)
                             VALUES ($1, $2, 0, $3, '{}')",
                            &[&job, &position, &format!("w{position}")],
                        )
                        .await;
                    match outcome {
                        Ok(_) => {
                            inserted.fetch_add(1, Ordering::SeqCst);
                            position += 1;
                        }
                        Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                            lock_timeouts.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(e) => panic!("the writer's insert failed: {e:?}"),
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        });
        let writer = Self {
            inserted,
            lock_timeouts,
            stop,
            task,
        };
        writer.wait_for_inserts(1).await;
        writer
    }

    fn inserted(&self) -> u64 {
        self.inserted.load(Ordering::SeqCst)
    }

    async fn wait_for_inserts(&self, at_least: u64) {
        eventually("the writer inserts", || async {
            self.inserted() >= at_least
        })
        .await;
    }

    /// Stops it; returns (rows inserted, lock timeouts).
    async fn stop(self) -> (u64, u64) {
        let Self {
            inserted,
            lock_timeouts,
            stop,
            task,
        } = self;
        stop.store(true, Ordering::SeqCst);
        task.await.expect("the writer ran without failing");
        (
            inserted.load(Ordering::SeqCst),
            lock_timeouts.load(Ordering::SeqCst),
        )
    }
}

/// Polls `condition` until it holds (a minute at most, then the test fails).
async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..6000 {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what}: not within a minute");
}

async fn index_valid(client: &Client) -> Option<bool> {
    client
        .query_opt(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)",
            &[&INDEX],
        )
        .await
        .unwrap()
        .map(|r| r.get(0))
}

async fn check_validated(client: &Client) -> bool {
    client
        .query_one(
            "SELECT convalidated FROM pg_constraint WHERE conname = $1",
            &[&CHECK],
        )
        .await
        .unwrap()
        .get(0)
}

/// The online steps recorded: (name, ran).
async fn online_steps(client: &Client) -> Vec<(String, bool)> {
    client
        .query(
            "SELECT name, ran FROM schema_online_steps ORDER BY name",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn millions_of_creators_migrate_under_the_handlers_timeout_without_blocking_a_writer() {
    let rows = std::env::var("GEMZ_MIGRATION_TEST_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_ROWS);
    let db = TestDb::new().await;
    migrated_to(&db, db::migrate::runner(), 13).await;
    let admin = connect(&db.url).await;
    let (stored, written) = seed_jobs(&admin).await;
    let started = Instant::now();
    fill(&admin, stored, rows).await;
    eprintln!(
        "filled scraping_results with {rows} rows in {:.1?}",
        started.elapsed()
    );

    let writer = Writer::start(&db.url, written, Duration::from_secs(2)).await;
    let pool = handlers_pool(&db);
    let mut client = pool.get().await.unwrap();
    let session = "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')";
    let before: (String, String) = client
        .query_one(session, &[])
        .await
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert_eq!(before.0, "5s", "the session carries the handlers' timeout");
    let inserted_before = writer.inserted();
    let started = Instant::now();
    let applied = db::migrate(&mut client)
        .await
        .expect("the migration succeeds");
    let took = started.elapsed();
    let inserted_during = writer.inserted() - inserted_before;
    let (inserted, lock_timeouts) = writer.stop().await;
    eprintln!(
        "migrated {rows} rows in {took:.1?} ({applied} migrations); the writer inserted {inserted_during} \
         rows meanwhile"
    );

    for row in client
        .query(
            "SELECT name, seconds FROM schema_online_steps ORDER BY name",
            &[],
        )
        .await
        .unwrap()
    {
        eprintln!(
            "  {}: {:.2} s",
            row.get::<_, String>(0),
            row.get::<_, f64>(1)
        );
    }
    assert!(applied >= 2, "V14 and what follows were applied");
    assert_eq!(lock_timeouts, 0, "the writer never waited 2 s for a lock");
    assert!(inserted_during > 0, "the writer went on inserting");
    assert_eq!(index_valid(&client).await, Some(true));
    assert!(check_validated(&client).await);
    assert_eq!(
        online_steps(&client).await,
        vec![
            (format!("V14 index {INDEX}"), true),
            (format!("V14 validate {CHECK}"), true),
        ]
    );
    let after: (String, String) = client
        .query_one(session, &[])
        .await
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert_eq!(after, before, "the session's own timeouts are back");
    let count: i64 = client
        .query_one(
            "SELECT count(*) FROM scraping_results WHERE enrichment = 'done'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, rows + inserted as i64, "every row reads as enriched");
}

#[tokio::test]
async fn a_migration_behind_a_long_transaction_gives_up_its_lock_and_retries_without_stalling_writes(
) {
    let db = TestDb::new().await;
    migrated_to(&db, db::migrate::runner(), 13).await;
    let observer = connect(&db.url).await;
    let (_, written) = seed_jobs(&observer).await;
    // A long transaction that read the table: V14's ALTER TABLE waits for it.
    let blocker = connect(&db.url).await;
    blocker
        .batch_execute("BEGIN; SELECT count(*) FROM scraping_results")
        .await
        .unwrap();
    // A request's insert waits at most 4 s for a lock (its statement timeout is 5 s).
    let writer = Writer::start(&db.url, written, Duration::from_secs(4)).await;

    let pool = handlers_pool(&db);
    let mut client = pool.get().await.unwrap();
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let migration = tokio::spawn(async move { db::migrate(&mut client).await });
    let waiting = |expected: bool| {
        let observer = &observer;
        move || async move {
            let row = observer
                .query_one(
                    "SELECT wait_event_type IS NOT DISTINCT FROM 'Lock' FROM pg_stat_activity WHERE pid = $1",
                    &[&pid],
                )
                .await
                .unwrap();
            row.get::<_, bool>(0) == expected
        }
    };
    eventually("the migration waits for its lock", waiting(true)).await;
    // It gives up (lock timeout), pauses, and the writes queued behind it go through meanwhile.
    eventually("the migration stops waiting", waiting(false)).await;
    let inserted = writer.inserted();
    writer.wait_for_inserts(inserted + 1).await;
    blocker.batch_execute("COMMIT").await.unwrap();

    let applied = migration.await.unwrap().expect("a retry succeeds");
    let (_, lock_timeouts) = writer.stop().await;
    assert!(applied >= 2, "V14 and what follows were applied");
    assert_eq!(lock_timeouts, 0, "no write waited 4 s behind the migration");
    assert_eq!(index_valid(&observer).await, Some(true));
}

/// Columns, constraints and indexes of `scraping_results`, as text.
async fn scraping_results_schema(client: &Client) -> Vec<String> {
    client
        .query(
            "SELECT format('column %s %s %s %s', attname, format_type(atttypid, atttypmod), attnotnull,
                           pg_get_expr(d.adbin, d.adrelid))
               FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
              WHERE attrelid = 'scraping_results'::regclass AND attnum > 0 AND NOT attisdropped
             UNION ALL
             SELECT format('constraint %s %s %s', conname, pg_get_constraintdef(oid), convalidated)
               FROM pg_constraint WHERE conrelid = 'scraping_results'::regclass
             UNION ALL
             SELECT format('index %s %s', indexrelid::regclass, pg_get_indexdef(indexrelid))
               FROM pg_index WHERE indrelid = 'scraping_results'::regclass AND indisvalid
             ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn a_database_that_applied_the_first_v14_text_migrates_to_the_same_schema() {
    let old = TestDb::new().await;
    let superseded = db::migrate::superseded();
    let mut first_texts: Vec<_> = db::migrate::runner()
        .get_migrations()
        .iter()
        .filter(|m| superseded.iter().all(|s| s.version() != m.version()))
        .cloned()
        .collect();
    first_texts.extend(superseded);
    migrated_to(&old, Runner::new(&first_texts), 14).await;
    let mut client = connect(&old.url).await;
    let recorded: String = client
        .query_one(
            "SELECT checksum FROM refinery_schema_history WHERE version = 14",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let current = db::migrate::runner()
        .get_migrations()
        .iter()
        .find(|m| m.version() == 14)
        .unwrap()
        .checksum();
    assert_ne!(recorded, current.to_string(), "the first text is recorded");
    assert!(
        check_validated(&client).await,
        "PostgreSQL named its CHECK {CHECK}"
    );

    let applied = db::migrate(&mut client).await.expect("it migrates");
    let after_v14 = db::migrate::runner()
        .get_migrations()
        .iter()
        .filter(|m| m.version() > 14)
        .count();
    assert_eq!(applied, after_v14, "what follows V14");
    let recorded: String = client
        .query_one(
            "SELECT checksum FROM refinery_schema_history WHERE version = 14",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(recorded, current.to_string());
    assert_eq!(
        online_steps(&client).await,
        vec![
            (format!("V14 index {INDEX}"), false),
            (format!("V14 validate {CHECK}"), false),
        ],
        "found in place"
    );
    let fresh = TestDb::new().await;
    let fresh = connect(&fresh.url).await;
    assert_eq!(
        scraping_results_schema(&client).await,
        scraping_results_schema(&fresh).await
    );
    assert_eq!(db::migrate(&mut client).await.unwrap(), 0);
}

#[tokio::test]
async fn an_index_build_that_was_interrupted_is_dropped_and_built_again() {
    let db = TestDb::new().await;
    let job = db.seed_job("u", "processing", 2).await;
    db.execute(
        "UPDATE scraping_results SET enrichment = 'pending' WHERE job_id = $1",
        &[&job],
    )
    .await;
    // A failed concurrent build (here: a unique index over duplicates) leaves an INVALID index
    // under the name, as a cancelled or timed-out one would.
    db.batch_execute(&format!("DROP INDEX {INDEX}")).await;
    let client = db.client().await;
    let failed = client
        .batch_execute(&format!(
            "CREATE UNIQUE INDEX CONCURRENTLY {INDEX} ON scraping_results (job_id) WHERE enrichment = 'pending'"
        ))
        .await;
    assert!(failed.is_err());
    assert_eq!(index_valid(&client).await, Some(false));

    db.batch_execute("DELETE FROM schema_online_steps").await;
    let mut migrating = connect(&db.url).await;
    assert_eq!(db::migrate(&mut migrating).await.unwrap(), 0);
    assert_eq!(index_valid(&client).await, Some(true));
    let definition: String = client
        .query_one("SELECT pg_get_indexdef(to_regclass($1))", &[&INDEX])
        .await
        .unwrap()
        .get(0);
    assert!(
        definition.starts_with(&format!(
            "CREATE INDEX {INDEX} ON public.scraping_results USING btree (job_id, \"position\")"
        )),
        "{definition}"
    );
    assert!(online_steps(&client)
        .await
        .contains(&(format!("V14 index {INDEX}"), true)));
}
