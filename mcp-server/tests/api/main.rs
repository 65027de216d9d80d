//! Integration tests: the real `todo-mcp` binary over stdio and HTTP, driven
//! by rmcp's client and reqwest, on SQLite and PostgreSQL.

mod auth;
mod cli;
mod consistency;
mod contract;
mod helpers;
mod hosts;
mod http_transport;
mod isolation;
mod limits;
mod logs;
mod quotas;
mod rate_limit;
mod smoke;
mod tools;
mod zones;
