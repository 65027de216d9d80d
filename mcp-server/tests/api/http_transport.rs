//! The HTTP front door: probes, metadata, DNS-rebinding protection, limits,
//! statelessness and shutdown.

use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_testkit::{Backend, TestDatabase};

use crate::helpers::*;
use todo_testkit::both_backends;

fn rpc(id: i64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// A 2026-07-28 request: no handshake, protocol metadata in `_meta`.
fn current_call(id: i64, tool: &str, arguments: Value) -> Value {
    rpc(
        id,
        "tools/call",
        json!({
            "name": tool,
            "arguments": arguments,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientInfo": {"name": "raw-test", "version": "1"},
                "io.modelcontextprotocol/clientCapabilities": {}
            }
        }),
    )
}

async fn post(url: &str, token: &str, body: &Value, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28");
    // SEP-2243 routing headers, required from 2026-07-28 on.
    if let Some(method) = body["method"].as_str() {
        request = request.header("mcp-method", method);
    }
    if let Some(name) = body["params"]["name"].as_str() {
        request = request.header("mcp-name", name);
    }
    let mut request = request.json(body);
    for (k, v) in extra {
        request = request.header(*k, *v);
    }
    request.send().await.expect("request")
}

#[tokio::test]
async fn health_ready_and_protected_resource_metadata() {
    let db = TestDatabase::sqlite();
    let server = HttpServer::start(&db, &[], &[]).await;
    let health = reqwest::get(format!("{}/health", server.base()))
        .await
        .expect("health");
    assert_eq!(health.status(), StatusCode::OK);
    let ready: Value = get_json(&format!("{}/ready", server.base())).await;
    assert_eq!(ready, json!({"status": "ready", "database": "sqlite"}));
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let metadata: Value = get_json(&format!("{}{path}", server.base())).await;
        assert_eq!(metadata["resource"], format!("{}/mcp", server.base()));
        assert_eq!(metadata["bearer_methods_supported"], json!(["header"]));
    }
    let http = reqwest::Client::new();
    for (path, expected) in [
        ("/nothing", 404),
        ("/MCP", 404),
        ("/mcp", 401),
        ("/mcp/", 401),
        ("/mcp/x", 401),
    ] {
        let response = http
            .post(format!("{}{path}", server.base()))
            .json(&json!({}))
            .send()
            .await
            .expect("post");
        assert_eq!(response.status().as_u16(), expected, "POST {path}");
    }
}

#[tokio::test]
async fn public_url_is_used_in_metadata_and_challenges() {
    let db = TestDatabase::sqlite();
    let server = HttpServer::start(&db, &["--public-url", "https://tasks.example.com/"], &[]).await;
    let metadata: Value = get_json(&format!(
        "{}/.well-known/oauth-protected-resource",
        server.base()
    ))
    .await;
    assert_eq!(metadata["resource"], "https://tasks.example.com/mcp");
    let response = reqwest::Client::new()
        .post(server.url())
        .json(&json!({}))
        .send()
        .await
        .expect("post");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        challenge,
        "Bearer resource_metadata=\"https://tasks.example.com/.well-known/oauth-protected-resource/mcp\""
    );
}

