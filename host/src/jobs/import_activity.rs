//! Import Activity: Cordial contact activity → the `cordial_activity` stream, on a schedule.

use super::{Descriptor, Trigger};
use cordial_jobs::settings::JobKind;

mod bindings {
    crate::runtime::bindings::job_world_bindings!("import-activity", {
        "cordial:jobs/sftp": crate::runtime::bindings::sftp,
        "cordial:jobs/streams": crate::runtime::bindings::streams,
    });
}

pub const DESCRIPTOR: Descriptor = Descriptor::new(
    JobKind::ImportActivity,
    &[Trigger::Schedule],
    "scheduled",
    &["sftp", "streams"],
);

super::scheduled_driver!(bindings::ImportActivityPre<crate::runtime::RunState>);
