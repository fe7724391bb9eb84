//! Checks of a job's settings against the Cordial account itself: mapped attributes must
//! exist (a typo becomes one config error, not a stream of 422s) and a configured list must
//! exist.

use super::{ConfigProblem, JobKind};
use crate::cordial::{AttributeType, CordialClient, HttpTransport};
use serde_json::Value;

/// Every problem Cordial's account reveals in `settings` (already shape-checked).
pub fn check_against_account<T: HttpTransport>(
    kind: JobKind,
    settings: &Value,
    client: &mut CordialClient<T>,
) -> Vec<ConfigProblem> {
    let base = client.base_url().to_owned();
    let unreachable = |e: crate::cordial::CordialError| {
        let message = format!("could not check the settings against Cordial at {base}: {e}");
        vec![if e.is_retryable() {
            ConfigProblem::unchecked("auth", message)
        } else {
            ConfigProblem::new("auth", message)
        }]
    };
    let mut problems = Vec::new();
    let mut targets: Vec<(String, String)> = Vec::new();
    if let Some(map) = settings.get("field_mapping").and_then(Value::as_object) {
        for (source, target) in map {
            targets.push((
                format!("field_mapping.{source}"),
                target.as_str().unwrap_or_default().to_owned(),
            ));
        }
    }
    if let Some(attr) = settings.get("opt_in_attribute").and_then(Value::as_str) {
        targets.push(("opt_in_attribute".into(), attr.to_owned()));
    }
    if !targets.is_empty() {
        let attributes = match client.contact_attributes() {
            Ok(a) => a,
            Err(e) => return unreachable(e),
        };
        for (field, target) in targets {
            let (base, sub) = match target.split_once('.') {
                Some((b, s)) => (b, Some(s)),
                None => (target.as_str(), None),
            };
            match attributes.iter().find(|a| a.key == base) {
                None => problems.push(ConfigProblem::new(
                    field,
                    format!(
                        "Cordial has no contact attribute `{base}`; create it in Cordial or map to one of: {}",
                        attributes.iter().map(|a| a.key.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )),
                Some(a) if sub.is_some() && a.kind != AttributeType::Geo => {
                    problems.push(ConfigProblem::new(
                        field,
                        format!("`{target}` names a sub-field, but `{base}` is not a geo attribute"),
                    ))
                }
                Some(_) => {}
            }
        }
    }
    if let Some(list) = settings.get("list").and_then(Value::as_str) {
        match client.account_lists() {
            Err(e) => return unreachable(e),
            Ok(lists) if lists.iter().any(|l| l.name == list) => {}
            Ok(_) => {
                let hint = if matches!(kind, JobKind::ExportRealtime | JobKind::ExportBulk) {
                    " or leave `list` out to use an automatic Lytics_{audience} list"
                } else {
                    ""
                };
                problems.push(ConfigProblem::new(
                    "list",
                    format!("Cordial has no list named `{list}`; create it in Cordial{hint}"),
                ));
            }
        }
    }
    problems
}
