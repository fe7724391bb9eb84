//! `cordial-demo` (`./dev demo`): shows the jobs end to end with no Cordial account, the local
//! Cordial emulator and a throwaway OpenSSH sshd standing in. A crate of its own, so the
//! production `cordial-host` carries neither the emulator nor the sshd fixture.

mod demo;

use std::process::ExitCode;

fn main() -> ExitCode {
    cordial_host::commands::execute(demo::run())
}
