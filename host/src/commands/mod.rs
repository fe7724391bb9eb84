//! The CLI's commands, one module each.

pub mod check;
pub mod demo;
pub mod emulator;
pub mod run;
