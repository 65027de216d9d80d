//! Conversations: serialised turns (on one gateway or two sharing a
//! database), pages of conversations and messages, and a turn that outlives
//! its client.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use todo_testkit::{Backend, both_backends};

use crate::helpers::{Reply, Stack, contents, ok, roles, shown, text, token, tool_calls};

/// Two gateway instances on one database: a conversation continues on
/// either, and turns on one conversation sent to both at once are serialised.
async fn two_gateways_share_conversations_and_serialise_their_turns(backend: Backend) {
    let stack = Stack::start(backend, &[]).await;
    let other = stack.another_gateway().await;
    stack.model.script(vec![ok(text("first"))]);
    let (_, body) = stack.chat("mia", json!({"message": "start"})).await;
    let id = body["conversation_id"].as_i64().expect("id");
    let mut slow_a = ok(text("answer A"));
    slow_a.delay = Duration::from_millis(300);
    let mut slow_b = ok(text("answer B"));
    slow_b.delay = Duration::from_millis(300);
    stack
        .model
        .script(vec![slow_a, slow_b, ok(text("three turns so far"))]);
    let (a, b) = tokio::join!(
        stack.chat("mia", json!({"conversation_id": id, "message": "A"})),
        stack.chat_via(
            &other,
            "mia",
            json!({"conversation_id": id, "message": "B"})
        ),
    );
    assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK), "{a:?} {b:?}");
    let (status, body) = stack
        .chat_via(
            &other,
            "mia",
            json!({"conversation_id": id, "message": "How many?"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The last turn, on the second instance, saw everything the first wrote.
    let sent = stack.model.sent(3);
    let seen = contents(&sent);
    assert_eq!(seen.len(), 1 + 6 + 1, "{seen:?}");
    let messages = stack.messages("mia", id).await;
    let stored = contents(&messages);
    assert_eq!(stored.len(), 8, "{stored:?}");
    assert!(
        stored[2..6].chunks(2).all(
            |pair| matches!(pair, [q, r] if (*q == "A" || *q == "B") && r.starts_with("answer"))
        ),
        "each question is directly followed by its own answer: {stored:?}"
    );
}

both_backends!(two_gateways_share_conversations_and_serialise_their_turns);

#[tokio::test]
async fn concurrent_turns_on_one_conversation_are_serialised() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    stack.model.script(vec![ok(text("first"))]);
    let (_, body) = stack.chat("liam", json!({"message": "start"})).await;
    let id = body["conversation_id"].as_i64().expect("id");
    // Two slow answers: if the turns interleaved, a history would miss a message.
    let mut slow_a = ok(text("answer A"));
    slow_a.delay = Duration::from_millis(300);
    let mut slow_b = ok(text("answer B"));
    slow_b.delay = Duration::from_millis(300);
    stack.model.script(vec![slow_a, slow_b]);
    let (a, b) = tokio::join!(
        stack.chat("liam", json!({"conversation_id": id, "message": "A"})),
        stack.chat("liam", json!({"conversation_id": id, "message": "B"})),
    );
    assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK));
    let messages = stack.messages("liam", id).await;
    let contents = contents(&messages);
    assert_eq!(contents.len(), 6);
    // Each user message is directly followed by its own answer.
    assert!(
        contents[2..].chunks(2).all(
            |pair| matches!(pair, [q, r] if (q == &"A" || q == &"B") && r.starts_with("answer"))
        ),
        "{contents:?}"
    );
    // The second turn's model saw the whole first turn.
    assert_eq!(
        stack.model.sent(2).len(),
        1 + 5,
        "system + start, first, A|B, answer, B|A"
    );
}

