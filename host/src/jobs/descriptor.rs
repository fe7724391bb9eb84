//! What the host does with a kind of job: the fields of the one descriptor per kind that
//! each driver file declares.

use cordial_jobs::settings::JobKind;

/// How work reaches a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Runs on the job's `frequency` (and on demand with `cordial-host run`).
    Schedule,
    /// The platform's audience webhooks (`/hooks/<job>`) and backfills, delivered item by
    /// item through the durable queue.
    AudienceEvents,
    /// The platform's audience webhooks and backfills, gathered as pending members for the
    /// job's scheduled run.
    AudienceMembers,
    /// Experience submissions (`/capture/<job>`), delivered through the durable queue.
    Submissions,
}

/// One kind of job.
#[derive(Debug, Clone, Copy)]
pub struct Descriptor {
    pub kind: JobKind,
    pub triggers: &'static [Trigger],
    /// The interface of `cordial:jobs` its world exports besides `configurable`.
    pub export: &'static str,
    /// The interfaces of `cordial:jobs` its world imports beyond `job-base` (the ones that
    /// only declare types aside).
    pub imports: &'static [&'static str],
}

impl Descriptor {
    pub const fn new(
        kind: JobKind,
        triggers: &'static [Trigger],
        export: &'static str,
        imports: &'static [&'static str],
    ) -> Self {
        Descriptor {
            kind,
            triggers,
            export,
            imports,
        }
    }

    /// Whether its authorization needs an SFTP section: its world imports `sftp`.
    pub fn needs_sftp(&self) -> bool {
        self.imports.contains(&"sftp")
    }

    /// The WIT world its component implements (`cordial:jobs/<world>`): named after the kind.
    pub fn world(&self) -> &'static str {
        self.kind.as_str()
    }

    /// The component's file name in `components_dir`, as `./dev build` names it.
    pub fn component_file(&self) -> String {
        format!("{}.wasm", self.kind.as_str().replace('-', "_"))
    }

    pub fn has(&self, trigger: Trigger) -> bool {
        self.triggers.contains(&trigger)
    }

    /// Whether the platform's audience webhooks reach it.
    pub fn takes_audience_webhooks(&self) -> bool {
        self.has(Trigger::AudienceEvents) || self.has(Trigger::AudienceMembers)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{DESCRIPTORS, descriptor};
    use super::*;

    #[test]
    fn every_kind_has_one_descriptor_with_a_trigger() {
        for kind in JobKind::ALL {
            let d = descriptor(kind);
            assert_eq!(d.kind, kind);
            assert!(!d.triggers.is_empty());
        }
        assert_eq!(DESCRIPTORS.len(), JobKind::ALL.len());
        assert_eq!(
            descriptor(JobKind::ExportBulk).component_file(),
            "export_bulk.wasm"
        );
    }
}
