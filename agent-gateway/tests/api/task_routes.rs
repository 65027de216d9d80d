//! The task routes of the web panel: add, list with filters, change, tick
//! off, delete, over the real task server; bad input is a 422 naming the
//! field, another user's task a 404, and nothing is written.

use reqwest::{Method, StatusCode};
use serde_json::json;
use todo_testkit::{Backend, both_backends};

use crate::helpers::Stack;

async fn the_panel_routes_add_list_change_and_delete(backend: Backend) {
    let stack = Stack::start(backend, &[]).await;
    let (status, rent) = stack.send(Method::POST, "alice", "/api/alice/tasks",
        Some(json!({"title": "Pay rent", "due": "2027-01-31", "priority": "high", "tags": ["Home"], "recurrence": "FREQ=MONTHLY;BYMONTHDAY=31"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rent}");
    assert_eq!(
        (
            rent["title"].clone(),
            rent["due"].clone(),
            rent["tags"].clone(),
            rent["priority"].clone()
        ),
        (
            json!("Pay rent"),
            json!("2027-01-31"),
            json!(["home"]),
            json!("high")
        )
    );
    let id = rent["id"].as_i64().expect("id");
    let (status, milk) = stack
        .send(
            Method::POST,
            "alice",
            "/api/alice/tasks",
            Some(json!({"title": "Buy milk"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{milk}");

    // Tick off a repeating task: it moves to its next occurrence.
    let (status, ticked) = stack
        .send(
            Method::PATCH,
            "alice",
            &format!("/api/alice/tasks/{id}"),
            Some(json!({"completed": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ticked}");
    assert_eq!(
        (ticked["due"].clone(), ticked["completed"].clone()),
        (json!("2027-03-31"), json!(false))
    );
    // Edit inline: title, due, tags; clear the repeat.
    let (status, edited) = stack.send(Method::PATCH, "alice", &format!("/api/alice/tasks/{id}"),
        Some(json!({"title": "Pay the rent", "due": "2027-04-01", "recurrence": null, "add_tags": ["money"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(
        (
            edited["title"].clone(),
            edited["recurrence"].clone(),
            edited["tags"].clone()
        ),
        (json!("Pay the rent"), json!(null), json!(["home", "money"]))
    );

    let (status, listed) = stack
        .get(
            "alice",
            "/api/alice/tasks?tags=money&sort=due&priority=high&query=",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(
        listed["tasks"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    let (_, searched) = stack.get("alice", "/api/alice/tasks?query=MILK").await;
    assert_eq!(searched["tasks"][0]["title"], "Buy milk");
    let (_, first) = stack
        .get("alice", "/api/alice/tasks?limit=1&sort=due")
        .await;
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let (_, second) = stack
        .get(
            "alice",
            &format!("/api/alice/tasks?limit=1&sort=due&cursor={cursor}"),
        )
        .await;
    assert_eq!(
        (
            first["tasks"][0]["title"].clone(),
            second["tasks"][0]["title"].clone()
        ),
        (json!("Pay the rent"), json!("Buy milk"))
    );

    // Bad input: a 422 naming the field and the accepted form; nothing written.
    let bad = [
        (
            Method::POST,
            "/api/alice/tasks".to_owned(),
            json!({"title": "x", "due": "tomorrow"}),
            "due must be a date like 2026-12-24",
        ),
        (
            Method::POST,
            "/api/alice/tasks".to_owned(),
            json!({"title": "x", "recurrence": "FREQ=DAILY"}),
            "recurrence needs a due date",
        ),
        (
            Method::POST,
            "/api/alice/tasks".to_owned(),
            json!({"title": "x", "priority": "urgent"}),
            "priority must be",
        ),
        (
            Method::PATCH,
            format!("/api/alice/tasks/{id}"),
            json!({"tags": ["a"], "add_tags": ["b"]}),
            "give either tags",
        ),
        (
            Method::PATCH,
            format!("/api/alice/tasks/{id}"),
            json!({}),
            "give at least one field",
        ),
    ];
    for (method, path, body, expected) in bad {
        let (status, answer) = stack
            .send(method.clone(), "alice", &path, Some(body.clone()))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {path} {body}: {answer}"
        );
        assert!(
            answer["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with(expected),
            "{answer}"
        );
    }
    let (status, answer) = stack
        .get("alice", "/api/alice/tasks?sort=alphabetical")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let (status, answer) = stack.get("alice", "/api/alice/tasks?due_before=soon").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let (_, all) = stack.get("alice", "/api/alice/tasks").await;
    assert_eq!(
        all["tasks"].as_array().map(Vec::len),
        Some(2),
        "nothing added: {all}"
    );

    // Another user's task is not found, to change or to delete.
    let (status, _) = stack
        .send(
            Method::PATCH,
            "bob",
            &format!("/api/bob/tasks/{id}"),
            Some(json!({"title": "mine"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = stack
        .send(Method::DELETE, "bob", &format!("/api/bob/tasks/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, deleted) = stack
        .send(
            Method::DELETE,
            "alice",
            &format!("/api/alice/tasks/{id}"),
            None,
        )
        .await;
    assert_eq!(
        (status, deleted["title"].clone()),
        (StatusCode::OK, json!("Pay the rent"))
    );
    let (status, _) = stack
        .send(
            Method::DELETE,
            "alice",
            &format!("/api/alice/tasks/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(stack.tasks("alice").await, [("Buy milk".to_owned(), false)]);
}

both_backends!(the_panel_routes_add_list_change_and_delete);
