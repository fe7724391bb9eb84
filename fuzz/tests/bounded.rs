//! Every fuzz target in its bounded form: the committed corpus, then deterministic mutants.
//! The counts keep each target to a few seconds of an unoptimised build.

use cordial_fuzz::bounded::{check, fuzz_dir};
use cordial_fuzz::{
    activity_file, capture_submission, config_file, csv_round_trip, webhook_payload,
};

/// One seed and one count for every run: a failure here is the same failure on every machine.
const SEED: u64 = 0x5eed_c0de;
const N: usize = 20_000;

#[test]
fn webhook_payload() {
    check("webhook_payload", webhook_payload::run, N, SEED);
}

#[test]
fn capture_submission() {
    check("capture_submission", capture_submission::run, N, SEED);
}

#[test]
fn activity_file() {
    check("activity_file", activity_file::run, N, SEED);
}

#[test]
fn csv_round_trip() {
    check("csv_round_trip", csv_round_trip::run, N, SEED);
}

#[test]
fn config_file() {
    check("config_file", config_file::run, N, SEED);
}

/// `./dev fuzz` runs the libFuzzer targets named here; a target left out of either side
/// would silently go unfuzzed.
#[test]
fn every_target_has_a_corpus_and_a_libfuzzer_entry() {
    for name in cordial_fuzz::TARGETS {
        let entry = fuzz_dir().join(format!("libfuzzer/fuzz_targets/{name}.rs"));
        assert!(entry.is_file(), "{} is missing", entry.display());
        assert!(
            fuzz_dir().join("corpus").join(name).is_dir(),
            "corpus/{name} is missing"
        );
    }
    let entries = std::fs::read_dir(fuzz_dir().join("libfuzzer/fuzz_targets")).unwrap();
    assert_eq!(entries.count(), cordial_fuzz::TARGETS.len());
}
