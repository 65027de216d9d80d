//! Frontends on other origins: the exact origins of `CORS_ALLOWED_ORIGINS`
//! get their preflights answered and may read the answers; no other origin
//! does, and none at all by default.

use reqwest::{Method, StatusCode};
use todo_testkit::Backend;

use crate::helpers::{Stack, token};

async fn preflight(stack: &Stack, origin: &str) -> reqwest::Response {
    stack
        .http
        .request(Method::OPTIONS, stack.url("/api/wes/chat"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .expect("preflight")
}

fn allowed_origin(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("access-control-allow-origin")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[tokio::test]
async fn listed_origins_may_call_the_api_and_no_other() {
    let stack = Stack::start(
        Backend::Sqlite,
        &[(
            "CORS_ALLOWED_ORIGINS",
            "https://app.test,http://localhost:5173",
        )],
    )
    .await;
    let answered = preflight(&stack, "https://app.test").await;
    assert!(answered.status().is_success(), "{}", answered.status());
    assert_eq!(
        allowed_origin(&answered).as_deref(),
        Some("https://app.test")
    );
    let headers = answered
        .headers()
        .get("access-control-allow-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );
    assert!(
        answered
            .headers()
            .get("access-control-allow-credentials")
            .is_none(),
        "bearer tokens, never cookies"
    );

    let read = stack
        .http
        .get(stack.url("/api/wes/conversations"))
        .bearer_auth(token("wes"))
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .expect("get");
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(
        allowed_origin(&read).as_deref(),
        Some("http://localhost:5173")
    );
    let exposed = read
        .headers()
        .get("access-control-expose-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(exposed.contains("retry-after"), "{exposed}");

    let foreign = preflight(&stack, "https://evil.test").await;
    assert_eq!(allowed_origin(&foreign), None);
}

#[tokio::test]
async fn no_origin_is_allowed_by_default() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    assert_eq!(
        allowed_origin(&preflight(&stack, "https://app.test").await),
        None
    );
}
