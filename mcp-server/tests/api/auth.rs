//! Bearer-token authentication of /mcp: what gets in and what gets a 401.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_testkit::TestDatabase;

use crate::helpers::*;

/// A JWKS endpoint on loopback serving the test keys; counts its fetches.
struct Jwks {
    url: String,
    hits: Arc<AtomicUsize>,
}

async fn jwks_server() -> Jwks {
    let body: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("jwks.json")).expect("jwks fixture"))
            .expect("json");
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            async move { axum::Json(body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    Jwks {
        url: format!("http://{addr}/jwks"),
        hits,
    }
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture")
}

fn claims(user: &str) -> Value {
    json!({"sub": user, "aud": "todo-mcp", "exp": now() + 600})
}

/// The issuer the JWKS source is bound to in these tests.
const IDP: &str = "https://idp.test";

/// Claims of a token from the identity provider behind the JWKS source.
fn idp_claims(user: &str) -> Value {
    json!({"sub": user, "aud": "todo-mcp", "iss": IDP, "exp": now() + 600})
}

/// POST a tools/list to /mcp with the given Authorization header value.
async fn post_mcp(server: &HttpServer, authorization: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(server.url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.send().await.expect("request")
}

async fn assert_unauthorized(server: &HttpServer, token: Option<&str>, case: &str) {
    let header = token.map(|t| format!("Bearer {t}"));
    let response = post_mcp(server, header.as_deref()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let expected = format!(
        "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
        server.base()
    );
    assert!(challenge.starts_with(&expected), "{case}: {challenge}");
    assert_eq!(
        response
            .headers()
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff"),
        "{case}: a JSON error is never sniffed into HTML"
    );
    if token.is_some() {
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{case}: {challenge}"
        );
    }
    let body: Value = response.json().await.expect("json body");
    assert_eq!(body["error"], "unauthorized", "{case}");
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401_with_a_challenge() {
    let db = TestDatabase::sqlite();
    let jwks = jwks_server().await;
    let server = HttpServer::start(&db, &["--jwks-url", &jwks.url, "--issuer", IDP], &[]).await;

    let wrong_secret = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(b"another-secret-another-secret-000"),
        None,
        &claims("eve"),
    );
    let expired = hs256(json!({"sub": "eve", "aud": "todo-mcp", "exp": now() - 3600}));
    let wrong_audience = hs256(json!({"sub": "eve", "aud": "another-service", "exp": now() + 600}));
    let no_exp = hs256(json!({"sub": "eve", "aud": "todo-mcp"}));
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims("eve").to_string())
    );
    // The classic confusion: HS256 "signed" with the RSA public key from the JWKS.
    let hs_with_public_key = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(&pem("rsa_public.pem")),
        Some("rsa-1"),
        &claims("eve"),
    );
    // A real RS256 signature, but presented as EdDSA under the Ed25519 key's kid.
    let rsa_key = EncodingKey::from_rsa_pem(&pem("rsa.pem")).expect("rsa key");
    let rs_as_ed = {
        let token = sign(Algorithm::RS256, &rsa_key, Some("ed-1"), &claims("eve"));
        let (_, rest) = token.split_once('.').expect("jwt");
        format!(
            "{}.{rest}",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","kid":"ed-1"}"#)
        )
    };
    let tampered = {
        let token = token("alice");
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(claims("admin").to_string());
        parts.join(".")
    };
    let cases: Vec<(&str, Option<&str>)> = vec![
        ("no token", None),
        ("garbage", Some("not-a-jwt")),
        ("bad signature", Some(&wrong_secret)),
        ("tampered claims", Some(&tampered)),
        ("expired", Some(&expired)),
        ("wrong audience", Some(&wrong_audience)),
        ("no exp", Some(&no_exp)),
        ("alg none", Some(&alg_none)),
        (
            "HS256 signed with the JWKS public key",
            Some(&hs_with_public_key),
        ),
        ("RS256 signature relabelled EdDSA", Some(&rs_as_ed)),
    ];
    for (case, token) in &cases {
        assert_unauthorized(&server, *token, case).await;
    }
    let basic = post_mcp(&server, Some("Basic YWxpY2U6cGFzcw==")).await;
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);

    // Failures are logged with a reason, never with the token.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let logs = server.logs();
    for reason in [
        "missing_token",
        "malformed_token",
        "invalid_signature",
        "expired",
        "wrong_audience",
        "missing_claim",
        "unsupported_algorithm",
    ] {
        assert!(logs.contains(reason), "no {reason} in logs:\n{logs}");
    }
    for (_, token) in cases {
        if let Some(token) = token {
            assert!(!logs.contains(token), "a token leaked into the logs");
        }
    }
}

