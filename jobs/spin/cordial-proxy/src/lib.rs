//! The only Spin component that holds the Cordial API key. Job components send their
//! Cordial requests here (`http://cordial-proxy.spin.internal/v2/...`, Spin's local service
//! chaining on a private route); this adds `Authorization: Basic base64("<key>:")`, as the
//! bundled host does, and passes the request on to the Cordial origin, the one host it may
//! reach. Spin gives each component only its own variables, so the key never enters a job's
//! memory: the same isolation the bundled host gives by adding the header itself. The SFTP
//! password is kept the same way: a job writes a placeholder where Cordial needs it and
//! this fills it in from `sftp_password`.

use base64::Engine as _;
use cordial_guest::WasiHttp;
use cordial_jobs::cordial::jobs::{PASSWORD_PLACEHOLDER, fill_password};
use cordial_jobs::cordial::{HttpRequest, HttpTransport, Method, TransportError};
use cordial_spin_glue::config::store;
use cordial_spin_glue::request::{BodyError, Head, read_body};
use cordial_spin_glue::respond;
use wasip2::http::types::{IncomingRequest, Method as WasiMethod, ResponseOutparam};

struct Proxy;

impl wasip2::exports::http::incoming_handler::Guest for Proxy {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let head = Head::of(&request);
        match forward(request, &head) {
            Ok((status, headers, body)) => respond::send(out, status, &headers, &body),
            Err((status, message)) => {
                eprintln!("cordial-proxy: {status} {}: {message}", head.path);
                respond::error(out, status, message)
            }
        }
    }
}

wasip2::http::proxy::export!(Proxy);

/// Headers not passed on: the connection's own, the credentials (set here), and what Spin
/// adds to incoming requests.
fn passes(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    !matches!(
        name.as_str(),
        "host" | "authorization" | "content-length" | "connection" | "transfer-encoding"
    ) && !name.starts_with("spin-")
}

type Forwarded = (u16, Vec<(String, Vec<u8>)>, Vec<u8>);

fn forward(request: IncomingRequest, head: &Head) -> Result<Forwarded, (u16, String)> {
    if !head.path.starts_with("/v2/") {
        return Err((
            404,
            format!("only Cordial's /v2/ API is passed on, not {}", head.path),
        ));
    }
    let method = match head.method {
        WasiMethod::Get => Method::Get,
        WasiMethod::Post => Method::Post,
        WasiMethod::Put => Method::Put,
        WasiMethod::Delete => Method::Delete,
        _ => return Err((405, "only GET, POST, PUT and DELETE are passed on".into())),
    };
    let variable = |name: &str| {
        store::get(name)
            .ok()
            .flatten()
            .filter(|v| !v.trim().is_empty())
            .ok_or((500, format!("set the Spin variable `{name}`")))
    };
    let key = variable("cordial_api_key")?;
    let origin = variable("cordial_origin")?;
    let mut body = read_body(request, head, 64 << 20).map_err(|e| match e {
        BodyError::TooLarge => (413, "the request is larger than 64 MiB".to_owned()),
        BodyError::Broken(why) => (400, format!("the body could not be read: {why}")),
    })?;
    if body
        .windows(PASSWORD_PLACEHOLDER.len())
        .any(|w| w == PASSWORD_PLACEHOLDER.as_bytes())
    {
        // The job asked Cordial to use the SFTP server without holding its password.
        let password = variable("sftp_password")?;
        body = fill_password(&body, &password).unwrap_or(body);
    }
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
    let mut headers: Vec<(String, String)> = head
        .headers()
        .iter()
        .filter(|(k, _)| passes(k))
        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
        .collect();
    headers.push(("authorization".into(), format!("Basic {token}")));
    let path_and_query = head.path_with_query();
    let outgoing = HttpRequest {
        method,
        url: format!("{}{path_and_query}", origin.trim_end_matches('/')),
        headers,
        body: (!body.is_empty()).then_some(body),
    };
    let response = WasiHttp.send(&outgoing).map_err(|e| {
        let why = match e {
            TransportError::Denied(_) => format!(
                "Spin refused the connection to {origin}: list it in the proxy's allowed_outbound_hosts"
            ),
            other => format!("Cordial at {origin} could not be reached: {other}"),
        };
        (502, why)
    })?;
    let headers = response
        .headers
        .into_iter()
        .filter(|(k, _)| passes(k))
        .map(|(k, v)| (k, v.into_bytes()))
        .collect();
    Ok((response.status, headers, response.body))
}
