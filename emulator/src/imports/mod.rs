//! Contact imports, `POST /v2/contactimports`: the request is checked and answered
//! at once ([`request`]), then a background job ([`job`]) fetches the file over SFTP
//! or HTTP(S) ([`source`]), reads it ([`file`](mod@file)) and applies it row by row to the account ([`apply`]).
//!
//! [`file`](mod@file) is public as [`crate::import_file`]: tests check that the files
//! the integration writes parse back exactly.

mod apply;
pub mod file;
mod job;
pub mod request;
mod source;

use crate::http::answer::Answer;
use crate::http::app::App;
use crate::http::pipeline::ParsedBody;
use crate::model::ids;
use crate::model::job::Job;
use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use request::parse_request;
use serde_json::json;

/// `POST /v2/contactimports` → 201 `{"jobId": ".."}`, or 406 for a bad configuration.
pub async fn create(State(app): State<App>, Extension(body): Extension<ParsedBody>) -> Answer {
    let request = {
        let store = app.store();
        parse_request(&body.0, &app.saved_sftp_keys, &store)?
    };
    let id = ids::object_id();
    app.add_job(Job::new_import(
        id.clone(),
        request.import_name.clone(),
        request.source.shown(),
    ));
    job::spawn(app.clone(), id.clone(), request);
    Ok((StatusCode::CREATED, Json(json!({"jobId": id}))))
}
