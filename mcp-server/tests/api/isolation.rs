//! No user can see or touch another's tasks, and cannot tell they exist.

use serde_json::json;
use todo_testkit::Backend;

use crate::helpers::*;
use todo_testkit::both_backends;

async fn users_cannot_see_or_touch_each_others_tasks_over_http(backend: Backend) {
    let db = database(backend).await;
    let server = HttpServer::start(&db, &[], &[]).await;
    let alice = server.client(&token("alice")).await;
    let bob = server.client(&token("bob")).await;

    let secret = ok(call(&alice, "add_task", json!({"title": "alice's secret"})).await);
    let id = secret["task_id"].as_i64().expect("id");
    ok(call(&bob, "add_task", json!({"title": "bob's task"})).await);
    let missing = id + 1000;

    let bob_sees = ok(call(&bob, "list_tasks", json!({"limit": 200})).await);
    assert_eq!(bob_sees["tasks"].as_array().map(Vec::len), Some(1));
    assert_eq!(bob_sees["tasks"][0]["title"], "bob's task");

    // Every tool answers for alice's task exactly as for a task that does not exist.
    for (tool, extra) in [
        ("complete_task", json!({})),
        ("delete_task", json!({})),
        ("update_task", json!({"title": "pwned"})),
    ] {
        let mut on_hers = extra.clone();
        on_hers["task_id"] = json!(id);
        let mut on_none = extra;
        on_none["task_id"] = json!(missing);
        let hers = call(&bob, tool, on_hers).await;
        let none = call(&bob, tool, on_none).await;
        assert_eq!(tool_error(hers), format!("Task {id} not found"), "{tool}");
        assert_eq!(
            tool_error(none),
            format!("Task {missing} not found"),
            "{tool}"
        );
    }

    let still = ok(call(&alice, "list_tasks", json!({})).await);
    assert_eq!(still["tasks"][0]["title"], "alice's secret");
    assert_eq!(still["tasks"][0]["completed"], false);
    assert_eq!(still["tasks"][0]["updated_at"], secret["updated_at"]);
    // A cursor does not let bob page into alice's tasks either.
    let paged = ok(call(
        &bob,
        "list_tasks",
        json!({"cursor": format!("t{}", id + 1)}),
    )
    .await);
    assert!(
        paged["tasks"]
            .as_array()
            .is_some_and(|t| t.iter().all(|t| t["title"] == "bob's task"))
    );
}

async fn stdio_users_are_isolated_on_one_database(backend: Backend) {
    let db = database(backend).await;
    let alice = stdio_client(&db, "alice").await;
    let bob = stdio_client(&db, "bob").await;
    let task = ok(call(&alice, "add_task", json!({"title": "mine"})).await);
    assert_eq!(
        ok(call(&bob, "list_tasks", json!({})).await)["tasks"],
        json!([])
    );
    let message = tool_error(call(&bob, "delete_task", json!({"task_id": task["task_id"]})).await);
    assert_eq!(message, format!("Task {} not found", task["task_id"]));
    assert_eq!(
        ok(call(&alice, "list_tasks", json!({})).await)["tasks"][0]["title"],
        "mine"
    );
}

both_backends!(
    users_cannot_see_or_touch_each_others_tasks_over_http,
    stdio_users_are_isolated_on_one_database,
);
