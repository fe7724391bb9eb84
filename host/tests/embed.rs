//! The embedding example (`examples/embed.rs`) run as a platform author would run it: the
//! real-time job loaded from its component by the host as a library, with the example's own
//! in-memory state, delivering to the emulator.

use std::process::Command;

#[test]
fn the_embedding_example_delivers_through_the_platforms_own_state() {
    let exe = std::env::current_exe().unwrap();
    let example = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/embed");
    assert!(
        example.exists(),
        "{} not built (cargo test builds examples)",
        example.display()
    );
    let out = Command::new(&example).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "event 1 Enter → Delivered",
        "event 2 Enter → Delivered",
        "event 3 Exit → Delivered",
        "ann@example.com in Cordial: lists []",
        "bob@example.com in Cordial: lists [\"Lytics_vip_customers\"]",
    ] {
        assert!(stdout.contains(line), "{line:?} missing from:\n{stdout}");
    }
    let kept = stdout
        .lines()
        .find_map(|l| l.strip_prefix("state the job kept: "))
        .and_then(|l| l.trim_end_matches(" keys").parse::<u32>().ok())
        .expect("the example reports the state it kept");
    assert!(kept > 0, "the job kept its state in the platform's store");
}
