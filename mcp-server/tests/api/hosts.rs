//! DNS-rebinding protection in front of authentication: a foreign `Host` or
//! `Origin` is refused (403) on `/mcp` and the metadata before anything
//! names the server, so no foreign host is ever echoed into a challenge or
//! the metadata; the probes still answer any Host.

use std::time::Duration;

use todo_testkit::raw_http::{connect_and_send, read_until_closed};
use todo_testkit::{Backend, TestDatabase};

use crate::helpers::{HttpServer, SECRET, command, database, token};

/// The whole answer to a request sent by hand.
async fn ask(server: &HttpServer, request: &str) -> String {
    let mut stream = connect_and_send(server.process.addr, request.as_bytes()).await;
    read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("an answer")
        .0
}

fn post_mcp(host: &str, extra: &str) -> String {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#;
    format!(
        "POST /mcp HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\ncontent-type: application/json\r\n\
         accept: application/json, text/event-stream\r\nmcp-protocol-version: 2025-11-25\r\n{extra}\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn get(path: &str, host: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n")
}

#[tokio::test]
async fn a_foreign_host_is_refused_before_it_can_be_echoed() {
    let db = database(Backend::Sqlite).await;
    let server = HttpServer::start(&db, &[], &[]).await;
    let evil = "cache-me.evil.test";
    for request in [
        post_mcp(evil, ""),
        get("/.well-known/oauth-protected-resource/mcp", evil),
        get("/.well-known/oauth-protected-resource", evil),
    ] {
        let answer = ask(&server, &request).await;
        assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
        assert!(!answer.contains(evil), "echoed: {answer}");
    }
    // An allowed Host is answered as before, and named.
    let port = server.process.addr.port();
    let local = format!("localhost:{port}");
    let answer = ask(&server, &post_mcp(&local, "")).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        answer.contains(&format!("http://{local}/.well-known/")),
        "{answer}"
    );
    // Probes answer whatever the Host (orchestrators send the pod's address).
    for path in ["/health", "/ready"] {
        let answer = ask(&server, &get(path, "10.1.2.3:8001")).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{path}: {answer}");
    }
}

#[tokio::test]
async fn a_foreign_origin_is_refused_even_with_a_valid_token() {
    let db = database(Backend::Sqlite).await;
    let server = HttpServer::start(&db, &[], &[]).await;
    let local = format!("127.0.0.1:{}", server.process.addr.port());
    let bearer = format!("authorization: Bearer {}\r\n", token("ann"));
    let evil = ask(
        &server,
        &post_mcp(&local, &format!("origin: https://evil.test\r\n{bearer}")),
    )
    .await;
    assert!(evil.starts_with("HTTP/1.1 403"), "{evil}");
    let unauthenticated = ask(&server, &post_mcp(&local, "origin: https://evil.test\r\n")).await;
    assert!(
        unauthenticated.starts_with("HTTP/1.1 403"),
        "refused before authentication: {unauthenticated}"
    );
    let page = ask(
        &server,
        &post_mcp(
            &local,
            &format!("origin: http://localhost:5173\r\n{bearer}"),
        ),
    )
    .await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
}

/// `todo-mcp http` on every interface with these arguments: its logs when it
/// refused to start, None when it started.
async fn refusal_on_every_interface(db: &TestDatabase, args: &[&str]) -> Option<String> {
    let mut cmd = command(db.url());
    cmd.args(["http", "--bind", "0.0.0.0:0"]).args(args);
    cmd.env("MCP_JWT_SECRET", SECRET);
    todo_testkit::ServiceProcess::spawn(cmd, "todo-mcp")
        .await
        .err()
}

#[tokio::test]
async fn every_host_off_loopback_needs_the_public_url() {
    let db = TestDatabase::sqlite();
    let logs = refusal_on_every_interface(&db, &["--allowed-hosts", "*"])
        .await
        .expect("refused");
    assert!(logs.contains("needs MCP_PUBLIC_URL"), "{logs}");
    let started = refusal_on_every_interface(
        &db,
        &["--allowed-hosts", "*", "--public-url", "https://tasks.test"],
    )
    .await;
    assert!(started.is_none(), "starts with a public URL: {started:?}");
}
