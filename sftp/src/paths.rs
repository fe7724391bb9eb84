//! Keeping a job inside its folder, by looking at the path text. (Symlinks are checked
//! against the server's own resolution in the client.)

use crate::SftpFailure;

/// `root` joined with the job's relative `path`, or `OutsideRoot` when the path is absolute
/// or climbs out with `..` (the rule every `Files` runtime shares,
/// [`cordial_jobs::ports::paths::join_inside`]).
pub fn join_inside(root: &str, path: &str) -> Result<String, SftpFailure> {
    cordial_jobs::ports::paths::join_inside(root, path).map_err(SftpFailure::OutsideRoot)
}

/// Whether the server's resolved `resolved` lies inside the resolved `root`; returns the
/// part below the root.
pub fn relative_path<'a>(root: &str, resolved: &'a str) -> Option<&'a str> {
    let root = root.trim_end_matches('/');
    if root.is_empty() {
        return Some(resolved.trim_start_matches('/'));
    }
    let rest = resolved.strip_prefix(root)?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix('/')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_join_under_the_root() {
        assert_eq!(join_inside("/srv/in", "a.csv").unwrap(), "/srv/in/a.csv");
        assert_eq!(
            join_inside("/srv/in/", "x/./b.csv").unwrap(),
            "/srv/in/x/b.csv"
        );
        assert_eq!(join_inside("/srv/in", "").unwrap(), "/srv/in");
        assert_eq!(join_inside("", "a.csv").unwrap(), "a.csv");
        assert_eq!(join_inside("", ".").unwrap(), ".");
    }

    #[test]
    fn absolute_and_climbing_paths_are_refused() {
        for bad in ["/etc/passwd", "../x", "a/../../x", "a/..", "\\x"] {
            assert!(
                matches!(
                    join_inside("/srv/in", bad),
                    Err(SftpFailure::OutsideRoot(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn resolved_paths_must_stay_under_the_root() {
        assert_eq!(relative_path("/srv/in", "/srv/in/a"), Some("a"));
        assert_eq!(relative_path("/srv/in", "/srv/in"), Some(""));
        assert_eq!(relative_path("/srv/in", "/srv/inbox/a"), None);
        assert_eq!(relative_path("/srv/in", "/etc/passwd"), None);
    }
}
