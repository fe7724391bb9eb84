//! Contact activity exports, `POST /v2/contactactivityexport`: the request is
//! checked and answered at once ([`request`]), then a background job ([`job`])
//! selects the account's events and writes them to the customer's SFTP server.

mod job;
pub mod request;
