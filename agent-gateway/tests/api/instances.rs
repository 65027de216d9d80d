//! Several instances: two task servers and two gateways on one PostgreSQL
//! database, and rate limits that hold across gateways (Redis at
//! 127.0.0.1:6379).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_domain::UserId;
use todo_gateway::mcp::{McpConfig, TaskServer};
use todo_server::Caller;
use todo_server::Secret;
use todo_server::trace::TraceContext;
use todo_testkit::{Backend, ServiceProcess, TestDatabase};

use crate::helpers::stack::{MCP_SECRET, gateway_command, start_gateway, start_mcp};
use crate::helpers::{Stack, token};

const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// A user name no earlier run has used (Redis keeps counts between runs).
fn fresh_user(prefix: &str) -> String {
    let n: u64 = rand::random();
    format!("{prefix}-{n:016x}")
}

/// Two task servers and two gateways on one PostgreSQL database; the test
/// spreads requests over them in turn, as a load balancer would.
#[tokio::test]
async fn two_task_servers_and_two_gateways_on_one_database_behave_as_one() {
    let unlimited = [("RATE_LIMIT_PER_MINUTE", "1000")];
    let stack = Stack::start(Backend::Postgres, &unlimited).await;
    let second_mcp = start_mcp(&stack.db, &[]).await;
    let second_gateway = start_gateway(&stack.db, &second_mcp, &stack.model, &unlimited).await;
    stack.model.react();
    let mcps = [&stack.mcp, &second_mcp];
    let gateways = [&stack.gateway, &second_gateway];

    // Many users at once, each continuing one conversation; every message
    // goes to the next gateway in turn.
    const USERS: usize = 12;
    const MESSAGES: usize = 4;
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let runs = (0..USERS).map(|u| {
        let next = next.clone();
        let (stack, gateways) = (&stack, &gateways);
        async move {
            let user = format!("user{u}");
            let mut conversation = Value::Null;
            for m in 0..MESSAGES {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let body =
                    json!({"message": format!("add u{u}-m{m}"), "conversation_id": conversation});
                let (status, reply) = stack.chat_via(gateways[n % 2], &user, body).await;
                assert_eq!(status, StatusCode::OK, "{user} message {m}: {reply}");
                assert_eq!(
                    reply["response"],
                    format!("Done: {}", reply["tool_calls"][0]["result"])
                );
                conversation = reply["conversation_id"].clone();
            }
            (user, conversation.as_i64().expect("a conversation id"))
        }
    });
    let conversations = futures::future::join_all(runs).await;

    for (u, (user, id)) in conversations.iter().enumerate() {
        // The whole conversation, read from either gateway: every message,
        // in order, nothing lost or doubled.
        for gateway in gateways {
            let messages = stack.messages_via(gateway, user, *id).await;
            let asked: Vec<&str> = messages
                .iter()
                .filter(|m| m.role == "user")
                .filter_map(|m| m.content.as_deref())
                .collect();
            let expected: Vec<String> = (0..MESSAGES).map(|m| format!("add u{u}-m{m}")).collect();
            assert_eq!(asked, expected, "{messages:?}");
            let answers = messages
                .iter()
                .filter(|m| m.role == "assistant" && m.raw["tool_calls"].is_null())
                .count();
            assert_eq!(answers, MESSAGES, "{messages:?}");
        }
        // Every task, from either gateway (each reads its own task server).
        for gateway in gateways {
            let (_, body) = stack
                .get_via(gateway, user, &format!("/api/{user}/tasks"))
                .await;
            let mut titles: Vec<&str> = body["tasks"]
                .as_array()
                .expect("tasks")
                .iter()
                .filter_map(|t| t["title"].as_str())
                .collect();
            titles.sort_unstable();
            let expected: Vec<String> = (0..MESSAGES).map(|m| format!("u{u}-m{m}")).collect();
            assert_eq!(titles, expected);
        }
    }

    // A change through one task server is seen through the other and
    // through both gateways at once.
    let clients: Vec<TaskServer> = mcps
        .iter()
        .map(|mcp| {
            TaskServer::new(McpConfig::new(
                format!("http://{}/mcp", mcp.addr),
                Secret::new(MCP_SECRET),
            ))
            .expect("client")
        })
        .collect();
    let user = Caller::new(UserId::parse("user0").expect("user"));
    let trace = TraceContext::generate();
    let listed = clients[1]
        .call(&user, "list_tasks", "{}", &trace)
        .await
        .expect("list");
    let first = listed.structured.expect("structured")["tasks"][0]["id"].clone();
    let done = clients[0]
        .call(
            &user,
            "complete_task",
            &json!({"task_id": first}).to_string(),
            &trace,
        )
        .await
        .expect("complete");
    assert!(!done.is_error, "{}", done.text);
    let seen = clients[1]
        .call(&user, "list_tasks", r#"{"status": "completed"}"#, &trace)
        .await
        .expect("list");
    assert_eq!(
        seen.structured.expect("structured")["tasks"][0]["id"],
        first
    );
    let deleted = clients[1]
        .call(
            &user,
            "delete_task",
            &json!({"task_id": first}).to_string(),
            &trace,
        )
        .await
        .expect("delete");
    assert!(!deleted.is_error, "{}", deleted.text);
    for gateway in gateways {
        let (_, body) = stack.get_via(gateway, "user0", "/api/user0/tasks").await;
        let ids: Vec<&Value> = body["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .map(|t| &t["id"])
            .collect();
        assert_eq!(ids.len(), MESSAGES - 1);
        assert!(!ids.contains(&&first));
    }
    // And users stay apart on every instance.
    let theirs = clients[0]
        .call(
            &Caller::new(UserId::parse("user1").expect("user")),
            "list_tasks",
            "{}",
            &trace,
        )
        .await
        .expect("list");
    let titles = theirs.structured.expect("structured")["tasks"].to_string();
    assert!(
        titles.contains("u1-m0") && !titles.contains("u0-"),
        "{titles}"
    );
}

#[tokio::test]
async fn with_redis_the_eleventh_chat_is_refused_even_across_two_gateways() {
    let _turn = crate::helpers::one_at_a_time().await;
    let redis = [("RATE_LIMIT_BACKEND", "redis"), ("REDIS_URL", REDIS_URL)];
    let stack = Stack::start(Backend::Postgres, &redis).await;
    let other = stack.another_gateway_with(&redis).await;
    stack.model.react();
    let user = fresh_user("rl");
    for n in 0..10 {
        let gateway = if n % 2 == 0 { &stack.gateway } else { &other };
        let response = stack
            .http
            .post(format!("http://{}/api/{user}/chat", gateway.addr))
            .bearer_auth(token(&user))
            .json(&json!({"message": format!("hello {n}")}))
            .send()
            .await
            .expect("chat");
        assert_eq!(response.status(), StatusCode::OK, "request {n}");
        // One budget, whichever instance answers.
        assert_eq!(
            response.headers()["x-ratelimit-remaining"],
            (9 - n).to_string().as_str()
        );
    }
    for gateway in [&stack.gateway, &other] {
        let (status, body) = stack
            .chat_via(gateway, &user, json!({"message": "one too many"}))
            .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["error"], "rate_limited");
    }
    // Another user is not affected; reads have their own budget.
    let (status, _) = stack
        .chat_via(&other, &fresh_user("rl"), json!({"message": "hi"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = stack
        .get(&user, &format!("/api/{user}/conversations"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!stack.gateway.logs().contains("Redis is unreachable"));
}

#[tokio::test]
async fn when_redis_is_unreachable_the_gateway_limits_locally_and_says_so() {
    let _turn = crate::helpers::one_at_a_time().await;
    // Nothing listens on port 1.
    let stack = Stack::start(
        Backend::Sqlite,
        &[
            ("RATE_LIMIT_BACKEND", "redis"),
            ("REDIS_URL", "redis://127.0.0.1:1"),
            ("RATE_LIMIT_PER_MINUTE", "3"),
        ],
    )
    .await;
    stack.model.react();
    let started = tokio::time::Instant::now();
    for n in 0..3 {
        let (status, body) = stack
            .chat("olga", json!({"message": format!("hello {n}")}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, _) = stack.chat("olga", json!({"message": "too many"})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // A dead Redis costs no per-request timeout.
    assert!(started.elapsed() < Duration::from_secs(5));
    let logs = stack.gateway.logs();
    assert_eq!(logs.matches("Redis is unreachable").count(), 1, "{logs}");
}

#[tokio::test]
async fn an_invalid_redis_url_is_refused_at_start() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let mcp = start_mcp(&db, &[]).await;
    let gateway = gateway_command(
        &db,
        &mcp,
        &[
            ("RATE_LIMIT_BACKEND", "redis"),
            ("REDIS_URL", "http://not-redis"),
        ],
    );
    let logs = match ServiceProcess::spawn(gateway, "todo-gateway").await {
        Ok(_) => panic!("a gateway started with an invalid REDIS_URL"),
        Err(logs) => logs,
    };
    assert!(logs.contains("invalid REDIS_URL"), "{logs}");
}
