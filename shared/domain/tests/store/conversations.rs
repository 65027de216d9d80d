//! Conversations and their messages.

use std::time::Duration;

use todo_domain::Error;
use todo_domain::conversation::{self, ConversationId, Hold, MessageBody, MessageText, Role};
use todo_testkit::Backend;
use todo_testkit::both_backends;

use crate::helpers::{open, user};

fn text(raw: &str) -> MessageText {
    MessageText::parse(raw).expect("message")
}

fn id(conversation: &conversation::Conversation) -> ConversationId {
    ConversationId::parse(conversation.id).expect("id")
}

async fn a_turn_is_stored_and_replayed_in_order(backend: Backend) {
    let (_db, store) = open(backend).await;
    let alice = user("alice");
    let first = text("Add a task to buy milk");
    let (started, message) = conversation::start(&store, &alice, &first, None)
        .await
        .expect("start");
    assert_eq!(started.title, "Add a task to buy milk");
    assert_eq!(
        (message.body.role, message.body.content.as_deref()),
        (Role::User, Some("Add a task to buy milk")),
        "the first message is stored with the conversation"
    );
    let cid = id(&started);
    let calls = r#"[{"id":"c1","type":"function","function":{"name":"add_task","arguments":"{\"title\":\"buy milk\"}"},"extra_content":{"google":{"thought_signature":"sig"}}}]"#;
    let stored = conversation::append(
        &store,
        &alice,
        cid,
        &[
            MessageBody::assistant(None, Some(calls.to_owned())),
            MessageBody::tool(
                "c1".into(),
                "add_task".into(),
                r#"{"task_id":1}"#.into(),
                false,
            ),
            MessageBody::assistant(Some("Added “buy milk”.".into()), None),
        ],
        Hold::Keep,
    )
    .await
    .expect("turn");
    assert_eq!(
        stored.iter().map(|m| m.body.role).collect::<Vec<_>>(),
        [Role::Assistant, Role::Tool, Role::Assistant],
        "one insert of several messages keeps their order"
    );
    let history = conversation::recent(&store, &alice, cid, None, 20)
        .await
        .expect("history");
    let roles: Vec<Role> = history.iter().map(|m| m.body.role).collect();
    assert_eq!(
        roles,
        [Role::User, Role::Assistant, Role::Tool, Role::Assistant]
    );
    assert_eq!(
        history[1].body.tool_calls.as_deref(),
        Some(calls),
        "tool calls stored byte for byte"
    );
    assert_eq!(
        (
            history[2].body.tool_name.as_deref(),
            history[2].body.is_error
        ),
        (Some("add_task"), Some(false))
    );
    let last_two = conversation::recent(&store, &alice, cid, None, 2)
        .await
        .expect("window");
    assert_eq!(
        last_two.iter().map(|m| m.id).collect::<Vec<_>>(),
        [history[2].id, history[3].id]
    );
    let before_the_answer = conversation::recent(&store, &alice, cid, Some(history[3].id), 2)
        .await
        .expect("window");
    assert_eq!(
        before_the_answer.iter().map(|m| m.id).collect::<Vec<_>>(),
        [history[1].id, history[2].id]
    );
    let page = conversation::page(&store, &alice, cid, history[0].id, 2)
        .await
        .expect("page");
    assert_eq!(
        page.iter().map(|m| m.id).collect::<Vec<_>>(),
        [history[1].id, history[2].id]
    );
    let touched = conversation::get(&store, &alice, cid).await.expect("get");
    assert!(touched.updated_at >= started.updated_at);
    store.close().await;
}

