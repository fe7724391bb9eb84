//! Contact activity exports, `POST /v2/contactactivityexport`: the request is
//! checked and answered at once ([`request`]), then a background job ([`job`])
//! selects the account's events and writes them to the customer's SFTP server,
//! each record rendered as a line of the requested format ([`render`]) into a
//! plain or gzipped buffer ([`sink`]).

mod job;
mod render;
pub mod request;
mod sink;
