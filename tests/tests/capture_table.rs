//! The consent decision table end to end: every combination of region scope × opt-in mode ×
//! auto-subscribe (18 jobs in one served host) × region × opt-in value × existing status,
//! on the email channel and on the SMS channel, submitted through `POST /capture/<job>`,
//! decided by the real component, and checked against the emulator's resulting contacts
//! and the audit trail.
//!
//! The expectation comes from [`expected`], the table of docs/capture.md written out by
//! hand here, not from the code under test.

use cordial_e2e::capture::{self, ContactSeeder, LIST, OPT_IN_ATTRIBUTE, capture_job};
use cordial_e2e::serving::Serving;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::time::Duration;

const MODES: [&str; 3] = ["opted_in", "opted_in_or_unknown", "all"];
const SCOPES: [&str; 3] = ["eu", "non_eu", "both"];
const OPT_INS: [Option<bool>; 3] = [Some(true), Some(false), None];

/// Where a submission says it comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Region {
    /// `country: "FR"`.
    EuCountry,
    /// `country: "US"`.
    NonEuCountry,
    /// `eu: true` with `country: "US"`: the flag wins.
    EuFlag,
    /// `eu: false` with `country: "FR"`: the flag wins.
    NonEuFlag,
    /// Neither: `unknown_region` (default `eu`) decides.
    Unknown,
}

impl Region {
    const ALL: [Region; 5] = [
        Region::EuCountry,
        Region::NonEuCountry,
        Region::EuFlag,
        Region::NonEuFlag,
        Region::Unknown,
    ];

    fn fields(self) -> Value {
        match self {
            Region::EuCountry => json!({"country": "FR"}),
            Region::NonEuCountry => json!({"country": "US"}),
            Region::EuFlag => json!({"eu": true, "country": "US"}),
            Region::NonEuFlag => json!({"eu": false, "country": "FR"}),
            Region::Unknown => json!({}),
        }
    }

    /// EU for the policy, with `unknown_region = "eu"`.
    fn is_eu(self) -> bool {
        matches!(self, Region::EuCountry | Region::EuFlag | Region::Unknown)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Channel {
    Email,
    Sms,
}

/// The channel's state in Cordial before the submission.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Existing {
    NoContact,
    /// A contact with the channel at status `none`.
    NotSubscribed,
    Subscribed,
    Unsubscribed,
    /// SMS only.
    PendingDoi,
}

impl Existing {
    fn for_channel(channel: Channel) -> &'static [Existing] {
        use Existing::*;
        match channel {
            Channel::Email => &[NoContact, NotSubscribed, Subscribed, Unsubscribed],
            Channel::Sms => &[
                NoContact,
                NotSubscribed,
                Subscribed,
                Unsubscribed,
                PendingDoi,
            ],
        }
    }

    fn status(self) -> Option<&'static str> {
        match self {
            Existing::NoContact => None,
            Existing::NotSubscribed => Some("none"),
            Existing::Subscribed => Some("subscribed"),
            Existing::Unsubscribed => Some("unsubscribed"),
            Existing::PendingDoi => Some("pendingDOI"),
        }
    }
}

/// What the decision table says: the rule number and the action.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Expected {
    rule: u8,
    action: &'static str,
}

/// docs/capture.md's decision table, rows checked top to bottom.
fn expected(
    scope: &str,
    mode: &str,
    auto: bool,
    region: Region,
    opt_in: Option<bool>,
    existing: Existing,
) -> Expected {
    let eu = region.is_eu();
    let kept = if existing == Existing::NoContact {
        "created"
    } else {
        "updated"
    };
    let row = |rule, action| Expected { rule, action };
    let in_scope = match scope {
        "eu" => eu,
        "non_eu" => !eu,
        _ => true,
    };
    if !in_scope {
        return row(2, "skipped");
    }
    if mode == "opted_in" && opt_in != Some(true) {
        return row(3, "skipped");
    }
    if mode == "opted_in_or_unknown" && opt_in == Some(false) {
        return row(4, "skipped");
    }
    match existing {
        Existing::Subscribed => return row(5, kept),
        Existing::PendingDoi => return row(6, kept),
        Existing::Unsubscribed if opt_in == Some(true) && auto => return row(7, "subscribed"),
        Existing::Unsubscribed => return row(8, kept),
        Existing::NoContact | Existing::NotSubscribed => {}
    }
    if !auto {
        return row(9, kept);
    }
    match opt_in {
        Some(true) => row(10, "subscribed"),
        Some(false) => row(11, kept),
        None if eu => row(12, kept),
        None if mode == "opted_in_or_unknown" => row(13, "subscribed"),
        None => row(14, kept),
    }
}

