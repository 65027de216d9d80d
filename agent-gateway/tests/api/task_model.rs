//! What people say to a task assistant, through the gateway with the
//! scripted model and the real task server: repeating tasks, "what's due
//! this week", "what's overdue", moving tasks, tagging, searching; and the
//! user's time zone, from the chat request to the system prompt and to the
//! task server's "overdue".

use chrono::{Days, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_domain::Zone;
use todo_testkit::{Backend, both_backends};

use crate::helpers::{Stack, ok, text, tool_calls};

/// One turn: the model calls `tool` with `arguments`, then answers. The
/// tool's result.
async fn turn(stack: &Stack, said: &str, tool: &str, arguments: Value) -> Value {
    stack.model.script(vec![
        ok(tool_calls(&[("call-1", tool, arguments.clone())])),
        ok(text("Done.")),
    ]);
    let (status, body) = stack
        .chat(
            "alice",
            json!({"message": said, "timezone": "Europe/Paris"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{said}: {body}");
    let call = &body["tool_calls"][0];
    assert_eq!(
        call["is_error"], false,
        "{said}: {tool} {arguments}: {call}"
    );
    call["result"].clone()
}

fn titles(result: &Value) -> Vec<String> {
    result["tasks"]
        .as_array()
        .map(|tasks| {
            tasks
                .iter()
                .filter_map(|t| t["title"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn the_assistant_handles_what_people_say(backend: Backend) {
    // A dozen turns, more than a minute's default allowance.
    let stack = Stack::start(backend, &[("RATE_LIMIT_PER_MINUTE", "1000")]).await;
    let paris = Zone::parse("Europe/Paris").expect("zone");
    let today = paris.date_at(Utc::now());
    let day = |n: u64| (today + Days::new(n)).format("%Y-%m-%d").to_string();
    let yesterday = (today - Days::new(1)).format("%Y-%m-%d").to_string();

    let rent = turn(
        &stack,
        "remind me to pay rent on the 1st of every month",
        "add_task",
        json!({"title": "Pay rent", "due": "2027-01-01", "recurrence": "FREQ=MONTHLY;BYMONTHDAY=1", "tags": ["home"]}),
    )
    .await;
    assert_eq!(
        (rent["due"].as_str(), rent["recurrence"].as_str()),
        (Some("2027-01-01"), Some("FREQ=MONTHLY;BYMONTHDAY=1"))
    );
    let added = turn(
        &stack,
        "I need to buy milk today, call mom tomorrow, and I forgot to renew my passport yesterday",
        "add_tasks",
        json!({"tasks": [
            {"title": "Buy milk", "due": day(0)},
            {"title": "Call mom", "due": day(1), "priority": "high"},
            {"title": "Renew passport", "due": yesterday},
            {"title": "Water the plants", "due": day(0)},
        ]}),
    )
    .await;
    let ids: Vec<i64> = added["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["task_id"].as_i64())
        .collect();
    assert_eq!(ids.len(), 4);

    let this_week = turn(
        &stack,
        "what's due this week?",
        "list_tasks",
        json!({"due_before": day(6), "status": "pending", "sort": "due"}),
    )
    .await;
    assert_eq!(
        titles(&this_week),
        ["Renew passport", "Buy milk", "Water the plants", "Call mom"]
    );
    let overdue = turn(
        &stack,
        "what's overdue?",
        "list_tasks",
        json!({"overdue": true}),
    )
    .await;
    assert_eq!(titles(&overdue), ["Renew passport"]);

    let due_today = turn(
        &stack,
        "move everything due today to tomorrow",
        "list_tasks",
        json!({"due_after": day(0), "due_before": day(0)}),
    )
    .await;
    let today_ids: Vec<i64> = due_today["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["id"].as_i64())
        .collect();
    assert_eq!(today_ids.len(), 2, "{due_today}");
    let moved = turn(
        &stack,
        "yes, move them",
        "update_task",
        json!({"task_ids": today_ids, "due": day(1)}),
    )
    .await;
    assert!(
        moved["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .all(|t| t["due"] == day(1)),
        "{moved}"
    );

    let paid = turn(
        &stack,
        "mark rent paid",
        "complete_task",
        json!({"task_id": rent["task_id"]}),
    )
    .await;
    assert_eq!(
        (
            paid["recurred"].as_bool(),
            paid["due"].as_str(),
            paid["completed"].as_bool()
        ),
        (Some(true), Some("2027-02-01"), Some(false))
    );

    let tagged = turn(
        &stack,
        "tag call mom as family",
        "update_task",
        json!({"task_id": ids[1], "add_tags": ["Family"]}),
    )
    .await;
    assert_eq!(tagged["tags"], json!(["family"]));
    let found = turn(
        &stack,
        "find the passport one",
        "list_tasks",
        json!({"query": "PASSPORT"}),
    )
    .await;
    assert_eq!(titles(&found), ["Renew passport"]);
    let urgent_family = turn(
        &stack,
        "show my urgent family tasks",
        "list_tasks",
        json!({"tags": ["family"], "priority": "high"}),
    )
    .await;
    assert_eq!(titles(&urgent_family), ["Call mom"]);

    // A bad date comes back to the model as a tool error it can act on.
    stack.model.script(vec![
        ok(tool_calls(&[(
            "call-1",
            "add_task",
            json!({"title": "x", "due": "next friday"}),
        )])),
        ok(text("Sorry.")),
    ]);
    let (_, body) = stack
        .chat("alice", json!({"message": "add x next friday"}))
        .await;
    assert_eq!(body["tool_calls"][0]["is_error"], true, "{body}");
    assert!(body["tool_calls"][0]["result"].as_str().unwrap_or_default().starts_with(
        "due must be a date like 2026-12-24 or a date-time with offset like 2026-12-24T09:00:00+01:00"
    ), "{body}");
}

/// The same instant in Auckland and in Los Angeles: the system prompt
/// names each zone's own date, and the task server reads "overdue" in each.
async fn the_users_zone_reaches_the_prompt_and_the_task_server(backend: Backend) {
    let stack = Stack::start(backend, &[]).await;
    let zones = ["Pacific/Auckland", "America/Los_Angeles"];
    let la_today = Zone::parse(zones[1]).expect("zone").date_at(Utc::now());
    let due = la_today.format("%Y-%m-%d").to_string();
    stack.model.script(vec![
        ok(tool_calls(&[(
            "call-1",
            "add_task",
            json!({"title": "due in LA today", "due": due}),
        )])),
        ok(text("Added.")),
    ]);
    let (status, _) = stack
        .chat("alice", json!({"message": "add it", "timezone": zones[1]}))
        .await;
    assert_eq!(status, StatusCode::OK);

    for (n, zone_name) in zones.iter().enumerate() {
        let zone = Zone::parse(zone_name).expect("zone");
        let before = zone.date_at(Utc::now());
        stack.model.script(vec![
            ok(tool_calls(&[(
                "call-1",
                "list_tasks",
                json!({"overdue": true}),
            )])),
            ok(text("Here.")),
        ]);
        let (status, body) = stack
            .chat(
                "alice",
                json!({"message": "what's overdue?", "timezone": zone_name}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let after = zone.date_at(Utc::now());
        let prompt = stack.model.sent(2 + 2 * n)[0]
            .content
            .clone()
            .unwrap_or_default();
        let dated = [before, after]
            .iter()
            .any(|d| prompt.contains(&d.format("%A %-d %B %Y").to_string()));
        assert!(dated && prompt.contains(zone_name), "{zone_name}: {prompt}");
        let overdue = titles(&body["tool_calls"][0]["result"]);
        // Overdue in a zone whose date is already past LA's.
        let expected: Vec<String> = if after > la_today {
            vec!["due in LA today".into()]
        } else {
            vec![]
        };
        assert_eq!(overdue, expected, "{zone_name}");
    }
    let (status, body) = stack
        .chat(
            "alice",
            json!({"message": "hi", "timezone": "Mars/Olympus"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("timezone must be an IANA time zone name"),
        "{body}"
    );
}

both_backends!(
    the_assistant_handles_what_people_say,
    the_users_zone_reaches_the_prompt_and_the_task_server,
);
