//! The verifier's rules, one test each.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use todo_domain::UserId;

use crate::auth::{
    AuthError, TokenVerifier, VerifierConfig, VerifierConfigError, bearer_token, mint_hs256,
};
use crate::secret::Secret;
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;

const SECRET: &str = "an-hs256-secret-that-is-long-enough!";

fn verifier(audience: Option<&str>, issuer: Option<&str>) -> TokenVerifier {
    TokenVerifier::new(VerifierConfig {
        hs256_secret: Some(Secret::new(SECRET)),
        audience: audience.map(Into::into),
        issuer: issuer.map(Into::into),
        ..VerifierConfig::default()
    })
    .expect("valid config")
}

fn hs256(claims: serde_json::Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("token")
}

fn in_an_hour() -> i64 {
    chrono::Utc::now().timestamp() + 3600
}

#[tokio::test]
async fn valid_hs256_token_gives_the_subject() {
    let token = hs256(json!({"sub": "alice", "aud": "todo-mcp", "exp": in_an_hour()}));
    let verified = verifier(Some("todo-mcp"), None).verify(&token).await;
    assert_eq!(verified.map(|v| v.user.to_string()), Ok("alice".into()));
}

#[tokio::test]
async fn token_without_exp_is_rejected() {
    let token = hs256(json!({"sub": "alice", "aud": "todo-mcp"}));
    let err = verifier(Some("todo-mcp"), None).verify(&token).await.err();
    assert_eq!(err, Some(AuthError::MissingClaim("exp".into())));
}

#[tokio::test]
async fn expired_token_is_rejected() {
    let token = hs256(json!({"sub": "alice", "aud": "todo-mcp", "exp": 1_000_000}));
    let err = verifier(Some("todo-mcp"), None).verify(&token).await.err();
    assert_eq!(err, Some(AuthError::Expired));
}

#[tokio::test]
async fn wrong_audience_and_issuer_are_rejected() {
    let v = verifier(Some("todo-mcp"), Some("https://auth.example"));
    let wrong_aud = hs256(
        json!({"sub": "a", "aud": "other", "iss": "https://auth.example", "exp": in_an_hour()}),
    );
    let wrong_iss = hs256(
        json!({"sub": "a", "aud": "todo-mcp", "iss": "https://evil.example", "exp": in_an_hour()}),
    );
    assert_eq!(
        v.verify(&wrong_aud).await.err(),
        Some(AuthError::WrongAudience)
    );
    assert_eq!(
        v.verify(&wrong_iss).await.err(),
        Some(AuthError::WrongIssuer)
    );
}

#[tokio::test]
async fn hs256_tokens_bound_to_their_own_issuers_carry_none_or_one_of_them() {
    let v = TokenVerifier::new(VerifierConfig {
        hs256_secret: Some(Secret::new(SECRET)),
        audience: Some("todo-mcp".into()),
        issuer: Some("https://idp.example".into()),
        hs256_issuers: Some(vec!["todo-gateway".into()]),
        ..VerifierConfig::default()
    })
    .expect("valid config");
    let with = |iss: Option<&str>| {
        let mut claims = json!({"sub": "a", "aud": "todo-mcp", "exp": in_an_hour()});
        if let Some(iss) = iss {
            claims["iss"] = json!(iss);
        }
        hs256(claims)
    };
    assert!(v.verify(&with(None)).await.is_ok());
    assert!(v.verify(&with(Some("todo-gateway"))).await.is_ok());
    assert_eq!(
        v.verify(&with(Some("https://idp.example"))).await.err(),
        Some(AuthError::WrongIssuer),
        "never the JWKS source's issuer"
    );
    assert_eq!(
        v.verify(&with(Some("anyone"))).await.err(),
        Some(AuthError::WrongIssuer)
    );
}

#[tokio::test]
async fn an_audience_list_matches_when_it_holds_the_audience() {
    let v = verifier(Some("todo-mcp"), None);
    let listed = hs256(json!({"sub": "a", "aud": ["x", "todo-mcp"], "exp": in_an_hour()}));
    let other = hs256(json!({"sub": "a", "aud": ["x", "y"], "exp": in_an_hour()}));
    let missing = hs256(json!({"sub": "a", "exp": in_an_hour()}));
    assert!(v.verify(&listed).await.is_ok());
    assert_eq!(v.verify(&other).await.err(), Some(AuthError::WrongAudience));
    assert_eq!(
        v.verify(&missing).await.err(),
        Some(AuthError::MissingClaim("aud".into()))
    );
}

