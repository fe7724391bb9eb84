//! The build script of the queue-driven jobs (real-time, capture): links the component with
//! 4 MiB of initial linear memory. Such a job runs one short call per batch in a fresh
//! instance: had it to grow its memory (the default leaves ~64 KiB of heap), every call
//! would change the page protections of its pool slot twice (grow, then the reset), each a
//! TLB shootdown across the host's cores.
fn main() {
    println!("cargo:rustc-link-arg=--initial-memory=4194304");
}
