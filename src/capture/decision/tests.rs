use super::*;
use serde_json::json;

const REGIONS: [Region; 3] = [Region::Eu, Region::NonEu, Region::Unknown];
const UNKNOWN_RULES: [UnknownRegion; 3] =
    [UnknownRegion::Eu, UnknownRegion::NonEu, UnknownRegion::Skip];
const OPT_INS: [Option<bool>; 3] = [Some(true), Some(false), None];
const MODES: [OptInMode; 3] = [
    OptInMode::OptedIn,
    OptInMode::OptedInOrUnknown,
    OptInMode::All,
];
const SCOPES: [RegionScope; 3] = [RegionScope::Eu, RegionScope::NonEu, RegionScope::Both];

/// One combination of every input of the decision.
#[derive(Debug, Clone, Copy)]
struct Case {
    policy: Policy,
    region: Region,
    opt_in: Option<bool>,
    existing: ExistingStatus,
    channel: Channel,
}

impl Case {
    fn decide(&self) -> Decision {
        self.policy
            .decide(self.region, self.opt_in, self.existing, self.channel)
    }

    /// The region after `unknown_region`; `None` when the submission is skipped for it.
    fn effective_region(&self) -> Option<Region> {
        match (self.region, self.policy.unknown_region) {
            (Region::Unknown, UnknownRegion::Eu) => Some(Region::Eu),
            (Region::Unknown, UnknownRegion::NonEu) => Some(Region::NonEu),
            (Region::Unknown, UnknownRegion::Skip) => None,
            (known, _) => Some(known),
        }
    }
}

