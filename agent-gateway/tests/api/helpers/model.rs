//! The scripted fake model: an OpenAI-compatible server (the one component
//! the project fakes) that answers from a script and records what it is sent.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Shown, shown};

/// One scripted answer of the fake model.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<&'static str>,
    pub delay: Duration,
    /// For a request with `stream: true`: these chunks, as server-sent
    /// events (without them, `body` is cut into chunks the way OpenAI does).
    pub chunks: Option<Vec<Value>>,
    /// Pause before each chunk.
    pub chunk_delay: Duration,
}

pub fn ok(body: Value) -> Reply {
    Reply {
        status: 200,
        body,
        retry_after: None,
        delay: Duration::ZERO,
        chunks: None,
        chunk_delay: Duration::ZERO,
    }
}

pub fn status(status: u16) -> Reply {
    Reply {
        status,
        body: json!({"error": {"message": format!("scripted {status}")}}),
        ..ok(Value::Null)
    }
}

/// A streamed answer made of exactly these chunks.
pub fn streamed(chunks: Vec<Value>) -> Reply {
    Reply {
        chunks: Some(chunks),
        ..ok(Value::Null)
    }
}

/// A completion cut into chunks as OpenAI streams it: the role, the text in
/// pieces, each tool call's id and name, then its arguments in two halves,
/// and a last chunk with the finish reason.
pub fn openai_chunks(completion: &Value) -> Vec<Value> {
    let message = &completion["choices"][0]["message"];
    let delta = |d: Value| json!({"choices": [{"index": 0, "delta": d, "finish_reason": null}]});
    let mut chunks = vec![delta(json!({"role": "assistant", "content": ""}))];
    if let Some(text) = message["content"].as_str() {
        let words: Vec<&str> = text.split_inclusive(' ').collect();
        for piece in words.chunks(2) {
            chunks.push(delta(json!({"content": piece.concat()})));
        }
    }
    if let Some(calls) = message["tool_calls"].as_array() {
        for (index, call) in calls.iter().enumerate() {
            chunks.push(delta(
                json!({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""}}]}),
            ));
            let arguments = call["function"]["arguments"].as_str().unwrap_or("{}");
            let middle = arguments.len() / 2;
            let middle = (0..=middle)
                .rev()
                .find(|&i| arguments.is_char_boundary(i))
                .unwrap_or(0);
            for half in [&arguments[..middle], &arguments[middle..]] {
                chunks.push(delta(
                    json!({"tool_calls": [{"index": index, "function": {"arguments": half}}]}),
                ));
            }
        }
    }
    let reason = completion["choices"][0]["finish_reason"].clone();
    chunks.push(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}));
    chunks
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

/// The reactive model's answer: to a user's "add TITLE", a call of
/// add_task with that title; to a tool result, "Done: RESULT"; to anything
/// else, "You said: TEXT".
pub fn react(request: &Value) -> Value {
    let last = request["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or(Value::Null);
    let content = last["content"].as_str().unwrap_or_default();
    match (last["role"].as_str(), content.strip_prefix("add ")) {
        (Some("tool"), _) => text(&format!("Done: {content}")),
        (Some("user"), Some(title)) => {
            tool_calls(&[("call_0", "add_task", json!({"title": title}))])
        }
        _ => text(&format!("You said: {content}")),
    }
}

/// A scripted OpenAI-compatible server that records what it receives.
#[derive(Clone, Default)]
pub struct FakeModel {
    replies: Arc<Mutex<VecDeque<Reply>>>,
    received: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
    /// With the script empty, answer from the request (see [`react`]).
    reactive: Arc<std::sync::atomic::AtomicBool>,
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

    /// Once the script is used up, answer each request from what it says
    /// ([`react`]) instead of failing: for many concurrent turns, whose
    /// order no script can know.
    pub fn react(&self) {
        self.reactive
            .store(true, std::sync::atomic::Ordering::SeqCst);
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

    /// The messages of the `n`th request received (from 0).
    pub fn sent(&self, n: usize) -> Vec<Shown> {
        let requests = self.requests();
        let request = requests
            .get(n)
            .unwrap_or_else(|| panic!("request {n} asked for, {} received", requests.len()));
        shown(request)
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
    let streaming = body["stream"] == true;
    let request = body.clone();
    model.received.lock().expect("lock").push((headers, body));
    let reply = model.replies.lock().expect("lock").pop_front();
    let reactive = model.reactive.load(std::sync::atomic::Ordering::SeqCst);
    let reply = match reply {
        Some(reply) => reply,
        None if reactive => ok(react(&request)),
        None => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "script exhausted").into_response();
        }
    };
    tokio::time::sleep(reply.delay).await;
    if streaming && reply.status == 200 {
        let chunks = reply
            .chunks
            .clone()
            .unwrap_or_else(|| openai_chunks(&reply.body));
        let pause = reply.chunk_delay;
        let events = futures::stream::unfold(chunks.into_iter(), move |mut chunks| async move {
            tokio::time::sleep(pause).await;
            let data = match chunks.next() {
                Some(chunk) => format!("data: {chunk}\n\n"),
                None => return None,
            };
            Some((Ok::<_, std::convert::Infallible>(data), chunks))
        });
        let done = futures::stream::once(async { Ok("data: [DONE]\n\n".to_owned()) });
        use futures::StreamExt as _;
        return Response::builder()
            .header("content-type", "text/event-stream")
            .body(axum::body::Body::from_stream(events.chain(done)))
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    }
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
