//! Contact imports, `POST /v2/contactimports`: the request is checked and answered
//! at once ([`request`]), then a background job ([`job`]) fetches the file over SFTP
//! or HTTP(S) ([`source`]), reads it ([`file`](mod@file)) and applies it row by row to the account ([`apply`]).
//!
//! [`file`](mod@file) is public as [`crate::import_file`]: tests check that the files
//! the integration writes parse back exactly.

mod apply;
pub mod file;
mod job;
pub mod request;
mod source;
