//! How an export writes records: a JSON line or a CSV/TXT row per record, the
//! CSV/TXT header row, and the field of a record a column names.

use serde_json::Value;

use crate::exports::request::{ExportRequest, Format};
use crate::model::events::{RECORD_FIELDS, Record};

/// The CSV/TXT columns when `columnHeaders` is not given: a record's own fields.
const DEFAULT_COLUMNS: [&str; 12] = RECORD_FIELDS;

/// The CSV/TXT header row, when `showHeader` asks for one: each column's label.
pub fn header(request: &ExportRequest) -> Option<Vec<u8>> {
    if !request.show_header || request.format == Format::Json {
        return None;
    }
    let labels: Vec<&str> = match &request.columns {
        Some(columns) => columns.iter().map(|c| c.label.as_str()).collect(),
        None => DEFAULT_COLUMNS.to_vec(),
    };
    let mut row = Vec::new();
    push_row(&mut row, labels, delimiter(request.format));
    Some(row)
}

/// Appends one record as a line of the requested format.
pub fn render(out: &mut Vec<u8>, record: &Record, request: &ExportRequest) {
    match request.format {
        Format::Json => {
            let mut fields: Vec<(&str, &Value)> = match &request.columns {
                Some(columns) => columns
                    .iter()
                    .filter_map(|c| Some((c.label.as_str(), lookup(record, &c.name)?)))
                    .collect(),
                None => record.iter().map(|(k, v)| (k.as_ref(), v)).collect(),
            };
            for extra in &request.additional_jsonl_fields {
                if !fields.iter().any(|(k, _)| k == extra)
                    && let Some(v) = lookup(record, extra)
                {
                    fields.push((extra, v));
                }
            }
            out.push(b'{');
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, k).expect("JSON into memory");
                out.push(b':');
                serde_json::to_writer(&mut *out, v).expect("JSON into memory");
            }
            out.extend_from_slice(b"}\n");
        }
        Format::Csv | Format::Txt(_) => {
            let names: Vec<&str> = match &request.columns {
                Some(columns) => columns.iter().map(|c| c.name.as_str()).collect(),
                None => DEFAULT_COLUMNS.to_vec(),
            };
            let cells = names.iter().map(|name| match lookup(record, name) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            });
            push_row(out, cells, delimiter(request.format));
        }
    }
}

/// A field of a record by name: the key itself, Cordial's short names (`ats`
/// time, `a` action, `msID` the `bmID` or else the `mdtID`), or a dotted path
/// into an object (`properties.url`).
pub fn lookup<'r>(record: &'r Record, name: &str) -> Option<&'r Value> {
    let get = |k: &str| record.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    if let Some(v) = get(name) {
        return Some(v);
    }
    match name {
        "ats" => return get("time"),
        "a" => return get("action"),
        "msID" => return get("bmID").or_else(|| get("mdtID")),
        _ => {}
    }
    let (head, rest) = name.split_once('.')?;
    let mut v = get(head)?;
    for part in rest.split('.') {
        v = v.get(part)?;
    }
    Some(v)
}

fn delimiter(format: Format) -> u8 {
    match format {
        Format::Txt(d) => d,
        _ => b',',
    }
}

/// One CSV/TXT line: the cells between delimiters, then a line break.
fn push_row<S: AsRef<str>>(out: &mut Vec<u8>, cells: impl IntoIterator<Item = S>, delimiter: u8) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        push_cell(out, cell.as_ref(), delimiter);
    }
    out.push(b'\n');
}

