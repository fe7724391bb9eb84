//! The `import-activity` component: Cordial contact activity → the `cordial_activity`
//! stream. This version performs the run's first step — settings, Cordial access, the SFTP
//! connection and the time window — and reports it; the export itself is not built yet.

cordial_guest::job_bindings!(scheduled "../../wit", "import-activity");

use cordial_guest::types::{ConfigProblem, JobError, RunContext, RunReport};
use cordial_jobs::activity::first_window_start;
use cordial_jobs::settings::{ImportActivitySettings, JobKind};

struct ImportActivity;

impl exports::cordial::jobs::configurable::Guest for ImportActivity {
    fn validate(ctx: RunContext, config: String) -> Vec<ConfigProblem> {
        cordial_guest::validate_settings(JobKind::ImportActivity, &ctx, &config)
    }
}

impl exports::cordial::jobs::scheduled::Guest for ImportActivity {
    fn run(ctx: RunContext, config: String) -> Result<RunReport, JobError> {
        let settings: ImportActivitySettings =
            cordial_guest::parse_settings(&config).map_err(JobError::InvalidConfig)?;
        let start = first_window_start(settings.import_since.as_deref(), &ctx.started_at)
            .map_err(JobError::InvalidConfig)?;
        let attributes = cordial_guest::cordial_client(&ctx)
            .contact_attributes()
            .map_err(|e| cordial_guest::job_error(&e))?;
        let sftp = cordial_guest::describe_sftp();
        let summary = format!(
            "Cordial reachable ({} contact attributes); {sftp}; activity window {start} → {}; \
             the activity export step is not in this build yet",
            attributes.len(),
            ctx.started_at
        );
        Ok(cordial_guest::first_step_report(summary))
    }
}

export!(ImportActivity);
