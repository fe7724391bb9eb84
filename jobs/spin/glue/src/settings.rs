//! One Spin component carries both the entry's variables and the job's settings, and Spin
//! shows a component all of its variables. The entry's own start with `ingress_`; the
//! settings scope hides them from the job, so the job sees exactly its settings (and an
//! `unknown setting` stays a real mistake), and never the webhook secrets.

use crate::config::store;

/// The prefix of the entry's own variables.
pub const INGRESS_PREFIX: &str = "ingress_";

/// Whether a variable is one of the job's settings.
pub fn is_job_setting(key: &str) -> bool {
    !key.starts_with(INGRESS_PREFIX)
}

/// Every variable of the component, as Spin resolves them.
pub struct Variables(Vec<(String, String)>);

impl Variables {
    /// Reads them all; the error says what Spin answered.
    pub fn read() -> Result<Variables, String> {
        store::get_all()
            .map(Variables)
            .map_err(|e| format!("reading the Spin variables: {e:?}"))
    }

    /// The job's settings, as the job itself will read them.
    pub fn job_settings(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(k, _)| is_job_setting(k))
            .cloned()
            .collect()
    }

    /// The entry's variable `ingress_<name>`, if set and not empty.
    pub fn ingress(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.strip_prefix(INGRESS_PREFIX) == Some(name))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }

    /// The job's name (`ingress_job`), which every Spin-side piece of a job keys its state by.
    pub fn job(&self) -> Result<&str, String> {
        self.ingress("job")
            .ok_or_else(|| "set the Spin variable `ingress_job` (the job's name)".into())
    }

    /// A whole-number variable, or `default` when unset.
    pub fn ingress_number(&self, name: &str, default: u64) -> Result<u64, String> {
        match self.ingress(name) {
            None => Ok(default),
            Some(text) => text.trim().parse().map_err(|_| {
                format!("the Spin variable `{INGRESS_PREFIX}{name}` must be a whole number, not `{text}`")
            }),
        }
    }
}
