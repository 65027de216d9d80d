//! What a client chooses never forges a log line: field and tool names it
//! sends are logged escaped and shortened.

use serde_json::json;
use todo_testkit::Backend;

use crate::helpers::{HttpServer, database, token, try_call};

#[tokio::test]
async fn client_chosen_names_are_logged_escaped() {
    let db = database(Backend::Sqlite).await;
    let server = HttpServer::start(&db, &[], &[]).await;
    let client = server.client(&token("lena")).await;
    let forged = "level=ERROR user=admin forged line";
    let field = format!("x\n{forged}");
    let mut arguments = serde_json::Map::new();
    arguments.insert("title".into(), json!("ok"));
    arguments.insert(field, json!(1));
    let _ = try_call(&client, "add_task", serde_json::Value::Object(arguments)).await;
    let _ = try_call(&client, &format!("no_such_tool\n{forged}"), json!({})).await;
    let _ = try_call(&client, &"t".repeat(5_000), json!({})).await;
    client.cancel().await.expect("close");

    let logs = server.logs();
    assert!(
        !logs
            .lines()
            .any(|line| line.trim_start().starts_with(forged)),
        "a forged line: {logs}"
    );
    assert!(logs.contains(r"unknown field `x\n"), "{logs}");
    assert!(logs.contains(r"no_such_tool\n"), "{logs}");
    assert!(!logs.contains(&"t".repeat(100)), "a long name is shortened");
}
