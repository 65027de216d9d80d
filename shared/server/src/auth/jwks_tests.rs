//! The JWKS source's rules, against a key server on loopback: keys known
//! are used without waiting, trust ends after `max_stale`, no redirects,
//! bounded bodies, keys without `kid` kept apart, https off loopback.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::auth::{AuthError, TokenVerifier, VerifierConfig, VerifierConfigError};

/// What the key server does with the next requests.
#[derive(Clone)]
enum Serve {
    Keys(Value),
    Hang,
    Fail,
    Redirect,
}

/// A key server at `{url}`: serves `first` once, then `after`.
async fn key_server(first: Serve, after: Serve) -> String {
    let plan = Arc::new(Mutex::new((Some(first), after)));
    let keys = fixture_keys();
    let app = axum::Router::new()
        .route(
            "/jwks",
            axum::routing::get(move || {
                let plan = plan.clone();
                async move {
                    let next = {
                        let mut plan = plan.lock().expect("plan");
                        plan.0.take().unwrap_or_else(|| plan.1.clone())
                    };
                    answer(next).await
                }
            }),
        )
        .route(
            "/moved",
            axum::routing::get(move || async move { axum::Json(keys.clone()) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/jwks")
}

async fn answer(serve: Serve) -> Response {
    match serve {
        Serve::Keys(keys) => axum::Json(keys).into_response(),
        Serve::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Serve::Fail => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Serve::Redirect => (StatusCode::FOUND, [("location", "/moved")]).into_response(),
    }
}

fn fixture_keys() -> Value {
    let text = std::fs::read_to_string(todo_testkit::fixture("jwks.json")).expect("jwks");
    serde_json::from_str(&text).expect("json")
}

fn ed25519_token(kid: Option<&str>) -> String {
    let pem = std::fs::read(todo_testkit::fixture("ed25519.pem")).expect("pem");
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = kid.map(str::to_owned);
    let exp = chrono::Utc::now().timestamp() + 600;
    let claims = json!({"sub": "kim", "aud": "todo-mcp", "exp": exp});
    encode(
        &header,
        &claims,
        &EncodingKey::from_ed_pem(&pem).expect("key"),
    )
    .expect("token")
}

fn verifier(url: &str, max_age_ms: u64, max_stale_ms: u64) -> TokenVerifier {
    TokenVerifier::new(VerifierConfig {
        jwks_url: Some(url.to_owned()),
        audience: Some("todo-mcp".into()),
        jwks_max_age: Duration::from_millis(max_age_ms),
        jwks_max_stale: Duration::from_millis(max_stale_ms),
        jwks_timeout: Duration::from_secs(20),
        ..VerifierConfig::default()
    })
    .expect("verifier")
}

#[tokio::test]
async fn known_keys_are_used_at_once_while_a_refresh_hangs() {
    let url = key_server(Serve::Keys(fixture_keys()), Serve::Hang).await;
    let v = verifier(&url, 100, 60_000);
    assert!(v.verify(&ed25519_token(Some("ed-1"))).await.is_ok());
    // The keys are due: the refresher's fetch hangs, requests do not wait.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    assert!(v.verify(&ed25519_token(Some("ed-1"))).await.is_ok());
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn keys_are_not_trusted_long_after_the_key_server_stopped_answering() {
    let url = key_server(Serve::Keys(fixture_keys()), Serve::Fail).await;
    let v = verifier(&url, 100, 600);
    assert!(v.verify(&ed25519_token(Some("ed-1"))).await.is_ok());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        v.verify(&ed25519_token(Some("ed-1"))).await.is_ok(),
        "within max_stale"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        v.verify(&ed25519_token(Some("ed-1"))).await.err(),
        Some(AuthError::KeysUnavailable)
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let url = key_server(Serve::Redirect, Serve::Redirect).await;
    let v = verifier(&url, 60_000, 60_000);
    assert_eq!(
        v.verify(&ed25519_token(Some("ed-1"))).await.err(),
        Some(AuthError::KeysUnavailable)
    );
}

#[tokio::test]
async fn an_oversized_key_set_is_refused() {
    let mut keys = fixture_keys();
    keys["padding"] = json!("x".repeat(300 * 1024));
    let url = key_server(Serve::Keys(keys.clone()), Serve::Keys(keys)).await;
    let v = verifier(&url, 60_000, 60_000);
    assert_eq!(
        v.verify(&ed25519_token(Some("ed-1"))).await.err(),
        Some(AuthError::KeysUnavailable)
    );
}

#[tokio::test]
async fn keys_without_kid_do_not_overwrite_each_other() {
    let mut keys = fixture_keys();
    for key in keys["keys"].as_array_mut().expect("keys") {
        key.as_object_mut().map(|k| k.remove("kid"));
    }
    let url = key_server(Serve::Keys(keys.clone()), Serve::Keys(keys)).await;
    let v = verifier(&url, 60_000, 60_000);
    // The Ed25519 key is the only one for EdDSA, wherever it sits in the set.
    assert!(v.verify(&ed25519_token(None)).await.is_ok());
}

#[test]
fn keys_are_fetched_over_https_except_from_this_machine() {
    let config = |url: &str| VerifierConfig {
        jwks_url: Some(url.to_owned()),
        ..VerifierConfig::default()
    };
    assert!(matches!(
        TokenVerifier::new(config("http://idp.example/jwks")),
        Err(VerifierConfigError::InsecureJwksUrl(_))
    ));
    assert!(TokenVerifier::new(config("https://idp.example/jwks")).is_ok());
    assert!(TokenVerifier::new(config("http://127.0.0.1:9/jwks")).is_ok());
}
