//! `todo-mcp http`'s limits as a whole service: slow clients are cut off, and
//! load past the caps is shed with 503 and `Retry-After`, never queued.

use todo_testkit::Backend;
use todo_testkit::raw_http::{assert_load_is_shed, assert_slow_clients_are_cut_off};

use crate::helpers::{HttpServer, database};

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let db = database(Backend::Sqlite).await;
    let server = HttpServer::start(
        &db,
        &[],
        &[
            ("HTTP_HEADER_TIMEOUT_SECS", "1"),
            ("HTTP_BODY_TIMEOUT_SECS", "1"),
        ],
    )
    .await;
    assert_slow_clients_are_cut_off(server.process.addr, "/mcp").await;
}

#[tokio::test]
async fn requests_and_connections_past_the_caps_are_shed() {
    let db = database(Backend::Sqlite).await;
    let server = HttpServer::start(
        &db,
        &[],
        &[("MAX_CONCURRENT_REQUESTS", "1"), ("MAX_CONNECTIONS", "3")],
    )
    .await;
    assert_load_is_shed(server.process.addr, "/mcp").await;
}
