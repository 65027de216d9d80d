//! Shared by the gateway's test binaries: the scripted fake model (the one
//! component the project fakes) and starters for the real binaries.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// One scripted answer of the fake model.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<&'static str>,
    pub delay: Duration,
}

pub fn ok(body: Value) -> Reply {
    Reply {
        status: 200,
        body,
        retry_after: None,
        delay: Duration::ZERO,
    }
}

pub fn status(status: u16) -> Reply {
    Reply {
        status,
        body: json!({"error": {"message": format!("scripted {status}")}}),
        retry_after: None,
        delay: Duration::ZERO,
    }
}

/// A final text answer.
pub fn text(content: &str) -> Value {
    json!({"choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
           "usage": {"prompt_tokens": 12, "completion_tokens": 3}})
}

/// An answer calling tools: (id, name, arguments).
pub fn tool_calls(calls: &[(&str, &str, Value)]) -> Value {
    let calls: Vec<Value> = calls
        .iter()
        .map(|(id, name, args)| json!({"id": id, "type": "function", "function": {"name": name, "arguments": args.to_string()}}))
        .collect();
    json!({"choices": [{"message": {"role": "assistant", "content": null, "tool_calls": calls}, "finish_reason": "tool_calls"}]})
}

/// A scripted OpenAI-compatible server that records what it receives.
#[derive(Clone, Default)]
pub struct FakeModel {
    replies: Arc<Mutex<VecDeque<Reply>>>,
    received: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
    pub url: String,
}

impl FakeModel {
    pub async fn start(replies: Vec<Reply>) -> Self {
        let mut model = Self::default();
        model.replies.lock().expect("lock").extend(replies);
        let app = axum::Router::new()
            .route("/v1/chat/completions", axum::routing::post(answer))
            .with_state(model.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        model.url = format!("http://{addr}/v1");
        model
    }

    pub fn script(&self, replies: Vec<Reply>) {
        self.replies.lock().expect("lock").extend(replies);
    }

    /// The request bodies received so far.
    pub fn requests(&self) -> Vec<Value> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }

    pub fn received(&self) -> Vec<(HeaderMap, Value)> {
        self.received.lock().expect("lock").clone()
    }
}

async fn answer(
    State(model): State<FakeModel>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    model.received.lock().expect("lock").push((headers, body));
    let reply = model.replies.lock().expect("lock").pop_front();
    let Some(reply) = reply else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "script exhausted").into_response();
    };
    tokio::time::sleep(reply.delay).await;
    let mut response = (
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK),
        axum::Json(reply.body),
    )
        .into_response();
    if let Some(after) = reply.retry_after {
        response
            .headers_mut()
            .insert("retry-after", after.parse().expect("header"));
    }
    response
}