#[derive(Debug, Clone)]
struct Case {
    job: String,
    region: Region,
    opt_in: Option<bool>,
    channel: Channel,
    existing: Existing,
    /// The email or the SMS number.
    identity: String,
    expected: Expected,
}

impl Case {
    fn submission(&self) -> Value {
        let mut s = Map::new();
        match self.channel {
            Channel::Email => s.insert("email".into(), self.identity.clone().into()),
            Channel::Sms => s.insert("sms".into(), self.identity.clone().into()),
        };
        if let Some(opt_in) = self.opt_in {
            s.insert("opt_in".into(), opt_in.into());
        }
        if let Value::Object(fields) = self.region.fields() {
            s.extend(fields);
        }
        s.insert("timestamp".into(), "2026-11-22T10:00:00Z".into());
        s.insert("experience_id".into(), "spring-quiz".into());
        s.insert("answers".into(), json!({"first_name": "Sub"}));
        Value::Object(s)
    }

    fn seed_channels(&self) -> Option<Value> {
        let status = self.existing.status()?;
        let key = match self.channel {
            Channel::Email => "email",
            Channel::Sms => "sms",
        };
        Some(json!({ key: {"address": self.identity, "subscribeStatus": status} }))
    }

    /// Every way the emulator's contact and the audit row differ from the expectation.
    fn check(
        &self,
        contact: Option<&Value>,
        audit: Option<&(String, String)>,
        forced: bool,
    ) -> Vec<String> {
        let mut wrong = Vec::new();
        let e = self.expected;
        match audit {
            None => wrong.push("no audit row".into()),
            Some((rule, action)) => {
                if !rule.starts_with(&format!("R{} ", e.rule)) || action != e.action {
                    wrong.push(format!("audit says {rule} / {action}"));
                }
            }
        }
        if forced != (e.rule == 7) {
            wrong.push(format!("forceSubscribe sent: {forced}"));
        }
        let channel = match self.channel {
            Channel::Email => "email",
            Channel::Sms => "sms",
        };
        let sent = e.action != "skipped";
        let Some(c) = contact else {
            if sent || self.existing != Existing::NoContact {
                wrong.push("the contact is missing".into());
            }
            return wrong;
        };
        if !sent && self.existing == Existing::NoContact {
            wrong.push(format!("a skipped submission created {c}"));
            return wrong;
        }
        let status = c["channels"][channel]["subscribeStatus"]
            .as_str()
            .unwrap_or("-");
        let want_status = if e.action == "subscribed" {
            "subscribed"
        } else {
            self.existing.status().unwrap_or("none")
        };
        if status != want_status {
            wrong.push(format!("{channel} status {status}, expected {want_status}"));
        }
        let first_name = c["attributes"]["first_name"].as_str().unwrap_or("-");
        let opt_in = c["attributes"][OPT_IN_ATTRIBUTE].as_str();
        let in_list = c["lists"]
            .as_array()
            .is_some_and(|l| l.iter().any(|n| n == LIST));
        let want_opt_in = match self.opt_in {
            Some(true) => "true",
            Some(false) => "false",
            None => "unknown",
        };
        if sent {
            if first_name != "Sub" || opt_in != Some(want_opt_in) || !in_list {
                wrong.push(format!(
                    "not written: first_name {first_name}, {OPT_IN_ATTRIBUTE} {opt_in:?}, in {LIST}: {in_list}"
                ));
            }
        } else if first_name != "Seeded" || opt_in.is_some() || in_list {
            wrong.push(format!("a skipped submission wrote to the contact: {c}"));
        }
        wrong
    }
}

fn job_name(mode: &str, auto: bool, scope: &str) -> String {
    format!("{mode}-{}-{scope}", if auto { "auto" } else { "manual" })
}

