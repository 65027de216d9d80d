//! Tools nobody here wrote, installed on first use for the tests that need
//! them: Python packages in a virtualenv, npm packages from a lock file.

use std::path::PathBuf;

/// A Python virtualenv under `target/NAME` with `requirements` installed,
/// made when `probe` (a Python statement, e.g. `import mcp`) fails in it.
/// Returns the venv's `bin` directory. Tools nobody here wrote (the MCP
/// Python SDK, schemathesis) come from there.
///
/// # Panics
/// When Python 3 or pip fails.
#[allow(clippy::expect_used)]
pub async fn python_venv(name: &str, requirements: &std::path::Path, probe: &str) -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target")
        .join(name);
    let bin = venv.join("bin");
    let python = bin.join("python");
    let ready = |python: PathBuf| async move {
        python.exists()
            && tokio::process::Command::new(&python)
                .args(["-c", probe])
                .stderr(std::process::Stdio::null())
                .status()
                .await
                .is_ok_and(|s| s.success())
    };
    if ready(python.clone()).await {
        return bin;
    }
    let created = tokio::process::Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg(&venv)
        .status()
        .await;
    assert!(
        created.is_ok_and(|s| s.success()),
        "python3 -m venv {} failed: Python 3.10+ is needed",
        venv.display()
    );
    let installed = tokio::process::Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(requirements)
        .status()
        .await;
    assert!(
        installed.is_ok_and(|s| s.success()),
        "pip install -r {} failed",
        requirements.display()
    );
    bin
}

/// `npm ci` in `dir` (a test's own package.json and lock file), unless
/// `dir/node_modules/PACKAGE` is already there. Tools nobody here wrote (the
/// MCP TypeScript SDK, playwright-core) come from there.
///
/// # Panics
/// When npm fails.
pub async fn npm_ci(dir: &std::path::Path, package: &str) {
    if dir.join("node_modules").join(package).exists() {
        return;
    }
    let installed = tokio::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--silent"])
        .current_dir(dir)
        .status()
        .await;
    assert!(
        installed.is_ok_and(|s| s.success()),
        "npm ci in {} failed: Node.js 20+ and npm are needed",
        dir.display()
    );
}
