//! Export Audiences (Bulk): pending audience members → CSV files on SFTP registered with
//! Cordial's Contact Imports API, on a schedule.

use super::{Descriptor, Trigger};
use cordial_jobs::settings::JobKind;

mod bindings {
    crate::runtime::bindings::job_world_bindings!("export-bulk", {
        "cordial:jobs/sftp": crate::runtime::bindings::sftp,
        "cordial:jobs/members": crate::runtime::bindings::members,
    });
}

pub const DESCRIPTOR: Descriptor = Descriptor::new(
    JobKind::ExportBulk,
    &[Trigger::Schedule, Trigger::AudienceMembers],
    "scheduled",
    &["sftp", "members"],
);

super::scheduled_driver!(bindings::ExportBulkPre<crate::runtime::RunState>);
