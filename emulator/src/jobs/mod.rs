//! What contact imports and activity exports have in common as jobs, above the job
//! records themselves ([`crate::model::job`]): reading them back through
//! `GET /v2/jobs` ([`endpoints`]), and the SFTP login and failure handling both kinds
//! of job use ([`sftp`]).
//!
//! `imports/` and `exports/` depend on this folder; it knows neither of them.

pub mod endpoints;
pub mod sftp;
