//! HTTP spoken by hand over TCP, for what no well-behaved client does:
//! headers that never end, a body that never arrives, connections held open.
//! [`assert_slow_clients_are_cut_off`] checks a service's limits the same way
//! for both binaries.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// A connection that has sent `bytes` (possibly nothing).
pub async fn connect_and_send(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    if !bytes.is_empty() {
        stream.write_all(bytes).await.expect("write");
    }
    stream
}

/// Everything the server sends until it closes the connection, and when
/// it closed; None when it is still open after `within`.
pub async fn read_until_closed(
    stream: &mut TcpStream,
    within: Duration,
) -> Option<(String, Instant)> {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| (String::from_utf8_lossy(&seen).into_owned(), Instant::now()))
}

/// A whole `GET path` on a connection kept alive; the answer's head.
pub async fn get_keep_alive(stream: &mut TcpStream, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buffer = vec![0u8; 8192];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
        .await
        .expect("an answer in time")
        .expect("read");
    String::from_utf8_lossy(&buffer[..n]).into_owned()
}

/// For a service started with `HTTP_HEADER_TIMEOUT_SECS=1` and
/// `HTTP_BODY_TIMEOUT_SECS=1`: a connection that sends nothing, one whose
/// headers never end and one left idle after an answer are closed within
/// about a second; a body that never arrives whole is answered 408.
/// `post_path` takes a POST (the body is never complete, so it is never
/// read by the route).
pub async fn assert_slow_clients_are_cut_off(addr: SocketAddr, post_path: &str) {
    let cut_off = Duration::from_secs(4);
    let opened = Instant::now();
    let mut silent = connect_and_send(addr, b"").await;
    let mut slow_headers =
        connect_and_send(addr, b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n").await;
    let mut idle = connect_and_send(addr, b"").await;
    let head = get_keep_alive(&mut idle, "/health").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let partial = format!(
        "POST {post_path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         content-length: 100\r\n\r\n{{\"partial\":"
    );
    let mut slow_body = connect_and_send(addr, partial.as_bytes()).await;

    for (name, stream) in [
        ("silent", &mut silent),
        ("slow headers", &mut slow_headers),
        ("idle keep-alive", &mut idle),
    ] {
        let closed = read_until_closed(stream, cut_off).await;
        let (_, at) = closed.unwrap_or_else(|| panic!("{name}: still open after {cut_off:?}"));
        let after = at - opened;
        assert!(
            after >= Duration::from_millis(900),
            "{name}: closed too soon ({after:?})"
        );
    }
    let (answer, _) = read_until_closed(&mut slow_body, cut_off)
        .await
        .expect("a body that never arrives gets an answer and the connection closes");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
}

/// For a service started with `MAX_CONCURRENT_REQUESTS=1` and
/// `MAX_CONNECTIONS=3`: while one request is in flight (its body still
/// coming), another is shed at once with 503 and `Retry-After` while
/// liveness is still answered; and a fourth connection is answered 503 and
/// closed.
pub async fn assert_load_is_shed(addr: SocketAddr, post_path: &str) {
    let partial = format!(
        "POST {post_path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         content-length: 100\r\n\r\n{{"
    );
    let _in_flight = connect_and_send(addr, partial.as_bytes()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut second = connect_and_send(addr, b"").await;
    let started = Instant::now();
    let shed = get_keep_alive(&mut second, "/ready").await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "shed at once, not queued"
    );
    assert!(shed.starts_with("HTTP/1.1 503"), "{shed}");
    assert!(
        shed.to_ascii_lowercase().contains("retry-after: 1"),
        "{shed}"
    );
    assert!(shed.contains("\"overloaded\""), "{shed}");
    let live = get_keep_alive(&mut second, "/health").await;
    assert!(
        live.starts_with("HTTP/1.1 200"),
        "liveness is always answered: {live}"
    );

    let _third = connect_and_send(addr, b"").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut fourth = connect_and_send(addr, b"").await;
    let (answer, _) = read_until_closed(&mut fourth, Duration::from_secs(3))
        .await
        .expect("the connection past the limit is closed");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("too many connections"), "{answer}");
}
