//! The functions' role: rows yes, schema no.

use testkit::TestDb;
use tokio_postgres::NoTls;

#[tokio::test]
async fn the_functions_role_may_write_rows_but_not_change_or_drop_the_schema() {
    let db = TestDb::new().await;
    let role = format!("gemz_app_{}", uuid::Uuid::new_v4().simple());
    db.batch_execute(&format!("CREATE ROLE {role} LOGIN")).await;
    let owner = db.client().await;
    db::migrate::grants::grant_rows_to(&owner, &role)
        .await
        .expect("the grant");

    // Straight to PostgreSQL (`DATABASE_URL` when the tests run through PgBouncer, whose user
    // list does not hold the new role), as the role, to this test's database.
    let server = std::env::var("DATABASE_URL").unwrap_or_else(|_| db.url.clone());
    let mut config: tokio_postgres::Config = server.parse().expect("the server URL");
    config.user(&role).dbname(&db.name);
    let (app, connection) = config.connect(NoTls).await.expect("connect as the role");
    let task = tokio::spawn(connection);
    app.execute(
        "INSERT INTO campaigns (user_id, name, search_type) VALUES ('u', 'n', 'keyword')",
        &[],
    )
    .await
    .expect("rows may be written");
    app.execute("DELETE FROM campaigns", &[])
        .await
        .expect("and deleted");
    for ddl in [
        "DROP TABLE campaigns",
        "ALTER TABLE campaigns ADD COLUMN x int",
        "CREATE TABLE intruder (x int)",
        "TRUNCATE scraping_results",
        "SELECT * FROM refinery_schema_history",
    ] {
        let err = app.batch_execute(ddl).await.expect_err(ddl);
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{ddl}: {err}"
        );
    }
    drop(app);
    let _ = task.await;
    db.batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .await;
}