#[tokio::test]
async fn jwks_tokens_of_each_algorithm_are_accepted_and_keys_are_cached() {
    let db = TestDatabase::sqlite();
    let jwks = jwks_server().await;
    let server = HttpServer::start(
        &db,
        &[
            "--jwks-url",
            &jwks.url,
            "--jwks-refetch-cooldown",
            "1",
            "--issuer",
            IDP,
        ],
        &[("MCP_JWT_SECRET", "")],
    )
    .await;
    let keys = [
        (
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(&pem("ed25519.pem")).expect("ed key"),
            "ed-1",
            "ed-user",
        ),
        (
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(&pem("rsa.pem")).expect("rsa key"),
            "rsa-1",
            "rsa-user",
        ),
        (
            Algorithm::ES256,
            EncodingKey::from_ec_pem(&pem("ec256.pem")).expect("ec key"),
            "ec-1",
            "ec-user",
        ),
    ];
    for (alg, key, kid, user) in &keys {
        let token = sign(*alg, key, Some(kid), &idp_claims(user));
        let client = server.client(&token).await;
        let task = ok(call(
            &client,
            "add_task",
            json!({"title": format!("signed with {alg:?}")}),
        )
        .await);
        let listed = ok(call(&client, "list_tasks", json!({})).await);
        assert_eq!(
            listed["tasks"].as_array().map(Vec::len),
            Some(1),
            "{user} sees only their task"
        );
        assert_eq!(listed["tasks"][0]["id"], task["task_id"]);
        client.cancel().await.expect("close");
    }
    assert_eq!(
        jwks.hits.load(Ordering::SeqCst),
        1,
        "keys fetched once and cached"
    );

    // Unknown kids make one refetch per cool-down, however many arrive.
    let (alg, key, _, _) = &keys[0];
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for n in 0..5 {
        let token = sign(*alg, key, Some(&format!("rotated-{n}")), &idp_claims("x"));
        assert_unauthorized(&server, Some(&token), "unknown kid").await;
    }
    assert_eq!(
        jwks.hits.load(Ordering::SeqCst),
        2,
        "one refetch for a burst of unknown kids"
    );
    // HS256 is refused outright when no secret is configured.
    assert_unauthorized(&server, Some(&token("alice")), "HS256 without a secret").await;
}

#[tokio::test]
async fn issuer_is_checked_when_configured() {
    let db = TestDatabase::sqlite();
    let server = HttpServer::start(&db, &["--issuer", "https://auth.example"], &[]).await;
    let good = hs256(
        json!({"sub": "a", "aud": "todo-mcp", "iss": "https://auth.example", "exp": now() + 60}),
    );
    let bad = hs256(
        json!({"sub": "a", "aud": "todo-mcp", "iss": "https://evil.example", "exp": now() + 60}),
    );
    let missing = token("a");
    assert_eq!(
        post_mcp(&server, Some(&format!("Bearer {good}")))
            .await
            .status(),
        StatusCode::OK
    );
    assert_unauthorized(&server, Some(&bad), "wrong issuer").await;
    assert_unauthorized(&server, Some(&missing), "no issuer").await;
    let metadata: Value = get_json(&format!(
        "{}/.well-known/oauth-protected-resource",
        server.base()
    ))
    .await;
    assert_eq!(
        metadata["authorization_servers"],
        json!(["https://auth.example"])
    );
}

/// Each key source is bound to its issuer: JWKS tokens must name the
/// configured issuer, HS256 tokens may name none or the gateway's, never the
/// JWKS source's; a JWKS source without an issuer is refused at start-up
/// unless accepted explicitly.
#[tokio::test]
async fn each_key_source_is_bound_to_its_issuer() {
    let db = TestDatabase::sqlite();
    let jwks = jwks_server().await;
    let refused = HttpServer::try_start(&db, &["--jwks-url", &jwks.url], &[]).await;
    let logs = refused
        .err()
        .expect("a JWKS source without an issuer is refused");
    assert!(
        logs.contains("MCP_JWKS_URL is set without MCP_ISSUER"),
        "{logs}"
    );
    let any =
        HttpServer::try_start(&db, &["--jwks-url", &jwks.url, "--jwks-any-issuer"], &[]).await;
    assert!(any.is_ok(), "accepted when told so explicitly");
    drop(any);

    let server = HttpServer::start(&db, &["--jwks-url", &jwks.url, "--issuer", IDP], &[]).await;
    let ed = EncodingKey::from_ed_pem(&pem("ed25519.pem")).expect("ed key");
    let mut other_app = idp_claims("a");
    other_app["iss"] = json!("https://other-tenant.test");
    let mut no_issuer = idp_claims("a");
    no_issuer.as_object_mut().map(|c| c.remove("iss"));
    let hs256_with = |iss: Option<&str>| {
        let mut claims = claims("a");
        if let Some(iss) = iss {
            claims["iss"] = json!(iss);
        }
        hs256(claims)
    };
    let accepted = [
        sign(Algorithm::EdDSA, &ed, Some("ed-1"), &idp_claims("a")),
        hs256_with(None),
        hs256_with(Some("todo-gateway")),
    ];
    for token in &accepted {
        let status = post_mcp(&server, Some(&format!("Bearer {token}")))
            .await
            .status();
        assert_eq!(status, StatusCode::OK, "{}", server.logs());
    }
    let refused = [
        (
            sign(Algorithm::EdDSA, &ed, Some("ed-1"), &other_app),
            "another issuer of the JWKS source",
        ),
        (
            sign(Algorithm::EdDSA, &ed, Some("ed-1"), &no_issuer),
            "a JWKS token without issuer",
        ),
        (
            hs256_with(Some(IDP)),
            "an HS256 token naming the JWKS source",
        ),
        (
            hs256_with(Some("anyone")),
            "an HS256 token naming someone else",
        ),
    ];
    for (token, case) in &refused {
        assert_unauthorized(&server, Some(token), case).await;
    }
    // The mismatch is logged with what was expected and what came, escaped.
    let mut forged = idp_claims("a");
    forged["iss"] = json!("https://x.test\nlevel=ERROR forged line");
    assert_unauthorized(
        &server,
        Some(&sign(Algorithm::EdDSA, &ed, Some("ed-1"), &forged)),
        "forged",
    )
    .await;
    let logs = server.logs();
    assert!(logs.contains(r#"expected="https://idp.test""#), "{logs}");
    assert!(
        logs.contains(r#"received="https://other-tenant.test""#),
        "{logs}"
    );
    assert!(
        !logs.lines().any(|l| l.starts_with("level=ERROR")),
        "{logs}"
    );
}
