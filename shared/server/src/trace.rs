//! What ties one user request's log lines together across the services: a
//! request id (`x-request-id`) and, when the caller sent one, a W3C
//! `traceparent`.
//!
//! Both come from clients, so both are checked before they are logged or
//! passed on: an id that is not short printable ASCII is replaced by a fresh
//! one, and a `traceparent` that is not of the W3C form is dropped.

use std::fmt;

/// The header that carries the request id, in and out.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// The W3C Trace Context header.
pub const TRACEPARENT_HEADER: &str = "traceparent";
/// The MCP `_meta` key the gateway puts the request id under (a prefixed key,
/// as MCP asks of non-standard keys; `traceparent` has its own, SEP-414).
pub const REQUEST_ID_META_KEY: &str = "io.github.todo-mcp/request-id";

/// Longest request id accepted from a client.
const MAX_REQUEST_ID: usize = 128;

/// A request id: given by the client when sane, else made up here.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    /// 32 random hex digits.
    pub fn generate() -> Self {
        let bytes: [u8; 16] = rand::random();
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The client's id if it is 1 to 128 characters of `A-Z a-z 0-9 - _ . :`,
    /// else `None` (the caller then generates one).
    pub fn parse(raw: &str) -> Option<Self> {
        let sane = !raw.is_empty()
            && raw.len() <= MAX_REQUEST_ID
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        sane.then(|| Self(raw.to_owned()))
    }

    /// The client's id when sane, else a new one.
    pub fn parse_or_generate(raw: Option<&str>) -> Self {
        raw.and_then(Self::parse).unwrap_or_else(Self::generate)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`, lower case, trace and
/// parent ids not all zero), else `None`. Later versions may append fields,
/// which are kept.
pub fn parse_traceparent(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let mut parts = raw.split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let valid = hex(version, 2)
        && version != "ff"
        && hex(trace, 32)
        && trace.bytes().any(|b| b != b'0')
        && hex(parent, 16)
        && parent.bytes().any(|b| b != b'0')
        && hex(flags, 2)
        && (version != "00" || parts.next().is_none())
        && raw.len() <= 512;
    valid.then(|| raw.to_owned())
}

/// The request id and trace context of one request, handed to whatever the
/// request causes (a turn, its tool calls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    pub request_id: RequestId,
    pub traceparent: Option<String>,
}

impl TraceContext {
    /// A context of our own, for work no request caused (probes, tests).
    pub fn generate() -> Self {
        Self {
            request_id: RequestId::generate(),
            traceparent: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sane_request_id_is_kept() {
        for raw in ["abc", "3f2a-11:req_7.x", &"a".repeat(128)] {
            assert_eq!(RequestId::parse(raw).map(|r| r.0), Some(raw.to_owned()));
        }
    }

    #[test]
    fn an_odd_request_id_is_replaced() {
        for raw in ["", "a b", "x\ny", "<script>", "é", &"a".repeat(129)] {
            assert_eq!(RequestId::parse(raw), None, "{raw:?}");
            let made = RequestId::parse_or_generate(Some(raw));
            assert_eq!(made.as_str().len(), 32);
            assert!(made.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }

    #[test]
    fn generated_request_ids_differ() {
        assert_ne!(RequestId::generate(), RequestId::generate());
    }

    #[test]
    fn a_w3c_traceparent_is_accepted() {
        let raw = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(parse_traceparent(raw).as_deref(), Some(raw));
        // A later version may carry more fields.
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra";
        assert_eq!(parse_traceparent(later).as_deref(), Some(later));
    }

    #[test]
    fn a_malformed_traceparent_is_dropped() {
        for raw in [
            "",
            "garbage",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert_eq!(parse_traceparent(raw), None, "{raw:?}");
        }
    }
}
