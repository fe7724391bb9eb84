//! The bounded form of fuzzing that `cargo test` runs on stable: every committed seed of a
//! target replayed, then a fixed number of mutants of them. The mutants come from a seeded
//! generator, so a run is the same every time and a failure names the input that failed
//! (written to `target/fuzz-failures/`) instead of being luck.
//!
//! The mutations are libFuzzer's simplest ones (flip a bit, put in a byte or a dictionary
//! token, cut, repeat, splice two seeds); coverage guidance is what `./dev fuzz` adds.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Where the committed seeds and dictionaries are.
pub fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The seeds of `target` (`corpus/<target>/*`), sorted by file name.
pub fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fuzz_dir().join("corpus").join(target);
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a corpus entry").path();
            let bytes = std::fs::read(&path).expect("a corpus file");
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                bytes,
            )
        })
        .collect();
    seeds.sort();
    seeds
}

/// The tokens of `dict/<target>.dict` (libFuzzer's format: one `"token"` a line, with
/// `\"`, `\\` and `\xNN` escapes; `#` comments).
pub fn dictionary(target: &str) -> Vec<Vec<u8>> {
    let path = fuzz_dir().join("dict").join(format!("{target}.dict"));
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let inner = line.strip_prefix('"')?.strip_suffix('"')?;
            Some(unescape(inner))
        })
        .collect()
}

fn unescape(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let hex = (bytes.get(i + 1) == Some(&b'x'))
                .then(|| bytes.get(i + 2..i + 4))
                .flatten()
                .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 4;
                continue;
            }
            if let Some(&next) = bytes.get(i + 1) {
                out.push(next);
                i += 2;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// splitmix64: tiny, seedable, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Bytes that change a parser's path: JSON, CSV and TOML punctuation, and the edges.
const INTERESTING: &[u8] = b"\0\x1f\x7f\xff\"\\{}[],:=.\n\r\t 0-+e@#";

/// One mutant of `seeds[pick]`: one to four mutations.
fn mutant(rng: &mut Rng, seeds: &[(String, Vec<u8>)], tokens: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].1.clone();
    for _ in 0..=rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(6) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 => data.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            2 if !tokens.is_empty() => {
                let token = &tokens[rng.below(tokens.len())];
                data.splice(at..at, token.iter().copied());
            }
            3 if at < data.len() => {
                let end = (at + 1 + rng.below(16)).min(data.len());
                data.drain(at..end);
            }
            4 if at < data.len() => {
                let end = (at + 1 + rng.below(32)).min(data.len());
                let copy = data[at..end].to_vec();
                data.splice(at..at, copy);
            }
            _ => {
                let other = &seeds[rng.below(seeds.len())].1;
                let from = rng.below(other.len() + 1);
                data.truncate(at);
                data.extend_from_slice(&other[from..]);
            }
        }
    }
    data
}

/// Replays `target`'s corpus through `run`, then `mutants` mutants from `seed`. A failing
/// input is saved under `target/fuzz-failures/<target>/` and the test fails naming it.
pub fn check(target: &str, run: fn(&[u8]), mutants: usize, seed: u64) {
    let seeds = corpus(target);
    assert!(!seeds.is_empty(), "no seeds in corpus/{target}");
    let tokens = dictionary(target);
    for (name, data) in &seeds {
        try_one(target, run, &format!("seed {name}"), data);
    }
    let mut rng = Rng(seed);
    for n in 0..mutants {
        let data = mutant(&mut rng, &seeds, &tokens);
        try_one(target, run, &format!("mutant #{n} of seed {seed}"), &data);
    }
}

fn try_one(target: &str, run: fn(&[u8]), what: &str, data: &[u8]) {
    if catch_unwind(AssertUnwindSafe(|| run(data))).is_ok() {
        return;
    }
    let workspace = fuzz_dir()
        .parent()
        .expect("fuzz/ sits in the workspace")
        .to_path_buf();
    let dir = workspace.join("target/fuzz-failures").join(target);
    std::fs::create_dir_all(&dir).expect("the failures folder");
    let file = dir.join(what.replace([' ', '#'], "-"));
    std::fs::write(&file, data).expect("the failing input");
    panic!(
        "{target} failed on {what} (the panic is above); the input is in {}; \
         `cargo test -p cordial-fuzz --test bounded {target}` repeats it (the mutants are seeded)",
        file.display()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionary_escapes_are_read() {
        assert_eq!(unescape(r#"a\"b\\c\x1fd"#), b"a\"b\\c\x1fd");
    }

    #[test]
    fn the_same_seed_gives_the_same_mutants() {
        let seeds = vec![("a".to_owned(), b"{\"x\": [1, 2]}".to_vec())];
        let tokens = vec![b"null".to_vec()];
        let run = |seed| {
            let mut rng = Rng(seed);
            (0..50)
                .map(|_| mutant(&mut rng, &seeds, &tokens))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }
}
