//! Published contracts kept in files: what clients and models rely on (the
//! tool list, the OpenAPI document), compared with what the code serves. A
//! change has to be deliberate: run the tests with `UPDATE_CONTRACTS=1`,
//! and the file's diff shows the change in review, where it can be checked
//! to add and never break.

use std::path::Path;

use serde_json::Value;

/// The variable that rewrites the contract files instead of comparing.
pub const UPDATE_CONTRACTS: &str = "UPDATE_CONTRACTS";

/// `actual` must be the JSON in `file` (with `UPDATE_CONTRACTS=1`: becomes it).
///
/// # Panics
/// When they differ, naming the first difference; when the file cannot be
/// read or written.
#[allow(clippy::expect_used)]
pub fn assert_contract(file: &Path, actual: &Value) {
    let text = serde_json::to_string_pretty(actual).expect("JSON") + "\n";
    if std::env::var_os(UPDATE_CONTRACTS).is_some() {
        std::fs::write(file, text).expect("write the contract file");
        return;
    }
    let published = std::fs::read_to_string(file).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with {UPDATE_CONTRACTS}=1 to write it)",
            file.display()
        )
    });
    if published == text {
        return;
    }
    let first = published
        .lines()
        .zip(text.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .map_or_else(
            || "one is longer than the other".to_owned(),
            |(n, (a, b))| format!("line {}: published {a:?}, served {b:?}", n + 1),
        );
    panic!(
        "{} is not what is served ({first}). A published contract changes only on purpose: \
         if this change adds and breaks nothing, run the tests with {UPDATE_CONTRACTS}=1 and \
         commit the file.",
        file.display()
    );
}
