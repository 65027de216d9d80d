//! The user's tasks over HTTP, for the web chat's task panel and any other
//! client: list ([`list`]), add ([`add`]), change ([`change`]) and delete
//! ([`delete`]). Each route calls one of the task server's tools over MCP
//! as the signed-in user ([`tool`]), so the panel and the assistant share
//! every rule: the same validation, the same messages, the same scoping.

pub mod add;
pub mod change;
pub mod delete;
pub mod list;
pub mod tool;
