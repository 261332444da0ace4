//! `local pgbouncer-packages`: the workspace's packages whose tests run a second time through
//! PgBouncer (`scripts/test`), one name a line. A package is in the list when its Cargo.toml
//! says so:
//!
//! ```toml
//! [package.metadata.gemz]
//! pgbouncer = true
//! ```

use std::{path::Path, process::Command};

use anyhow::{bail, Context};
use serde_json::Value;

/// The packages of `cargo metadata`'s answer whose `package.metadata.gemz.<key>` is `true`,
/// sorted.
pub fn marked(metadata: &Value, key: &str) -> Vec<String> {
    let mut names: Vec<String> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["metadata"]["gemz"][key].as_bool() == Some(true))
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// The packages of the workspace at `root` marked `pgbouncer = true`; an error when none is.
pub fn pgbouncer(root: &Path) -> anyhow::Result<Vec<String>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(root)
        .args(["metadata", "--no-deps", "--format-version", "1", "--locked"])
        .output()
        .context("Failed to run cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: Value =
        serde_json::from_slice(&output.stdout).context("cargo metadata's answer is not JSON")?;
    let names = marked(&metadata, "pgbouncer");
    if names.is_empty() {
        bail!("no package of the workspace has `pgbouncer = true` in [package.metadata.gemz]");
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_packages_marked_true_are_listed() {
        let metadata = json!({"packages": [
            {"name": "sweeper", "metadata": {"gemz": {"pgbouncer": true}}},
            {"name": "local", "metadata": null},
            {"name": "db", "metadata": {"gemz": {"pgbouncer": true}}},
            {"name": "shared", "metadata": {"gemz": {"pgbouncer": false}}},
            {"name": "api", "metadata": {"other": {"pgbouncer": true}}},
        ]});
        assert_eq!(marked(&metadata, "pgbouncer"), ["db", "sweeper"]);
    }
}
