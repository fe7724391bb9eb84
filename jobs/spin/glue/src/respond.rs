//! Answering an incoming `wasi:http` request.

use wasip2::http::types::{Fields, OutgoingBody, OutgoingResponse, ResponseOutparam};

/// Sends `status` with `body` and the given headers.
pub fn send(out: ResponseOutparam, status: u16, headers: &[(String, Vec<u8>)], body: &[u8]) {
    let fields = Fields::new();
    for (name, value) in headers {
        // A header the runtime refuses (hop-by-hop ones) is left out, not fatal.
        let _ = fields.append(name, value);
    }
    let response = OutgoingResponse::new(fields);
    let _ = response.set_status_code(status);
    let Ok(outgoing) = response.body() else {
        return;
    };
    ResponseOutparam::set(out, Ok(response));
    if let Ok(stream) = outgoing.write() {
        for chunk in body.chunks(4096) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                break;
            }
        }
    }
    let _ = OutgoingBody::finish(outgoing, None);
}

/// Sends `status` with a JSON body.
pub fn json(out: ResponseOutparam, status: u16, body: &serde_json::Value) {
    send(
        out,
        status,
        &[("content-type".into(), b"application/json".to_vec())],
        body.to_string().as_bytes(),
    );
}

/// Sends `status` with `{"error": message}`.
pub fn error(out: ResponseOutparam, status: u16, message: impl Into<String>) {
    json(out, status, &serde_json::json!({ "error": message.into() }));
}
