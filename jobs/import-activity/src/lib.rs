//! The `import-activity` component: Cordial contact activity → the `cordial_activity`
//! stream, exactly once. The mapping and file formats are in the root crate
//! (`cordial_jobs::activity`); this is the run's sequence and the WIT glue.

cordial_guest::job_bindings!(scheduled "../../wit", "import-activity");

mod export;
mod files;
mod run;

use cordial_guest::types::{ConfigProblem, JobError, RunContext, RunReport};
use cordial_jobs::settings::JobKind;

struct ImportActivity;

impl exports::cordial::jobs::configurable::Guest for ImportActivity {
    fn validate(ctx: RunContext, config: String) -> Vec<ConfigProblem> {
        cordial_guest::validate_settings(JobKind::ImportActivity, &ctx, &config)
    }
}

impl exports::cordial::jobs::scheduled::Guest for ImportActivity {
    fn run(ctx: RunContext, config: String) -> Result<RunReport, JobError> {
        run::run(&ctx, &config)
    }
}

export!(ImportActivity);