async fn another_users_conversation_is_missing_everywhere(backend: Backend) {
    let (_db, store) = open(backend).await;
    let (alice, bob) = (user("alice"), user("bob"));
    let (hers, _) = conversation::start(&store, &alice, &text("secret plans"), None)
        .await
        .expect("start");
    let cid = id(&hers);
    let not_found = |r: Result<(), Error>| {
        matches!(
            r,
            Err(Error::NotFound {
                what: "Conversation",
                ..
            })
        )
    };
    assert!(not_found(
        conversation::get(&store, &bob, cid).await.map(drop)
    ));
    for hold in [
        Hold::Keep,
        Hold::Take("bob-turn", Duration::from_secs(30)),
        Hold::Renew("bob-turn", Duration::from_secs(30)),
        Hold::Release("bob-turn"),
    ] {
        assert!(not_found(
            conversation::append(&store, &bob, cid, &[MessageBody::user(&text("hi"))], hold)
                .await
                .map(drop)
        ));
    }
    assert!(not_found(conversation::delete(&store, &bob, cid).await));
    assert_eq!(
        conversation::recent(&store, &bob, cid, None, 20)
            .await
            .expect("empty")
            .len(),
        0
    );
    assert_eq!(
        conversation::page(&store, &bob, cid, 0, 20)
            .await
            .expect("empty")
            .len(),
        0
    );
    assert!(
        conversation::list(&store, &bob, 50, None)
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(
        conversation::recent(&store, &alice, cid, None, 20)
            .await
            .expect("hers")
            .len(),
        1,
        "nothing of bob's got in"
    );
    store.close().await;
}

async fn deleting_a_conversation_deletes_its_messages(backend: Backend) {
    let (_db, store) = open(backend).await;
    let alice = user("alice");
    let (c, _) = conversation::start(&store, &alice, &text("to delete"), None)
        .await
        .expect("start");
    conversation::delete(&store, &alice, id(&c))
        .await
        .expect("delete");
    assert!(matches!(
        conversation::get(&store, &alice, id(&c)).await,
        Err(Error::NotFound { .. })
    ));
    assert!(
        conversation::recent(&store, &alice, id(&c), None, 20)
            .await
            .expect("none")
            .is_empty()
    );
    store.close().await;
}

async fn a_conversation_whose_turn_runs_is_not_deleted(backend: Backend) {
    let (_db, store) = open(backend).await;
    let alice = user("alice");
    let (c, _) = conversation::start(
        &store,
        &alice,
        &text("busy"),
        Some(("turn-a", Duration::from_secs(30))),
    )
    .await
    .expect("start");
    assert!(matches!(
        conversation::delete(&store, &alice, id(&c)).await,
        Err(Error::Conflict(_))
    ));
    assert!(
        conversation::get(&store, &alice, id(&c)).await.is_ok(),
        "still there"
    );
    // Once the turn gives the lease back (or it expires), it goes.
    conversation::release_lease(&store, id(&c), "turn-a")
        .await
        .expect("release");
    conversation::delete(&store, &alice, id(&c))
        .await
        .expect("delete");
    let (expired, _) = conversation::start(
        &store,
        &alice,
        &text("crashed turn"),
        Some(("turn-b", Duration::from_millis(1))),
    )
    .await
    .expect("start");
    tokio::time::sleep(Duration::from_millis(20)).await;
    conversation::delete(&store, &alice, id(&expired))
        .await
        .expect("an expired lease does not hold");
    store.close().await;
}

async fn conversations_list_most_recently_active_first_in_pages(backend: Backend) {
    let (_db, store) = open(backend).await;
    let alice = user("alice");
    let mut started = Vec::new();
    for n in 0..5 {
        started.push(
            conversation::start(&store, &alice, &text(&format!("conversation {n}")), None)
                .await
                .expect("start")
                .0,
        );
    }
    // Activity in the oldest moves it to the front.
    conversation::append(
        &store,
        &alice,
        id(&started[0]),
        &[MessageBody::user(&text("again"))],
        Hold::Keep,
    )
    .await
    .expect("append");
    let first = conversation::list(&store, &alice, 3, None)
        .await
        .expect("page 1");
    let second = conversation::list(&store, &alice, 3, first.last())
        .await
        .expect("page 2");
    let order: Vec<i64> = first.iter().chain(&second).map(|c| c.id).collect();
    let expected: Vec<i64> = [0, 4, 3, 2, 1].iter().map(|&n| started[n].id).collect();
    assert_eq!(order, expected);
    store.close().await;
}

async fn a_lease_serialises_turns_and_expires(backend: Backend) {
    let (_db, store) = open(backend).await;
    let alice = user("alice");
    let (c, _) = conversation::start(&store, &alice, &text("busy"), None)
        .await
        .expect("start");
    let cid = id(&c);
    // A turn takes the lease by storing its user message.
    let take = |owner: &'static str, ms: u64| {
        let (store, alice) = (store.clone(), alice.clone());
        async move {
            match conversation::append(
                &store,
                &alice,
                cid,
                &[MessageBody::user(&text(owner))],
                Hold::Take(owner, Duration::from_millis(ms)),
            )
            .await
            {
                Ok(_) => "taken",
                Err(Error::Conflict(_)) => "busy",
                Err(other) => panic!("{other}"),
            }
        }
    };
    assert_eq!(take("turn-a", 30_000).await, "taken");
    assert_eq!(take("turn-b", 30_000).await, "busy");
    assert_eq!(
        take("turn-a", 30_000).await,
        "taken",
        "the holder may renew"
    );
    conversation::release_lease(&store, cid, "turn-b")
        .await
        .expect("not the owner: no effect");
    assert_eq!(take("turn-b", 30_000).await, "busy");
    conversation::release_lease(&store, cid, "turn-a")
        .await
        .expect("release");
    assert_eq!(take("turn-b", 1).await, "taken");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        take("turn-c", 30_000).await,
        "taken",
        "an expired lease is taken over"
    );
    let contents: Vec<String> = conversation::recent(&store, &alice, cid, None, 20)
        .await
        .expect("history")
        .into_iter()
        .filter_map(|m| m.body.content)
        .collect();
    assert_eq!(
        contents,
        ["busy", "turn-a", "turn-a", "turn-b", "turn-c"],
        "a busy take stores nothing"
    );
    store.close().await;
}

