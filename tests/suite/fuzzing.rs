//! Regressions of what coverage-guided fuzzing (fuzz/, `make fuzz`) found: each test replays a failing
//! input, or the property it broke, through the library's public API. docs/security.md ("Fuzzing") lists
//! the targets and the time fuzzed.

use frostsign::exchange::message::{open, seal, Expect};
use frostsign::identity::Identity;
use frostsign::textdoc::{DocWriter, Document, Need, Spec};
use std::path::Path;

/// fuzz target `textdoc`, first minutes: `DocWriter::block` with empty data wrote `key:` and no
/// continuation line, which `Document::parse` refuses ("field has no value"): the writer produced a file
/// its own parser cannot read (a sealed message with an empty payload could never be opened). The writer
/// now refuses an empty block, naming the field, as it refuses a bad one-line value.
#[test]
fn an_empty_block_is_refused_by_the_writer_instead_of_written_unreadable() {
    let schema = [Spec::line("kind", Need::Required), Spec::block("part", Need::Repeated)];
    let e = DocWriter::new("t", 1).field("kind", "k").block("part", b"x").block("part", b"").finish().unwrap_err();
    assert!(e.to_string().contains("part") && e.to_string().contains("empty"), "{e}");
    // The replayed input: every document the writer does write, its parser reads back.
    let text = DocWriter::new("t", 1).field("kind", "k").block("part", b"x").finish().unwrap();
    assert_eq!(Document::parse(&text, "t", &schema, false).unwrap().blocks("part"), vec!["eA=="]);

    let alice = Identity::generate("Alice", 1_764_547_200, None).unwrap();
    let e = seal(&alice, "dkg-round1", &[7; 32], "1", None, b"").unwrap_err();
    assert!(e.message().contains("payload"), "{}", e.message());
    let text = seal(&alice, "dkg-round1", &[7; 32], "1", None, b"{}").unwrap();
    let expect = Expect { kind: "dkg-round1", ceremony: &[7; 32], round: "1", private: false };
    let opened = open(&text, Path::new("m.txt"), &expect, &[alice.card().clone()], None).unwrap();
    assert_eq!(opened.payload.expose(), b"{}");
}
