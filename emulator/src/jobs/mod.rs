//! What contact imports and activity exports have in common as jobs, above the job
//! records themselves ([`crate::model::job`]): a job's life from `Pending` to `Done`
//! or `Failed` ([`lifecycle`]), the request fields both read alike ([`fields`]), the
//! SFTP login both kinds of job make ([`sftp`]), and reading them back through
//! `GET /v2/jobs` ([`endpoints`]).
//!
//! `imports/` and `exports/` depend on this folder; it knows neither of them.

pub mod endpoints;
pub mod fields;
pub mod lifecycle;
pub mod sftp;