#[tokio::test]
async fn foreign_origins_and_hosts_are_rejected() {
    let db = TestDatabase::sqlite();
    let server = HttpServer::start(&db, &[], &[]).await;
    let token = token("alice");
    let call = current_call(1, "list_tasks", json!({}));
    let local = post(
        &server.url(),
        &token,
        &call,
        &[("origin", "http://localhost:6274")],
    )
    .await;
    assert_eq!(
        local.status(),
        StatusCode::OK,
        "the MCP Inspector's origin is allowed"
    );
    let evil = post(
        &server.url(),
        &token,
        &call,
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let rebound = post(&server.url(), &token, &call, &[("host", "evil.example")]).await;
    assert_eq!(rebound.status(), StatusCode::FORBIDDEN);

    let proxied = HttpServer::start(
        &db,
        &[
            "--allowed-hosts",
            "tasks.internal",
            "--allowed-origins",
            "https://app.example.com",
        ],
        &[],
    )
    .await;
    let ok_host = post(
        &proxied.url(),
        &token,
        &call,
        &[
            ("host", "tasks.internal:8001"),
            ("origin", "https://app.example.com"),
        ],
    )
    .await;
    assert_eq!(ok_host.status(), StatusCode::OK);
    let localhost_now_foreign = post(
        &proxied.url(),
        &token,
        &call,
        &[("origin", "http://localhost:6274")],
    )
    .await;
    assert_eq!(localhost_now_foreign.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn raw_protocol_abuse_gets_4xx_or_a_jsonrpc_error_never_a_500() {
    let db = TestDatabase::sqlite();
    let server = HttpServer::start(&db, &[], &[]).await;
    let token = token("alice");
    let client = reqwest::Client::new();
    let send = |body: reqwest::Body| {
        client
            .post(server.url())
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body)
            .send()
    };
    let huge = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{{\"name\":\"add_task\",\"arguments\":{{\"title\":\"{}\"}}}}}}",
        "x".repeat(400 * 1024)
    );
    let too_big = send(huge.into()).await.expect("post");
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    for body in [
        "",
        "{",
        "[]",
        "null",
        "{\"jsonrpc\":\"2.0\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"add_task\",\"arguments\":[1,2]}}",
    ] {
        let response = send(body.to_owned().into()).await.expect("post");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(
            status.is_client_error() || (status == StatusCode::OK && text.contains("\"error\"")),
            "{body:?}: {status} {text}"
        );
    }
    // Nothing was stored by any of it.
    let store = db.store().await;
    assert_eq!(
        store
            .count_tasks(&todo_domain::UserId::parse("alice").expect("user"))
            .await
            .expect("count"),
        0
    );
    store.close().await;
    assert!(
        server.process.child.id().is_some(),
        "the server is still running"
    );
}

async fn stateless_requests_can_alternate_between_instances(backend: Backend) {
    let db = database(backend).await;
    let a = HttpServer::start(&db, &[], &[]).await;
    let b = HttpServer::start(&db, &[], &[]).await;
    let token = token("roamer");
    let added = post(
        &a.url(),
        &token,
        &current_call(1, "add_task", json!({"title": "from a"})),
        &[],
    )
    .await;
    assert_eq!(added.status(), StatusCode::OK);
    assert!(
        added.headers().get("mcp-session-id").is_none(),
        "no session to pin a client to an instance"
    );
    assert!(
        added
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"))
    );
    let added: Value = added.json().await.expect("json");
    let id = added["result"]["structuredContent"]["task_id"]
        .as_i64()
        .expect("id");
    let completed: Value = post(
        &b.url(),
        &token,
        &current_call(2, "complete_task", json!({"task_id": id})),
        &[],
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(
        completed["result"]["structuredContent"]["status"],
        "completed"
    );
    let listed: Value = post(
        &a.url(),
        &token,
        &current_call(3, "list_tasks", json!({})),
        &[],
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(
        listed["result"]["structuredContent"]["tasks"][0]["completed"],
        true
    );
}

both_backends!(stateless_requests_can_alternate_between_instances);

/// SIGTERM while 16 clients keep adding tasks: the server exits 0, and every
/// call that was answered is stored, and nothing that was not answered is.
#[cfg(unix)]
async fn sigterm_under_load_loses_and_invents_nothing(backend: Backend) {
    let db = database(backend).await;
    let mut server = HttpServer::start(&db, &[], &[]).await;
    let url = server.url();
    let token = token("shutdown");
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let http = reqwest::Client::new();
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..16 {
        let (url, token, answered, http) =
            (url.clone(), token.clone(), answered.clone(), http.clone());
        workers.spawn(async move {
            for n in 0.. {
                let call = current_call(n, "add_task", json!({"title": format!("w{w} n{n}")}));
                let Ok(response) = tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    post_result(&http, &url, &token, &call),
                )
                .await
                else {
                    break;
                };
                match response {
                    Ok(body) if body["result"]["isError"] == json!(false) => {
                        answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    _ => break,
                }
            }
        });
    }
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let pid = server.child().id().expect("pid");
    let killed = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = tokio::time::timeout(std::time::Duration::from_secs(15), server.child().wait())
        .await
        .expect("exits in time")
        .expect("status");
    while workers.join_next().await.is_some() {}
    assert!(
        status.success(),
        "exit status {status:?}\n{}",
        server.logs()
    );
    assert!(server.logs().contains("shutdown signal received"));
    let answered = answered.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        answered > 16,
        "the load ran before the signal ({answered} calls)"
    );
    let store = db.store().await;
    let stored = store
        .count_tasks(&todo_domain::UserId::parse("shutdown").expect("user"))
        .await
        .expect("count");
    store.close().await;
    assert_eq!(
        stored, answered as i64,
        "every answered call is stored, and only those"
    );
}

/// POST one JSON-RPC message; Err on any transport failure or non-200.
async fn post_result(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
) -> Result<Value, String> {
    let mut request = http
        .post(url)
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call");
    if let Some(name) = body["params"]["name"].as_str() {
        request = request.header("mcp-name", name);
    }
    let response = request.json(body).send().await.map_err(|e| e.to_string())?;
    if response.status() != StatusCode::OK {
        return Err(response.status().to_string());
    }
    response.json().await.map_err(|e| e.to_string())
}

#[cfg(unix)]
both_backends!(sigterm_under_load_loses_and_invents_nothing);

/// PostgreSQL refusing connections: tool calls get a generic internal error
/// (details only in the log), /ready says 503, and both recover with it.
#[tokio::test]
async fn a_database_outage_is_an_internal_error_then_recovers() {
    let db = TestDatabase::postgres().await;
    let name = db
        .url()
        .rsplit('/')
        .next()
        .expect("database name")
        .to_owned();
    let server = HttpServer::start(&db, &[], &[]).await;
    let client = server.client(&token("alice")).await;
    ok(call(&client, "add_task", json!({"title": "before"})).await);

    let admin = |sql: String| async move {
        use sqlx::{Connection as _, Executor as _};
        let mut conn = sqlx::PgConnection::connect(&todo_testkit::postgres_admin_url())
            .await
            .expect("admin");
        conn.execute(sqlx::AssertSqlSafe(sql))
            .await
            .expect("admin statement");
    };
    admin(format!("alter database {name} allow_connections false")).await;
    admin(format!(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = '{name}'"
    ))
    .await;

    let failed = try_call(&client, "add_task", json!({"title": "during"})).await;
    let message = format!("{failed:?}");
    assert!(failed.is_err(), "{message}");
    assert!(
        message.contains("internal error") && !message.contains(&name),
        "no details leak: {message}"
    );
    let ready = reqwest::get(format!("{}/ready", server.base()))
        .await
        .expect("ready");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);

    admin(format!("alter database {name} allow_connections true")).await;
    ok(call(&client, "add_task", json!({"title": "after"})).await);
    let ready = reqwest::get(format!("{}/ready", server.base()))
        .await
        .expect("ready");
    assert_eq!(ready.status(), StatusCode::OK);
    let titles = ok(call(&client, "list_tasks", json!({})).await);
    let titles: Vec<&str> = titles["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["title"].as_str())
        .collect();
    assert_eq!(titles, ["after", "before"], "the failed call wrote nothing");
    assert!(
        server.logs().contains("tool call failed"),
        "the cause is logged"
    );
}
