//! The workspace's binaries as processes of a test or a benchmark.

use std::path::PathBuf;

/// A service binary of this workspace (e.g. `todo-mcp`) running for a test,
/// with its stderr captured. Killed when dropped.
pub struct ServiceProcess {
    pub child: tokio::process::Child,
    pub addr: std::net::SocketAddr,
    logs: std::sync::Arc<std::sync::Mutex<String>>,
}

impl ServiceProcess {
    /// Spawn `cmd` (stderr is piped here) and wait until it logs
    /// `listening on http://ADDR/…`. Err carries what it logged.
    pub async fn spawn(
        mut cmd: tokio::process::Command,
        name: &'static str,
    ) -> Result<Self, String> {
        use tokio::io::{AsyncBufReadExt as _, BufReader};
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot spawn {name}: {e}"))?;
        let stderr = child.stderr.take().ok_or("stderr is not piped")?;
        let logs = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
        let sink = logs.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            let mut addr_tx = Some(addr_tx);
            while let Ok(Some(line)) = lines.next_line().await {
                if std::env::var_os("TEST_LOG").is_some() {
                    eprintln!("[{name}] {line}");
                }
                if let Some(rest) = line.split("listening on http://").nth(1)
                    && let Some(addr) = rest
                        .split('/')
                        .next()
                        .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
                    && let Some(tx) = addr_tx.take()
                {
                    let _ = tx.send(addr);
                }
                if let Ok(mut logs) = sink.lock() {
                    logs.push_str(&line);
                    logs.push('\n');
                }
            }
        });
        match tokio::time::timeout(std::time::Duration::from_secs(20), addr_rx).await {
            Ok(Ok(addr)) => Ok(Self { child, addr, logs }),
            _ => {
                let _ = child.kill().await;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                Err(logs.lock().map(|l| l.clone()).unwrap_or_default())
            }
        }
    }

    pub fn logs(&self) -> String {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// The path of a binary of this workspace, built for the running test's
/// profile; built with cargo first when it is not there yet (a test of one
/// crate needs the binary of another).
///
/// # Panics
/// When the binary cannot be built.
#[allow(clippy::expect_used)]
pub fn workspace_binary(name: &str) -> PathBuf {
    // target/<profile>/deps/<test-exe>
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps layout")
        .to_owned();
    let binary = profile_dir.join(name);
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = std::process::Command::new(cargo);
        build.args(["build", "--bin", name]);
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "cargo build --bin {name} failed");
    }
    binary
}

/// A process's resident memory in KiB (0 when it cannot be read), for the
/// benchmarks.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Run a benchmark on one current-thread runtime (its load generator then
/// takes at most one core and makes no cross-thread wake-ups of its own);
/// exit 1 with the error on failure.
pub fn run_on_one_thread<E: std::fmt::Display>(bench: impl Future<Output = Result<(), E>>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("runtime: {error}");
            std::process::exit(1);
        }
    };
    if let Err(error) = runtime.block_on(bench) {
        eprintln!("bench failed: {error}");
        std::process::exit(1);
    }
}
