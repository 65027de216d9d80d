//! The gateway's integration tests, one binary: the real `todo-gateway` and
//! `todo-mcp` binaries on real databases, driven over HTTP, with the
//! scripted fake model (the one thing faked). `helpers` starts them; each
//! other module is one area.

mod auth;
mod better_auth;
mod bounds;
mod browser;
mod chat;
mod cli;
mod consistency;
mod conversations;
mod cors;
mod failures;
mod helpers;
mod instances;
mod issuers;
mod limits;
mod llm;
mod mcp;
mod metrics;
mod openapi;
mod streaming;
mod task_model;
mod task_routes;
mod tracing;
