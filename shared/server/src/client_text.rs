//! Text a client chose, made safe to log: shortened, with control
//! characters (newlines above all, which would forge a whole log line in the
//! plain format) and quotes escaped.

/// At most `max` characters of `text` (then `…`), escaped as in Rust's
/// `{:?}` without the surrounding quotes.
pub fn client_text(text: &str, max: usize) -> String {
    let mut shown: String = text
        .chars()
        .take(max)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(max).is_some() {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::client_text;

    #[test]
    fn line_breaks_and_quotes_are_escaped_and_long_text_is_cut() {
        assert_eq!(client_text("a\nb\"c", 10), "a\\nb\\\"c");
        assert_eq!(client_text("abcdef", 3), "abc…");
        assert_eq!(client_text("é\u{202e}", 5), "é\\u{202e}");
    }
}
