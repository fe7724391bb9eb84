//! Account facts a job looks up once and remembers in its state: that its list exists, and
//! the types of the attributes it maps.

use super::{CordialClient, CordialError, HttpTransport};
use crate::ports::{KeyValue, Level, Log};
use crate::realtime::{AttributeTypes, attribute_cache};

/// Makes sure the Cordial list exists, creating it once (and saying so in the log);
/// remembered in job state so later calls skip the lookup.
pub fn ensure_list<T: HttpTransport>(
    client: &mut CordialClient<T>,
    state: &mut dyn KeyValue,
    log: &mut dyn Log,
    list: &str,
) -> Result<(), CordialError> {
    let key = format!("list-ready:{list}");
    if state.get(&key).map_err(store_error)?.is_some() {
        return Ok(());
    }
    if !client.account_lists()?.iter().any(|l| l.name == list) {
        match client.create_list(list) {
            Ok(id) => log.log(
                Level::Info,
                &format!("created Cordial list `{list}` (id {id})"),
            ),
            // Another call created it between our read and our create.
            Err(CordialError::Rejected {
                status: 422,
                ref message,
                ..
            }) if message.contains("unique") => {}
            Err(e) => return Err(e),
        }
    }
    state.set(&key, b"1").map_err(store_error)?;
    Ok(())
}

/// The types of the attributes `needed`, from the state cache or, when stale (ten minutes
/// after `now` of the fetch) or missing one, from Cordial.
pub fn attribute_types<T: HttpTransport>(
    client: &mut CordialClient<T>,
    state: &mut dyn KeyValue,
    now: &str,
    needed: &[&str],
) -> Result<AttributeTypes, CordialError> {
    if needed.is_empty() {
        return Ok(AttributeTypes::new());
    }
    let cached = state.get(attribute_cache::KEY).map_err(store_error)?;
    if let Some(types) = attribute_cache::read(cached.as_deref(), now, needed) {
        return Ok(types);
    }
    let types: AttributeTypes = client
        .contact_attributes()?
        .into_iter()
        .map(|a| (a.key, a.kind))
        .collect();
    state
        .set(attribute_cache::KEY, &attribute_cache::write(&types, now))
        .map_err(store_error)?;
    Ok(types)
}

/// A state failure while talking to Cordial: retryable, like a transport failure.
fn store_error(e: crate::ports::PortError) -> CordialError {
    CordialError::Transport(super::TransportError::Other(format!("job state: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cordial::HttpResponse;
    use crate::ports::fakes::{FakeCordial, MemoryKeyValue, RecordingLog, json_response};
    use serde_json::json;

    fn cordial() -> FakeCordial<impl FnMut(&crate::cordial::HttpRequest) -> HttpResponse> {
        FakeCordial::new(|r: &crate::cordial::HttpRequest| match r.url.as_str() {
            u if u.ends_with("/v2/accountlists") && r.method == crate::cordial::Method::Get => {
                json_response(200, json!([]))
            }
            u if u.ends_with("/v2/accountlists") => json_response(201, json!({"id": 7})),
            u if u.ends_with("/v2/accountcontactattributes") => json_response(
                200,
                json!([{"key": "age", "type": "number"}, {"key": "first_name", "type": "string"}]),
            ),
            u => json_response(404, json!({"error": true, "message": u})),
        })
    }

    #[test]
    fn the_list_is_created_once_then_remembered() {
        let mut http = cordial();
        let mut state = MemoryKeyValue::default();
        let mut log = RecordingLog::default();
        let mut client = CordialClient::new("http://cordial.test", &mut http);
        ensure_list(&mut client, &mut state, &mut log, "vip").unwrap();
        ensure_list(&mut client, &mut state, &mut log, "vip").unwrap();
        drop(client);
        assert!(log.contains("created Cordial list `vip` (id 7)"));
        let posts = http
            .requests
            .iter()
            .filter(|r| r.method == crate::cordial::Method::Post)
            .count();
        assert_eq!((http.requests.len(), posts), (2, 1));
    }

    #[test]
    fn attribute_types_are_cached_for_ten_minutes() {
        let mut http = cordial();
        let mut state = MemoryKeyValue::default();
        let mut client = CordialClient::new("http://cordial.test", &mut http);
        let t0 = "2026-12-02T10:00:00Z";
        let types = attribute_types(&mut client, &mut state, t0, &["age"]).unwrap();
        assert_eq!(types["age"], crate::cordial::AttributeType::Number);
        attribute_types(&mut client, &mut state, "2026-12-02T10:09:00Z", &["age"]).unwrap();
        attribute_types(&mut client, &mut state, "2026-12-02T10:11:00Z", &["age"]).unwrap();
        drop(client);
        assert_eq!(
            http.requests.len(),
            2,
            "fetched, cached, fetched again when stale"
        );
    }
}
