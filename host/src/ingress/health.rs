//! What `serve` says about itself. `GET /healthz`: the process answers. `GET /readyz`: it
//! can do its work — the store takes a write, every job's component is loaded, every
//! schedule is being driven — `200` with each check, or `503` naming what failed. A load
//! balancer or Kubernetes sends traffic only while `/readyz` is `200`; a restart is for
//! `/healthz`. (A component that does not load stops `serve` before it listens, so the
//! components check reports what the start established.)

use crate::db::probe_write;
use crate::runtime::Runtime;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::Arc;
use tokio::task::AbortHandle;

/// What `/readyz` looks at.
pub struct Readiness {
    /// The host's runtime: its config names the store, and it holds the loaded components.
    pub runtime: Arc<Runtime>,
    /// Each scheduled job's driver, by job name.
    pub schedules: Vec<(String, AbortHandle)>,
}

#[derive(Debug, Serialize)]
struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
}

impl Check {
    fn of(name: &'static str, outcome: Result<String, String>) -> Check {
        let ok = outcome.is_ok();
        let (Ok(detail) | Err(detail)) = outcome;
        Check { name, ok, detail }
    }
}

impl Readiness {
    async fn checks(&self) -> Vec<Check> {
        let path = self.runtime.config().store.clone();
        let store = tokio::task::spawn_blocking(move || probe_write(&path))
            .await
            .unwrap_or_else(|e| Err(format!("the store check stopped: {e}")));
        let unloadable = self.runtime.unloadable_components().await;
        let jobs = self.runtime.config().jobs.len();
        let stopped: Vec<&str> = self
            .schedules
            .iter()
            .filter(|(_, driver)| driver.is_finished())
            .map(|(job, _)| job.as_str())
            .collect();
        vec![
            Check::of("store", store.map(|()| "takes writes".to_owned())),
            Check::of(
                "components",
                if unloadable.is_empty() {
                    Ok(format!("{jobs} job(s) loaded"))
                } else {
                    Err(unloadable.join("; "))
                },
            ),
            Check::of(
                "scheduler",
                if stopped.is_empty() {
                    Ok(format!("{} schedule(s) running", self.schedules.len()))
                } else {
                    Err(format!("not running for {}", stopped.join(", ")))
                },
            ),
        ]
    }
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(ingress): State<Arc<super::Ingress>>) -> Response {
    let checks = ingress.readiness.checks().await;
    let ready = checks.iter().all(|c| c.ok);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(serde_json::json!({ "ready": ready, "checks": checks })),
    )
        .into_response()
}
