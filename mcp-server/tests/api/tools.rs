//! The tools' behaviour, over both transports and both databases.

use chrono::DateTime;
use serde_json::{Value, json};
use todo_testkit::Backend;

use crate::helpers::*;
use todo_testkit::both_backends;

/// add → list → update → complete (twice) → delete, through any client.
pub async fn crud_scenario(client: &Client) {
    let title = "  Buy <b>milk</b> & \"eggs\" ";
    let created = ok(call(
        client,
        "add_task",
        json!({"title": title, "description": "2 litres\n\tsemi-skimmed"}),
    )
    .await);
    assert_eq!(created["status"], "created");
    assert_eq!(
        created["title"], "Buy <b>milk</b> & \"eggs\"",
        "trimmed, never HTML-escaped"
    );
    assert_eq!(created["description"], "2 litres\n\tsemi-skimmed");
    assert_eq!(created["completed"], false);
    let id = created["task_id"].as_i64().expect("task_id");
    for field in ["created_at", "updated_at"] {
        let at = created[field].as_str().expect("timestamp");
        assert!(
            at.ends_with('Z') && DateTime::parse_from_rfc3339(at).is_ok(),
            "{field}: {at}"
        );
    }

    let listed = ok(call(client, "list_tasks", json!({})).await);
    assert_eq!(listed["tasks"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["tasks"][0]["id"], id);
    assert_eq!(listed["tasks"][0]["title"], created["title"]);
    assert_eq!(listed["tasks"][0]["created_at"], created["created_at"]);
    assert!(listed.get("next_cursor").is_none());

    let updated = ok(call(
        client,
        "update_task",
        json!({"task_id": id, "title": "Buy oat milk"}),
    )
    .await);
    assert_eq!(
        (updated["status"].as_str(), updated["title"].as_str()),
        (Some("updated"), Some("Buy oat milk"))
    );
    assert_eq!(
        updated["description"], created["description"],
        "description kept when omitted"
    );
    let cleared = ok(call(
        client,
        "update_task",
        json!({"task_id": id, "description": ""}),
    )
    .await);
    assert_eq!(cleared["description"], Value::Null);

    let completed = ok(call(client, "complete_task", json!({"task_id": id})).await);
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["completed"], true);
    assert_eq!(completed["already_completed"], false);
    let again = ok(call(client, "complete_task", json!({"task_id": id})).await);
    assert_eq!(
        again["already_completed"], true,
        "completing twice is not an error"
    );
    assert_eq!(again["updated_at"], completed["updated_at"]);

    let pending = ok(call(client, "list_tasks", json!({"status": "pending"})).await);
    assert_eq!(pending["tasks"], json!([]));
    let done = ok(call(client, "list_tasks", json!({"status": "completed"})).await);
    assert_eq!(done["tasks"][0]["id"], id);

    let deleted = ok(call(client, "delete_task", json!({"task_id": id})).await);
    assert_eq!(
        (deleted["status"].as_str(), deleted["task_id"].as_i64()),
        (Some("deleted"), Some(id))
    );
    assert_eq!(
        tool_error(call(client, "delete_task", json!({"task_id": id})).await),
        format!("Task {id} not found")
    );
    assert_eq!(
        ok(call(client, "list_tasks", json!({})).await)["tasks"],
        json!([])
    );
}

async fn stdio_crud(backend: Backend) {
    let db = database(backend).await;
    let client = stdio_client(&db, "local").await;
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("todo-mcp")
    );
    assert_eq!(
        info.server_info.as_ref().map(|i| i.version.as_str()),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert!(
        info.instructions
            .as_deref()
            .is_some_and(|i| i.contains("list_tasks"))
    );
    crud_scenario(&client).await;
    client.cancel().await.expect("close");
}

async fn http_crud_current_revision(backend: Backend) {
    let db = database(backend).await;
    let server = HttpServer::start(&db, &[], &[]).await;
    let client = server.client(&token("alice")).await;
    crud_scenario(&client).await;
    client.cancel().await.expect("close");
}

async fn http_crud_legacy_client(backend: Backend) {
    let db = database(backend).await;
    let server = HttpServer::start(&db, &[], &[]).await;
    let client = server.legacy_client(&token("alice")).await;
    let info = client.peer_info().expect("server info");
    assert_eq!(info.protocol_version.as_str(), "2025-11-25");
    crud_scenario(&client).await;
    client.cancel().await.expect("close");
}

