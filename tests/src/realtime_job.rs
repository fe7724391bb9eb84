//! The real-time export job the end-to-end tests configure: `vip`, for the `vip_customers`
//! audience, as `cordial-host.toml` text.

/// The `[[job]]` table of `vip`, followed by `settings`: more `key = value` lines, then
/// tables such as `[job.field_mapping]` or `[job.delivery]`.
pub fn vip(settings: &str) -> String {
    format!(
        "\n[[job]]\nname = \"vip\"\nkind = \"export-realtime\"\nauth = \"cordial\"\n\
         audience = \"vip_customers\"\n{settings}"
    )
}

/// Sends the platform's `first_name` and `age` to Cordial's attributes of those names.
pub const FIRST_NAME_AND_AGE: &str =
    "[job.field_mapping]\nfirst_name = \"first_name\"\nage = \"age\"\n";
