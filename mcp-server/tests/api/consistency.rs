//! The repository's documents agree with the binary: the README's
//! configuration table with `--help`, its Claude Desktop snippet with how
//! the binary is launched.

use todo_testkit::{binary_env_vars, readme_table_env_vars};

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README")
}

/// The README's configuration table and `--help` name the same variables.
#[tokio::test]
async fn the_readme_configuration_table_matches_help() {
    let readme = readme();
    let table = readme_table_env_vars(&readme, "## Configuration", "`todo-mcp migrate`");
    let from_help = binary_env_vars("todo-mcp", &["", "http"]).await;
    assert_eq!(table, from_help, "README configuration table vs --help");
}

/// The Claude Desktop snippet in the README is valid JSON that launches this binary.
#[test]
fn the_readme_claude_desktop_snippet_is_valid() {
    let readme = readme();
    let section = readme.split("## Claude Desktop").nth(1).expect("section");
    let json = section
        .split("```json")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("json block");
    let config: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
    let server = &config["mcpServers"]["todo"];
    assert!(
        server["command"]
            .as_str()
            .is_some_and(|c| c.ends_with("target/release/todo-mcp"))
    );
    assert_eq!(server["args"], serde_json::json!(["--user", "me"]));
}