/// Every region × unknown_region rule × opt_in × mode × auto_subscribe × existing status ×
/// scope × channel.
fn every_case() -> Vec<Case> {
    let mut cases = Vec::new();
    for region in REGIONS {
        for unknown_region in UNKNOWN_RULES {
            for opt_in in OPT_INS {
                for mode in MODES {
                    for auto_subscribe in [true, false] {
                        for existing in ExistingStatus::ALL {
                            for scope in SCOPES {
                                for channel in Channel::ALL {
                                    cases.push(Case {
                                        policy: Policy {
                                            scope,
                                            unknown_region,
                                            mode,
                                            auto_subscribe,
                                        },
                                        region,
                                        opt_in,
                                        existing,
                                        channel,
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    cases
}

#[test]
fn every_combination_keeps_the_promises() {
    let cases = every_case();
    assert_eq!(cases.len(), 3 * 3 * 3 * 3 * 2 * 5 * 3 * 2);
    for case in cases {
        let d = case.decide();
        let explicit = case.opt_in == Some(true);
        let effective = case.effective_region();
        let out_of_scope = match (effective, case.policy.scope) {
            (None, _) => true,
            (Some(_), RegionScope::Both) => false,
            (Some(r), RegionScope::Eu) => r != Region::Eu,
            (Some(r), RegionScope::NonEu) => r != Region::NonEu,
        };
        let filtered_by_opt_in = match case.policy.mode {
            OptInMode::OptedIn => !explicit,
            OptInMode::OptedInOrUnknown => case.opt_in == Some(false),
            OptInMode::All => false,
        };
        let filtered = out_of_scope || filtered_by_opt_in;

        assert!(
            rules::ALL.contains(&d.rule),
            "{case:?}: unknown rule {}",
            d.rule
        );
        assert!(!d.reason.is_empty(), "{case:?}");
        assert_eq!(d.channel, case.channel, "{case:?}");
        assert_eq!(d.subscribe, d.action == Action::Subscribed, "{case:?}");
        // Skipped exactly when filtered.
        assert_eq!(d.action == Action::Skipped, filtered, "{case:?}: {d:?}");
        // Created vs updated by existence.
        if !filtered && !d.subscribe {
            let want = if case.existing == ExistingStatus::NoContact {
                Action::Created
            } else {
                Action::Updated
            };
            assert_eq!(d.action, want, "{case:?}");
        }
        // EU (an unknown region taken as EU included) is never subscribed without an explicit
        // opt-in.
        if effective == Some(Region::Eu) && !explicit {
            assert!(
                !d.subscribe,
                "{case:?}: EU subscribed without an explicit opt-in"
            );
        }
        // No explicit opt-in and the region is unknown-as-EU: same promise, checked directly.
        if case.region == Region::Unknown
            && case.policy.unknown_region == UnknownRegion::Eu
            && !explicit
        {
            assert!(!d.subscribe, "{case:?}");
        }
        // opt_in = false and auto_subscribe off never subscribe.
        if case.opt_in == Some(false) || !case.policy.auto_subscribe {
            assert!(!d.subscribe, "{case:?}");
        }
        // Unsubscribed is subscribed again only on an explicit opt-in.
        if case.existing == ExistingStatus::Unsubscribed && !explicit {
            assert!(
                !d.subscribe,
                "{case:?}: resubscribed without an explicit opt-in"
            );
        }
        // forceSubscribe only when resubscribing an unsubscribed channel on an explicit opt-in.
        assert_eq!(
            d.force_subscribe,
            case.existing == ExistingStatus::Unsubscribed && explicit && d.subscribe,
            "{case:?}"
        );
        // Subscribed and pending channels are never touched.
        if matches!(
            case.existing,
            ExistingStatus::Subscribed | ExistingStatus::PendingDoi
        ) {
            assert!(!d.subscribe, "{case:?}");
        }
        // And the whole rule, stated positively: subscribed exactly when all of this holds.
        let implied = case.opt_in.is_none()
            && effective == Some(Region::NonEu)
            && case.policy.mode == OptInMode::OptedInOrUnknown
            && case.existing != ExistingStatus::Unsubscribed;
        let want_subscribe = !filtered
            && case.policy.auto_subscribe
            && !matches!(
                case.existing,
                ExistingStatus::Subscribed | ExistingStatus::PendingDoi
            )
            && (explicit || implied);
        assert_eq!(d.subscribe, want_subscribe, "{case:?}: {d:?}");
    }
}

#[test]
fn both_channels_follow_the_same_rules() {
    for case in every_case() {
        let email = Case {
            channel: Channel::Email,
            ..case
        }
        .decide();
        let sms = Case {
            channel: Channel::Sms,
            ..case
        }
        .decide();
        assert_eq!(
            (
                email.action,
                email.rule,
                email.subscribe,
                email.force_subscribe
            ),
            (sms.action, sms.rule, sms.subscribe, sms.force_subscribe),
            "{case:?}"
        );
    }
}

/// One row of the decision table in `docs/capture.md`.
#[derive(Debug)]
struct DocRow {
    rule: String,
    region: Vec<String>,
    in_scope: Vec<String>,
    mode: Vec<String>,
    opt_in: Vec<String>,
    auto: Vec<String>,
    existing: Vec<String>,
    action: String,
    subscribe_status: String,
    force_subscribe: String,
}

fn doc_rows() -> Vec<DocRow> {
    let doc = include_str!("../../../docs/capture.md");
    let mut lines = doc
        .lines()
        .skip_while(|l| !l.starts_with("| Rule | Region | In scope |"))
        .skip(2);
    let mut rows = Vec::new();
    for line in lines.by_ref() {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<String> = line
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().replace('`', ""))
            .collect();
        assert_eq!(cells.len(), 10, "{line}");
        let list =
            |cell: &str| -> Vec<String> { cell.split(',').map(|v| v.trim().to_owned()).collect() };
        rows.push(DocRow {
            rule: cells[0].clone(),
            region: list(&cells[1]),
            in_scope: list(&cells[2]),
            mode: list(&cells[3]),
            opt_in: list(&cells[4]),
            auto: list(&cells[5]),
            existing: list(&cells[6]),
            action: cells[7].clone(),
            subscribe_status: cells[8].clone(),
            force_subscribe: cells[9].clone(),
        });
    }
    rows
}

fn matches(cell: &[String], value: &str) -> bool {
    cell.iter().any(|v| v == "any" || v == value)
}

fn mode_name(mode: OptInMode) -> &'static str {
    match mode {
        OptInMode::OptedIn => "opted_in",
        OptInMode::OptedInOrUnknown => "opted_in_or_unknown",
        OptInMode::All => "all",
    }
}

fn opt_in_name(opt_in: Option<bool>) -> &'static str {
    match opt_in {
        Some(true) => "true",
        Some(false) => "false",
        None => "absent",
    }
}

#[test]
fn the_documented_table_is_what_the_code_does() {
    let rows = doc_rows();
    let ids: Vec<&str> = rows.iter().map(|r| r.rule.as_str()).collect();
    assert_eq!(
        ids,
        rules::ALL,
        "docs/capture.md lists every rule, in order"
    );
    for case in every_case() {
        let region = case.effective_region().map_or("skip", Region::as_str);
        let in_scope = match (case.effective_region(), case.policy.scope) {
            (None, _) => "no",
            (Some(_), RegionScope::Both) => "yes",
            (Some(Region::Eu), RegionScope::Eu) => "yes",
            (Some(Region::NonEu), RegionScope::NonEu) => "yes",
            _ => "no",
        };
        let row = rows
            .iter()
            .find(|r| {
                matches(&r.region, region)
                    && matches(&r.in_scope, in_scope)
                    && matches(&r.mode, mode_name(case.policy.mode))
                    && matches(&r.opt_in, opt_in_name(case.opt_in))
                    && matches(
                        &r.auto,
                        if case.policy.auto_subscribe {
                            "on"
                        } else {
                            "off"
                        },
                    )
                    && matches(&r.existing, case.existing.as_str())
            })
            .unwrap_or_else(|| panic!("no documented row for {case:?}"));
        let d = case.decide();
        assert_eq!(d.rule, row.rule, "{case:?}");
        let action = match row.action.as_str() {
            "created/updated" if case.existing == ExistingStatus::NoContact => "created",
            "created/updated" => "updated",
            other => other,
        };
        assert_eq!(d.action.as_str(), action, "{case:?}");
        let status = if d.subscribe { "subscribed" } else { "—" };
        assert_eq!(status, row.subscribe_status, "{case:?}");
        let force = if d.force_subscribe { "true" } else { "—" };
        assert_eq!(force, row.force_subscribe, "{case:?}");
    }
}

use Action::{Created, Skipped, Subscribed, Updated};
use ExistingStatus::{NoContact, NotSubscribed, PendingDoi, Unsubscribed};
use OptInMode::{All, OptedIn, OptedInOrUnknown};

/// Hand-written rows: scope, unknown_region, region, mode, opt_in, auto, existing →
/// action, rule, forceSubscribe.
#[allow(clippy::type_complexity)]
#[rustfmt::skip]
const EXPECTED: &[(
    RegionScope,
    UnknownRegion,
    Region,
    OptInMode,
    Option<bool>,
    bool,
    ExistingStatus,
    Action,
    &str,
    bool,
)] = &[
    // Region filters.
    (RegionScope::Both, UnknownRegion::Skip, Region::Unknown, All, Some(true), true, NoContact, Skipped, rules::UNKNOWN_REGION_SKIPPED, false),
    (RegionScope::Eu, UnknownRegion::Eu, Region::NonEu, All, Some(true), true, NoContact, Skipped, rules::OUT_OF_REGION_SCOPE, false),
    (RegionScope::NonEu, UnknownRegion::Eu, Region::Eu, All, Some(true), true, NoContact, Skipped, rules::OUT_OF_REGION_SCOPE, false),
    (RegionScope::NonEu, UnknownRegion::Eu, Region::Unknown, All, Some(true), true, NoContact, Skipped, rules::OUT_OF_REGION_SCOPE, false),
    (RegionScope::NonEu, UnknownRegion::NonEu, Region::Unknown, OptedInOrUnknown, None, true, NoContact, Subscribed, rules::SUBSCRIBE_IMPLIED_OPT_IN, false),
    (RegionScope::Eu, UnknownRegion::Eu, Region::Unknown, OptedIn, Some(true), true, NoContact, Subscribed, rules::SUBSCRIBE_EXPLICIT_OPT_IN, false),
    // Opt-in mode filters.
    (RegionScope::Both, UnknownRegion::Eu, Region::NonEu, OptedIn, None, true, NoContact, Skipped, rules::NOT_OPTED_IN, false),
    (RegionScope::Both, UnknownRegion::Eu, Region::NonEu, OptedIn, Some(false), true, NotSubscribed, Skipped, rules::NOT_OPTED_IN, false),
    (RegionScope::Both, UnknownRegion::Eu, Region::Eu, OptedInOrUnknown, Some(false), true, NoContact, Skipped, rules::OPTED_OUT, false),
    // Mode (a): only explicit opt-ins, subscribed when auto_subscribe is on.
    (RegionScope::Both, UnknownRegion::Eu, Region::Eu, OptedIn, Some(true), true, NoContact, Subscribed, rules::SUBSCRIBE_EXPLICIT_OPT_IN, false),
    (RegionScope::Both, UnknownRegion::Eu, Region::Eu, OptedIn, Some(true), false, NoContact, Created, rules::AUTO_SUBSCRIBE_OFF, false),
    (RegionScope::Both, UnknownRegion::Eu, Region::NonEu, OptedIn, Some(true), false, NotSubscribed, Updated, rules::AUTO_SUBSCRIBE_OFF, false),
    // Mode (b): unknown opt-in outside the EU counts; inside it does not.
    (RegionScope::Both, UnknownRegion::Eu, Region::NonEu, OptedInOrUnknown, None, true, NoContact, Subscribed, rules::SUBSCRIBE_IMPLIED_OPT_IN, false),
    (RegionScope::Both, UnknownRegion::Eu, Region::NonEu, OptedInOrUnknown, None, true, NotSubscribed, Subscribed, rules::SUBSCRIBE_IMPLIED_OPT_IN, false),
    (RegionScope::Both, UnknownRegion::Eu, Region::Eu, OptedInOrUnknown, None, true, NoContact, Created, rules::EU_NEEDS_EXPLICIT_OPT_IN, false),
    (RegionScope::Both, UnknownRegion::Eu, Region::Unknown, OptedInOrUnknown, None, true, NoContact, Created, rules::EU_NEEDS_EXPLICIT_OPT_IN, false),
    (RegionScope::Both, UnknownRegion::NonEu, Region::Unknown, OptedInOrUnknown, None, true, NoContact, Subscribed, rules::SUBSCRIBE_IMPLIED_OPT_IN, false),
    (RegionScope::Both, UnknownRegion::Eu, Region::NonEu, OptedInOrUnknown, None, false, NoContact, Created, rules::AUTO_SUBSCRIBE_OFF, false),
    // Mode (c): everyone sent, only explicit opt-ins subscribed.
    (RegionScope::Both, UnknownRegion::Eu, Region::NonEu, All, Some(false), true, NoContact, Created, rules::OPTED_OUT_NOT_SUBSCRIBED, false),
    (RegionScope::Both, UnknownRegion::Eu, Region::Eu, All, Some(false), true, NotSubscribed, Updated, rules::OPTED_OUT_NOT_SUBSCRIBED, false),
    (RegionScope::Both, UnknownRegion::Eu, Region::NonEu, All, None, true, NoContact, Created, rules::UNKNOWN_OPT_IN_NOT_SUBSCRIBED, false),
    (RegionScope::Both, UnknownRegion::Eu, Region::Eu, All, None, true, NoContact, Created, rules::EU_NEEDS_EXPLICIT_OPT_IN, false),
    (RegionScope::Both, UnknownRegion::Eu, Region::Eu, All, Some(true), true, NotSubscribed, Subscribed, rules::SUBSCRIBE_EXPLICIT_OPT_IN, false),
    // Existing statuses.
    (RegionScope::Both, UnknownRegion::Eu, Region::Eu, All, Some(false), true, ExistingStatus::Subscribed, Updated, rules::ALREADY_SUBSCRIBED, false),
    (RegionScope::Both, UnknownRegion::Eu, Region::NonEu, OptedIn, Some(true), true, ExistingStatus::Subscribed, Updated, rules::ALREADY_SUBSCRIBED, false),
    (RegionScope::Both, UnknownRegion::Eu, Region::NonEu, OptedIn, Some(true), true, PendingDoi, Updated, rules::PENDING_DOUBLE_OPT_IN, false),
    (RegionScope::Both, UnknownRegion::Eu, Region::Eu, OptedIn, Some(true), true, Unsubscribed, Subscribed, rules::RESUBSCRIBE_EXPLICIT_OPT_IN, true),
    (RegionScope::Both, UnknownRegion::Eu, Region::NonEu, All, Some(true), true, Unsubscribed, Subscribed, rules::RESUBSCRIBE_EXPLICIT_OPT_IN, true),
    (RegionScope::Both, UnknownRegion::Eu, Region::Eu, OptedIn, Some(true), false, Unsubscribed, Updated, rules::UNSUBSCRIBED_STAYS, false),
    (RegionScope::Both, UnknownRegion::Eu, Region::NonEu, OptedInOrUnknown, None, true, Unsubscribed, Updated, rules::UNSUBSCRIBED_STAYS, false),
    (RegionScope::Both, UnknownRegion::Eu, Region::NonEu, All, Some(false), true, Unsubscribed, Updated, rules::UNSUBSCRIBED_STAYS, false),
];

#[test]
fn the_hand_written_rows_hold_for_both_channels() {
    for &(
        scope,
        unknown_region,
        region,
        mode,
        opt_in,
        auto_subscribe,
        existing,
        action,
        rule,
        force,
    ) in EXPECTED
    {
        let policy = Policy {
            scope,
            unknown_region,
            mode,
            auto_subscribe,
        };
        for channel in Channel::ALL {
            let d = policy.decide(region, opt_in, existing, channel);
            let row = format!("{policy:?} {region:?} opt_in={opt_in:?} {existing:?} {channel:?}");
            assert_eq!(d.action, action, "{row}: {}", d.reason);
            assert_eq!(d.rule, rule, "{row}");
            assert_eq!(d.force_subscribe, force, "{row}");
        }
    }
}

#[test]
fn reasons_say_why_in_words() {
    let policy = Policy {
        scope: RegionScope::Both,
        unknown_region: UnknownRegion::Eu,
        mode: OptInMode::OptedInOrUnknown,
        auto_subscribe: true,
    };
    let d = policy.decide(Region::Unknown, None, NoContact, Channel::Email);
    assert_eq!(d.rule, "R12 eu-needs-explicit-opt-in");
    assert!(d.reason.contains("treated as EU"), "{}", d.reason);
    let d = policy.decide(Region::NonEu, None, Unsubscribed, Channel::Sms);
    assert!(d.reason.contains("unsubscribed on sms"), "{}", d.reason);
}

#[test]
fn the_existing_status_is_read_from_the_contact() {
    assert_eq!(Existing::from_contact(None), Existing::NO_CONTACT);
    let contact = json!({"channels": {
        "email": {"address": "a@b.co", "subscribeStatus": "unsubscribed"},
        "sms": {"address": "+15551234567", "subscribeStatus": "pendingDOI"}
    }});
    assert_eq!(
        Existing::from_contact(Some(&contact)),
        Existing {
            email: Unsubscribed,
            sms: PendingDoi
        }
    );
    let contact =
        json!({"channels": {"email": {"address": "a@b.co", "subscribeStatus": "subscribed"}}});
    assert_eq!(
        Existing::from_contact(Some(&contact)),
        Existing {
            email: ExistingStatus::Subscribed,
            sms: NotSubscribed
        }
    );
    let contact = json!({"channels": {"email": {"address": "a@b.co", "subscribeStatus": "none"}}});
    assert_eq!(Existing::from_contact(Some(&contact)).email, NotSubscribed);
}

fn settings(value: serde_json::Value) -> CaptureSettings {
    crate::settings::typed(crate::settings::JobKind::ExperienceCapture, &value).unwrap()
}

fn submission(value: serde_json::Value) -> Submission {
    crate::capture::parse_submission(&value, false, &[]).unwrap()
}

#[test]
fn the_settings_defaults_are_the_safe_ones() {
    let policy = Policy::from_settings(&settings(json!({})));
    assert_eq!(
        policy,
        Policy {
            scope: RegionScope::Both,
            unknown_region: UnknownRegion::Eu,
            mode: OptInMode::OptedIn,
            auto_subscribe: false,
        }
    );
    let policy = Policy::from_settings(&settings(json!({"unknown_region": "skip"})));
    assert_eq!(policy.unknown_region, UnknownRegion::Skip);
}

#[test]
fn a_plan_decides_each_identifier_and_sums_them_up() {
    let s = settings(json!({"auto_subscribe": true, "opt_in_mode": "opted_in"}));
    let sub = submission(
        json!({"email": "a@b.co", "sms": "+15551234567", "opt_in": true, "country": "US"}),
    );
    let p = plan(
        &s,
        &sub,
        Existing {
            email: ExistingStatus::Subscribed,
            sms: Unsubscribed,
        },
    );
    assert_eq!(p.email.as_ref().unwrap().action, Updated);
    assert_eq!(p.sms.as_ref().unwrap().action, Subscribed);
    assert_eq!(p.action(), Subscribed);
    assert!(p.force_subscribe());
    assert_eq!(
        p.rule(),
        "email: R5 already-subscribed; sms: R7 resubscribe-explicit-opt-in"
    );
    assert!(
        p.reason().starts_with("email: already subscribed"),
        "{}",
        p.reason()
    );

    let p = plan(&s, &sub, Existing::NO_CONTACT);
    assert_eq!(p.rule(), "R10 subscribe-explicit-opt-in");
    assert!(!p.force_subscribe());

    let email_only = submission(json!({"email": "a@b.co", "opt_in": false}));
    let p = plan(&s, &email_only, Existing::NO_CONTACT);
    assert!(p.sms.is_none());
    assert!(p.is_skipped());
    assert_eq!(p.action(), Skipped);
    assert_eq!(p.rule(), "R3 not-opted-in");
    assert!(!p.sends(Channel::Email));

    let d = decide(&s, &email_only, NoContact, Channel::Sms);
    assert_eq!(d.rule, rules::NOT_OPTED_IN);
}