/// Pages of conversations and of messages; a page never splits a step, and a
/// model that reuses call ids from turn to turn gets each result shown with
/// its own call.
#[tokio::test]
async fn conversations_and_messages_come_in_pages() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    stack.model.script(vec![
        ok(tool_calls(&[
            ("call_0", "add_task", json!({"title": "a"})),
            ("call_1", "add_task", json!({"title": "b"})),
        ])),
        ok(text("Added a and b.")),
        ok(tool_calls(&[(
            "call_0",
            "complete_task",
            json!({"task_id": 1}),
        )])),
        ok(text("Completed a.")),
        ok(text("second")),
        ok(text("third")),
    ]);
    let (_, body) = stack.chat("quinn", json!({"message": "Add a and b"})).await;
    let id = body["conversation_id"].as_i64().expect("id");
    let (status, _) = stack
        .chat(
            "quinn",
            json!({"conversation_id": id, "message": "Complete a"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let mut messages = Vec::new();
    let mut after = None::<i64>;
    let mut pages = 0;
    loop {
        let query = match after {
            Some(a) => format!("?limit=2&after={a}"),
            None => "?limit=2".to_owned(),
        };
        let (status, page) = stack
            .get("quinn", &format!("/api/quinn/conversations/{id}{query}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        messages.extend(shown(&page));
        match page["next_after"].as_i64() {
            Some(next) => after = Some(next),
            None => break,
        }
        assert!(pages < 10, "pages never end");
    }
    let contents: Vec<&str> = messages
        .iter()
        .map(|m| m.content.as_deref().unwrap_or("(calls)"))
        .collect();
    assert_eq!(
        contents,
        [
            "Add a and b",
            "(calls)",
            "Added a and b.",
            "Complete a",
            "(calls)",
            "Completed a."
        ]
    );
    let first_step = messages[1].raw["tool_calls"].as_array().expect("calls");
    assert_eq!(
        first_step.len(),
        2,
        "the page was not split inside the step"
    );
    assert_eq!(first_step[1]["result"]["title"], "b");
    let second_step = &messages[4].raw["tool_calls"][0];
    assert_eq!(second_step["name"], "complete_task");
    assert_eq!(
        second_step["result"]["completed"], true,
        "call_0 of the second turn shows its own result: {second_step}"
    );

    for message in ["another", "and another"] {
        let (status, _) = stack.chat("quinn", json!({"message": message})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, first) = stack.get("quinn", "/api/quinn/conversations?limit=2").await;
    let titles: Vec<&str> = first["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["title"].as_str())
        .collect();
    assert_eq!(titles, ["and another", "another"], "newest first");
    let next = first["next_after"].as_i64().expect("a next page");
    let (_, second) = stack
        .get(
            "quinn",
            &format!("/api/quinn/conversations?limit=2&after={next}"),
        )
        .await;
    assert_eq!(second["conversations"][0]["title"], "Add a and b");
    assert_eq!(second["conversations"].as_array().map(Vec::len), Some(1));
    assert!(second["next_after"].is_null());
    let (status, body) = stack.get("quinn", "/api/quinn/conversations?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// A client that hangs up on a plain (not streamed) chat request: the turn
/// still completes, is stored, and gives its lease back at once (it used to
/// be dropped half-way, its lease left taken until it expired).
#[tokio::test]
async fn a_plain_turn_whose_client_hangs_up_still_completes() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    let mut slow = ok(text("Added “call the bank”."));
    slow.delay = Duration::from_millis(1500);
    stack.model.script(vec![
        ok(tool_calls(&[(
            "1",
            "add_task",
            json!({"title": "call the bank"}),
        )])),
        slow,
        ok(text("Yes, it's there.")),
    ]);
    let hung_up = stack
        .http
        .post(stack.url("/api/rosa/chat"))
        .bearer_auth(token("rosa"))
        .timeout(Duration::from_millis(500))
        .json(&json!({"message": "Add call the bank"}))
        .send()
        .await;
    assert!(hung_up.is_err(), "the client gave up before the answer");

    // The conversation appears (the user's message is stored first), then
    // its answer.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let id = loop {
        if let Some(&id) = stack.conversation_ids("rosa").await.first() {
            break id;
        }
        assert!(tokio::time::Instant::now() < deadline, "never stored");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let answer = stack.final_answer("rosa", id).await;
    assert_eq!(answer.content.as_deref(), Some("Added “call the bank”."));
    assert_eq!(
        stack.tasks("rosa").await,
        [("call the bank".to_owned(), false)]
    );
    let started = std::time::Instant::now();
    let (status, body) = stack
        .chat(
            "rosa",
            json!({"conversation_id": id, "message": "Is it there?"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the lease was given back"
    );
}

/// A conversation whose turn is still running cannot be deleted under it
/// (409, as the OpenAPI document says); once the turn is stored, it can.
#[tokio::test]
async fn deleting_a_conversation_while_its_turn_runs_is_a_409() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    stack.model.script(vec![ok(text("First."))]);
    let (_, body) = stack.chat("vera", json!({"message": "Hello"})).await;
    let id = body["conversation_id"].as_i64().expect("id");
    stack.model.script(vec![Reply {
        delay: Duration::from_millis(1_500),
        ..ok(text("Slow."))
    }]);
    let turn = stack.chat_in_background("vera", json!({"conversation_id": id, "message": "Again"}));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let path = format!("/api/vera/conversations/{id}");
    assert_eq!(stack.delete("vera", &path).await, StatusCode::CONFLICT);
    assert_eq!(turn.await.expect("turn"), StatusCode::OK);
    assert_eq!(
        roles(&stack.messages("vera", id).await),
        ["user", "assistant", "user", "assistant"],
        "the turn was stored whole"
    );
    assert_eq!(stack.delete("vera", &path).await, StatusCode::NO_CONTENT);
}