async fn a_turn_can_start_with_the_lease_renew_it_and_give_it_back_with_its_answer(
    backend: Backend,
) {
    let (_db, store) = open(backend).await;
    let alice = user("alice");
    let (c, _) = conversation::start(
        &store,
        &alice,
        &text("hello"),
        Some(("turn-a", Duration::from_secs(30))),
    )
    .await
    .expect("start");
    let cid = id(&c);
    let from_b = [MessageBody::user(&text("from b"))];
    let take_b = || {
        conversation::append(
            &store,
            &alice,
            cid,
            &from_b,
            Hold::Take("turn-b", Duration::from_secs(30)),
        )
    };
    assert!(
        matches!(take_b().await, Err(Error::Conflict(_))),
        "the starting turn holds it"
    );
    // Someone else's renew or release is refused and stores nothing: a
    // turn that lost its lease learns it instead of writing on.
    let stray = [MessageBody::assistant(Some("stray".into()), None)];
    let renewed = conversation::append(
        &store,
        &alice,
        cid,
        &stray,
        Hold::Renew("turn-b", Duration::from_millis(1)),
    )
    .await;
    assert!(matches!(renewed, Err(Error::Conflict(_))), "{renewed:?}");
    let released = conversation::append(&store, &alice, cid, &stray, Hold::Release("turn-b")).await;
    assert!(matches!(released, Err(Error::Conflict(_))), "{released:?}");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(matches!(take_b().await, Err(Error::Conflict(_))));
    // The holder's renew keeps it; its answer gives it back.
    conversation::append(
        &store,
        &alice,
        cid,
        &[MessageBody::assistant(None, Some("[]".into()))],
        Hold::Renew("turn-a", Duration::from_secs(30)),
    )
    .await
    .expect("step");
    assert!(matches!(take_b().await, Err(Error::Conflict(_))));
    conversation::append(
        &store,
        &alice,
        cid,
        &[MessageBody::assistant(Some("hi".into()), None)],
        Hold::Release("turn-a"),
    )
    .await
    .expect("answer");
    assert_eq!(take_b().await.map(|m| m.len()).ok(), Some(1));
    // hello, the step, the answer, b's message: nothing stray.
    assert_eq!(
        conversation::recent(&store, &alice, cid, None, 10)
            .await
            .expect("history")
            .len(),
        4
    );
    store.close().await;
}

both_backends!(
    a_turn_can_start_with_the_lease_renew_it_and_give_it_back_with_its_answer,
    a_turn_is_stored_and_replayed_in_order,
    another_users_conversation_is_missing_everywhere,
    deleting_a_conversation_deletes_its_messages,
    a_conversation_whose_turn_runs_is_not_deleted,
    conversations_list_most_recently_active_first_in_pages,
    a_lease_serialises_turns_and_expires,
);
