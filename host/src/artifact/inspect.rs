//! What a component binary says about itself at its top level, read without compiling it:
//! the names it imports and exports, and the manifest section if it carries one.

use cordial_jobs::manifest::{Manifest, SECTION};
use std::ops::Range;
use wasmparser::{Encoding, Parser, Payload};

/// A component's top-level imports and exports, and its embedded manifest.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
    /// The manifest section's text, and where the whole section sits in the binary.
    pub manifest: Option<(String, Range<usize>)>,
}

impl Facts {
    /// The embedded manifest, parsed.
    pub fn manifest(&self) -> anyhow::Result<Option<Manifest>> {
        self.manifest
            .as_ref()
            .map(|(text, _)| {
                serde_json::from_str(text)
                    .map_err(|e| anyhow::anyhow!("its `{SECTION}` section is not a manifest: {e}"))
            })
            .transpose()
    }
}

/// Reads `bytes` as a component. Nested core modules and components are skipped: only
/// what the component itself imports and exports counts.
pub fn inspect(bytes: &[u8]) -> anyhow::Result<Facts> {
    let mut facts = Facts::default();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| anyhow::anyhow!("not a valid WebAssembly binary: {e}"))? {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding != Encoding::Component {
                    anyhow::bail!(
                        "a core WebAssembly module, not a component; build the job for the wasm32-wasip2 target (`./dev build`)"
                    );
                }
                depth += 1;
            }
            Payload::End(_) => depth -= 1,
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    facts.imports.push(import?.name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    facts.exports.push(export?.name.name.to_owned());
                }
            }
            Payload::CustomSection(reader) if depth == 1 && reader.name() == SECTION => {
                let text = std::str::from_utf8(reader.data())
                    .map_err(|_| anyhow::anyhow!("its `{SECTION}` section is not UTF-8"))?;
                facts.manifest = Some((text.to_owned(), section_range(bytes, reader.range())?));
            }
            _ => {}
        }
    }
    Ok(facts)
}

/// The whole section (id and size included) around a custom section's contents.
fn section_range(bytes: &[u8], contents: Range<usize>) -> anyhow::Result<Range<usize>> {
    let header = 1 + leb128(contents.len() as u32).len();
    let start = contents.start.checked_sub(header);
    match start {
        Some(start)
            if bytes[start] == 0
                && bytes[start + 1..contents.start] == leb128(contents.len() as u32) =>
        {
            Ok(start..contents.end)
        }
        // A size written with more bytes than it needs is valid but unusual; such a section
        // is left in place rather than guessed at.
        _ => anyhow::bail!("its `{SECTION}` section has an unusual header; rebuild the component"),
    }
}

/// `value` as unsigned LEB128, the way section sizes are written.
fn leb128(mut value: u32) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// `component` with `text` as its manifest section: appended at the end (a custom section
/// may sit anywhere), replacing the one it had.
pub fn with_manifest(component: &[u8], text: &str) -> anyhow::Result<Vec<u8>> {
    let facts = inspect(component)?;
    let mut out = component.to_vec();
    if let Some((_, range)) = facts.manifest {
        out.drain(range);
    }
    let mut contents = leb128(SECTION.len() as u32);
    contents.extend_from_slice(SECTION.as_bytes());
    contents.extend_from_slice(text.as_bytes());
    out.push(0);
    out.extend(leb128(contents.len() as u32));
    out.extend(contents);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_matches_the_wasm_encoding() {
        assert_eq!(leb128(0), [0]);
        assert_eq!(leb128(127), [0x7f]);
        assert_eq!(leb128(128), [0x80, 0x01]);
        assert_eq!(leb128(624485), [0xe5, 0x8e, 0x26]);
    }

    /// The smallest component: the header alone.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    #[test]
    fn a_manifest_is_appended_read_back_and_replaced() {
        let once = with_manifest(EMPTY_COMPONENT, "{\"a\":1}").unwrap();
        assert_eq!(inspect(&once).unwrap().manifest.unwrap().0, "{\"a\":1}");
        let long = "x".repeat(300);
        let twice = with_manifest(&once, &long).unwrap();
        assert_eq!(inspect(&twice).unwrap().manifest.unwrap().0, long);
        let back = with_manifest(&twice, "{\"a\":1}").unwrap();
        assert_eq!(back, once, "replacing leaves no trace of the old section");
    }

    #[test]
    fn a_core_module_is_refused_with_what_to_do() {
        let module = b"\0asm\x01\0\0\0";
        let error = inspect(module).unwrap_err().to_string();
        assert!(error.contains("not a component"), "{error}");
        assert!(inspect(b"not wasm").is_err());
    }
}
