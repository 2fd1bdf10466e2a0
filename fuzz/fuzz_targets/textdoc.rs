//! The one file syntax (`textdoc`): `Document::parse` on any text, signed or not, and every accessor on
//! what it accepts; then the round trip: a document written by `DocWriter` from fuzzed fields parses back
//! to the same fields, or the writer refused it.
#![no_main]
use frostsign::textdoc::{DocWriter, Document, Need, Spec};
use libfuzzer_sys::fuzz_target;

const SCHEMA: &[Spec] = &[
    Spec::line("kind", Need::Required),
    Spec::line("to", Need::Optional),
    Spec::line("item", Need::Repeated),
    Spec::block("payload", Need::Optional),
    Spec::block("part", Need::Repeated),
];

fn parse_any(text: &str) {
    for signed in [false, true] {
        if let Ok(doc) = Document::parse(text, "t", SCHEMA, signed) {
            assert_eq!(doc.signature().is_some(), signed);
            assert!(doc.signed_len() <= text.len());
            let _ = (doc.get("kind"), doc.get_all("item"), doc.blocks("part"), doc.block("payload"));
            let _ = (doc.number::<u32>("kind"), doc.hex::<16>("to"), doc.require("to"));
        }
    }
}

fn round_trip(data: &[u8]) {
    // Fields separated by 0xff: kind, to (empty = none), items..., then after 0xfe: payload, parts...
    let (lines, blocks) = match data.iter().position(|&b| b == 0xfe) {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    };
    let mut lines = lines.split(|&b| b == 0xff).map(String::from_utf8_lossy);
    let kind = lines.next().unwrap_or_default().into_owned();
    let to = lines.next().map(|s| s.into_owned()).filter(|s| !s.is_empty());
    let items: Vec<String> = lines.map(|s| s.into_owned()).collect();
    let blocks: Vec<&[u8]> = blocks.map(|b| b.split(|&b| b == 0xfd).collect()).unwrap_or_default();
    let mut w = DocWriter::new("t", 1).field("kind", &kind);
    if let Some(to) = &to {
        w = w.field("to", to);
    }
    for i in &items {
        w = w.field("item", i);
    }
    for (k, b) in blocks.iter().enumerate() {
        w = w.block(if k == 0 { "payload" } else { "part" }, b);
    }
    let Ok(text) = w.finish() else { return };
    let doc = Document::parse(&text, "t", SCHEMA, false).expect("a document the writer wrote parses");
    assert_eq!(doc.get("kind"), Some(kind.as_str()));
    assert_eq!(doc.get("to"), to.as_deref());
    assert_eq!(doc.get_all("item"), items.iter().map(String::as_str).collect::<Vec<_>>());
    if let Some(first) = blocks.first() {
        assert_eq!(&doc.block("payload").unwrap(), first);
    }
    let parts: Vec<Vec<u8>> = doc
        .blocks("part")
        .iter()
        .map(|b| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b).unwrap())
        .collect();
    assert_eq!(parts, blocks.iter().skip(1).map(|b| b.to_vec()).collect::<Vec<_>>());
}

fuzz_target!(|data: &[u8]| {
    if let Some(text) = frostsign_fuzz::text(data) {
        parse_any(text);
    }
    round_trip(data);
});
