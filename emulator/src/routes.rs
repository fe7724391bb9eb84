//! The route table and the few handlers that belong to no resource.
//!
//! It puts every folder's endpoints behind [`crate::http::pipeline`], so it is the one
//! module that knows them all and sits at the top, beside `lib.rs`.

use axum::Router;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};

use crate::account::{attributes, contacts, lists};
use crate::http::app::App;
use crate::http::errors::ApiError;
use crate::http::pipeline::pipeline;
use crate::{exports, imports, jobs};

/// Every route lives under `/v2`, whatever the `Host`, as on api.cordial.io.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/v2/health", get(health))
        .route("/v2/contacts", get(contacts::index).post(contacts::create))
        .route(
            "/v2/contacts/{pk}",
            get(contacts::show)
                .put(contacts::update)
                .delete(contacts::destroy),
        )
        .route(
            "/v2/contacts/{pk}/unsubscribe/{channel}",
            put(contacts::unsubscribe),
        )
        .route("/v2/accountlists", get(lists::index).post(lists::create))
        .route(
            "/v2/accountlists/{id}",
            get(lists::show).put(lists::update).delete(lists::destroy),
        )
        .route("/v2/accountlists/{id}/count", get(lists::count))
        .route("/v2/accountlists/{id}/clear", put(lists::clear))
        .route(
            "/v2/accountcontactattributes",
            get(attributes::index).post(attributes::create),
        )
        .route(
            "/v2/accountcontactattributes/{key}",
            get(attributes::show)
                .put(attributes::update)
                .delete(attributes::destroy),
        )
        .route("/v2/contactimports", post(imports::create))
        .route("/v2/contactactivityexport", post(exports::create))
        .route("/v2/jobs", get(jobs::endpoints::index))
        .route("/v2/jobs/{id}", get(jobs::endpoints::show))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(app.clone(), pipeline))
        .with_state(app)
}

/// `GET /v2/health` answers the plain text `Good` (Segment's recorded probe). It
/// sits behind authentication, which makes it a cheap credentials check.
async fn health() -> &'static str {
    "Good"
}

async fn not_found() -> Response {
    ApiError::generic(StatusCode::NOT_FOUND, "Not Found").into_response()
}

async fn method_not_allowed() -> Response {
    ApiError::generic(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed").into_response()
}
