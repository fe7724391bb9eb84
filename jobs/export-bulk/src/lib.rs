//! The `export-bulk` component: pending audience members → CSV files of at most 30,000 rows
//! on the SFTP server → Cordial's Contact Imports API. The CSV and batch logic is in the root
//! crate (`cordial_jobs::bulk`); this is the run's sequence and the WIT glue.

cordial_guest::job_bindings!(scheduled "../../wit", "export-bulk");

mod files;
mod imports;
mod run;

use cordial_guest::types::{ConfigProblem, JobError, RunContext, RunReport};
use cordial_jobs::settings::JobKind;

struct ExportBulk;

impl exports::cordial::jobs::configurable::Guest for ExportBulk {
    fn validate(ctx: RunContext, config: String) -> Vec<ConfigProblem> {
        cordial_guest::validate_settings(JobKind::ExportBulk, &ctx, &config)
    }
}

impl exports::cordial::jobs::scheduled::Guest for ExportBulk {
    fn run(ctx: RunContext, config: String) -> Result<RunReport, JobError> {
        run::run(&ctx, &config)
    }
}

export!(ExportBulk);
