//! The web chat in a real browser: `tests/browser/chat.mjs` drives Debian's
//! Chromium (`/usr/bin/chromium`, or `CHROMIUM`) with playwright-core against
//! the real gateway (in `--dev` mode), the real `todo-mcp` and the scripted
//! model. `.ci/run` installs Chromium and the npm package; this test runs
//! `npm ci` itself when the package is missing. Screenshots land in
//! `target/browser-artifacts/`.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Datelike as _;
use serde_json::json;
use todo_testkit::{Backend, workspace_binary};

use crate::helpers::{Stack, ok, status, text, token, tool_calls};

fn browser_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser"))
}

async fn playwright() {
    todo_testkit::npm_ci(&browser_dir(), "playwright-core").await;
}

/// Chromium, checked to be there, and playwright-core, installed.
pub(crate) async fn chromium() -> String {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: install Debian's chromium package (.ci/run does)"
    );
    playwright().await;
    chromium
}

/// Run the browser script `script` against `stack` with `env` besides the
/// gateway's URL, the screenshots' folder and the browser; fail with its
/// output and the gateway's logs unless it passes. Answers the screenshots'
/// folder.
pub(crate) async fn run_script(
    stack: &Stack,
    chromium: &str,
    script: &str,
    env: &[(&str, String)],
) -> PathBuf {
    let artifacts = workspace_binary("todo-gateway")
        .parent()
        .and_then(|profile| profile.parent())
        .expect("target dir")
        .join("browser-artifacts");
    let out = tokio::process::Command::new("node")
        .arg(browser_dir().join(script))
        .env("GATEWAY_URL", stack.url(""))
        .env("ARTIFACTS_DIR", &artifacts)
        .env("CHROMIUM", chromium)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .await
        .expect("node");
    assert!(
        out.status.success(),
        "{}\n{}\ngateway logs:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        stack.gateway.logs()
    );
    artifacts
}

#[tokio::test]
async fn the_web_chat_works_in_a_real_browser() {
    let _turn = crate::helpers::one_at_a_time().await;
    let chromium = chromium().await;
    let stack = Stack::start(
        Backend::Sqlite,
        &[("DEV_MODE", "1"), ("RATE_LIMIT_PER_MINUTE", "3")],
    )
    .await;
    let mut streamed = ok(text("I've added “buy milk” to your list."));
    streamed.chunk_delay = Duration::from_millis(250);
    stack.model.script(vec![
        ok(tool_calls(&[(
            "1",
            "add_task",
            json!({"title": "buy milk"}),
        )])),
        streamed,
        ok(tool_calls(&[(
            "2",
            "add_task",
            json!({"title": "<img src=x onerror=alert(1)>"}),
        )])),
        ok(text("Added it.")),
        // The third message finds the model down (every attempt).
        status(500),
        status(500),
        status(500),
        status(500),
    ]);
    let artifacts = run_script(
        &stack,
        &chromium,
        "chat.mjs",
        &[("ALICE_TOKEN", token("alice"))],
    )
    .await;
    let mut tasks = stack.tasks("alice").await;
    tasks.sort();
    assert_eq!(
        tasks,
        [
            ("<img src=x onerror=alert(1)>".to_owned(), false),
            ("buy milk".to_owned(), false),
        ]
    );
    assert!(artifacts.join("2-reply.png").exists());
}

