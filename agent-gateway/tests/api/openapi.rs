//! The OpenAPI document: it is the published one (kept in
//! `tests/contract/openapi.json`; it changes only on purpose, see
//! `todo_testkit::contract`), it describes exactly the routes served, and
//! schemathesis finds the running gateway true to it.

use reqwest::StatusCode;
use serde_json::Value;
use todo_testkit::{Backend, assert_contract};

use crate::helpers::{Stack, token};

/// `GET /openapi.json`, which must answer 200 with JSON.
async fn document(stack: &Stack) -> Value {
    let response = stack
        .http
        .get(stack.url("/openapi.json"))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

/// The document served is the published one (its `info.version` aside,
/// which follows the release).
#[tokio::test]
async fn the_openapi_document_is_the_published_one() {
    let stack = Stack::start(Backend::Sqlite, &[]).await;
    let mut spec = document(&stack).await;
    spec["info"]["version"] = Value::from("(the release)");
    assert_contract(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/contract/openapi.json"),
        &spec,
    );
}

/// The published document is valid OpenAPI 3.1, every `$ref` resolved, as
/// a validator nobody here wrote (openapi-spec-validator) reads it: client
/// generators refuse a document that is not.
#[tokio::test]
async fn the_published_document_is_valid_openapi() {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // .ci/run builds this venv ahead; elsewhere it is made on first use.
    let bin = todo_testkit::python_venv(
        "openapi-validator-venv",
        &manifest.join("tests/openapi-validator/requirements.txt"),
        "import openapi_spec_validator",
    )
    .await;
    let document = manifest.join("tests/contract/openapi.json");
    let output = tokio::process::Command::new(bin.join("openapi-spec-validator"))
        .arg(&document)
        .output()
        .await
        .expect("run openapi-spec-validator");
    // Its report quotes the whole document: the start names the problem.
    let report: String = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
    .chars()
    .take(2_000)
    .collect();
    assert!(output.status.success(), "{report}");
    assert!(report.contains(": OK"), "{report}");
}

/// The operations of an OpenAPI document: (method, path).
fn operations(spec: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                found.push((method.to_owned(), path.clone()));
            }
        }
    }
    found
}

/// Every `.rs` file under `dir`, however deep.
fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_routes_served() {
    for dev in [false, true] {
        let extra: &[(&str, &str)] = if dev { &[("DEV_MODE", "1")] } else { &[] };
        let stack = Stack::start(Backend::Sqlite, extra).await;
        let spec = document(&stack).await;
        assert_eq!(spec["openapi"], "3.1.0");
        assert_eq!(
            spec["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        let ops = operations(&spec);
        assert_eq!(
            ops.iter().any(|(_, p)| p == "/dev/token"),
            dev,
            "/dev/token is described exactly when it is served"
        );
        // Every described operation is served: the router answers it (an
        // unrouted request gets axum's bare 404 or a 405).
        for (method, path) in &ops {
            let concrete = path.replace("{user_id}", "alice").replace("{id}", "1");
            let method =
                reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let response = stack
                .http
                .request(method.clone(), stack.url(&concrete))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .expect("request");
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !(status == StatusCode::NOT_FOUND && body.is_empty()),
                "{method} {path} is described but not served"
            );
            // Every /api operation documents the shared refusals.
            if path.starts_with("/api/") {
                let responses = &spec["paths"][path][method.as_str().to_lowercase()]["responses"];
                for code in ["400", "401", "403", "429", "500"] {
                    assert!(
                        responses.get(code).is_some(),
                        "{method} {path} lacks {code}"
                    );
                }
            }
        }
        // And what is not described is not served.
        for (method, path) in [
            ("GET", "/metrics"),
            ("GET", "/api"),
            ("PUT", "/api/alice/chat"),
            ("GET", "/admin"),
        ] {
            let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let status = stack
                .http
                .request(method.clone(), stack.url(path))
                .bearer_auth(token("alice"))
                .send()
                .await
                .expect("request")
                .status();
            assert!(
                status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {status}"
            );
        }
    }
    // The router is built only from documented handlers: no route is added
    // any other way (which would serve a path the document does not list).
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let sources = rust_files(&src);
    assert!(
        sources.len() > 10,
        "only {} files under {}",
        sources.len(),
        src.display()
    );
    assert!(
        sources.contains(&src.join("http").join("mod.rs")),
        "the router's file is among those read: {sources:?}"
    );
    for path in sources {
        let code = std::fs::read_to_string(&path).expect("read");
        for raw in [
            ".route(",
            ".route_service(",
            ".nest(",
            ".nest_service(",
            ".fallback(",
        ] {
            assert!(
                !code.contains(raw),
                "{} adds a route with {raw}: use routes!() with a #[utoipa::path] handler",
                path.display()
            );
        }
    }
}

/// schemathesis (a tool nobody here wrote) reads `/openapi.json` and throws
/// generated requests, valid and not, at every operation of the running
/// gateway: every answer must be one the document describes (status,
/// content type, headers, body schema), and none a server error.
#[tokio::test]
async fn schemathesis_finds_the_gateway_true_to_its_openapi_document() {
    let _turn = crate::helpers::one_at_a_time().await;
    let limits = [
        ("RATE_LIMIT_PER_MINUTE", "100000"),
        ("READ_RATE_LIMIT_PER_MINUTE", "100000"),
    ];
    // The task server's own per-user limit too: every request here is alice's.
    let mcp_limits = [("MCP_RATE_LIMIT_PER_MINUTE", "100000000")];
    let stack = Stack::start_with(Backend::Sqlite, &mcp_limits, &limits).await;
    stack.model.react();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis");
    let bin = match std::env::var_os("SCHEMATHESIS_BIN") {
        Some(bin) => std::path::PathBuf::from(bin),
        None => {
            todo_testkit::python_venv(
                "schemathesis-venv",
                &dir.join("requirements.txt"),
                "import schemathesis",
            )
            .await
        }
    };
    // schemathesis keeps a cache of past crashes in its working directory:
    // a fresh one each run keeps runs alike and the source tree clean.
    let workdir = std::env::temp_dir().join(format!("schemathesis-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&workdir).expect("workdir");
    let output = tokio::process::Command::new(bin.join("st"))
        .current_dir(&workdir)
        .arg("--config-file")
        .arg(dir.join("schemathesis.toml"))
        .arg("run")
        .arg(stack.url("/openapi.json"))
        // Every check runs (the default), but for the exceptions the
        // configuration file names and justifies.
        .args(["--max-examples", "25", "--workers", "1", "--seed", "1"])
        .args([
            "--header",
            &format!("Authorization: Bearer {}", token("alice")),
        ])
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("run schemathesis");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(&workdir);
    assert!(output.status.success(), "{report}");
    assert!(
        !stack.gateway.logs().contains("panicked"),
        "{}",
        stack.gateway.logs()
    );
}
