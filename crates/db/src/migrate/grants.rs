//! The functions' own database role. Migrations run as the schema's owner (the `migrate`
//! function's credential); every other function connects as a role that may read and write rows
//! but not change or drop the schema. After each migration run the owner grants that role what the
//! functions need on every table, sequence and function, new ones included.

use anyhow::Context as _;
use tokio_postgres::Client;

/// Whether `role` is a plain PostgreSQL identifier (lower-case letters, digits, `_`, not starting
/// with a digit, at most 63 bytes): what the grant names, so it needs no quoting rules.
pub fn is_plain_role(role: &str) -> bool {
    let mut chars = role.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && role.len() <= 63
}

/// Grants `role` the use of the schema's rows: `SELECT, INSERT, UPDATE, DELETE` on every table,
/// the sequences and the functions of `public`, and no more (it cannot create, alter or drop).
pub async fn grant_rows_to(client: &Client, role: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        is_plain_role(role),
        "the functions' role {role:?} is not a plain identifier (a-z, 0-9, _)"
    );
    client
        .batch_execute(&format!(
            "GRANT USAGE ON SCHEMA public TO \"{role}\";
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \"{role}\";
             GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO \"{role}\";
             GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO \"{role}\";
             REVOKE ALL ON TABLE refinery_schema_history FROM \"{role}\";"
        ))
        .await
        .with_context(|| format!("Failed to grant the functions' role {role} its rights"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_plain_identifiers_are_granted() {
        for ok in ["gemz_app", "_app", "app2"] {
            assert!(super::is_plain_role(ok), "{ok}");
        }
        for bad in [
            "",
            "2app",
            "App",
            "app\"; DROP TABLE x; --",
            "app role",
            &"a".repeat(64),
        ] {
            assert!(!super::is_plain_role(bad), "{bad}");
        }
    }
}
