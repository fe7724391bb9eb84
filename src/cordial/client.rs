//! A small synchronous Cordial client over any [`HttpTransport`].

use super::contact::ContactUpsert;
use super::error::CordialError;
use super::http::{HttpRequest, HttpResponse, HttpTransport};
use super::requests;
use serde_json::Value;

/// The five attribute types Cordial knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeType {
    String,
    Number,
    Date,
    Array,
    Geo,
}

impl AttributeType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeType::String => "string",
            AttributeType::Number => "number",
            AttributeType::Date => "date",
            AttributeType::Array => "array",
            AttributeType::Geo => "geo",
        }
    }

    pub fn parse(s: &str) -> Option<AttributeType> {
        Some(match s {
            "string" => AttributeType::String,
            "number" => AttributeType::Number,
            "date" => AttributeType::Date,
            "array" => AttributeType::Array,
            "geo" => AttributeType::Geo,
            _ => return None,
        })
    }
}

/// One contact attribute definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDef {
    pub key: String,
    pub kind: AttributeType,
}

/// One account list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountList {
    pub id: u64,
    pub name: String,
}

/// What an upsert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertOutcome {
    pub cid: String,
    pub created: bool,
}

/// Cordial's API at one base URL (e.g. `https://api.cordial.io`), over `T`.
///
/// The client never adds credentials: in a component the host adds the `Authorization`
/// header to requests bound for the job's Cordial origin.
pub struct CordialClient<T> {
    base: String,
    transport: T,
}