async fn pagination_is_newest_first_and_complete(backend: Backend) {
    let db = database(backend).await;
    let server = HttpServer::start(&db, &[], &[]).await;
    let client = server.client(&token("pager")).await;
    let mut ids = Vec::new();
    for n in 0..7 {
        let task = ok(call(&client, "add_task", json!({"title": format!("task {n}")})).await);
        ids.push(task["task_id"].as_i64().expect("id"));
    }
    ok(call(&client, "complete_task", json!({"task_id": ids[1]})).await);
    ok(call(&client, "complete_task", json!({"task_id": ids[4]})).await);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut a = json!({"limit": 3});
        if let Some(c) = &cursor {
            a["cursor"] = json!(c);
        }
        let page = ok(call(&client, "list_tasks", a).await);
        pages += 1;
        seen.extend(
            page["tasks"]
                .as_array()
                .expect("tasks")
                .iter()
                .map(|t| t["id"].as_i64().expect("id")),
        );
        match page.get("next_cursor").and_then(Value::as_str) {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let newest_first: Vec<i64> = ids.iter().rev().copied().collect();
    assert_eq!(seen, newest_first);
    assert_eq!(pages, 3);

    let pending = ok(call(
        &client,
        "list_tasks",
        json!({"status": "pending", "limit": 200}),
    )
    .await);
    let pending: Vec<i64> = pending["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| t["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(pending, vec![ids[6], ids[5], ids[3], ids[2], ids[0]]);
    let completed = ok(call(
        &client,
        "list_tasks",
        json!({"status": "completed", "limit": 1}),
    )
    .await);
    assert_eq!(completed["tasks"][0]["id"], ids[4]);
    let rest = ok(call(
        &client,
        "list_tasks",
        json!({"status": "completed", "cursor": completed["next_cursor"]}),
    )
    .await);
    assert_eq!(rest["tasks"][0]["id"], ids[1]);
    assert!(rest.get("next_cursor").is_none());
}

async fn bad_input_gets_a_clear_tool_error_and_writes_nothing(backend: Backend) {
    let db = database(backend).await;
    let server = HttpServer::start(&db, &[], &[]).await;
    let client = server.client(&token("mallory")).await;
    let existing = ok(call(
        &client,
        "add_task",
        json!({"title": "keep me", "description": "as is"}),
    )
    .await);
    let id = existing["task_id"].as_i64().expect("id");

    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "add_task",
            json!({}),
            "Invalid arguments for add_task: missing field `title`",
        ),
        (
            "add_task",
            json!({"title": 42}),
            "Invalid arguments for add_task: invalid type: integer `42`, expected a string",
        ),
        (
            "add_task",
            json!({"title": "   "}),
            "title must be 1 to 200 characters (got 0 after trimming)",
        ),
        (
            "add_task",
            json!({"title": "x".repeat(201)}),
            "title must be 1 to 200 characters (got 201 after trimming)",
        ),
        (
            "add_task",
            json!({"title": "nul\u{0}byte"}),
            "title must not contain control characters (found U+0000)",
        ),
        (
            "add_task",
            json!({"title": "ok", "description": "d".repeat(2001)}),
            "description must be at most 2000 characters (got 2001)",
        ),
        (
            "add_task",
            json!({"title": "ok", "description": "bell\u{7}"}),
            "description must not contain control characters other than newline and tab (found U+0007)",
        ),
        (
            "add_task",
            json!({"title": "ok", "user_id": "bob"}),
            "Invalid arguments for add_task: unknown field `user_id`",
        ),
        (
            "list_tasks",
            json!({"status": "done"}),
            "status must be \"all\", \"pending\" or \"completed\", got \"done\"",
        ),
        (
            "list_tasks",
            json!({"limit": 0}),
            "limit must be between 1 and 200, got 0",
        ),
        (
            "list_tasks",
            json!({"limit": 1000}),
            "limit must be between 1 and 200, got 1000",
        ),
        (
            "list_tasks",
            json!({"limit": "ten"}),
            "Invalid arguments for list_tasks: invalid type: string \"ten\"",
        ),
        (
            "list_tasks",
            json!({"cursor": "nonsense"}),
            "cursor is not valid",
        ),
        // The task model's fields: each names the field and the accepted form.
        (
            "add_task",
            json!({"title": "x", "due": "2026-02-30"}),
            "due must be a date like 2026-12-24 or a date-time with offset like 2026-12-24T09:00:00+01:00, got \"2026-02-30\"",
        ),
        (
            "add_task",
            json!({"title": "x", "due": "1969-12-31"}),
            "due must be in the years 1970 to 9999",
        ),
        (
            "add_task",
            json!({"title": "x", "priority": "urgent"}),
            "priority must be \"none\", \"low\", \"medium\" or \"high\", got \"urgent\"",
        ),
        (
            "add_task",
            json!({"title": "x", "tags": ["ok", " "]}),
            "each tag in tags must be 1 to 40 characters after trimming",
        ),
        (
            "add_task",
            json!({"title": "x", "tags": (0..21).map(|n| format!("t{n}")).collect::<Vec<_>>()}),
            "a task has at most 20 tags, this would give it 21",
        ),
        (
            "add_task",
            json!({"title": "x", "recurrence": "FREQ=MONTHLY"}),
            "recurrence needs a due date to start from",
        ),
        (
            "add_task",
            json!({"title": "x", "due": "2026-12-01", "recurrence": "every month"}),
            "recurrence must be an RRULE like FREQ=MONTHLY;BYMONTHDAY=1",
        ),
        (
            "add_task",
            json!({"title": "x", "due": "2026-12-01", "recurrence": "FREQ=HOURLY"}),
            "recurrence must be an RRULE like FREQ=MONTHLY;BYMONTHDAY=1",
        ),
        (
            "add_tasks",
            json!({"tasks": []}),
            "tasks must hold 1 to 50 tasks, got 0",
        ),
        (
            "add_tasks",
            json!({"tasks": (0..51).map(|n| json!({"title": format!("t{n}")})).collect::<Vec<_>>()}),
            "tasks must hold 1 to 50 tasks, got 51",
        ),
        (
            "add_tasks",
            json!({"tasks": [{"title": "fine"}, {"title": "bad", "due": "soon"}]}),
            "tasks[1]: due must be a date like 2026-12-24",
        ),
        (
            "list_tasks",
            json!({"sort": "alphabetical"}),
            "sort must be \"created\", \"due\", \"priority\" or \"updated\", got \"alphabetical\"",
        ),
        (
            "list_tasks",
            json!({"due_before": "next week"}),
            "due_before must be a date like 2026-12-24",
        ),
        (
            "list_tasks",
            json!({"query": "!!!"}),
            "query must be 1 to 10 words",
        ),
        (
            "list_tasks",
            json!({"cursor": "t5", "sort": "due"}),
            "cursor is not valid",
        ),
        (
            "complete_task",
            json!({"task_id": id, "task_ids": [id]}),
            "give either task_id (one task) or task_ids (several), not both",
        ),
        (
            "complete_task",
            json!({"task_ids": (1..=101).collect::<Vec<i64>>()}),
            "task_ids must list 1 to 100 task ids, got 101",
        ),
        (
            "delete_task",
            json!({"task_ids": [id, 987654321]}),
            "Task 987654321 not found",
        ),
        (
            "update_task",
            json!({"task_ids": [id, 987654321], "title": "changed"}),
            "Task 987654321 not found",
        ),
        (
            "update_task",
            json!({"task_id": id, "tags": ["a"], "add_tags": ["b"]}),
            "give either tags (the whole new list) or add_tags/remove_tags, not both",
        ),
        (
            "update_task",
            json!({"task_id": id, "recurrence": "FREQ=DAILY"}),
            "recurrence needs a due date to start from",
        ),
        (
            "complete_task",
            json!({"task_id": -1}),
            "task_id must be a positive integer, got -1",
        ),
        (
            "complete_task",
            json!({"task_id": 0}),
            "task_id must be a positive integer, got 0",
        ),
        (
            "complete_task",
            serde_json::from_str(r#"{"task_id": 99999999999999999999}"#).expect("json"),
            "Invalid arguments for complete_task:",
        ),
        (
            "complete_task",
            json!({"task_id": 1.5}),
            "Invalid arguments for complete_task: invalid type: floating point `1.5`",
        ),
        (
            "complete_task",
            json!({"task_id": "abc"}),
            "Invalid arguments for complete_task: invalid type: string \"abc\"",
        ),
        (
            "complete_task",
            json!({}),
            "give task_id (one task) or task_ids (several)",
        ),
        (
            "complete_task",
            json!({"task_id": i64::MAX}),
            "Task 9223372036854775807 not found",
        ),
        (
            "delete_task",
            json!({"task_id": null}),
            "give task_id (one task) or task_ids (several)",
        ),
        (
            "update_task",
            json!({"task_id": id}),
            "give at least one field to change",
        ),
        (
            "update_task",
            json!({"task_id": id, "title": ""}),
            "title must be 1 to 200 characters",
        ),
        (
            "update_task",
            json!({"task_id": id, "title": "fine", "description": "d".repeat(2001)}),
            "description must be at most 2000 characters",
        ),
    ];
    for (tool, arguments, expected) in cases {
        let shown = arguments.to_string().chars().take(80).collect::<String>();
        let message = tool_error(call(&client, tool, arguments).await);
        assert!(
            message.starts_with(expected),
            "{tool} {shown}: got {message:?}, expected {expected:?}"
        );
    }

    // Nothing was written or changed by any of the above.
    let listed = ok(call(&client, "list_tasks", json!({})).await);
    assert_eq!(listed["tasks"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["tasks"][0]["title"], "keep me");
    assert_eq!(listed["tasks"][0]["description"], "as is");
    assert_eq!(listed["tasks"][0]["updated_at"], existing["updated_at"]);

    // An unknown tool is a protocol error (the request names nothing we have).
    let unknown = try_call(&client, "drop_tables", json!({})).await;
    assert!(unknown.is_err(), "{unknown:?}");
}

async fn fifty_concurrent_adds_leave_exactly_fifty_rows(backend: Backend) {
    let db = database(backend).await;
    let server = HttpServer::start(&db, &[], &[]).await;
    let client = std::sync::Arc::new(server.client(&token("busy")).await);
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..50 {
        let client = client.clone();
        calls.spawn(async move {
            ok(call(
                &client,
                "add_task",
                json!({"title": format!("parallel {n}")}),
            )
            .await)
        });
    }
    let mut ids = std::collections::BTreeSet::new();
    while let Some(done) = calls.join_next().await {
        ids.insert(done.expect("call task")["task_id"].as_i64().expect("id"));
    }
    assert_eq!(ids.len(), 50, "50 distinct ids");
    let listed = ok(call(&client, "list_tasks", json!({"limit": 200})).await);
    assert_eq!(listed["tasks"].as_array().map(Vec::len), Some(50));
    let store = db.store().await;
    let user = todo_domain::UserId::parse("busy").expect("user");
    assert_eq!(store.count_tasks(&user).await.expect("count"), 50);
    store.close().await;
    assert!(
        !server.logs().contains("database is locked"),
        "{}",
        server.logs()
    );
}

async fn tools_are_described_for_the_model(backend: Backend) {
    let db = database(backend).await;
    let client = stdio_client(&db, "local").await;
    let tools = client.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "add_task",
            "add_tasks",
            "list_tasks",
            "complete_task",
            "delete_task",
            "update_task"
        ]
    );
    let by_name = |n: &str| tools.iter().find(|t| t.name == n).expect("tool").clone();
    let hint = |n: &str| by_name(n).annotations.expect("annotations");
    assert_eq!(hint("list_tasks").read_only_hint, Some(true));
    assert_eq!(hint("delete_task").destructive_hint, Some(true));
    // A repeating task moves on each time it is completed.
    assert_eq!(hint("complete_task").idempotent_hint, Some(false));
    assert_eq!(hint("complete_task").destructive_hint, Some(false));
    assert_eq!(hint("add_tasks").read_only_hint, Some(false));
    assert_eq!(hint("add_task").idempotent_hint, Some(false));
    for tool in &tools {
        assert_eq!(
            tool.annotations.as_ref().and_then(|a| a.open_world_hint),
            Some(false)
        );
        let schema = serde_json::to_value(tool.input_schema.as_ref()).expect("schema");
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["additionalProperties"], false, "{}", tool.name);
        assert!(
            schema["properties"].get("user_id").is_none()
                && schema["properties"].get("user").is_none()
        );
        assert!(
            tool.output_schema.is_some(),
            "{} has an outputSchema",
            tool.name
        );
    }
    let list_schema =
        serde_json::to_value(by_name("list_tasks").input_schema.as_ref()).expect("schema");
    assert_eq!(
        list_schema["properties"]["status"]["enum"],
        json!(["all", "pending", "completed"])
    );
    assert!(
        by_name("complete_task")
            .description
            .is_some_and(|d| d.contains("call list_tasks first"))
    );
    client.cancel().await.expect("close");
}

both_backends!(
    stdio_crud,
    http_crud_current_revision,
    http_crud_legacy_client,
    pagination_is_newest_first_and_complete,
    bad_input_gets_a_clear_tool_error_and_writes_nothing,
    fifty_concurrent_adds_leave_exactly_fifty_rows,
    tools_are_described_for_the_model,
);
