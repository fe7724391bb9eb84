//! The consent policy: for one submission and one channel, whether the contact is created,
//! updated, subscribed or skipped, and which rule of the decision table said so.
//!
//! The rules are checked in order and the first that applies decides; `docs/capture.md`
//! holds the same table, and a test checks every combination against it.

use super::region::Region;
use super::submission::Submission;
use crate::settings::{CaptureSettings, OptInMode, RegionScope};
use serde_json::Value;

/// A Cordial channel a submission can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Email, Channel::Sms];

    /// The channel's key under `channels` in a Cordial contact.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

/// What Cordial already knows about the contact, for one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExistingStatus {
    /// No such contact.
    NoContact,
    /// The contact exists and the channel's status is `none` (or the channel is missing).
    NotSubscribed,
    Subscribed,
    Unsubscribed,
    /// SMS `pendingDOI`, or a status this version does not know: left as it is.
    PendingDoi,
}

impl ExistingStatus {
    pub const ALL: [ExistingStatus; 5] = [
        ExistingStatus::NoContact,
        ExistingStatus::NotSubscribed,
        ExistingStatus::Subscribed,
        ExistingStatus::Unsubscribed,
        ExistingStatus::PendingDoi,
    ];

    /// The name used in the decision table.
    pub fn as_str(self) -> &'static str {
        match self {
            ExistingStatus::NoContact => "no_contact",
            ExistingStatus::NotSubscribed => "none",
            ExistingStatus::Subscribed => "subscribed",
            ExistingStatus::Unsubscribed => "unsubscribed",
            ExistingStatus::PendingDoi => "pending_doi",
        }
    }

    /// The channel's status in a contact as `GET /v2/contacts/{key}` returns it (`None` when
    /// Cordial answered 404).
    pub fn from_contact(contact: Option<&Value>, channel: Channel) -> ExistingStatus {
        let Some(contact) = contact else {
            return ExistingStatus::NoContact;
        };
        let status = contact
            .get("channels")
            .and_then(|c| c.get(channel.as_str()))
            .and_then(|c| c.get("subscribeStatus"))
            .and_then(Value::as_str);
        match status {
            None | Some("none") | Some("") => ExistingStatus::NotSubscribed,
            Some("subscribed") => ExistingStatus::Subscribed,
            Some("unsubscribed") => ExistingStatus::Unsubscribed,
            Some(_) => ExistingStatus::PendingDoi,
        }
    }
}

/// The existing status of each channel of one contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Existing {
    pub email: ExistingStatus,
    pub sms: ExistingStatus,
}

impl Existing {
    /// Nothing in Cordial yet.
    pub const NO_CONTACT: Existing = Existing {
        email: ExistingStatus::NoContact,
        sms: ExistingStatus::NoContact,
    };

    /// Both channels of the contact `GET /v2/contacts/{key}` returned (`None` for a 404).
    pub fn from_contact(contact: Option<&Value>) -> Existing {
        Existing {
            email: ExistingStatus::from_contact(contact, Channel::Email),
            sms: ExistingStatus::from_contact(contact, Channel::Sms),
        }
    }

    pub fn of(&self, channel: Channel) -> ExistingStatus {
        match channel {
            Channel::Email => self.email,
            Channel::Sms => self.sms,
        }
    }
}

/// What to do with a submission whose region is unknown (setting `unknown_region`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UnknownRegion {
    /// Treat it as EU: never subscribed without an explicit opt-in (the default).
    #[default]
    Eu,
    NonEu,
    Skip,
}

impl UnknownRegion {
    /// The setting's value; anything but `non_eu` or `skip` is the safe default, `eu`.
    pub fn from_setting(value: Option<&str>) -> UnknownRegion {
        match value {
            Some("non_eu") => UnknownRegion::NonEu,
            Some("skip") => UnknownRegion::Skip,
            _ => UnknownRegion::Eu,
        }
    }
}

/// What happens to the contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// A new contact, written without a subscribe status.
    Created,
    /// An existing contact's attributes are written; its subscribe status is not touched.
    Updated,
    /// The contact (new or existing) is written with `subscribeStatus: subscribed`.
    Subscribed,
    /// Nothing is sent.
    Skipped,
}

