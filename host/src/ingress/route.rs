//! The three POST routes and what sets them apart: the jobs they take requests for and how
//! large a request may be.

use crate::jobs::{Trigger, descriptor};
use cordial_jobs::intake::{self, BodyLimit};
use cordial_jobs::settings::JobKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /hooks/<job>`: the platform's Audience Trigger webhooks.
    Hooks,
    /// `POST /capture/<job>`: an experience's submissions.
    Capture,
    /// `POST /cordial-events/<job>`: Cordial's webhook pushes of contact activity, for an
    /// Import Activity job.
    Events,
}

impl Route {
    /// The route named by a path's first segment.
    pub fn parse(segment: &str) -> Option<Route> {
        match segment {
            "hooks" => Some(Route::Hooks),
            "capture" => Some(Route::Capture),
            "cordial-events" => Some(Route::Events),
            _ => None,
        }
    }

    /// Whether a job of `kind` takes requests on this route.
    pub fn takes(self, kind: JobKind) -> bool {
        let descriptor = descriptor(kind);
        match self {
            Route::Hooks => descriptor.takes_audience_webhooks(),
            Route::Capture => descriptor.has(Trigger::Submissions),
            Route::Events => kind == JobKind::ImportActivity,
        }
    }

    /// Whether a job must have a secret to take requests here. Cordial's pushes reach the
    /// host from the internet and are stored straight into the stream, so they are never
    /// taken unauthenticated.
    pub fn needs_secret(self) -> bool {
        self == Route::Events
    }

    /// How much it reads, and what to send instead of more.
    pub fn limit(self) -> BodyLimit {
        match self {
            Route::Hooks => intake::HOOKS_LIMIT,
            Route::Capture => intake::CAPTURE_LIMIT,
            Route::Events => intake::EVENTS_LIMIT,
        }
    }

    /// The jobs it takes requests for, as a 404 names them.
    pub fn jobs(self) -> &'static str {
        match self {
            Route::Hooks => "audience-export",
            Route::Capture => "experience-capture",
            Route::Events => "import-activity",
        }
    }

    /// What its requests carry, as a 503 names it.
    pub fn items(self) -> &'static str {
        match self {
            Route::Hooks => "events",
            Route::Capture => "submissions",
            Route::Events => "activity events",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hooks_take_the_audience_exports_and_capture_the_capture_jobs() {
        let takers = |route: Route| -> Vec<JobKind> {
            JobKind::ALL
                .into_iter()
                .filter(|k| route.takes(*k))
                .collect()
        };
        assert_eq!(
            takers(Route::Hooks),
            [JobKind::ExportRealtime, JobKind::ExportBulk]
        );
        assert_eq!(takers(Route::Capture), [JobKind::ExperienceCapture]);
        assert_eq!(takers(Route::Events), [JobKind::ImportActivity]);
    }
}
