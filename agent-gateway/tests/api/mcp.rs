//! The gateway's MCP client against the real `todo-mcp` binary over HTTP.

use std::time::Duration;

use serde_json::json;
use todo_domain::UserId;
use todo_gateway::mcp::{McpConfig, McpError, TaskServer, function_definitions};
use todo_server::Caller;
use todo_server::Secret;
use todo_server::trace::TraceContext;
use todo_testkit::TestDatabase;

use crate::helpers::stack::{MCP_SECRET, start_mcp, start_mcp_at};

fn gateway(addr: std::net::SocketAddr) -> TaskServer {
    let mut config = McpConfig::new(format!("http://{addr}/mcp"), Secret::new(MCP_SECRET));
    config.tool_timeout = Duration::from_secs(5);
    TaskServer::new(config).expect("client")
}

fn user(id: &str) -> Caller {
    Caller::new(UserId::parse(id).expect("user"))
}

#[tokio::test]
async fn tools_become_function_definitions_and_calls_act_for_the_user() {
    let db = TestDatabase::sqlite();
    let server = start_mcp(&db, &[]).await;
    let tasks = gateway(server.addr);
    let (alice, bob) = (user("alice"), user("bob"));

    let tools = tasks.tools(&alice).await.expect("tools");
    let functions = function_definitions(&tools);
    let names: Vec<&str> = functions.iter().map(|f| f.function.name.as_str()).collect();
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
    assert_eq!(
        functions[0].function.parameters["properties"]["title"]["type"],
        "string"
    );

    let added = tasks
        .call(
            &alice,
            "add_task",
            r#"{"title":"buy milk"}"#,
            &TraceContext::generate(),
        )
        .await
        .expect("call");
    assert!(!added.is_error);
    assert_eq!(
        added.structured.as_ref().map(|s| s["title"].clone()),
        Some(json!("buy milk"))
    );
    let theirs = tasks
        .call(&bob, "list_tasks", "{}", &TraceContext::generate())
        .await
        .expect("call");
    assert_eq!(
        theirs.structured.map(|s| s["tasks"].clone()),
        Some(json!([])),
        "the minted token is bob's"
    );

    let missing = tasks
        .call(
            &alice,
            "complete_task",
            r#"{"task_id": 999}"#,
            &TraceContext::generate(),
        )
        .await
        .expect("call");
    assert!(missing.is_error);
    assert_eq!(missing.text, "Task 999 not found");
    let garbage = tasks
        .call(&alice, "add_task", "not json", &TraceContext::generate())
        .await
        .expect("no call made");
    assert!(garbage.is_error && garbage.text.contains("JSON object"));
    let unknown = tasks
        .call(&alice, "drop_tables", "{}", &TraceContext::generate())
        .await
        .expect("protocol error relayed");
    assert!(unknown.is_error);
}

#[tokio::test]
async fn a_restarted_task_server_is_reached_again_and_a_dead_one_is_unavailable() {
    let db = TestDatabase::sqlite();
    let mut server = start_mcp(&db, &[]).await;
    let addr = server.addr;
    let tasks = gateway(addr);
    let alice = user("alice");
    tasks
        .call(
            &alice,
            "add_task",
            r#"{"title":"before restart"}"#,
            &TraceContext::generate(),
        )
        .await
        .expect("call");

    server.child.kill().await.expect("kill");
    let _ = server.child.wait().await;
    let down = tasks
        .call(&alice, "list_tasks", "{}", &TraceContext::generate())
        .await;
    assert!(matches!(down, Err(McpError::Unavailable(_))), "{down:?}");

    let _restarted = start_mcp_at(&db, &addr.to_string(), &[]).await;
    let listed = tasks
        .call(&alice, "list_tasks", "{}", &TraceContext::generate())
        .await
        .expect("reached again");
    assert_eq!(
        listed.structured.map(|s| s["tasks"][0]["title"].clone()),
        Some(json!("before restart"))
    );
}
