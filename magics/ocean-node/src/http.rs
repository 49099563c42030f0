//! What Ocean Node's Express stack does around every route, done the same way by kelp's node:
//! repeated slashes in the path collapsed before routing (`/api//services//nonce`), open CORS
//! (`Access-Control-Allow-Origin: *` on every answer, a preflight `OPTIONS` answered 204 with the
//! allowed methods and the requested headers), and Express's 404 HTML page "Cannot METHOD /path"
//! for a route that does not exist; JSON answers say `charset=utf-8` as Express's do.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The content type of Ocean Node's handler errors and Express's error pages.
pub const HTML: &str = "text/html; charset=utf-8";

/// `path` with each run of `/` replaced by one `/`.
pub fn collapse_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

/// Express's page for an error with `text` (the `<pre>` a client shows).
pub fn error_page(status: StatusCode, text: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>{}</pre>\n</body>\n</html>\n",
        kelp_magic::html_escape(text)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, HTML),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        page,
    )
        .into_response()
}

/// The answer to a route that does not exist: Express's 404 page "Cannot METHOD /path".
pub async fn not_found(method: Method, uri: Uri) -> Response {
    error_page(StatusCode::NOT_FOUND, &format!("Cannot {method} {}", uri.path()))
}

/// Collapse repeated slashes, answer CORS preflights, and open CORS on every answer.
pub async fn express_layer(mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.contains("//") {
        let collapsed = collapse_slashes(path);
        let with_query = match req.uri().query() {
            Some(q) => format!("{collapsed}?{q}"),
            None => collapsed,
        };
        if let Ok(uri) = with_query.parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    }
    if req.method() == Method::OPTIONS {
        let asked = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
        let mut res = Response::new(Body::empty());
        *res.status_mut() = StatusCode::NO_CONTENT;
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET,HEAD,PUT,PATCH,POST,DELETE"));
        h.insert(header::VARY, HeaderValue::from_static("Access-Control-Request-Headers"));
        if let Some(asked) = asked {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked);
        }
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        return with_cors(res);
    }
    with_cors(next.run(req).await)
}

fn with_cors(mut res: Response) -> Response {
    // Express names the charset of every JSON answer.
    if res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes() == b"application/json") {
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    }
    res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res.headers_mut().insert("x-powered-by", HeaderValue::from_static("Express"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slashes_collapse_to_one() {
        assert_eq!(collapse_slashes("/api//services///nonce"), "/api/services/nonce");
        assert_eq!(collapse_slashes("//"), "/");
        assert_eq!(collapse_slashes("/a/b"), "/a/b");
    }
}
