//! gRPC over the same layer, on plain `http` types (tonic's wire format, not tonic):
//! a request whose `content-type` is `application/grpc` (or `application/grpc+proto`,
//! …) is a call of `/package.Service/Method`, and its status is the `grpc-status`
//! field, in the response's headers for a trailers-only answer, else in the trailers
//! after the body (gRPC over HTTP/2, "Responses").

use http::{HeaderMap, StatusCode};

use crate::attributes::{GRPC_CODES, GRPC_UNIMPLEMENTED, GRPC_UNKNOWN};

/// Whether `headers` make the request a gRPC call.
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .map(http::HeaderValue::as_bytes)
        .is_some_and(|value| {
            value.strip_prefix(b"application/grpc").is_some_and(|rest| {
                rest.is_empty() || rest.starts_with(b"+") || rest.starts_with(b";")
            })
        })
}

/// `rpc.service` and `rpc.method` from a path `/package.Service/Method`; empty when the
/// path is not of that shape.
pub(crate) fn service_and_method(path: &str) -> (&str, &str) {
    path.strip_prefix('/')
        .and_then(|rest| rest.split_once('/'))
        .filter(|(service, method)| {
            !service.is_empty() && !method.is_empty() && !method.contains('/')
        })
        .unwrap_or(("", ""))
}

/// The `grpc-status` field of `fields`, if present; a value outside `0..=16` is
/// `UNKNOWN`.
pub(crate) fn status(fields: &HeaderMap) -> Option<u8> {
    let value = fields.get("grpc-status")?;
    let code = core::str::from_utf8(value.as_bytes())
        .ok()
        .and_then(|text| text.trim().parse::<u8>().ok())
        .filter(|&code| usize::from(code) < GRPC_CODES.len());
    Some(code.unwrap_or(GRPC_UNKNOWN))
}

/// The gRPC status of an HTTP answer that carries none: gRPC's "HTTP to gRPC Status
/// Code Mapping" (doc/http-grpc-status-mapping.md); `UNKNOWN` for a 200 whose body
/// ended without a status.
pub(crate) fn status_of_http(status: StatusCode) -> u8 {
    match status.as_u16() {
        400 => 13,
        401 => 16,
        403 => 7,
        404 => GRPC_UNIMPLEMENTED,
        429 | 502..=504 => 14,
        _ => GRPC_UNKNOWN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_that_are_grpc() {
        let headers = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(http::header::CONTENT_TYPE, value.parse().unwrap());
            headers
        };
        assert!(is_grpc(&headers("application/grpc")));
        assert!(is_grpc(&headers("application/grpc+proto")));
        assert!(!is_grpc(&headers("application/grpc-web")));
        assert!(!is_grpc(&headers("application/json")));
        assert!(!is_grpc(&HeaderMap::new()));
    }

    #[test]
    fn paths_split_into_service_and_method() {
        assert_eq!(
            service_and_method("/helloworld.Greeter/SayHello"),
            ("helloworld.Greeter", "SayHello")
        );
        assert_eq!(service_and_method("/a/b/c"), ("", ""));
        assert_eq!(service_and_method("/"), ("", ""));
    }

    #[test]
    fn statuses_read_and_bounded() {
        let mut fields = HeaderMap::new();
        assert_eq!(status(&fields), None);
        fields.insert("grpc-status", "5".parse().unwrap());
        assert_eq!(status(&fields), Some(5));
        fields.insert("grpc-status", "99".parse().unwrap());
        assert_eq!(status(&fields), Some(GRPC_UNKNOWN));
    }
}