impl<T: HttpTransport> CordialClient<T> {
    pub fn new(base_url: &str, transport: T) -> Self {
        CordialClient {
            base: base_url.trim_end_matches('/').to_owned(),
            transport,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn call_json(&mut self, request: HttpRequest) -> Result<(u16, Value), CordialError> {
        send_json(&mut self.transport, &request)
    }

    /// The account's contact attributes. Cordial's Swagger says an array; client code in the
    /// wild indexes an object by key. Both are accepted.
    pub fn contact_attributes(&mut self) -> Result<Vec<AttributeDef>, CordialError> {
        let (status, value) = self.call_json(requests::list_contact_attributes(&self.base))?;
        let items: Vec<&Value> = match &value {
            Value::Array(items) => items.iter().collect(),
            Value::Object(map) => map.values().collect(),
            _ => {
                return Err(CordialError::UnexpectedBody {
                    status,
                    message: "attribute list is neither an array nor an object".into(),
                });
            }
        };
        Ok(items
            .into_iter()
            .filter_map(|item| {
                let key = item.get("key")?.as_str()?.to_owned();
                let kind = AttributeType::parse(item.get("type")?.as_str()?)?;
                Some(AttributeDef { key, kind })
            })
            .collect())
    }

    /// Every list of the account.
    pub fn account_lists(&mut self) -> Result<Vec<AccountList>, CordialError> {
        let (status, value) = self.call_json(requests::list_account_lists(&self.base))?;
        let Value::Array(items) = value else {
            return Err(CordialError::UnexpectedBody {
                status,
                message: "account lists are not an array".into(),
            });
        };
        Ok(items
            .iter()
            .filter_map(|item| {
                Some(AccountList {
                    id: item.get("id")?.as_u64()?,
                    name: item.get("name")?.as_str()?.to_owned(),
                })
            })
            .collect())
    }

    /// Creates an enhanced list (join dates recorded) and returns its id.
    pub fn create_list(&mut self, name: &str) -> Result<u64, CordialError> {
        let (status, value) =
            self.call_json(requests::create_account_list(&self.base, name, true))?;
        value
            .get("id")
            .and_then(Value::as_u64)
            .ok_or(CordialError::UnexpectedBody {
                status,
                message: "list creation answered without an id".into(),
            })
    }

    /// Creates or updates a contact.
    pub fn upsert_contact(
        &mut self,
        contact: &ContactUpsert,
    ) -> Result<UpsertOutcome, CordialError> {
        let request = requests::upsert_contact(&self.base, contact);
        let response = self
            .transport
            .send(&request)
            .map_err(CordialError::Transport)?;
        upsert_outcome(&response)
    }

    /// One contact by email, or `None` when Cordial has no such contact.
    pub fn contact_by_email(&mut self, email: &str) -> Result<Option<Value>, CordialError> {
        match self.call_json(requests::get_contact_by_email(&self.base, email)) {
            Ok((_, value)) => Ok(Some(value)),
            Err(CordialError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A 2xx response's JSON body, or the Cordial error it carries.
/// Sends `request` and reads the 2xx JSON answer; anything else is a [`CordialError`].
pub fn send_json(
    transport: &mut impl HttpTransport,
    request: &HttpRequest,
) -> Result<(u16, Value), CordialError> {
    let response = transport.send(request).map_err(CordialError::Transport)?;
    json_response(&response)
}

pub fn json_response(response: &HttpResponse) -> Result<(u16, Value), CordialError> {
    if !(200..300).contains(&response.status) {
        return Err(CordialError::from_response(response));
    }
    let value =
        serde_json::from_slice(&response.body).map_err(|e| CordialError::UnexpectedBody {
            status: response.status,
            message: format!("not JSON: {e}"),
        })?;
    Ok((response.status, value))
}

/// What a `POST /v2/contacts` response says: created (201) or updated (200), with the cID.
pub fn upsert_outcome(response: &HttpResponse) -> Result<UpsertOutcome, CordialError> {
    let (status, value) = json_response(response)?;
    let cid = value
        .get("cID")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok(UpsertOutcome {
        cid,
        created: status == 201,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cordial::TransportError;
    use std::collections::VecDeque;

    /// Answers from a script and remembers what was asked.
    struct Scripted {
        answers: VecDeque<HttpResponse>,
        sent: Vec<HttpRequest>,
    }

    impl HttpTransport for &mut Scripted {
        fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
            self.sent.push(request.clone());
            self.answers
                .pop_front()
                .ok_or(TransportError::Connection("script exhausted".into()))
        }
    }

    fn scripted(answers: &[(u16, &str)]) -> Scripted {
        Scripted {
            answers: answers
                .iter()
                .map(|(s, b)| HttpResponse {
                    status: *s,
                    headers: vec![],
                    body: b.as_bytes().to_vec(),
                })
                .collect(),
            sent: vec![],
        }
    }

    #[test]
    fn attributes_are_read_from_the_array_or_the_object_form() {
        let mut s = scripted(&[
            (200, r#"[{"key":"age","name":"Age","type":"number"}]"#),
            (200, r#"{"city":{"key":"city","name":"City","type":"geo"}}"#),
        ]);
        let mut client = CordialClient::new("http://c/", &mut s);
        assert_eq!(
            client.contact_attributes().unwrap(),
            vec![AttributeDef {
                key: "age".into(),
                kind: AttributeType::Number
            }]
        );
        assert_eq!(
            client.contact_attributes().unwrap()[0].kind,
            AttributeType::Geo
        );
        assert_eq!(s.sent[0].url, "http://c/v2/accountcontactattributes");
    }

    #[test]
    fn upsert_reports_created_or_updated_from_the_status() {
        let mut s = scripted(&[
            (
                201,
                r#"{"success":true,"message":"contact created","cID":"abc"}"#,
            ),
            (
                200,
                r#"{"success":true,"message":"contact updated","cID":"abc"}"#,
            ),
        ]);
        let mut client = CordialClient::new("http://c", &mut s);
        let c = ContactUpsert::new("a@b.co");
        assert!(client.upsert_contact(&c).unwrap().created);
        let second = client.upsert_contact(&c).unwrap();
        assert!(!second.created);
        assert_eq!(second.cid, "abc");
    }

    #[test]
    fn a_missing_contact_is_none_but_a_401_is_an_error() {
        let mut s = scripted(&[
            (404, r#"{"error":true,"message":"record not found"}"#),
            (401, r#"{"error":"Access Denied: Authentication Failure"}"#),
        ]);
        let mut client = CordialClient::new("http://c", &mut s);
        assert_eq!(client.contact_by_email("x@y.z").unwrap(), None);
        assert!(matches!(
            client.contact_by_email("x@y.z"),
            Err(CordialError::Unauthorized(_))
        ));
    }
}
