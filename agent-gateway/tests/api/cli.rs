//! The `todo-gateway` command line, and `scripts/run-local.sh`, which runs
//! both services the way the README tells a newcomer to.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use todo_testkit::{Backend, TestDatabase, workspace_binary};

use crate::helpers::{FakeModel, ok, text, tool_calls};

const SECRET: &str = "cli-test-secret-at-least-32-bytes-long!!";

async fn gateway(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(workspace_binary("todo-gateway"));
    cmd.env_clear()
        .env("DATABASE_URL", "sqlite::memory:")
        .args(args)
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().await.expect("run todo-gateway")
}

fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64");
    serde_json::from_slice(&bytes).expect("claims")
}

#[tokio::test]
async fn token_mints_with_the_configured_secret_and_refuses_without_one() {
    let refused = gateway(&["token", "--user", "alice"], &[]).await;
    assert!(!refused.status.success());
    assert!(refused.stdout.is_empty(), "no token without a secret");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("AUTH_JWT_SECRET"),
        "the error says what to set"
    );

    let minted = gateway(
        &["token", "--user", "alice", "--ttl", "2h"],
        &[
            ("AUTH_JWT_SECRET", SECRET),
            ("BETTER_AUTH_URL", "http://auth.test"),
        ],
    )
    .await;
    assert!(
        minted.status.success(),
        "{}",
        String::from_utf8_lossy(&minted.stderr)
    );
    let token = String::from_utf8_lossy(&minted.stdout).trim().to_owned();
    let claims = claims(&token);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(
        (claims["iss"].as_str(), claims["aud"].as_str()),
        (Some("http://auth.test"), Some("http://auth.test")),
        "the issuer and audience the gateway will require"
    );
    let lifetime = claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0);
    assert_eq!(lifetime, 7200);

    for (args, expected) in [
        (&["token", "--user", ""][..], "user"),
        (&["token", "--user", "alice", "--ttl", "forever"][..], "ttl"),
    ] {
        let out = gateway(args, &[("AUTH_JWT_SECRET", SECRET)]).await;
        assert!(!out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .to_lowercase()
                .contains(expected),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test]
async fn serve_refuses_to_start_without_a_way_to_verify_tokens() {
    let out = gateway(
        &["serve", "--bind", "127.0.0.1:0"],
        &[("MCP_JWT_SECRET", SECRET)],
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("BETTER_AUTH_URL") && stderr.contains("AUTH_JWT_SECRET"),
        "{stderr}"
    );
}

/// One secret for both (one shared .env) would let the task server's
/// tokens open the gateway and users' tokens the task server.
#[tokio::test]
async fn serve_refuses_one_secret_for_users_and_the_task_server() {
    for name in ["AUTH_JWT_SECRET", "BETTER_AUTH_SECRET"] {
        let out = gateway(
            &["serve", "--bind", "127.0.0.1:0"],
            &[("MCP_JWT_SECRET", SECRET), (name, SECRET)],
        )
        .await;
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("are the same"), "{name}: {stderr}");
        assert!(
            !stderr.contains(SECRET),
            "the secret is not printed: {stderr}"
        );
    }
}

#[tokio::test]
async fn migrate_creates_the_conversation_tables() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let out = gateway(&["migrate"], &[("DATABASE_URL", db.url())]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = db.store().await;
    let user = todo_domain::UserId::parse("alice").expect("user");
    let none = todo_domain::conversation::list(&store, &user, 10, None)
        .await
        .expect("the table exists");
    assert!(none.is_empty());
    store.close().await;
}

/// Stops the script and everything it started when the test ends.
struct ProcessGroup(u32);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.0)])
            .status();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `scripts/run-local.sh` with the binaries of this build, a fresh home
/// (so the embedded SQLite default is a new file) and the fake model: both
/// services come up on one database, and the curl command it prints works.
#[tokio::test]
async fn the_run_script_starts_both_services_and_its_curl_command_works() {
    let model = FakeModel::start(vec![
        ok(tool_calls(&[(
            "1",
            "add_task",
            json!({"title": "buy milk"}),
        )])),
        ok(text("I've added “buy milk”.")),
    ])
    .await;
    let home = std::env::temp_dir().join(format!(
        "todo-gateway-home-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::create_dir_all(&home).expect("home");
    let bin_dir = workspace_binary("todo-gateway")
        .parent()
        .expect("bin dir")
        .to_owned();
    workspace_binary("todo-mcp");
    let (mcp_port, gateway_port) = (free_port(), free_port());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/run-local.sh");
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg(script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("TODO_BIN_DIR", &bin_dir)
        .env("LLM_BASE_URL", &model.url)
        .env("LLM_MODEL", "fake-model")
        .env("MCP_BIND", format!("127.0.0.1:{mcp_port}"))
        .env("GATEWAY_BIND", format!("127.0.0.1:{gateway_port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("run the script");
    let group = ProcessGroup(child.id().expect("pid"));
    let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    for stream in [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
    ]
    .into_iter()
    .flatten()
    {
        let sink = output.clone();
        tokio::spawn(async move {
            use tokio::io::AsyncBufReadExt as _;
            let mut lines = tokio::io::BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(mut out) = sink.lock() {
                    out.push_str(&line);
                    out.push('\n');
                }
            }
        });
    }
    let printed = || output.lock().map(|o| o.clone()).unwrap_or_default();

    // Ready: the gateway answers and reaches the task server.
    let http = reqwest::Client::new();
    let ready_url = format!("http://127.0.0.1:{gateway_port}/ready");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(&ready_url).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not ready:\n{}",
            printed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The web chat, with its development sign-in.
    let page = http
        .get(format!("http://127.0.0.1:{gateway_port}/"))
        .send()
        .await
        .expect("web chat");
    assert!(
        page.text()
            .await
            .expect("html")
            .contains(r#"data-dev="true""#)
    );
    assert!(printed().contains(&format!("open http://127.0.0.1:{gateway_port}/")));

    // The instructions it printed, run as a reader would.
    let out = printed();
    let token = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("export TOKEN="))
        .unwrap_or_else(|| panic!("no token printed:\n{out}"))
        .to_owned();
    let curl: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("curl "))
        .take_while(|l| !l.trim().is_empty())
        .collect();
    assert!(!curl.is_empty(), "no curl command printed:\n{out}");
    let answer = tokio::process::Command::new("bash")
        .args(["-c", &curl.join("\n")])
        .env("TOKEN", &token)
        .output()
        .await
        .expect("curl");
    let answer: Value = serde_json::from_slice(&answer.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&answer.stdout)));
    assert_eq!(answer["response"], "I've added “buy milk”.", "{answer}");
    assert_eq!(answer["tool_calls"][0]["result"]["title"], "buy milk");

    // Both services used the embedded default: one SQLite file in the new home.
    let data = home.join(".local/share/todo-mcp");
    let files: Vec<String> = std::fs::read_dir(&data)
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", data.display(), printed()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".db"))
        .collect();
    assert_eq!(files, ["todo.db"]);
    drop(group);
    let _ = std::fs::remove_dir_all(&home);
}
