//! PostgreSQL's own rate for the statements behind the bench's mix, measured
//! with `pgbench` on the same machine in the same run: what the task server's
//! calls/s is compared with. The script issues what the server issues for
//! add_task, list_tasks (limit 20), complete_task and update_task (title), one
//! statement each, as prepared statements, one user per client.

use std::time::Duration;

use crate::common::BenchResult;

const SCRIPT: &str = r"insert into tasks (user_id, created_at, title, description, completed, due, due_key, priority, tags, recurrence, recurrence_start, completed_at, updated_at, search_title, search_body) values ('bench-' || :client_id, now(), 'bench task', null, false, null, null, 0, '', null, null, null, now(), 'bench task', '') returning id \gset
select id, title, description, completed, due, priority, tags, recurrence, recurrence_start, completed_at, created_at, updated_at, 0 as relevance from tasks where user_id = 'bench-' || :client_id order by id desc limit 21;
update tasks set completed = true, completed_at = now(), updated_at = now() where id = :id and user_id = 'bench-' || :client_id and completed = false and recurrence is null returning id, title, description, completed, due, priority, tags, recurrence, recurrence_start, completed_at, created_at, updated_at;
update tasks set title = 'renamed', updated_at = now(), search_title = 'renamed' where id = :id and user_id = 'bench-' || :client_id returning id, title, description, completed, due, priority, tags, recurrence, recurrence_start, completed_at, created_at, updated_at;
";

/// Statements per second that `pgbench` sustains with `clients` clients for
/// `seconds` on the (migrated) database `url`.
pub async fn statements_per_second(url: &str, clients: usize, seconds: u64) -> BenchResult<f64> {
    let script = std::env::temp_dir().join(format!("todo-bench-{}.sql", std::process::id()));
    std::fs::write(&script, SCRIPT)?;
    let output = tokio::time::timeout(
        Duration::from_secs(seconds + 60),
        tokio::process::Command::new("pgbench")
            .args(["-n", "-M", "prepared", "-j", "2"])
            .arg(format!("-c{clients}"))
            .arg(format!("-T{seconds}"))
            .arg("-f")
            .arg(&script)
            .arg(url)
            .output(),
    )
    .await??;
    let _ = std::fs::remove_file(&script);
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "pgbench failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let tps = stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .ok_or_else(|| format!("no tps in pgbench's output: {stdout}"))?;
    Ok(tps * 4.0)
}
