//! The published contract of todo-mcp: what `tools/list` says (names,
//! descriptions, input and output schemas, annotations) and the instructions
//! hosts give the model, kept in `tests/contract/tools.json`. Models and
//! hosts rely on every word of it; it changes only on purpose (see
//! `todo_testkit::contract`).

use std::path::Path;

use serde_json::json;
use todo_testkit::{Backend, assert_contract};

use crate::helpers::{database, stdio_client};

#[tokio::test]
async fn the_tools_and_instructions_are_the_published_ones() {
    let db = database(Backend::Sqlite).await;
    let client = stdio_client(&db, "contract").await;
    let tools = client.list_all_tools().await.expect("tools/list");
    let instructions = client
        .peer_info()
        .and_then(|info| info.instructions.clone());
    assert_contract(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/contract/tools.json"),
        &json!({"instructions": instructions, "tools": tools}),
    );
}