impl Action {
    /// The name in the capture result and the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Subscribed => "subscribed",
            Action::Skipped => "skipped",
        }
    }
}

/// The rule ids, in the order they are checked. Stable: they are written to the audit trail.
pub mod rules {
    pub const UNKNOWN_REGION_SKIPPED: &str = "R1 unknown-region-skipped";
    pub const OUT_OF_REGION_SCOPE: &str = "R2 out-of-region-scope";
    pub const NOT_OPTED_IN: &str = "R3 not-opted-in";
    pub const OPTED_OUT: &str = "R4 opted-out";
    pub const ALREADY_SUBSCRIBED: &str = "R5 already-subscribed";
    pub const PENDING_DOUBLE_OPT_IN: &str = "R6 pending-double-opt-in";
    pub const RESUBSCRIBE_EXPLICIT_OPT_IN: &str = "R7 resubscribe-explicit-opt-in";
    pub const UNSUBSCRIBED_STAYS: &str = "R8 unsubscribed-stays";
    pub const AUTO_SUBSCRIBE_OFF: &str = "R9 auto-subscribe-off";
    pub const SUBSCRIBE_EXPLICIT_OPT_IN: &str = "R10 subscribe-explicit-opt-in";
    pub const OPTED_OUT_NOT_SUBSCRIBED: &str = "R11 opted-out-not-subscribed";
    pub const EU_NEEDS_EXPLICIT_OPT_IN: &str = "R12 eu-needs-explicit-opt-in";
    pub const SUBSCRIBE_IMPLIED_OPT_IN: &str = "R13 subscribe-implied-opt-in";
    pub const UNKNOWN_OPT_IN_NOT_SUBSCRIBED: &str = "R14 unknown-opt-in-not-subscribed";

    pub const ALL: [&str; 14] = [
        UNKNOWN_REGION_SKIPPED,
        OUT_OF_REGION_SCOPE,
        NOT_OPTED_IN,
        OPTED_OUT,
        ALREADY_SUBSCRIBED,
        PENDING_DOUBLE_OPT_IN,
        RESUBSCRIBE_EXPLICIT_OPT_IN,
        UNSUBSCRIBED_STAYS,
        AUTO_SUBSCRIBE_OFF,
        SUBSCRIBE_EXPLICIT_OPT_IN,
        OPTED_OUT_NOT_SUBSCRIBED,
        EU_NEEDS_EXPLICIT_OPT_IN,
        SUBSCRIBE_IMPLIED_OPT_IN,
        UNKNOWN_OPT_IN_NOT_SUBSCRIBED,
    ];
}

/// The decision for one channel of one submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub channel: Channel,
    pub action: Action,
    /// The decision-table rule that applied, e.g. `R12 eu-needs-explicit-opt-in`.
    pub rule: &'static str,
    /// The same in words, for the audit trail.
    pub reason: String,
    /// Send `subscribeStatus: subscribed` on this channel.
    pub subscribe: bool,
    /// Send `forceSubscribe: true`: only for an unsubscribed channel that the user opted in to
    /// explicitly in this submission.
    pub force_subscribe: bool,
}

/// The settings the decision reads, typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub scope: RegionScope,
    pub unknown_region: UnknownRegion,
    pub mode: OptInMode,
    pub auto_subscribe: bool,
}

impl Policy {
    pub fn from_settings(settings: &CaptureSettings) -> Policy {
        Policy {
            scope: settings.region,
            unknown_region: UnknownRegion::from_setting(settings.unknown_region.as_deref()),
            mode: settings.opt_in_mode,
            auto_subscribe: settings.auto_subscribe,
        }
    }

