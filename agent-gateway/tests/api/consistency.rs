//! The repository's documents agree with the binaries: the README's and
//! docs/configuration.md's tables, docker-compose.yml, .env.example and
//! deploy/secrets.example/ name the variables each `--help` names.

use todo_testkit::{binary_env_vars, readme_table_env_vars};

/// A file of the repository, by its path from the top.
fn repo_file(path: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(path),
    )
    .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The README's gateway configuration table and `--help` name the same variables.
#[tokio::test]
async fn the_readme_gateway_table_matches_help() {
    let readme = repo_file("README.md");
    let table = readme_table_env_vars(&readme, "### Gateway configuration", "##");
    let from_help = binary_env_vars("todo-gateway", &["", "serve"]).await;
    assert_eq!(table, from_help, "README gateway table vs --help");
}

/// docs/configuration.md is the configuration reference: its tables name
/// every variable of each binary's `--help`, and nothing else.
#[tokio::test]
async fn the_configuration_reference_matches_help() {
    let doc = repo_file("docs/configuration.md");
    let mcp_doc = readme_table_env_vars(&doc, "## todo-mcp", "## todo-gateway");
    let mcp_help = binary_env_vars("todo-mcp", &["", "stdio", "http", "migrate", "token"]).await;
    assert_eq!(
        mcp_doc, mcp_help,
        "docs/configuration.md (todo-mcp) vs --help"
    );
    let gateway_doc = readme_table_env_vars(&doc, "## todo-gateway", "## Other variables");
    let gateway_help = binary_env_vars("todo-gateway", &["", "serve", "migrate", "token"]).await;
    assert_eq!(
        gateway_doc, gateway_help,
        "docs/configuration.md (todo-gateway) vs --help"
    );
}

/// The variables that docker-compose.yml gives each service (its
/// `environment:` keys), by service.
fn compose_environment(compose: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut found: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut service = None;
    let mut in_environment = false;
    let mut in_services = false;
    for line in compose.lines() {
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if indent == 0 {
            in_services = text == "services:";
            service = None;
            continue;
        }
        if in_services && indent == 2 {
            service = text.strip_suffix(':').map(str::to_owned);
            in_environment = false;
            continue;
        }
        if indent == 4 {
            in_environment = text == "environment:";
            continue;
        }
        if in_environment
            && indent == 6
            && let (Some(service), Some((key, _))) = (&service, text.split_once(':'))
        {
            found
                .entry(service.clone())
                .or_default()
                .push(key.trim().to_owned());
        }
    }
    found
}

/// Every variable docker-compose.yml and deploy/secrets.example/ give
/// todo-mcp and the gateway is one they read (a misspelt one would be
/// silently ignored).
#[tokio::test]
async fn the_compose_file_sets_only_variables_the_binaries_read() {
    let compose = repo_file("docker-compose.yml");
    let environment = compose_environment(&compose);
    let mcp = binary_env_vars("todo-mcp", &["", "http"]).await;
    let gateway = binary_env_vars("todo-gateway", &["", "serve"]).await;
    // libpq's variable, read by the PostgreSQL driver, not a flag.
    let driver = ["PGPASSWORD"];
    for (service, known) in [("mcp", &mcp), ("gateway", &gateway)] {
        let set = environment
            .get(service)
            .unwrap_or_else(|| panic!("no {service} in compose"));
        assert!(set.len() >= 5, "{service}: {set:?}");
        for key in set {
            assert!(
                known.contains(key),
                "compose sets {key} for {service}, which it does not read"
            );
        }
    }
    // Each container's secrets file holds only what that container reads.
    let postgres = ["POSTGRES_PASSWORD"];
    for (file, known) in [
        ("postgres.env", None),
        ("todo-mcp.env", Some(&mcp)),
        ("todo-gateway.env", Some(&gateway)),
    ] {
        let secrets = repo_file(&format!("deploy/secrets.example/{file}"));
        let mut keys = 0;
        for line in secrets.lines() {
            let line = line.trim().trim_start_matches("# ");
            let Some((key, _)) = line.split_once('=') else {
                continue;
            };
            if !key.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                continue;
            }
            keys += 1;
            let read = match known {
                Some(known) => known.contains(key) || driver.contains(&key),
                None => postgres.contains(&key),
            };
            assert!(read, "{file} sets {key}, which its container does not read");
        }
        assert!(keys >= 1, "{file} sets nothing");
        assert!(
            compose.contains(&format!("${{TODO_SECRETS_DIR:-deploy/secrets}}/{file}")),
            "compose does not read {file}"
        );
    }
    assert_eq!(
        compose.matches("deploy/secrets}/").count(),
        3,
        "each container reads its own secrets file, and only its own"
    );
}

/// `.env.example` names every variable either binary reads.
#[tokio::test]
async fn the_env_example_names_every_variable() {
    let example = repo_file(".env.example");
    let mut known = binary_env_vars("todo-mcp", &["", "http"]).await;
    known.extend(binary_env_vars("todo-gateway", &["", "serve"]).await);
    for name in known {
        assert!(
            example.contains(&format!("# {name}=")),
            ".env.example does not mention {name}"
        );
    }
}
