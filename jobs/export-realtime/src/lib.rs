//! The `export-realtime` component: audience enter/exit/change events → Cordial contacts
//! and list membership. The logic is in the root crate; this is the WIT glue.

cordial_guest::job_bindings!(event_driven "../../wit", "export-realtime");

mod deliver;

use cordial_guest::outcomes::Outcome;
use cordial_guest::types::{ConfigProblem, RunContext};
use cordial_jobs::settings::JobKind;
use exports::cordial::jobs::realtime::AudienceEvent;

struct ExportRealtime;

impl exports::cordial::jobs::configurable::Guest for ExportRealtime {
    fn validate(ctx: RunContext, config: String) -> Vec<ConfigProblem> {
        cordial_guest::validate_settings(JobKind::ExportRealtime, &ctx, &config)
    }
}

impl exports::cordial::jobs::realtime::Guest for ExportRealtime {
    fn deliver(ctx: RunContext, config: String, events: Vec<AudienceEvent>) -> Vec<Outcome> {
        deliver::deliver(&ctx, &config, events)
    }
}

export!(ExportRealtime);
