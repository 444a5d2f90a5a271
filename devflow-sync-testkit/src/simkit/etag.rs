//! ETags over answer bytes, and the 304 a matching `If-None-Match` earns.

use super::{Request, Response};

/// FNV-1a over `bytes`: a stable, cheap fingerprint (ETags, made-up ids).
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A JSON answer with a weak ETag over its bytes, or a bodiless 304 when the request's
/// `If-None-Match` already names that ETag.
///
/// ```
/// use devflow_sync_testkit::simkit::{Request, json_with_etag};
/// let request = |etag: Option<&str>| Request {
///     method: "GET".into(), path: "/x".into(), query: vec![], body: vec![],
///     headers: etag.map(|e| ("if-none-match".to_owned(), e.to_owned())).into_iter().collect(),
/// };
/// let first = json_with_etag(&request(None), b"[1,2]".to_vec());
/// assert_eq!(first.status, 200);
/// let etag = first.headers.iter().find(|(k, _)| k == "etag").unwrap().1.clone();
/// assert_eq!(json_with_etag(&request(Some(&etag)), b"[1,2]".to_vec()).status, 304);
/// assert_eq!(json_with_etag(&request(Some(&etag)), b"[1,3]".to_vec()).status, 200);
/// ```
pub fn json_with_etag(request: &Request, body: Vec<u8>) -> Response {
    let etag = format!("W/\"{:016x}\"", fnv(&body));
    if request.header("if-none-match") == Some(etag.as_str()) {
        return Response {
            status: 304,
            headers: vec![("etag".into(), etag)],
            body: Vec::new(),
        };
    }
    Response {
        status: 200,
        headers: vec![(
            "content-type".into(),
            "application/json; charset=utf-8".into(),
        )],
        body,
    }
    .header("etag", etag)
}