/// A CSV cell, quoted when it holds the delimiter, a quote or a line break.
fn push_cell(out: &mut Vec<u8>, text: &str, delimiter: u8) {
    if text
        .bytes()
        .any(|b| b == delimiter || matches!(b, b'"' | b'\n' | b'\r'))
    {
        out.push(b'"');
        out.extend_from_slice(text.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;
    use crate::exports::request::parse_request;

    fn request(extra: Value) -> ExportRequest {
        let mut body = json!({
            "name": "x", "exportType": "json",
            "destination": {"type": "sftp", "server": "h", "username": "u", "password": "p", "path": "/o"},
            "selected_timeframe_start": "2024-07-01", "selected_timeframe_end": "2024-07-02",
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        parse_request(&body, &HashMap::new(), &|_| true).unwrap()
    }

    fn record() -> Record {
        vec![
            ("_id".into(), json!("0123")),
            ("email".into(), json!("a,b@x.io")),
            ("action".into(), json!("click")),
            ("time".into(), json!("2024-07-01T10:00:00+0000")),
            ("mdtID".into(), json!("m1")),
            ("first".into(), json!(true)),
            ("properties".into(), json!({"url": "https://x.io/\"q\""})),
        ]
    }

    fn line(extra: Value) -> String {
        let mut out = Vec::new();
        render(&mut out, &record(), &request(extra));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_lines_keep_the_record_order_and_project_columns() {
        assert_eq!(
            line(json!({})),
            "{\"_id\":\"0123\",\"email\":\"a,b@x.io\",\"action\":\"click\",\"time\":\"2024-07-01T10:00:00+0000\",\
             \"mdtID\":\"m1\",\"first\":true,\"properties\":{\"url\":\"https://x.io/\\\"q\\\"\"}}\n"
        );
        assert_eq!(
            line(
                json!({"columnHeaders": [{"name": "ats", "label": "when"}, {"name": "msID"},
                                         {"name": "properties.url", "label": "url"}, {"name": "nope"}]})
            ),
            "{\"when\":\"2024-07-01T10:00:00+0000\",\"msID\":\"m1\",\"url\":\"https://x.io/\\\"q\\\"\"}\n"
        );
        assert!(
            line(json!({"additionalJsonlFields": ["properties.url", "action"]}))
                .ends_with(",\"properties.url\":\"https://x.io/\\\"q\\\"\"}\n")
        );
    }

    #[test]
    fn csv_quotes_and_defaults() {
        assert_eq!(
            line(json!({"exportType": "csv"})),
            "0123,,\"a,b@x.io\",click,2024-07-01T10:00:00+0000,,,m1,true,,,\"{\"\"url\"\":\"\"https://x.io/\\\"\"q\\\"\"\"\"}\"\n"
        );
        assert_eq!(
            line(json!({"exportType": "txt", "delimiter": "|",
                        "columnHeaders": [{"name": "a"}, {"name": "email"}]})),
            "click|a,b@x.io\n"
        );
    }

    #[test]
    fn the_header_row_is_the_labels_of_a_csv_or_txt_export_that_asks_for_it() {
        let header_of =
            |extra: Value| header(&request(extra)).map(|h| String::from_utf8(h).unwrap());
        assert_eq!(header_of(json!({"exportType": "csv"})), None);
        assert_eq!(header_of(json!({"showHeader": true})), None);
        assert_eq!(
            header_of(json!({"exportType": "csv", "showHeader": true})).as_deref(),
            Some(
                "_id,cID,email,action,time,mcID,bmID,mdtID,first,message_name,message_sent,properties\n"
            )
        );
        assert_eq!(
            header_of(json!({"exportType": "txt", "delimiter": "|", "showHeader": true,
                             "columnHeaders": [{"name": "a", "label": "what|happened"}, {"name": "email"}]}))
            .as_deref(),
            Some("\"what|happened\"|email\n")
        );
    }

    #[test]
    fn synthetic_records_are_written_directly_as_render_would() {
        let mut store = crate::model::events::EventStore::default();
        store.generate(
            20_000,
            5,
            crate::time::parse_iso8601("1999-12-25").unwrap(),
            crate::time::parse_iso8601("2000-03-05").unwrap(),
        );
        let snap = store.snapshot();
        let request = request(json!({}));
        let (mut direct, mut rendered) = (Vec::new(), Vec::new());
        for e in snap.events.iter() {
            assert!(snap.write_synthetic_json(e, &mut direct));
            render(&mut rendered, &snap.record(e), &request);
        }
        assert_eq!(
            String::from_utf8(direct).unwrap(),
            String::from_utf8(rendered).unwrap()
        );
        let mut given = crate::model::events::EventStore::default();
        given
            .add(vec![json!({"action": "a", "time": "2024-07-01T00:00:00Z"})])
            .unwrap();
        let snap = given.snapshot();
        let mut out = Vec::new();
        assert!(!snap.write_synthetic_json(&snap.events[0], &mut out));
        assert!(out.is_empty());
    }
}
