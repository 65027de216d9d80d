//! Metrics: both services count requests, tool and model calls, tokens
//! and refusals on a listener of their own (METRICS_BIND), never on the
//! public one.

use reqwest::StatusCode;
use serde_json::json;
use todo_testkit::Backend;

use crate::helpers::stack::metrics_url;
use crate::helpers::{Stack, ok, text, tool_calls};

async fn scrape(http: &reqwest::Client, url: &str) -> String {
    let response = http.get(url).send().await.expect("scrape");
    assert_eq!(response.status(), StatusCode::OK);
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    response.text().await.expect("text")
}

/// The value of the sample `line_start` (name and labels) in `text`.
fn sample(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start))
        .and_then(|rest| rest.trim().split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no sample {line_start} in\n{text}"))
}

#[tokio::test]
async fn both_services_count_requests_tools_model_calls_and_refusals() {
    let metrics_on = [
        ("METRICS_BIND", "127.0.0.1:0"),
        ("RATE_LIMIT_PER_MINUTE", "2"),
    ];
    let stack = Stack::start_with(Backend::Sqlite, &metrics_on[..1], &metrics_on).await;
    stack.model.script(vec![
        ok(tool_calls(&[(
            "call_1",
            "add_task",
            json!({"title": "buy milk"}),
        )])),
        ok(text("Added.")),
        ok(text("Hello.")),
    ]);
    let (status, body) = stack.chat("mia", json!({"message": "add milk"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = stack.chat("mia", json!({"message": "hi"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = stack.chat("mia", json!({"message": "one too many"})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let forged = stack
        .http
        .get(stack.url("/api/mia/conversations"))
        .bearer_auth("not.a.token")
        .send()
        .await
        .expect("get");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = stack.get("mia", "/api/someone-else/conversations").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let gateway = scrape(&stack.http, &metrics_url(&stack.gateway)).await;
    let chat_ok =
        r#"todo_http_requests_total{method="POST",route="/api/{user_id}/chat",status="200"}"#;
    assert_eq!(sample(&gateway, chat_ok), 2.0);
    let chat_limited =
        r#"todo_http_requests_total{method="POST",route="/api/{user_id}/chat",status="429"}"#;
    assert_eq!(sample(&gateway, chat_limited), 1.0);
    assert_eq!(
        sample(
            &gateway,
            r#"todo_http_request_duration_seconds_count{method="POST",route="/api/{user_id}/chat"}"#
        ),
        3.0
    );
    assert_eq!(
        sample(
            &gateway,
            r#"todo_tool_calls_total{tool="add_task",outcome="ok"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(&gateway, r#"todo_llm_calls_total{outcome="ok"}"#),
        3.0
    );
    // text() reports 12 prompt and 3 completion tokens; tool_calls() none.
    assert_eq!(
        sample(&gateway, r#"todo_llm_tokens_total{kind="prompt"}"#),
        24.0
    );
    assert_eq!(
        sample(&gateway, r#"todo_llm_tokens_total{kind="completion"}"#),
        6.0
    );
    assert_eq!(
        sample(&gateway, r#"todo_rate_limited_total{limit="chat"}"#),
        1.0
    );
    assert_eq!(
        sample(
            &gateway,
            r#"todo_auth_failures_total{reason="malformed_token"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &gateway,
            r#"todo_auth_failures_total{reason="user_mismatch"}"#
        ),
        1.0
    );
    assert!(sample(&gateway, r#"todo_db_pool_max_connections{pool="writer"}"#) >= 1.0);
    // Raw paths never become labels: the template does.
    assert!(!gateway.contains("/api/mia/"), "{gateway}");

    let mcp = scrape(&stack.http, &metrics_url(&stack.mcp)).await;
    assert_eq!(
        sample(
            &mcp,
            r#"todo_tool_calls_total{tool="add_task",outcome="ok"}"#
        ),
        1.0
    );
    assert!(
        sample(
            &mcp,
            r#"todo_http_requests_total{method="POST",route="/mcp",status="200"}"#
        ) >= 2.0
    );
    assert!(mcp.contains("todo_tool_call_duration_seconds_bucket"));

    // The public listeners do not serve metrics.
    for service in [&stack.gateway, &stack.mcp] {
        let status = stack
            .http
            .get(format!("http://{}/metrics", service.addr))
            .send()
            .await
            .expect("get")
            .status();
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn without_metrics_bind_there_is_no_metrics_listener() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    assert!(!stack.gateway.logs().contains("metrics at"));
    assert!(!stack.mcp.logs().contains("metrics at"));
}

/// The task server's `/mcp` requests so far, from its metrics.
async fn mcp_posts(stack: &Stack) -> f64 {
    let text = scrape(&stack.http, &metrics_url(&stack.mcp)).await;
    text.lines()
        .filter(|line| {
            line.starts_with("todo_http_requests_total{")
                && line.contains(r#"method="POST""#)
                && line.contains(r#"route="/mcp""#)
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// `/ready` needs no token: a burst of probes must not become a burst of
/// MCP calls and database round trips. One check serves them all.
#[tokio::test]
async fn a_burst_of_readiness_probes_costs_one_check() {
    let stack = Stack::start_with(Backend::Sqlite, &[("METRICS_BIND", "127.0.0.1:0")], &[]).await;
    let probe = || {
        let request = stack.http.get(stack.url("/ready"));
        async move { request.send().await.expect("ready").status() }
    };
    assert_eq!(probe().await, StatusCode::OK);
    let before = mcp_posts(&stack).await;
    let burst: Vec<_> = (0..40).map(|_| probe()).collect();
    for status in futures::future::join_all(burst).await {
        assert_eq!(status, StatusCode::OK);
    }
    let checks = mcp_posts(&stack).await - before;
    assert!(checks <= 2.0, "40 probes made {checks} MCP requests");
}
