//! The emulator's jobs end to end, each test with a real OpenSSH sshd on loopback and the
//! emulator driven over real HTTP: contact activity exports write their files to the sshd,
//! contact imports read theirs from it (or from a loopback HTTP server, `http_imports`). Needs root and `/usr/sbin/sshd` (as
//! `cordial_sftp::sshd` does). `rate_limit`, the API's per-endpoint limit, needs neither:
//! it lives here so that the emulator's HTTP tests share one test binary.

mod activity_export;
mod api;
mod contact_imports;
mod home;
mod http_imports;
mod rate_limit;
