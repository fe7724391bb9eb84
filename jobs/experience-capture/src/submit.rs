//! One batch of submissions: each is parsed, looked up in Cordial, decided by the consent
//! policy and, unless skipped, upserted, in arrival order. After a submission that must be
//! retried the rest of the batch is held back unsent, so a later submission of the same
//! contact can never overtake an earlier one.

use crate::exports::cordial::jobs::capture::{CaptureResult, Submission as WitSubmission};
use cordial_guest::outcomes::{Outcome, Rejection, RetryLater};
use cordial_guest::types::RunContext;
use cordial_guest::{WasiHttp, cordial_error_outcome};
use cordial_jobs::capture::{self, Action};
use cordial_jobs::cordial::{CordialClient, CordialError, HttpTransport};
use cordial_jobs::realtime::AttributeTypes;
use cordial_jobs::settings::CaptureSettings;

/// The rule recorded when no decision could be made (the submission could not be read).
const NOT_DECIDED: &str = "not-decided";

/// One result per submission, in order.
pub fn submit(ctx: &RunContext, config: &str, submissions: &[WitSubmission]) -> Vec<CaptureResult> {
    let settings: CaptureSettings = match cordial_guest::parse_settings(config) {
        Ok(s) => s,
        Err(e) => {
            let outcome = dead_letter(None, format!("unusable job settings: {e}"));
            return all(submissions, &outcome);
        }
    };
    let mut client = cordial_guest::cordial_client(ctx);
    let types = match cordial_guest::attribute_types_for(
        &mut client,
        ctx,
        &capture::typed_targets(&settings),
    ) {
        Ok(t) => t,
        Err(e) => return all(submissions, &cordial_error_outcome(&e)),
    };
    if let Some(list) = &settings.list
        && let Err(e) = cordial_guest::ensure_list(&mut client, list)
    {
        return all(submissions, &cordial_error_outcome(&e));
    }
    let mut results = Vec::with_capacity(submissions.len());
    let mut held_back = false;
    for submission in submissions {
        let result = if held_back {
            undecided(Outcome::Retry(RetryLater {
                after_ms: None,
                reason: "held back behind an earlier submission that is being retried".into(),
                attempted: false,
            }))
        } else {
            one(ctx, &settings, &types, &mut client, submission)
        };
        held_back |= matches!(result.outcome, Outcome::Retry(_));
        results.push(result);
    }
    results
}

/// Parse, look up, decide, upsert.
fn one(
    ctx: &RunContext,
    settings: &CaptureSettings,
    types: &AttributeTypes,
    client: &mut CordialClient<WasiHttp>,
    wit: &WitSubmission,
) -> CaptureResult {
    // The host validated the submission on intake; failing here means the job's settings
    // changed since (e.g. `strict` turned on) or the store was edited.
    let submission = match serde_json::from_str(&wit.body) {
        Ok(value) => capture::parse_for_settings(settings, &value),
        Err(e) => Err(capture::BadSubmission::new(
            "(submission)",
            format!("not JSON: {e}"),
        )),
    };
    let submission = match submission {
        Ok(s) => s,
        Err(bad) => return undecided(dead_letter(None, format!("bad submission: {bad}"))),
    };
    let Some(lookup) = capture::lookup_request(&ctx.cordial_base_url, &submission) else {
        return undecided(dead_letter(None, "the submission has no identifier".into()));
    };
    let existing = WasiHttp
        .send(&lookup)
        .map_err(CordialError::Transport)
        .and_then(|response| capture::existing_from_response(&response));
    let existing = match existing {
        Ok(e) => e,
        Err(e) => return undecided(cordial_error_outcome(&e)),
    };
    let plan = capture::plan(settings, &submission, existing);
    let decided = |outcome| CaptureResult {
        outcome,
        rule: plan.rule(),
        action: plan.action().as_str().into(),
    };
    let contact = match capture::contact_for_submission(settings, &submission, types, &plan) {
        Ok(c) => c,
        Err(bad) => return decided(dead_letter(None, format!("bad submission: {bad}"))),
    };
    cordial_guest::log::log(
        cordial_guest::log::Level::Debug,
        &format!("{}: {} ({})", wit.submission_id, plan.rule(), plan.reason()),
    );
    match contact {
        None => {
            debug_assert_eq!(plan.action(), Action::Skipped);
            decided(Outcome::Delivered)
        }
        Some(contact) => match client.upsert_contact(&contact) {
            Ok(_) => decided(Outcome::Delivered),
            Err(e) => decided(cordial_error_outcome(&e)),
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

fn dead_letter(status: Option<u16>, reason: String) -> Outcome {
    Outcome::DeadLetter(Rejection { status, reason })
}

fn all(submissions: &[WitSubmission], outcome: &Outcome) -> Vec<CaptureResult> {
    submissions
        .iter()
        .map(|_| undecided(outcome.clone()))
        .collect()
}
