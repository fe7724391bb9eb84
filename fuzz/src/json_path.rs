//! Checking that an error's path (`[2].data.segment_events[0].event`) names a real place in
//! the body: someone fixing a trigger from the job log alone must be able to find it.

use serde_json::Value;

/// One step of a path.
#[derive(Debug, PartialEq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The steps of `path`, or `None` when it is not made of `key`, `.key` and `[n]` steps.
fn steps(path: &str) -> Option<Vec<Step<'_>>> {
    let mut steps = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            steps.push(Step::Index(after[..end].parse().ok()?));
            rest = &after[end + 1..];
        } else {
            let key = rest.strip_prefix('.').unwrap_or(rest);
            let end = key.find(['.', '[']).unwrap_or(key.len());
            if end == 0 {
                return None;
            }
            steps.push(Step::Key(&key[..end]));
            rest = &key[end..];
        }
    }
    Some(steps)
}

/// Whether `path` leads through `root`: every step but the last must exist, and the last
/// must exist or be a key of an object (a missing field is named where it belongs).
pub fn names_a_place(root: &Value, path: &str) -> bool {
    let Some(steps) = steps(path) else {
        return false;
    };
    let mut at = root;
    for (i, step) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        let next = match (step, at) {
            (Step::Key(k), Value::Object(o)) => o.get(*k),
            (Step::Index(n), Value::Array(a)) => a.get(*n),
            _ => return false,
        };
        match next {
            Some(v) => at = v,
            None => return last && matches!(step, Step::Key(_)),
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_are_followed_and_only_a_last_key_may_be_missing() {
        let body = json!([{"data": {"segment_events": [{"event": 1}]}}]);
        assert!(names_a_place(&body, "[0].data.segment_events[0].event"));
        assert!(names_a_place(&body, "[0].data.segment_events[0].slug"));
        assert!(names_a_place(&body, "[0]"));
        assert!(!names_a_place(&body, "[1]"));
        assert!(!names_a_place(&body, "[0].meta.timestamp"));
        assert!(!names_a_place(&body, "[0].data.segment_events[3]"));
        assert!(!names_a_place(&body, "[0]..data"));
        assert!(names_a_place(&json!({"id": 1.5}), "id"));
    }
}
