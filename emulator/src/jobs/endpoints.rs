//! `GET /v2/jobs/{id}` and `GET /v2/jobs`: reading the job records
//! ([`crate::model::job`]) that imports and exports leave behind.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::Value;

use crate::http::answer::{Answer, ok};
use crate::http::app::App;
use crate::http::errors::ApiError;
use crate::http::query::{Page, query};
use crate::model::job::Job;

/// Page size of `GET /v2/jobs` when `per_page` is absent.
const DEFAULT_PER_PAGE: usize = 25;
/// Cordial's cap on `per_page` with `include=statistic`.
const MAX_PER_PAGE_WITH_STATISTIC: usize = 25;

/// Keeps only the top-level keys named in `fields` (comma-separated), if given.
fn select_fields(doc: Value, fields: Option<&String>) -> Value {
    let (Some(fields), Value::Object(map)) = (fields, &doc) else {
        return doc;
    };
    let wanted: Vec<&str> = fields
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    if wanted.is_empty() {
        return doc;
    }
    Value::Object(
        map.iter()
            .filter(|(k, _)| wanted.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// `GET /v2/jobs/{id}[?fields=a,b]`: the job, or 404 `RECORD_NOT_FOUND`.
pub async fn show(
    State(app): State<App>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Answer {
    let q = query(raw);
    let doc = app
        .job(&id, Job::to_json)
        .ok_or_else(ApiError::record_not_found)?;
    ok(select_fields(doc, q.get("fields")))
}

/// `GET /v2/jobs`: a bare array, newest first, filtered by `jobName` and
/// `status` and paged with `page`/`per_page`. With `include=statistic` a
/// `per_page` above 25 is Cordial's 400 `JOBS_STATISTIC_PER_PAGE_EXCEEDED`.
/// No match is `[]`, not 404. The `times[...]` filters are not emulated.
pub async fn index(State(app): State<App>, RawQuery(raw): RawQuery) -> Answer {
    let q = query(raw);
    let page = Page::read(&q, DEFAULT_PER_PAGE);
    if q.get("include")
        .is_some_and(|i| i.split(',').any(|p| p.trim() == "statistic"))
        && page.size > MAX_PER_PAGE_WITH_STATISTIC
    {
        return Err(ApiError::Keyed {
            status: StatusCode::BAD_REQUEST,
            error_key: "JOBS_STATISTIC_PER_PAGE_EXCEEDED",
            message: format!(
                "per_page may not exceed {MAX_PER_PAGE_WITH_STATISTIC} when include=statistic"
            ),
        });
    }
    let docs = app
        .jobs(Job::to_json)
        .into_iter()
        .rev()
        .filter(|d| q.get("jobName").is_none_or(|n| d["jobName"] == n.as_str()))
        .filter(|d| q.get("status").is_none_or(|s| d["status"] == s.as_str()));
    ok(Value::Array(page.of(docs).collect()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fields_selects_top_level_keys() {
        let doc = json!({"a": 1, "b": 2, "c": 3});
        assert_eq!(
            select_fields(doc.clone(), Some(&"a, c".into())),
            json!({"a": 1, "c": 3})
        );
        assert_eq!(select_fields(doc.clone(), None), doc);
    }
}
