//! Where the browser may be sent after signing in: a path on this site, nothing else.
//!
//! The sign-in form carries the page to return to (`next`), and the server answers with a
//! redirect there. Anyone can write a link to the sign-in page with their own `next`, so an
//! unchecked value would send a freshly signed-in user to another site (an open redirect).

/// `next` when it is a path on this site; `/` otherwise.
///
/// Browsers are lenient with a `Location`: they drop tabs and newlines (`/\t/evil` becomes
/// `//evil`, another host), read `\` as `/`, and some proxies decode `%09`, `%0a` or `%5c`
/// before passing a path on. So a path is accepted only when it starts with one `/`, holds no
/// control character, whitespace or backslash, and its percent-decoded form holds no control
/// character or backslash and does not start with `//` either. (A decoded space is allowed:
/// it is how a filter value like "Đất đai" travels in `next`, and no reading of it changes
/// the host.) Starting with a single `/` also rules out a scheme (`https:`, `javascript:`) and
/// an authority (`//host`).
pub fn safe_next(next: &str) -> &str {
    if is_local_path(next) {
        next
    } else {
        "/"
    }
}

/// Longer paths are no page of this site; the limit also keeps the redirect header small.
const MAX_PATH_BYTES: usize = 2048;

fn is_local_path(path: &str) -> bool {
    if path.len() > MAX_PATH_BYTES || !path.starts_with('/') || path.starts_with("//") {
        return false;
    }
    if path
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return false;
    }
    let decoded = percent_decoded(path);
    !decoded.starts_with("//") && !decoded.chars().any(|c| c.is_control() || c == '\\')
}

/// `text` with each `%XX` replaced by its byte (malformed sequences kept as they are); bytes
/// that do not form UTF-8 become U+FFFD, which is neither control nor whitespace.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&high), Some(&low)) => hex(high).zip(hex(low)).map(|(h, l)| h * 16 + l),
            _ => None,
        };
        match byte {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_on_this_site_is_kept_as_it_is() {
        for path in [
            "/",
            "/late?x=1",
            "/late?unit=502&from=2021-01-01&lang=en",
            "/late?field=%C4%90%E1%BA%A5t%20%C4%91ai",
            "/late?field=Đất",
            "/100%",
            "/a%20b",
        ] {
            assert_eq!(safe_next(path), path);
        }
    }

    #[test]
    fn a_path_to_another_host_falls_back_to_the_home_page() {
        for next in [
            "//evil",
            "//evil.example/late",
            "/\t/evil",
            "/%09/evil",
            "/%0a/evil",
            "/%0D%0A/evil",
            "/\\evil",
            "\\\\evil",
            "/%5cevil",
            "/%5Cevil",
            "/%2f/evil",
            "/%2F%2Fevil",
            "https://evil",
            "javascript:alert(1)",
            "evil.example",
            " /x",
            "/x ",
            "/x\n",
            "/x\r",
            "/x\u{a0}",
            "/x\u{7f}",
            "",
        ] {
            assert_eq!(safe_next(next), "/", "{next:?}");
        }
    }

    #[test]
    fn an_overlong_path_falls_back_to_the_home_page() {
        let long = format!("/{}", "a".repeat(MAX_PATH_BYTES));
        assert_eq!(safe_next(&long), "/");
        let fits = format!("/{}", "a".repeat(MAX_PATH_BYTES - 1));
        assert_eq!(safe_next(&fits), fits);
    }

    #[test]
    fn malformed_percent_sequences_are_read_as_plain_text() {
        assert_eq!(percent_decoded("/a%zz%4"), "/a%zz%4");
        assert_eq!(percent_decoded("/%41%62"), "/Ab");
        assert_eq!(safe_next("/a%zz"), "/a%zz");
    }
}
