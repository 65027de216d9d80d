//! Who may do what: bearer tokens (HS256 and Better Auth's EdDSA with its
//! JWKS), each user's own conversations, and the per-user rate limit.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_testkit::Backend;

use crate::helpers::{Stack, ok, text, token};

#[tokio::test]
async fn auth_and_ownership_are_enforced() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    stack.model.script(vec![ok(text("hello"))]);
    let (_, body) = stack.chat("alice", json!({"message": "hi"})).await;
    let id = body["conversation_id"].as_i64().expect("id");

    let no_token = stack
        .http
        .post(stack.url("/api/alice/chat"))
        .json(&json!({"message": "hi"}))
        .send()
        .await
        .expect("post");
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        no_token
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    assert_eq!(
        no_token
            .headers()
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff"),
        "a JSON error is never sniffed into HTML"
    );
    let bad = stack
        .http
        .get(stack.url("/api/alice/conversations"))
        .bearer_auth("not.a.jwt")
        .send()
        .await
        .expect("get");
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let someone_else = stack
        .http
        .get(stack.url("/api/alice/conversations"))
        .bearer_auth(token("mallory"))
        .send()
        .await
        .expect("get");
    assert_eq!(someone_else.status(), StatusCode::FORBIDDEN);

    // Another user's conversation is a 404 on read, chat and delete, like a missing one.
    let (status, _) = stack
        .get("mallory", &format!("/api/mallory/conversations/{id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = stack
        .chat("mallory", json!({"conversation_id": id, "message": "hi"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let deleted = stack
        .delete("mallory", &format!("/api/mallory/conversations/{id}"))
        .await;
    assert_eq!(deleted, StatusCode::NOT_FOUND);
    let mine = stack
        .delete("alice", &format!("/api/alice/conversations/{id}"))
        .await;
    assert_eq!(mine, StatusCode::NO_CONTENT);
    let (status, _) = stack
        .get("alice", &format!("/api/alice/conversations/{id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The test key set (kids `ed-1`, `rsa-1`, `ec-1`).
pub(crate) fn fixture_jwks() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(todo_testkit::fixture("jwks.json")).expect("jwks"),
    )
    .expect("json")
}

/// An identity provider like Better Auth: serves `keys` at
/// `/api/auth/jwks`, as they are at each request. Answers its base URL (no
/// trailing slash).
pub(crate) async fn identity_provider(keys: Arc<Mutex<Value>>) -> String {
    let app = axum::Router::new().route(
        "/api/auth/jwks",
        axum::routing::get(move || {
            let current = keys.lock().map(|k| k.clone()).unwrap_or_default();
            std::future::ready(axum::Json(current))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let auth_url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    auth_url
}

/// A Better Auth token for `sub`: EdDSA with key `ed-1`, `iss` and `aud`
/// the provider's base URL, 15 minutes left.
fn better_auth_token(auth_url: &str, sub: &str) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let key = EncodingKey::from_ed_pem(
        &std::fs::read(todo_testkit::fixture("ed25519.pem")).expect("pem"),
    )
    .expect("key");
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("ed-1".into());
    let now = chrono::Utc::now().timestamp();
    let claims =
        json!({"sub": sub, "iss": auth_url, "aud": auth_url, "exp": now + 900, "iat": now});
    jsonwebtoken::encode(&header, &claims, &key).expect("sign")
}

/// `GET /api/nina/conversations` with `token`: its status.
async fn nina_lists_conversations(stack: &Stack, token: &str) -> StatusCode {
    stack
        .http
        .get(stack.url("/api/nina/conversations"))
        .bearer_auth(token)
        .send()
        .await
        .expect("get")
        .status()
}

/// A key the provider adds is accepted as soon as the JWKS cool-down
/// allows: with `AUTH_JWKS_REFETCH_COOLDOWN=0`, at once.
#[tokio::test]
async fn the_jwks_refetch_cooldown_is_configurable() {
    // The provider's key set, first without the key "ed-1".
    let all = fixture_jwks();
    let without: Vec<Value> = all["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter(|k| k["kid"] != "ed-1")
        .cloned()
        .collect();
    let served = Arc::new(Mutex::new(json!({ "keys": without })));
    let auth_url = identity_provider(served.clone()).await;
    let stack = Stack::start(
        Backend::Sqlite,
        &[
            ("BETTER_AUTH_URL", &auth_url),
            ("AUTH_JWT_SECRET", ""),
            ("AUTH_JWKS_REFETCH_COOLDOWN", "1"),
        ],
    )
    .await;
    let token = better_auth_token(&auth_url, "nina");
    assert_eq!(
        nina_lists_conversations(&stack, &token).await,
        StatusCode::UNAUTHORIZED,
        "the key is not there yet"
    );
    *served.lock().expect("keys") = all;
    // Added after the last fetch: accepted once the cool-down (1 s) is over.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(
        nina_lists_conversations(&stack, &token).await,
        StatusCode::OK,
        "{}",
        stack.gateway.logs()
    );
}

/// `BETTER_AUTH_URL` written with a trailing slash (as many people write
/// it) still accepts Better Auth's tokens, whose `iss` and `aud` are the
/// bare origin.
#[tokio::test]
async fn better_auth_url_with_a_trailing_slash_accepts_its_tokens() {
    let auth_url = identity_provider(Arc::new(Mutex::new(fixture_jwks()))).await;
    let stack = Stack::start(
        Backend::Sqlite,
        &[
            ("BETTER_AUTH_URL", &format!("{auth_url}/")),
            ("AUTH_JWT_SECRET", ""),
        ],
    )
    .await;
    let token = better_auth_token(&auth_url, "nina");
    assert_eq!(
        nina_lists_conversations(&stack, &token).await,
        StatusCode::OK,
        "{}",
        stack.gateway.logs()
    );
}

/// Better Auth's setup: EdDSA tokens, keys at {BETTER_AUTH_URL}/api/auth/jwks,
/// `iss` and `aud` = BETTER_AUTH_URL; no HS256 secret.
#[tokio::test]
async fn better_auth_tokens_are_verified_strictly() {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use todo_testkit::fixture;

    let auth_url = identity_provider(Arc::new(Mutex::new(fixture_jwks()))).await;
    let stack = Stack::start(
        Backend::Sqlite,
        &[("BETTER_AUTH_URL", &auth_url), ("AUTH_JWT_SECRET", "")],
    )
    .await;
    let ed = EncodingKey::from_ed_pem(&std::fs::read(fixture("ed25519.pem")).expect("pem"))
        .expect("key");
    let sign = |alg: Algorithm, key: &EncodingKey, kid: &str, claims: Value| {
        let mut header = Header::new(alg);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, &claims, key).expect("sign")
    };
    let now = chrono::Utc::now().timestamp();
    let claims = |sub: &str, iss: &str, aud: &str, exp: i64| json!({"sub": sub, "iss": iss, "aud": aud, "exp": exp, "iat": now});
    let good = better_auth_token(&auth_url, "nina");
    assert_eq!(
        nina_lists_conversations(&stack, &good).await,
        StatusCode::OK
    );
    let expired = sign(
        Algorithm::EdDSA,
        &ed,
        "ed-1",
        claims("nina", &auth_url, &auth_url, now - 600),
    );
    let wrong_issuer = sign(
        Algorithm::EdDSA,
        &ed,
        "ed-1",
        claims("nina", "http://evil.example", &auth_url, now + 900),
    );
    let wrong_audience = sign(
        Algorithm::EdDSA,
        &ed,
        "ed-1",
        claims("nina", &auth_url, "another-app", now + 900),
    );
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims("nina", &auth_url, &auth_url, now + 900).to_string())
    );
    let public_pem = std::fs::read(fixture("rsa_public.pem")).expect("pem");
    let hs_with_public_key = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(&public_pem),
        "rsa-1",
        claims("nina", &auth_url, &auth_url, now + 900),
    );
    let tampered = {
        let mut parts: Vec<String> = good.split('.').map(String::from).collect();
        parts[1] =
            URL_SAFE_NO_PAD.encode(claims("admin", &auth_url, &auth_url, now + 900).to_string());
        parts.join(".")
    };
    for (case, token) in [
        ("expired", expired),
        ("wrong issuer", wrong_issuer),
        ("wrong audience", wrong_audience),
        ("alg none", alg_none),
        ("HS256 with the public key", hs_with_public_key),
        ("tampered", tampered),
        ("malformed", "abc.def".to_owned()),
    ] {
        assert_eq!(
            nina_lists_conversations(&stack, &token).await,
            StatusCode::UNAUTHORIZED,
            "{case}"
        );
    }
    // A valid token for someone else: 403.
    let other = sign(
        Algorithm::EdDSA,
        &ed,
        "ed-1",
        claims("oscar", &auth_url, &auth_url, now + 900),
    );
    assert_eq!(
        nina_lists_conversations(&stack, &other).await,
        StatusCode::FORBIDDEN
    );
    let logs = stack.gateway.logs();
    for reason in [
        "expired",
        "wrong_issuer",
        "wrong_audience",
        "unsupported_algorithm",
        "invalid_signature",
        "user_mismatch",
    ] {
        assert!(logs.contains(reason), "no {reason} in the logs");
    }
    assert!(!logs.contains(&good), "tokens never reach the logs");
}

#[tokio::test]
async fn the_eleventh_chat_in_a_minute_is_rate_limited_for_that_user_only() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    stack
        .model
        .script((0..11).map(|n| ok(text(&format!("answer {n}")))).collect());
    for n in 0..10 {
        let (status, body) = stack
            .chat("frank", json!({"message": format!("message {n}")}))
            .await;
        assert_eq!(status, StatusCode::OK, "request {n}: {body}");
    }
    let limited = stack
        .http
        .post(stack.url("/api/frank/chat"))
        .bearer_auth(token("frank"))
        .json(&json!({"message": "one too many"}))
        .send()
        .await
        .expect("post");
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after = crate::helpers::retry_after(&limited);
    assert!((1..=6).contains(&retry_after), "{retry_after}");
    assert!(limited.headers().contains_key("x-ratelimit-after"));
    let body: Value = limited.json().await.expect("json");
    assert_eq!(body["error"], "rate_limited");
    // Reads have their own budget, and other users are not affected.
    let (status, _) = stack.get("frank", "/api/frank/conversations").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = stack.chat("grace", json!({"message": "hello"})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(stack.gateway.logs().contains("rate limit exceeded"));
}