fn jobs_config() -> String {
    let mut config = String::new();
    for mode in MODES {
        for auto in [true, false] {
            for scope in SCOPES {
                let settings = format!(
                    "region = \"{scope}\"\nauto_subscribe = {auto}\nopt_in_mode = \"{mode}\"\n\
                     opt_in_attribute = \"{OPT_IN_ATTRIBUTE}\"\nlist = \"{LIST}\"\n\
                     [job.field_mapping]\nfirst_name = \"first_name\"\n"
                );
                config.push_str(&capture_job(&job_name(mode, auto, scope), &settings));
            }
        }
    }
    config
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for mode in MODES {
        for auto in [true, false] {
            for scope in SCOPES {
                for channel in [Channel::Email, Channel::Sms] {
                    for &existing in Existing::for_channel(channel) {
                        for region in Region::ALL {
                            for opt_in in OPT_INS {
                                let n = cases.len();
                                let identity = match channel {
                                    Channel::Email => format!("c{n}@capture.test"),
                                    Channel::Sms => format!("+1555{n:07}"),
                                };
                                cases.push(Case {
                                    job: job_name(mode, auto, scope),
                                    region,
                                    opt_in,
                                    channel,
                                    existing,
                                    identity,
                                    expected: expected(scope, mode, auto, region, opt_in, existing),
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    cases
}

#[tokio::test(flavor = "multi_thread")]
async fn every_combination_of_the_decision_table_end_to_end() {
    let h = capture::start().await;
    let cases = cases();
    let started = std::time::Instant::now();
    let mut seeding = tokio::task::JoinSet::new();
    for chunk in cases.chunks(64) {
        let chunk: Vec<Case> = chunk.to_vec();
        let seeder = ContactSeeder::new(&h);
        seeding.spawn(async move {
            for case in chunk {
                if let Some(channels) = case.seed_channels() {
                    seeder.seed(channels, case.channel == Channel::Sms).await;
                }
            }
        });
    }
    seeding.join_all().await;
    let seeded = started.elapsed();

    let s = Serving::start(&h, &jobs_config()).await;
    let submitted_at = std::time::Instant::now();
    // Per job and channel, one request carrying every submission as an array.
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut per_job: HashMap<String, u64> = HashMap::new();
    let mut groups: Vec<(String, Channel, Vec<usize>)> = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        match groups.last_mut() {
            Some((job, channel, members)) if *job == case.job && *channel == case.channel => {
                members.push(i)
            }
            _ => groups.push((case.job.clone(), case.channel, vec![i])),
        }
    }
    for (job, _, members) in &groups {
        let body = Value::Array(members.iter().map(|&i| cases[i].submission()).collect());
        let ids = capture::submit(&s.capture(job), &body).await;
        assert_eq!(ids.len(), members.len());
        for (id, &i) in ids.into_iter().zip(members) {
            by_id.insert(id, i);
        }
        *per_job.entry(job.clone()).or_default() += members.len() as u64;
    }
    for (job, n) in &per_job {
        let counts = s.settled(job, *n, Duration::from_secs(120)).await;
        assert_eq!(counts.dead, 0, "{job}: {counts:?}");
    }
    let decided = submitted_at.elapsed();

    let mut audit: HashMap<usize, (String, String)> = HashMap::new();
    for job in per_job.keys() {
        for row in s.store.capture_audit(job, None).unwrap() {
            assert_eq!(row.outcome, "delivered", "{row:?}");
            assert_eq!(row.contact, cases[by_id[&row.submission_id]].identity);
            audit.insert(by_id[&row.submission_id], (row.rule, row.action));
        }
    }
    let forced = capture::force_subscribed(&h);
    let mut failures = Vec::new();
    let mut rules_seen = std::collections::BTreeSet::new();
    for (i, case) in cases.iter().enumerate() {
        rules_seen.insert(case.expected.rule);
        let contact = capture::contact(&h, &case.identity);
        let wrong = case.check(
            contact.as_ref(),
            audit.get(&i),
            forced.contains(&case.identity),
        );
        if !wrong.is_empty() {
            failures.push(format!(
                "{} {:?} {:?} opt_in={:?} existing={:?} (expected R{} {}): {}",
                case.job,
                case.channel,
                case.region,
                case.opt_in,
                case.existing,
                case.expected.rule,
                case.expected.action,
                wrong.join("; ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} combinations differ from the decision table:\n{}",
        failures.len(),
        cases.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(
        rules_seen.into_iter().collect::<Vec<_>>(),
        (2..=14).collect::<Vec<u8>>(),
        "every rule but R1 (unknown_region = \"skip\", tested on its own) is exercised"
    );
    eprintln!(
        "{} combinations: seeded in {seeded:?}, submitted and decided in {decided:?}",
        cases.len()
    );
    s.stop().await;
}
