//! Experience capture's whole call: each submission of a batch is parsed, looked up in
//! Cordial, decided by the consent policy and, unless skipped, upserted, in arrival order.
//! After a submission that must be retried the rest of the batch is held back unsent, so a
//! later submission of the same contact can never overtake an earlier one.

use super::{
    Action, BadSubmission, contact_for_submission, existing_from_response, lookup_request,
    parse_for_settings, plan, typed_targets,
};
use crate::cordial::{CordialClient, CordialError, attribute_types, ensure_list};
use crate::job::Outcome;
use crate::ports::{Env, Level};
use crate::realtime::AttributeTypes;
use crate::settings::{self, CaptureSettings, JobKind};

/// The rule recorded when no decision could be made (the submission could not be read, or
/// Cordial could not be asked).
const NOT_DECIDED: &str = "not-decided";

/// One submission the runtime hands over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The runtime's id for the submission, in the audit trail and the log.
    pub id: String,
    /// The submission as received: one JSON object.
    pub body: String,
}

/// What became of one submission, with the decision behind it for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureResult {
    pub outcome: Outcome,
    /// The decision-table rule that applied, or `not-decided`.
    pub rule: String,
    /// What was done: `created`, `updated`, `subscribed` or `skipped`.
    pub action: String,
}

/// One result per submission, in order. The attribute types and the job's list (both
/// remembered in the job's state) come first; when either fails, every submission shares
/// that failure.
pub fn submit(env: &mut Env<'_>, submissions: &[Submission]) -> Vec<CaptureResult> {
    let settings: CaptureSettings = match settings::read(JobKind::ExperienceCapture, env.config) {
        Ok(s) => s,
        Err(e) => return every(submissions, settings::unreadable_outcome(e)),
    };
    let mut client = CordialClient::new(&env.ctx.cordial_base_url, &mut *env.http);
    let needed = typed_targets(&settings);
    let types = match attribute_types(&mut client, env.state, &env.ctx.started_at, &needed) {
        Ok(t) => t,
        Err(e) => return every(submissions, Outcome::from_cordial(&e)),
    };
    if let Some(list) = &settings.list
        && let Err(e) = ensure_list(&mut client, env.state, env.log, list)
    {
        return every(submissions, Outcome::from_cordial(&e));
    }
    let mut results = Vec::with_capacity(submissions.len());
    let mut held_back = false;
    for submission in submissions {
        let result = if held_back {
            undecided(Outcome::Retry {
                after: None,
                reason: "held back behind an earlier submission that is being retried".into(),
                attempted: false,
            })
        } else {
            one(env, &settings, &types, submission)
        };
        held_back |= matches!(result.outcome, Outcome::Retry { .. });
        results.push(result);
    }
    results
}

/// Parse, look up, decide, upsert.
fn one(
    env: &mut Env<'_>,
    settings: &CaptureSettings,
    types: &AttributeTypes,
    submission: &Submission,
) -> CaptureResult {
    // The runtime validated the submission on intake; failing here means the job's settings
    // changed since (e.g. `strict` turned on) or the store was edited.
    let parsed = match serde_json::from_str(&submission.body) {
        Ok(value) => parse_for_settings(settings, &value),
        Err(e) => Err(BadSubmission::new("(submission)", format!("not JSON: {e}"))),
    };
    let parsed = match parsed {
        Ok(s) => s,
        Err(bad) => return undecided(Outcome::dead_letter(format!("bad submission: {bad}"))),
    };
    let base = &env.ctx.cordial_base_url;
    let Some(lookup) = lookup_request(base, &parsed) else {
        return undecided(Outcome::dead_letter("the submission has no identifier"));
    };
    let existing = env
        .http
        .send(&lookup)
        .map_err(CordialError::Transport)
        .and_then(|response| existing_from_response(&response));
    let existing = match existing {
        Ok(e) => e,
        Err(e) => return undecided(Outcome::from_cordial(&e)),
    };
    let plan = plan(settings, &parsed, existing);
    let decided = |outcome| CaptureResult {
        outcome,
        rule: plan.rule(),
        action: plan.action().as_str().into(),
    };
    let contact = match contact_for_submission(settings, &parsed, types, &plan) {
        Ok(c) => c,
        Err(bad) => return decided(Outcome::dead_letter(format!("bad submission: {bad}"))),
    };
    env.log.log(
        Level::Debug,
        &format!("{}: {} ({})", submission.id, plan.rule(), plan.reason()),
    );
    match contact {
        None => {
            debug_assert_eq!(plan.action(), Action::Skipped);
            decided(Outcome::Delivered)
        }
        Some(contact) => match CordialClient::new(base, &mut *env.http).upsert_contact(&contact) {
            Ok(_) => decided(Outcome::Delivered),
            Err(e) => decided(Outcome::from_cordial(&e)),
        },
    }
}

/// A result before any decision: nothing was sent.
fn undecided(outcome: Outcome) -> CaptureResult {
    CaptureResult {
        outcome,
        rule: NOT_DECIDED.into(),
        action: Action::Skipped.as_str().into(),
    }
}

/// The same undecided result for every submission.
fn every(submissions: &[Submission], outcome: Outcome) -> Vec<CaptureResult> {
    vec![undecided(outcome); submissions.len()]
}

#[cfg(test)]
mod tests;
