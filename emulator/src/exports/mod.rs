//! Contact activity exports, `POST /v2/contactactivityexport`: the request is
//! checked and answered at once ([`request`]), then a background job ([`job`])
//! selects the account's events and writes them to the customer's SFTP server,
//! each record rendered as a line of the requested format ([`render`]) into a
//! plain or gzipped buffer ([`sink`]).

mod job;
mod render;
pub mod request;
mod sink;

use crate::http::answer::{Answer, ok};
use crate::http::app::App;
use crate::http::pipeline::ParsedBody;
use crate::model::ids;
use crate::model::job::Job;
use axum::extract::{Extension, State};
use request::parse_request;
use serde_json::json;

/// `POST /v2/contactactivityexport` → 200 `{"jobId": ".."}`, or 400/406.
pub async fn create(State(app): State<App>, Extension(body): Extension<ParsedBody>) -> Answer {
    let request = parse_request(&body.0, &app.saved_sftp_keys, &|contact| {
        app.store().find(contact).is_some() || app.events_have_contact(contact)
    })?;
    let id = ids::object_id();
    app.add_job(Job::new_export(
        id.clone(),
        request.name.clone(),
        request.format.as_str(),
        request.login.path.clone(),
        request.file_name(1),
    ));
    let failure = app.take_export_failure();
    job::spawn(app.clone(), id.clone(), request, failure);
    ok(json!({"jobId": id}))
}
