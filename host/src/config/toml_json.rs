//! TOML values to JSON: job settings travel to components as JSON. TOML dates
//! (`import_since = 2026-11-01`, unquoted) become their text form.

use serde_json::Value as Json;
use toml::Value as Toml;

pub fn to_json(value: &Toml) -> Json {
    match value {
        Toml::String(s) => Json::String(s.clone()),
        Toml::Integer(i) => Json::from(*i),
        Toml::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Toml::Boolean(b) => Json::Bool(*b),
        Toml::Datetime(d) => Json::String(d.to_string()),
        Toml::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        Toml::Table(t) => Json::Object(t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquoted_dates_become_text() {
        let t: toml::Table =
            toml::from_str("since = 2026-11-01\nn = 3\nm = { a = \"b\" }").unwrap();
        let j = to_json(&Toml::Table(t));
        assert_eq!(
            j,
            serde_json::json!({"since": "2026-11-01", "n": 3, "m": {"a": "b"}})
        );
    }
}
