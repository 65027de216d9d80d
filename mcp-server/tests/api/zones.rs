//! The caller's time zone: `--timezone` on stdio, the token's `zoneinfo`
//! claim over HTTP. The same instant is "overdue" for a user in
//! Pacific/Auckland and not yet for one in America/Los_Angeles.

use std::process::Stdio;

use chrono::Utc;
use rmcp::ServiceExt as _;
use rmcp::transport::TokioChildProcess;
use serde_json::json;
use todo_domain::Zone;
use todo_testkit::{Backend, both_backends};

use crate::helpers::{Client, HttpServer, call, command, database, hs256, now, ok};

async fn stdio_in_zone(db: &todo_testkit::TestDatabase, zone: &str) -> Client {
    let mut cmd = command(db.url());
    cmd.args(["--user", "traveller", "--timezone", zone]);
    let (transport, _stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn todo-mcp over stdio");
    ().serve(transport).await.expect("stdio client initializes")
}

async fn overdue_titles(client: &Client) -> Vec<String> {
    let listed = ok(call(client, "list_tasks", json!({"overdue": true})).await);
    listed["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["title"].as_str().map(str::to_owned))
        .collect()
}

async fn overdue_is_read_in_the_callers_zone(backend: Backend) {
    let db = database(backend).await;
    // Due "today" in Los Angeles: already yesterday's date in Auckland's
    // eyes for most of the day (both dates are the same between 08:00 and
    // 11:00 UTC, when it is overdue nowhere).
    let la_today = Zone::parse("America/Los_Angeles")
        .expect("zone")
        .date_at(Utc::now());
    let due = la_today.format("%Y-%m-%d").to_string();
    let la = stdio_in_zone(&db, "America/Los_Angeles").await;
    ok(call(
        &la,
        "add_task",
        json!({"title": "due in LA today", "due": due}),
    )
    .await);
    assert!(
        overdue_titles(&la).await.is_empty(),
        "not yet overdue in Los Angeles"
    );
    let auckland = stdio_in_zone(&db, "Pacific/Auckland").await;
    let auckland_today = Zone::parse("Pacific/Auckland")
        .expect("zone")
        .date_at(Utc::now());
    let expected: Vec<String> = if auckland_today > la_today {
        vec!["due in LA today".into()]
    } else {
        vec![]
    };
    assert_eq!(
        overdue_titles(&auckland).await,
        expected,
        "overdue in Auckland"
    );

    // Over HTTP, the token's zoneinfo claim says it; an unknown zone is UTC.
    let server = HttpServer::start(&db, &[], &[]).await;
    for (zone, expected) in [
        ("Pacific/Auckland", expected.clone()),
        ("America/Los_Angeles", vec![]),
    ] {
        let token = hs256(
            json!({"sub": "traveller", "aud": "todo-mcp", "exp": now() + 3600, "zoneinfo": zone}),
        );
        let client = server.client(&token).await;
        assert_eq!(overdue_titles(&client).await, expected, "{zone} over HTTP");
    }
    let _ = (la.cancel().await, auckland.cancel().await);
}

async fn a_bad_timezone_stops_the_stdio_server_with_a_clear_message(backend: Backend) {
    let db = database(backend).await;
    let out = command(db.url())
        .args(["--timezone", "Mars/Olympus"])
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid --timezone / TODO_TIMEZONE"),
        "{stderr}"
    );
    assert!(stderr.contains("IANA time zone name"), "{stderr}");
}

both_backends!(
    overdue_is_read_in_the_callers_zone,
    a_bad_timezone_stops_the_stdio_server_with_a_clear_message,
);