    /// The decision table. `region` is the submission's own (before `unknown_region`).
    pub fn decide(
        &self,
        region: Region,
        opt_in: Option<bool>,
        existing: ExistingStatus,
        channel: Channel,
    ) -> Decision {
        let ch = channel.as_str();
        let decision = |action, rule, reason: String| Decision {
            channel,
            action,
            rule,
            reason,
            subscribe: action == Action::Subscribed,
            force_subscribe: false,
        };
        let skip = |rule, reason| decision(Action::Skipped, rule, reason);
        let kept = |rule, reason| {
            let action = match existing {
                ExistingStatus::NoContact => Action::Created,
                _ => Action::Updated,
            };
            decision(action, rule, reason)
        };
        let subscribed = |rule, reason| decision(Action::Subscribed, rule, reason);

        let (region, seen_as) = match (region, self.unknown_region) {
            (Region::Eu, _) => (Region::Eu, "EU"),
            (Region::NonEu, _) => (Region::NonEu, "non-EU"),
            (Region::Unknown, UnknownRegion::Skip) => {
                return skip(
                    rules::UNKNOWN_REGION_SKIPPED,
                    "no `eu` flag and no country, and unknown_region = \"skip\"".into(),
                );
            }
            (Region::Unknown, UnknownRegion::Eu) => (
                Region::Eu,
                "region unknown, treated as EU (unknown_region = \"eu\")",
            ),
            (Region::Unknown, UnknownRegion::NonEu) => (
                Region::NonEu,
                "region unknown, treated as non-EU (unknown_region = \"non_eu\")",
            ),
        };
        let in_scope = match self.scope {
            RegionScope::Both => true,
            RegionScope::Eu => region == Region::Eu,
            RegionScope::NonEu => region == Region::NonEu,
        };
        if !in_scope {
            let wanted = match self.scope {
                RegionScope::Eu => "eu",
                _ => "non_eu",
            };
            return skip(
                rules::OUT_OF_REGION_SCOPE,
                format!("{seen_as}; the job takes only region = \"{wanted}\" submissions"),
            );
        }
        match (self.mode, opt_in) {
            (OptInMode::OptedIn, Some(true)) => {}
            (OptInMode::OptedIn, _) => {
                return skip(
                    rules::NOT_OPTED_IN,
                    format!(
                        "opt_in is {}; opt_in_mode = \"opted_in\" sends only users who opted in",
                        opt_in_text(opt_in)
                    ),
                );
            }
            (OptInMode::OptedInOrUnknown, Some(false)) => {
                return skip(
                    rules::OPTED_OUT,
                    "the user declined (opt_in = false); opt_in_mode = \"opted_in_or_unknown\" does not send them".into(),
                );
            }
            _ => {}
        }
        match existing {
            ExistingStatus::Subscribed => kept(
                rules::ALREADY_SUBSCRIBED,
                format!("already subscribed on {ch}; the status is left as it is"),
            ),
            ExistingStatus::PendingDoi => kept(
                rules::PENDING_DOUBLE_OPT_IN,
                format!("{ch} status is pending (double opt-in) or not known; left as it is"),
            ),
            ExistingStatus::Unsubscribed if self.auto_subscribe && opt_in == Some(true) => {
                Decision {
                    force_subscribe: true,
                    ..subscribed(
                        rules::RESUBSCRIBE_EXPLICIT_OPT_IN,
                        format!(
                            "unsubscribed on {ch} and opted in explicitly in this submission: subscribed again with forceSubscribe"
                        ),
                    )
                }
            }
            ExistingStatus::Unsubscribed => kept(
                rules::UNSUBSCRIBED_STAYS,
                format!(
                    "unsubscribed on {ch}; stays unsubscribed ({})",
                    if self.auto_subscribe {
                        "only an explicit opt-in in the submission subscribes again"
                    } else {
                        "auto_subscribe is off"
                    }
                ),
            ),
            ExistingStatus::NoContact | ExistingStatus::NotSubscribed => {
                if !self.auto_subscribe {
                    return kept(
                        rules::AUTO_SUBSCRIBE_OFF,
                        format!("auto_subscribe is off; written without a {ch} subscribe status"),
                    );
                }
                match opt_in {
                    Some(true) => subscribed(
                        rules::SUBSCRIBE_EXPLICIT_OPT_IN,
                        format!("opted in explicitly; subscribed on {ch}"),
                    ),
                    Some(false) => kept(
                        rules::OPTED_OUT_NOT_SUBSCRIBED,
                        "declined (opt_in = false); sent as data, not subscribed".into(),
                    ),
                    None if region == Region::Eu => kept(
                        rules::EU_NEEDS_EXPLICIT_OPT_IN,
                        format!(
                            "{seen_as} and opt-in unknown; EU users are subscribed only on an explicit opt-in"
                        ),
                    ),
                    None if self.mode == OptInMode::OptedInOrUnknown => subscribed(
                        rules::SUBSCRIBE_IMPLIED_OPT_IN,
                        format!(
                            "{seen_as} and opt-in unknown; entering their details counts as opting in (opt_in_mode = \"opted_in_or_unknown\"); subscribed on {ch}"
                        ),
                    ),
                    None => kept(
                        rules::UNKNOWN_OPT_IN_NOT_SUBSCRIBED,
                        "opt-in unknown; sent as data (opt_in_mode = \"all\"), not subscribed"
                            .into(),
                    ),
                }
            }
        }
    }
}

