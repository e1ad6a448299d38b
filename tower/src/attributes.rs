//! The label values a request's attributes take, each a `&'static str`, so recording a
//! request formats nothing: methods, status codes, protocol versions, schemes and gRPC
//! status codes, as OpenTelemetry's semantic conventions (v1.37.0) spell them.

use http::{Method, Version};

/// `http.request.method` for a method outside the conventions' list, so a scanner
/// sending made-up methods adds one series, not one per method.
pub const OTHER: &str = "_OTHER";

/// `http.request.method`: the RFC 9110 methods and PATCH (RFC 5789) as they are, any
/// other as [`OTHER`].
pub(crate) fn method(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => OTHER,
    }
}

/// `network.protocol.version`: `1.1`, `2`, … (the conventions' spelling).
pub(crate) fn version(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => "",
    }
}

/// The status codes `100..=999` (all `http::StatusCode` allows), three ASCII digits
/// each, built at compile time: `status_code` slices them instead of formatting.
static STATUS_DIGITS: [u8; 2700] = {
    let mut digits = [0u8; 2700];
    let mut code = 100;
    while code < 1000 {
        let at = (code - 100) * 3;
        digits[at] = b'0' + (code / 100) as u8;
        digits[at + 1] = b'0' + (code / 10 % 10) as u8;
        digits[at + 2] = b'0' + (code % 10) as u8;
        code += 1;
    }
    digits
};

/// `http.response.status_code` as text, without formatting.
pub(crate) fn status_code(code: u16) -> &'static str {
    let code = usize::from(code);
    if !(100..1000).contains(&code) {
        return "";
    }
    let at = (code - 100) * 3;
    STATUS_DIGITS
        .get(at..at + 3)
        .and_then(|digits| core::str::from_utf8(digits).ok())
        .unwrap_or("")
}

/// `rpc.grpc.status_code` as text: gRPC's codes `0..=16`.
pub(crate) const GRPC_CODES: [&str; 17] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
];

/// gRPC's `CANCELLED`.
pub(crate) const GRPC_CANCELLED: u8 = 1;
/// gRPC's `UNKNOWN`.
pub(crate) const GRPC_UNKNOWN: u8 = 2;
/// gRPC's `UNIMPLEMENTED`.
pub(crate) const GRPC_UNIMPLEMENTED: u8 = 12;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_code_is_its_digits() {
        for code in 100..1000u16 {
            assert_eq!(status_code(code), code.to_string());
        }
        assert_eq!(status_code(99), "");
    }

    #[test]
    fn unknown_methods_are_other() {
        assert_eq!(method(&Method::GET), "GET");
        assert_eq!(method(&Method::from_bytes(b"BREW").unwrap()), OTHER);
    }
}