#[tokio::test]
async fn alg_none_is_rejected() {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD
        .encode(json!({"sub": "a", "aud": "todo-mcp", "exp": in_an_hour()}).to_string());
    let token = format!("{header}.{claims}.");
    let err = verifier(Some("todo-mcp"), None).verify(&token).await.err();
    assert_eq!(err, Some(AuthError::UnsupportedAlgorithm("none".into())));
}

#[tokio::test]
async fn asymmetric_token_without_jwks_is_rejected() {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
    let token = format!("{header}.e30.c2ln");
    let err = verifier(None, None).verify(&token).await.err();
    assert_eq!(err, Some(AuthError::UnsupportedAlgorithm("RS256".into())));
}

#[tokio::test]
async fn a_hostile_alg_is_not_echoed_verbatim() {
    let header =
        URL_SAFE_NO_PAD.encode(br#"{"alg":"x\"\r\nSet-Cookie: a=b; and a very long tail"}"#);
    let token = format!("{header}.e30.c2ln");
    let err = verifier(None, None).verify(&token).await.err();
    assert_eq!(
        err,
        Some(AuthError::UnsupportedAlgorithm("xSetCookieabanda".into()))
    );
}

#[tokio::test]
async fn garbage_is_malformed() {
    for token in ["", "abc", "a.b", "a.b.c.d", "!!!.e30.x"] {
        let err = verifier(None, None).verify(token).await.err();
        assert_eq!(err, Some(AuthError::Malformed), "{token:?}");
    }
}

#[tokio::test]
async fn minted_tokens_verify() {
    let user = UserId::parse("minty").expect("user");
    let token = mint_hs256(
        &Secret::new(SECRET),
        &user,
        Some("todo-mcp"),
        None,
        Duration::from_secs(60),
    );
    let verified = verifier(Some("todo-mcp"), None)
        .verify(&token.expect("minted"))
        .await;
    assert_eq!(verified.map(|v| v.user), Ok(user));
}

/// A loopback JWKS endpoint that answers every request with `body` and
/// counts the requests.
async fn jwks_endpoint(body: &'static str) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/jwks", listener.local_addr().expect("addr"));
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    (url, hits)
}

fn es256_token(kid: &str) -> String {
    // Never verified: the key lookup fails first, which is what is tested.
    let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"ES256","kid":"{kid}"}}"#));
    format!("{header}.e30.c2ln")
}

#[tokio::test(start_paused = true)]
async fn unknown_kids_refetch_the_jwks_at_most_once_per_cooldown() {
    let (url, hits) = jwks_endpoint(r#"{"keys":[]}"#).await;
    let verifier = TokenVerifier::new(VerifierConfig {
        jwks_url: Some(url),
        jwks_refetch_cooldown: Duration::from_secs(30),
        ..VerifierConfig::default()
    })
    .expect("config");
    let fetches = || hits.load(std::sync::atomic::Ordering::SeqCst);
    for n in 0..10 {
        let err = verifier.verify(&es256_token(&format!("k{n}"))).await.err();
        assert_eq!(err, Some(AuthError::UnknownKey));
    }
    assert_eq!(fetches(), 1, "a burst of unknown kids makes one fetch");
    tokio::time::advance(Duration::from_secs(29)).await;
    let _ = verifier.verify(&es256_token("later")).await;
    assert_eq!(fetches(), 1, "still cooling down");
    tokio::time::advance(Duration::from_secs(2)).await;
    let _ = verifier.verify(&es256_token("later")).await;
    assert_eq!(fetches(), 2, "one more fetch after the cool-down");
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_jwks_means_keys_unavailable() {
    let verifier = TokenVerifier::new(VerifierConfig {
        jwks_url: Some("http://127.0.0.1:9/jwks".into()),
        ..VerifierConfig::default()
    })
    .expect("config");
    let err = verifier.verify(&es256_token("k")).await.err();
    assert_eq!(err, Some(AuthError::KeysUnavailable));
}

#[test]
fn short_secret_is_refused() {
    let err = TokenVerifier::new(VerifierConfig {
        hs256_secret: Some(Secret::new("short")),
        ..VerifierConfig::default()
    });
    assert!(matches!(err, Err(VerifierConfigError::WeakSecret)));
}

#[test]
fn bearer_header_is_parsed_strictly() {
    assert_eq!(bearer_token(Some("Bearer abc")), Ok("abc"));
    assert_eq!(bearer_token(Some("bearer abc")), Ok("abc"));
    assert_eq!(bearer_token(None), Err(AuthError::Missing));
    assert_eq!(bearer_token(Some("Basic abc")), Err(AuthError::Missing));
    assert_eq!(bearer_token(Some("Bearer ")), Err(AuthError::Missing));
    assert_eq!(bearer_token(Some("Bearer")), Err(AuthError::Malformed));
}
