//! Whether a component is a job this host can carry as the kind it is configured for: its
//! `cordial:jobs` package version is one this host links, and its world is the kind's.
//! Checked on the component's own import and export names, before it is compiled, so a
//! wrong file fails with what to fix instead of a linker error.

use super::inspect::Facts;
use crate::jobs::{DESCRIPTORS, Descriptor, descriptor};
use cordial_jobs::manifest::{WIT_PACKAGE, WIT_VERSION};
use cordial_jobs::settings::JobKind;

/// The interfaces of the package that only declare types: any world may import them.
const TYPE_ONLY: [&str; 3] = ["types", "outcomes", "items"];

/// The interface every job exports.
const CONFIGURABLE: &str = "configurable";

/// A semantic version, as WIT package versions are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(u64, u64, u64);

impl Version {
    pub fn parse(text: &str) -> Option<Version> {
        let mut parts = text.splitn(3, '.').map(|p| p.parse().ok());
        Some(Version(parts.next()??, parts.next()??, parts.next()??))
    }

    /// The versions a component may be built for to run on a host of `self`: the same
    /// release line (major, or minor while the major is 0), no newer than the host's own,
    /// since a newer one may import what this host does not provide.
    pub fn links(self, component: Version) -> bool {
        let same_line = match self.0 {
            0 => component.0 == 0 && component.1 == self.1,
            _ => component.0 == self.0,
        };
        same_line && component <= self
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// The package's interfaces a component names, split into imports and exports, with the
/// one package version they all carry.
struct Named<'a> {
    imports: Vec<&'a str>,
    exports: Vec<&'a str>,
    version: Version,
}

fn named(facts: &Facts) -> anyhow::Result<Named<'_>> {
    let prefix = format!("{WIT_PACKAGE}/");
    fn ours<'a>(names: &'a [String], prefix: &str) -> Vec<(&'a str, &'a str)> {
        names
            .iter()
            .filter_map(|n| n.strip_prefix(prefix)?.split_once('@'))
            .collect()
    }
    let (imports, exports) = (ours(&facts.imports, &prefix), ours(&facts.exports, &prefix));
    let mut versions: Vec<&str> = imports.iter().chain(&exports).map(|(_, v)| *v).collect();
    versions.sort_unstable();
    versions.dedup();
    let version = match versions.as_slice() {
        [] => anyhow::bail!(
            "it is not a Cordial job: it exports none of {WIT_PACKAGE}'s interfaces (it exports: {})",
            facts.exports.join(", ")
        ),
        [one] => Version::parse(one)
            .ok_or_else(|| anyhow::anyhow!("it names {WIT_PACKAGE}@{one}, not a version"))?,
        many => anyhow::bail!(
            "it mixes versions of {WIT_PACKAGE} ({}); rebuild it against one",
            many.join(", ")
        ),
    };
    Ok(Named {
        imports: imports.iter().map(|(i, _)| *i).collect(),
        exports: exports.iter().map(|(e, _)| *e).collect(),
        version,
    })
}

/// Whether a component importing and exporting `named` implements `d`'s world: it exports
/// what the world exports, and imports nothing of the package the world does not.
fn fits(d: &Descriptor, named: &Named) -> bool {
    named.exports.contains(&CONFIGURABLE)
        && named.exports.contains(&d.export)
        && named
            .imports
            .iter()
            .all(|i| d.imports.contains(i) || TYPE_ONLY.contains(i))
}

/// The kinds whose world the component implements (more than one only when it uses less
/// than either world offers), and its package version.
pub fn worlds(facts: &Facts) -> anyhow::Result<(Vec<JobKind>, Version)> {
    let named = named(facts)?;
    let kinds = DESCRIPTORS
        .iter()
        .filter(|d| fits(d, &named))
        .map(|d| d.kind)
        .collect();
    Ok((kinds, named.version))
}