fn opt_in_text(opt_in: Option<bool>) -> &'static str {
    match opt_in {
        Some(true) => "true",
        Some(false) => "false",
        None => "unknown",
    }
}

/// The decision for one channel of `submission` (whether or not it carries that channel's
/// identifier).
pub fn decide(
    settings: &CaptureSettings,
    submission: &Submission,
    existing: ExistingStatus,
    channel: Channel,
) -> Decision {
    Policy::from_settings(settings).decide(
        submission.region(),
        submission.opt_in,
        existing,
        channel,
    )
}

/// The decisions for every channel the submission has an identifier for. One `opt_in`
/// covers both channels; each channel's own existing status can still make them differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub email: Option<Decision>,
    pub sms: Option<Decision>,
}

/// Decides each channel of `submission` against what Cordial already has.
pub fn plan(settings: &CaptureSettings, submission: &Submission, existing: Existing) -> Plan {
    let policy = Policy::from_settings(settings);
    let one = |present: bool, channel| {
        present.then(|| {
            policy.decide(
                submission.region(),
                submission.opt_in,
                existing.of(channel),
                channel,
            )
        })
    };
    Plan {
        email: one(submission.email.is_some(), Channel::Email),
        sms: one(submission.sms.is_some(), Channel::Sms),
    }
}

impl Plan {
    pub fn decisions(&self) -> impl Iterator<Item = &Decision> {
        self.email.iter().chain(self.sms.iter())
    }

    pub fn decision(&self, channel: Channel) -> Option<&Decision> {
        match channel {
            Channel::Email => self.email.as_ref(),
            Channel::Sms => self.sms.as_ref(),
        }
    }

    /// Whether the channel is decided and not skipped: its identifier is sent.
    pub fn sends(&self, channel: Channel) -> bool {
        self.decision(channel)
            .is_some_and(|d| d.action != Action::Skipped)
    }

    /// Nothing is sent.
    pub fn is_skipped(&self) -> bool {
        self.decisions().all(|d| d.action == Action::Skipped)
    }

    /// The action for the whole submission: `subscribed` if any channel is subscribed, else
    /// `created`/`updated`, else `skipped` when every channel is.
    pub fn action(&self) -> Action {
        let actions: Vec<Action> = self.decisions().map(|d| d.action).collect();
        [
            Action::Subscribed,
            Action::Created,
            Action::Updated,
            Action::Skipped,
        ]
        .into_iter()
        .find(|a| actions.contains(a))
        .unwrap_or(Action::Skipped)
    }

    /// `forceSubscribe` for the contact: any channel asks for it.
    pub fn force_subscribe(&self) -> bool {
        self.decisions().any(|d| d.force_subscribe)
    }

    /// The rule for the audit: one id when the channels agree, else `email: R…; sms: R…`.
    pub fn rule(&self) -> String {
        let decisions: Vec<&Decision> = self.decisions().collect();
        match decisions.as_slice() {
            [] => "no-identifier".into(),
            [one] => one.rule.into(),
            [first, ..] if decisions.iter().all(|d| d.rule == first.rule) => first.rule.into(),
            many => many
                .iter()
                .map(|d| format!("{}: {}", d.channel.as_str(), d.rule))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }

    /// The reasons in words, each prefixed with its channel when there are two.
    pub fn reason(&self) -> String {
        let decisions: Vec<&Decision> = self.decisions().collect();
        match decisions.as_slice() {
            [] => "the submission has no identifier".into(),
            [one] => one.reason.clone(),
            many => many
                .iter()
                .map(|d| format!("{}: {}", d.channel.as_str(), d.reason))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

#[cfg(test)]
mod tests;
