//! The capabilities the host grants a job, one module each. Each implements the generated
//! `Host` trait of its WIT interface on [`crate::runtime::RunState`].

pub mod http;
pub mod log;
pub mod platform;
pub mod sftp;
pub mod state;
