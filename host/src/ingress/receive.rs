//! The one receive path of every route: the job must take requests there, present its
//! secret and send a body within the limit; the body is read whole by the job's intake;
//! its items are committed in one transaction; the job's workers are woken; and only then
//! does the sender get its `202`.

use super::route::Route;
use super::{Ingress, admit};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// `POST /<route>/<job>`: `/hooks/<job>`, `/capture/<job>` or `/cordial-events/<job>`.
pub async fn receive(
    State(ingress): State<Arc<Ingress>>,
    Path((route, job)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(route) = Route::parse(&route) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let job = job.as_str();
    let headers = &headers;
    let Some(endpoint) = ingress
        .endpoints
        .get(job)
        .filter(|e| route.takes(e.job.kind))
    else {
        let takers = ingress
            .endpoints
            .values()
            .filter(|e| route.takes(e.job.kind))
            .map(|e| e.job.name.as_str());
        return admit::unknown_job(route.jobs(), job, takers);
    };
    if route.needs_secret() && endpoint.secret.is_none() {
        return admit::error(
            StatusCode::FORBIDDEN,
            format!(
                "job `{job}` takes Cordial's pushes only with a shared secret: give it \
                 [job.webhook] secret_env (or secret_file), and send the secret from Cordial \
                 as an `Authorization: Bearer <secret>` or `X-Webhook-Secret` header"
            ),
        );
    }
    let bytes = match admit::admit(
        endpoint.secret.as_ref(),
        headers,
        body,
        route.limit(),
        ingress.body_deadline,
    )
    .await
    {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal,
    };
    let accepted = match endpoint.intake.read(&bytes) {
        Ok(accepted) => accepted,
        Err(problem) => return (StatusCode::BAD_REQUEST, axum::Json(problem)).into_response(),
    };
    let wake = !accepted.is_empty();
    let ignored = accepted.ignored_other_audiences();
    let job = endpoint.job.clone();
    let answer = match ingress
        .db
        .blocking(move |store| accepted.commit(store, &job))
        .await
    {
        Ok(answer) => answer,
        Err(e) => {
            tracing::error!(job = %endpoint.job.name, "could not store the {}: {e:#}", route.items());
            return admit::error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the {} could not be stored; retry later", route.items()),
            );
        }
    };
    if wake {
        endpoint.wake.notify_one();
    }
    if let (Some(window), 1..) = (&endpoint.window, ignored) {
        window.ignored(ignored);
    }
    (StatusCode::ACCEPTED, axum::Json(answer)).into_response()
}