/// Refuses, saying why, a component that is not a `kind` job of a package version this host
/// links.
pub fn check(facts: &Facts, kind: JobKind) -> anyhow::Result<()> {
    let host = Version::parse(WIT_VERSION).expect("the package version is a version");
    let (kinds, version) = worlds(facts)?;
    if !host.links(version) {
        let advice = if version > host {
            "upgrade cordial-host, or use a build of the job for the host's version"
        } else {
            "rebuild the job against the host's version"
        };
        anyhow::bail!(
            "it implements {WIT_PACKAGE}@{version}, and this host supports {WIT_PACKAGE}@{host} (components built for {}.{}.0 to {host}); {advice}",
            host.0,
            host.1
        );
    }
    if !kinds.contains(&kind) {
        let world = |k: JobKind| format!("{WIT_PACKAGE}/{}", descriptor(k).world());
        let is = match kinds.as_slice() {
            [] => "no job world of the package".to_owned(),
            found => found
                .iter()
                .map(|k| world(*k))
                .collect::<Vec<_>>()
                .join(" or "),
        };
        anyhow::bail!(
            "it implements {is}, not {} (the world of kind = \"{}\"); point the job at a {} component",
            world(kind),
            kind.as_str(),
            kind.as_str()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(imports: &[&str], exports: &[&str]) -> Facts {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect();
        Facts {
            imports: names(imports),
            exports: names(exports),
            manifest: None,
        }
    }

    #[test]
    fn versions_link_within_a_release_line_up_to_the_hosts_own() {
        let host = Version::parse("0.2.1").unwrap();
        assert!(host.links(Version::parse("0.2.0").unwrap()));
        assert!(host.links(host));
        assert!(!host.links(Version::parse("0.2.2").unwrap()), "newer patch");
        assert!(
            !host.links(Version::parse("0.3.0").unwrap()),
            "0.x minor bump"
        );
        assert!(!host.links(Version::parse("0.1.9").unwrap()), "older line");
        let one = Version::parse("1.4.0").unwrap();
        assert!(one.links(Version::parse("1.0.3").unwrap()));
        assert!(!one.links(Version::parse("2.0.0").unwrap()));
        assert_eq!(Version::parse("0.2"), None);
    }

    #[test]
    fn the_world_is_told_by_what_is_exported_and_imported() {
        let activity = facts(
            &[
                "wasi:http/outgoing-handler@0.2.12",
                "cordial:jobs/types@0.2.0",
                "cordial:jobs/sftp@0.2.0",
                "cordial:jobs/streams@0.2.0",
            ],
            &[
                "cordial:jobs/configurable@0.2.0",
                "cordial:jobs/scheduled@0.2.0",
            ],
        );
        assert!(check(&activity, JobKind::ImportActivity).is_ok());
        let wrong = check(&activity, JobKind::ExportBulk)
            .unwrap_err()
            .to_string();
        assert!(
            wrong.contains("implements cordial:jobs/import-activity, not cordial:jobs/export-bulk"),
            "{wrong}"
        );
        let realtime = facts(
            &[],
            &[
                "cordial:jobs/configurable@0.2.0",
                "cordial:jobs/realtime@0.2.0",
            ],
        );
        assert!(check(&realtime, JobKind::ExportRealtime).is_ok());
        assert!(check(&realtime, JobKind::ExperienceCapture).is_err());
    }

    #[test]
    fn another_package_version_is_refused_naming_both() {
        let newer = facts(
            &[],
            &[
                "cordial:jobs/configurable@0.3.0",
                "cordial:jobs/realtime@0.3.0",
            ],
        );
        let error = check(&newer, JobKind::ExportRealtime)
            .unwrap_err()
            .to_string();
        assert!(error.contains("cordial:jobs@0.3.0"), "{error}");
        assert!(
            error.contains(&format!("cordial:jobs@{WIT_VERSION}")),
            "{error}"
        );
        let stranger = facts(&[], &["wasi:http/incoming-handler@0.2.0"]);
        let error = check(&stranger, JobKind::ExportRealtime)
            .unwrap_err()
            .to_string();
        assert!(error.contains("not a Cordial job"), "{error}");
    }
}
