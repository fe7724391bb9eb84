//! Keeping a job inside its folder by looking at the path text: the one rule every
//! [`Files`](super::Files) runtime applies (the bundled host's SFTP client, the SSH client
//! on Spin).

/// `root` joined with the job's relative `path`, or why not when the path is absolute
/// or climbs out with `..` (the error says which). Empty and `.` segments are dropped; `""` and `"."` name the root.
pub fn join_inside(root: &str, path: &str) -> Result<String, String> {
    if path.starts_with('/') || path.starts_with('\\') {
        return Err(format!(
            "`{path}` is absolute; give a path relative to the folder"
        ));
    }
    let mut parts = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                return Err(format!("`{path}` uses `..`; give a path inside the folder"));
            }
            s if s.contains('\0') => {
                return Err(format!("`{path}` holds a NUL"));
            }
            s => parts.push(s),
        }
    }
    let root = root.trim_end_matches('/');
    Ok(match (root.is_empty(), parts.is_empty()) {
        (true, true) => ".".into(),
        (true, false) => parts.join("/"),
        (false, true) => root.to_owned(),
        (false, false) => format!("{root}/{}", parts.join("/")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_join_under_the_root_and_others_are_refused() {
        assert_eq!(
            join_inside("/srv/in/", "x/./b.csv").unwrap(),
            "/srv/in/x/b.csv"
        );
        assert_eq!(join_inside("", ".").unwrap(), ".");
        assert!(
            join_inside("/srv", "/etc/passwd")
                .unwrap_err()
                .contains("absolute")
        );
        assert!(join_inside("/srv", "a/../../x").unwrap_err().contains(".."));
        assert!(join_inside("/srv", "a\0b").unwrap_err().contains("NUL"));
    }
}