/// The page's headers, and development sign-in only with `--dev`.
#[tokio::test]
async fn the_page_is_locked_down_and_dev_sign_in_needs_the_flag() {
    let _turn = crate::helpers::one_at_a_time().await;
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    let page = stack.http.get(stack.url("/")).send().await.expect("get /");
    assert_eq!(page.status(), 200);
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
    assert!(!csp.contains("unsafe-inline"));
    let html = page.text().await.expect("html");
    assert!(html.contains(r#"data-dev="false""#));
    assert!(!html.contains("<script>"), "no inline script");
    for asset in ["/app.js", "/app.css"] {
        let response = stack
            .http
            .get(stack.url(asset))
            .send()
            .await
            .expect("asset");
        assert_eq!(response.status(), 200, "{asset}");
    }
    let dev = stack
        .http
        .post(stack.url("/dev/token"))
        .json(&json!({"user": "alice"}))
        .send()
        .await
        .expect("post");
    assert!(
        dev.status() == 404 || dev.status() == 405,
        "{}",
        dev.status()
    );

    let dev_stack = Stack::start(Backend::Sqlite, &[("DEV_MODE", "1")]).await;
    let minted = dev_stack
        .http
        .post(dev_stack.url("/dev/token"))
        .json(&json!({"user": "alice"}))
        .send()
        .await
        .expect("post");
    assert_eq!(minted.status(), 200);
    let token = minted.json::<serde_json::Value>().await.expect("json")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let tasks = dev_stack
        .http
        .get(dev_stack.url("/api/alice/tasks"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("tasks");
    assert_eq!(tasks.status(), 200);
    let tasks: serde_json::Value = tasks.json().await.expect("json");
    assert!(tasks["tasks"].is_array(), "{tasks}");
    let blank = dev_stack
        .http
        .post(dev_stack.url("/dev/token"))
        .json(&json!({"user": ""}))
        .send()
        .await
        .expect("post");
    assert_eq!(blank.status(), 422);
    // A page of another site whose name points at 127.0.0.1 (DNS
    // rebinding) reaches the gateway with its own Host: no sign-in for it.
    for (host, status) in [
        ("evil.example", 403),
        ("evil.example:8000", 403),
        ("127.0.0.1.evil.example", 403),
        ("localhost:8000", 200),
        ("127.0.0.1", 200),
        ("[::1]:8000", 200),
    ] {
        let answer = dev_stack
            .http
            .post(dev_stack.url("/dev/token"))
            .header("host", host)
            .json(&json!({"user": "alice"}))
            .send()
            .await
            .expect("post");
        assert_eq!(answer.status(), status, "{host}");
    }
    // A reverse proxy on this machine connects from loopback on behalf of
    // anyone: a request that came through one gets no sign-in either.
    for header in [
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-real-ip",
    ] {
        let answer = dev_stack
            .http
            .post(dev_stack.url("/dev/token"))
            .header(header, "for=203.0.113.7")
            .json(&json!({"user": "alice"}))
            .send()
            .await
            .expect("post");
        assert_eq!(answer.status(), 403, "{header}");
    }
}

/// The task panel (tick off, edit, filter, delete, phone width) and the
/// assistant's Markdown, in Chromium in the zone Europe/Paris:
/// `tests/browser/panel.mjs`.
#[tokio::test]
async fn the_task_panel_and_markdown_work_in_a_real_browser() {
    let _turn = crate::helpers::one_at_a_time().await;
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing"
    );
    playwright().await;
    let stack = Stack::start(Backend::Sqlite, &[("DEV_MODE", "1")]).await;
    let today = todo_domain::Zone::parse("Europe/Paris")
        .expect("zone")
        .date_at(chrono::Utc::now());
    let day = |date: chrono::NaiveDate| date.format("%Y-%m-%d").to_string();
    let first_of = |months: u32| {
        today
            .with_day(1)
            .and_then(|d| d.checked_add_months(chrono::Months::new(months)))
            .expect("a date")
    };
    let (rent_due, rent_next) = (day(first_of(1)), day(first_of(2)));
    let seeds = [
        json!({"title": "Renew passport", "due": day(today - chrono::Days::new(1))}),
        json!({"title": "Buy milk", "due": day(today)}),
        json!({"title": "Call mom", "due": day(today + chrono::Days::new(1)), "priority": "high", "tags": ["family"]}),
        json!({"title": "Pay rent", "due": rent_due, "recurrence": "FREQ=MONTHLY;BYMONTHDAY=1", "tags": ["home"]}),
    ];
    for seed in seeds {
        let (status, body) = stack
            .send(
                reqwest::Method::POST,
                "alice",
                "/api/alice/tasks",
                Some(seed),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    }
    stack.model.script(vec![ok(text(
        "You have **3 tasks**:\n\n- Buy milk\n- Call mum (low)\n- Pay rent\n\nRent repeats with \
         `FREQ=MONTHLY`; the passport is *done*. <img src=x onerror=alert(1)>",
    ))]);
    let env = [
        ("TODAY", day(today)),
        ("TOMORROW", day(today + chrono::Days::new(1))),
        ("RENT_NEXT", rent_next),
    ];
    run_script(&stack, &chromium, "panel.mjs", &env).await;
    let mut tasks = stack.tasks("alice").await;
    tasks.sort();
    assert_eq!(
        tasks,
        [
            ("Buy milk".to_owned(), true),
            ("Call mum".to_owned(), false),
            ("Pay rent".to_owned(), false),
        ]
    );
}
