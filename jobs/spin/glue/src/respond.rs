//! Answering an incoming `wasi:http` request.

use wasip2::http::types::{Fields, OutgoingBody, OutgoingResponse, ResponseOutparam};

/// Sends `status` with `body` and the given headers.
pub fn send(out: ResponseOutparam, status: u16, headers: &[(String, Vec<u8>)], body: &[u8]) {
    let mut body = Some(body.to_vec());
    stream(out, status, headers, || Ok(body.take().unwrap_or_default()));
}

/// Sends `status` and the headers, then the body a piece at a time from `next` until it
/// gives an empty piece, so a large file is never held whole. A failing `next` cuts the
/// body short (the client sees a truncated response, never a complete-looking one).
pub fn stream(
    out: ResponseOutparam,
    status: u16,
    headers: &[(String, Vec<u8>)],
    mut next: impl FnMut() -> Result<Vec<u8>, String>,
) {
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
    let Ok(stream) = outgoing.write() else {
        return;
    };
    loop {
        let piece = match next() {
            Ok(piece) if !piece.is_empty() => piece,
            Ok(_) => break,
            Err(e) => {
                eprintln!("a response body was cut short: {e}");
                // Dropping the body unfinished tells the client it is incomplete.
                return;
            }
        };
        // `blocking-write-and-flush` takes at most 4096 bytes at a time.
        for chunk in piece.chunks(4096) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                return;
            }
        }
    }
    drop(stream);
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
