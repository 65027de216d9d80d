//! What one user may keep: past `MAX_TASKS_PER_USER`, adding is refused with
//! a tool error saying so (a batch all or none), on both databases, for
//! that user only.

use serde_json::json;
use todo_testkit::{Backend, both_backends};

use crate::helpers::{HttpServer, call, database, ok, token, tool_error};

async fn tasks_past_the_quota_are_refused_all_or_none(backend: Backend) {
    let db = database(backend).await;
    let server = HttpServer::start(&db, &[], &[("MAX_TASKS_PER_USER", "3")]).await;
    let client = server.client(&token("quinn")).await;
    for title in ["one", "two"] {
        ok(call(&client, "add_task", json!({"title": title})).await);
    }
    // Two more would make four: neither is added.
    let refused = tool_error(
        call(
            &client,
            "add_tasks",
            json!({"tasks": [{"title": "three"}, {"title": "four"}]}),
        )
        .await,
    );
    assert!(
        refused.contains("3 tasks, the most one user may keep"),
        "{refused}"
    );
    let listed = ok(call(&client, "list_tasks", json!({})).await);
    assert_eq!(
        listed["tasks"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
    ok(call(&client, "add_task", json!({"title": "three"})).await);
    let refused = tool_error(call(&client, "add_task", json!({"title": "four"})).await);
    assert!(refused.contains("delete some"), "{refused}");
    client.cancel().await.expect("close");

    let other = server.client(&token("rolf")).await;
    ok(call(&other, "add_task", json!({"title": "mine"})).await);
    other.cancel().await.expect("close");
}

both_backends!(tasks_past_the_quota_are_refused_all_or_none);
