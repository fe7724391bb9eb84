//! The counts a run record carries, and the sample of reasons its items were refused.

use serde::{Deserialize, Serialize};

/// A run's counts. Each kind of job fills its own (the others stay absent from the JSON):
///
/// - queued deliveries (real-time export, capture): `added` / `removed` / `updated` (the
///   events Cordial took, by their `enter` / `exit` / `change`), `delivered` (capture
///   submissions), `omitted` (dead-lettered on the first try without Cordial's word: no
///   email, not a usable user), `ignored_other_audiences` (webhook events for another
///   audience), `rejected` (dead-lettered with Cordial's status), `failed` (dead-lettered
///   after their retries ran out), `retried` (attempts that will go again);
/// - Import Activity: `read`, `stored` and `duplicates` (as the store counted them),
///   `quarantined`, `cursor_before` and `cursor_after`;
/// - bulk export: `read`, `exported` and `omitted` (members it could not use).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub omitted: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored_other_audiences: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retried: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exported: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantined: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor_after: Option<String>,
}

impl Counts {
    /// The counts of a real-time export's window, all at zero.
    pub fn audience_events() -> Counts {
        Counts {
            added: Some(0),
            removed: Some(0),
            updated: Some(0),
            omitted: Some(0),
            ignored_other_audiences: Some(0),
            rejected: Some(0),
            failed: Some(0),
            retried: Some(0),
            ..Counts::default()
        }
    }

    /// The counts of a capture job's window, all at zero.
    pub fn submissions() -> Counts {
        Counts {
            delivered: Some(0),
            omitted: Some(0),
            rejected: Some(0),
            failed: Some(0),
            retried: Some(0),
            ..Counts::default()
        }
    }

    /// Adds one to a count (a kind's counts start at zero, so the field is there).
    pub fn bump(field: &mut Option<u64>) {
        *field = Some(field.unwrap_or(0) + 1);
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("counts serialize")
    }

    /// The counts a kind has, in one line: `added 2, removed 1, …, cursor a → b`.
    pub fn summary(&self) -> String {
        let numbers = [
            ("added", self.added),
            ("removed", self.removed),
            ("updated", self.updated),
            ("delivered", self.delivered),
            ("read", self.read),
            ("exported", self.exported),
            ("stored", self.stored),
            ("duplicates", self.duplicates),
            ("quarantined", self.quarantined),
            ("omitted", self.omitted),
            ("other audiences", self.ignored_other_audiences),
            ("rejected", self.rejected),
            ("failed", self.failed),
            ("retried", self.retried),
        ];
        let mut parts: Vec<String> = numbers
            .iter()
            .filter_map(|(name, n)| n.map(|n| format!("{name} {n}")))
            .collect();
        if self.cursor_before.is_some() || self.cursor_after.is_some() {
            let at = |c: &Option<String>| c.clone().unwrap_or_else(|| "-".into());
            parts.push(format!(
                "cursor {} → {}",
                at(&self.cursor_before),
                at(&self.cursor_after)
            ));
        }
        parts.join(", ")
    }
}

/// How many distinct reasons a record keeps; later ones are only counted.
const SAMPLED_REASONS: usize = 5;
/// The longest reason kept.
const REASON_CHARS: usize = 300;

/// A sample of the reasons items were refused: the first few distinct reasons, each with how
/// often it came.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejections(pub Vec<Rejection>);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// Cordial's HTTP status, when Cordial refused.
    pub status: Option<u16>,
    pub reason: String,
    pub count: u64,
}

impl Rejections {
    pub fn add(&mut self, status: Option<u16>, reason: &str) {
        let reason: String = reason.chars().take(REASON_CHARS).collect();
        if let Some(seen) = self
            .0
            .iter_mut()
            .find(|r| r.status == status && r.reason == reason)
        {
            seen.count += 1;
        } else if self.0.len() < SAMPLED_REASONS {
            self.0.push(Rejection {
                status,
                reason,
                count: 1,
            });
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("rejections serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kinds_counts_are_in_the_json_at_zero_and_the_others_are_not() {
        let mut counts = Counts::audience_events();
        Counts::bump(&mut counts.added);
        let json: serde_json::Value = serde_json::from_str(&counts.to_json()).unwrap();
        assert_eq!(json["added"], 1);
        assert_eq!(json["rejected"], 0);
        assert!(json.get("stored").is_none() && json.get("delivered").is_none());
    }

    #[test]
    fn reasons_are_counted_and_only_the_first_few_kept() {
        let mut r = Rejections::default();
        r.add(Some(422), "fname: too long");
        r.add(None, "no email");
        r.add(Some(422), "fname: too long");
        for i in 0..10 {
            r.add(Some(400), &format!("bad {i}"));
        }
        assert_eq!(r.0.len(), SAMPLED_REASONS);
        assert_eq!(
            (r.0[0].status, r.0[0].reason.as_str(), r.0[0].count),
            (Some(422), "fname: too long", 2)
        );
        assert_eq!((r.0[1].status, r.0[1].count), (None, 1));
    }
}
