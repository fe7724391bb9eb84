//! The `export-bulk` component: audience members → CSV files on SFTP registered with
//! Cordial's Contact Imports API. This version performs the run's first step — settings,
//! Cordial access, the target list and the SFTP connection — and reports it; the files and
//! imports are not built yet.

cordial_guest::job_bindings!(scheduled "../../wit", "export-bulk");

use cordial_guest::types::{ConfigProblem, JobError, RunContext, RunReport};
use cordial_jobs::cordial::audience_list_name;
use cordial_jobs::settings::{ExportSettings, JobKind};

struct ExportBulk;

impl exports::cordial::jobs::configurable::Guest for ExportBulk {
    fn validate(ctx: RunContext, config: String) -> Vec<ConfigProblem> {
        cordial_guest::validate_settings(JobKind::ExportBulk, &ctx, &config)
    }
}

impl exports::cordial::jobs::scheduled::Guest for ExportBulk {
    fn run(ctx: RunContext, config: String) -> Result<RunReport, JobError> {
        let settings: ExportSettings =
            cordial_guest::parse_settings(&config).map_err(JobError::InvalidConfig)?;
        let list = settings
            .list
            .clone()
            .unwrap_or_else(|| audience_list_name(&settings.audience));
        let lists = cordial_guest::cordial_client(&ctx)
            .account_lists()
            .map_err(|e| cordial_guest::job_error(&e))?;
        let exists = lists.iter().any(|l| l.name == list);
        let summary = format!(
            "Cordial reachable; list `{list}` {}; {}; the CSV export step is not in this build yet",
            if exists { "exists" } else { "will be created" },
            cordial_guest::describe_sftp()
        );
        Ok(cordial_guest::first_step_report(summary))
    }
}

export!(ExportBulk);
