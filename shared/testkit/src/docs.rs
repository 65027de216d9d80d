//! What the repository's documents and the binaries' `--help` say, for the
//! tests that keep them in agreement, and the test fixtures.

use std::path::PathBuf;

use crate::service::workspace_binary;

/// A file of `shared/testkit/fixtures` (test-only signing keys and their JWKS).
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The environment variables a README table names: the second column of the
/// table rows from the line starting with `from` up to the line starting
/// with `until`.
pub fn readme_table_env_vars(
    readme: &str,
    from: &str,
    until: &str,
) -> std::collections::BTreeSet<String> {
    readme
        .lines()
        .skip_while(|l| !l.starts_with(from))
        .skip(1)
        .take_while(|l| !l.starts_with(until))
        .filter(|l| l.starts_with('|'))
        .filter_map(|l| {
            l.split('|')
                .nth(2)
                .map(|c| c.trim().trim_matches('`').to_owned())
        })
        .filter(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_'))
        .collect()
}

/// The environment variables a clap `--help` text names (`[env: NAME]`).
pub fn help_env_vars(help: &str) -> std::collections::BTreeSet<String> {
    // --help wraps lines; "[env: NAME]" may be cut after "env:".
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    help.split("[env: ")
        .skip(1)
        .filter_map(|rest| rest.split([']', '=']).next().map(str::to_owned))
        .collect()
}

/// The environment variables that `BINARY SUBCOMMAND --help` names, over
/// the subcommands given (`""` for the binary's own `--help`).
///
/// # Panics
/// When a `--help` fails.
#[allow(clippy::expect_used)]
pub async fn binary_env_vars(
    binary: &str,
    subcommands: &[&str],
) -> std::collections::BTreeSet<String> {
    let mut help = String::new();
    for sub in subcommands {
        let out = tokio::process::Command::new(workspace_binary(binary))
            .env_clear()
            .args(sub.split_whitespace())
            .arg("--help")
            .output()
            .await
            .expect("run --help");
        assert!(out.status.success(), "{binary} {sub} --help failed");
        help.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    help_env_vars(&help)
}
