//! A small `multipart/form-data` reader for fakes that receive uploads.

/// The boundary of a `multipart/form-data` Content-Type, unquoted.
pub fn boundary(content_type: &str) -> Option<&str> {
    content_type.split("boundary=").nth(1).map(|b| b.trim_matches('"'))
}

/// Split a multipart body into (part headers, part bytes).
pub fn parts(body: &[u8], boundary: &str) -> Vec<(String, Vec<u8>)> {
    let delim = format!("--{boundary}").into_bytes();
    let mut out = Vec::new();
    let mut starts = Vec::new();
    let mut i = 0;
    while i + delim.len() <= body.len() {
        if body[i..].starts_with(&delim) {
            starts.push(i);
            i += delim.len();
        } else {
            i += 1;
        }
    }
    for w in starts.windows(2) {
        let part = &body[w[0] + delim.len()..w[1]];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        if let Some(p) = part.windows(4).position(|x| x == b"\r\n\r\n") {
            out.push((String::from_utf8_lossy(&part[..p]).into_owned(), part[p + 4..].to_vec()));
        }
    }
    out
}

/// The `filename="…"` of a part's headers.
pub fn filename(headers: &str) -> Option<&str> {
    headers.split("filename=\"").nth(1).and_then(|s| s.split('"').next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_parts_with_headers_and_bytes() {
        let body = b"--XY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello\r\n--XY\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n\x00\x01\r\n--XY--\r\n";
        assert_eq!(boundary("multipart/form-data; boundary=\"XY\""), Some("XY"));
        let p = parts(body, "XY");
        assert_eq!(p.len(), 2);
        assert_eq!(filename(&p[0].0), Some("a.txt"));
        assert_eq!(p[0].1, b"hello");
        assert_eq!(p[1].1, vec![0u8, 1]);
        assert_eq!(filename(&p[1].0), None);
    }
}
