//! The record of the key generation that made a group: its description (`ceremony.txt`: id, label,
//! threshold, the participants' cards) and what each member confirmed. Both are embedded in `group.pub`,
//! so they belong to the group; the key generation ceremony (`ceremony::dkg`) writes and reads them.

use crate::card::{Card, Fingerprint};
use crate::error::{Error, Result};
use crate::exchange::folder::Folder;
use crate::group::membership::{self, Approved, Statement};
use crate::group::{CheckedDigest, MAX_MEMBERS};
use crate::plain_text::{PlainText, TextKind};
use crate::textdoc::{DocError, DocWriter, Document, Need, Spec};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Kind of the confirmation messages.
pub const KIND_CONFIRM: &str = "dkg-confirm";
/// Kind of the acceptance messages.
pub const KIND_ACCEPT: &str = "dkg-accept";

/// The ceremony description file in the folder.
pub const CEREMONY_FILE: &str = "ceremony.txt";
/// The group's public file, written when the ceremony is complete.
pub const GROUP_FILE: &str = "group.pub";

/// A key generation ceremony, as described by `ceremony.txt`.
#[derive(Clone, Debug)]
pub struct DkgCeremony {
    id: [u8; 16],
    label: Option<PlainText>,
    threshold: u16,
    created: String,
    cards: Vec<Card>,
    /// Each participant's FROST identifier (1..=255), in participant order: 1..n for a new group; a
    /// refresh keeps each member's identifier from the group refreshed.
    ids: Vec<u16>,
    dealer: Option<Dealer>,
    refresh: Option<Refresh>,
    repair: Option<Repair>,
    digest: [u8; 32],
    text: String,
}

/// What a ceremony file says of itself, unchecked ([`DkgCeremony::claims_in`]).
#[derive(Clone, Copy, Debug)]
pub struct Claims {
    /// The ceremony id.
    pub id: [u8; 16],
    /// The number of participants.
    pub participants: usize,
    /// Whether it names a dealer (a dealt group).
    pub dealt: bool,
}

/// Who dealt the shares, when a group was made by splitting one key (`dealer split`) instead of by
/// distributed key generation: rounds 1 and 2 are then one message from the dealer to each keyholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dealer {
    /// The dealer's card: it signs the dealt shares.
    pub card: Card,
    /// The group key the dealer split: every keyholder checks that the commitment it was dealt makes
    /// this key (for an import, the key the project's users already trust).
    pub group_key: [u8; 32],
    /// The minisign key id of an imported minisign key, which the group keeps (so the project's
    /// existing minisign.pub verifies its signatures); `None` for a generated key.
    pub minisign_key_id: Option<[u8; 8]>,
}

/// A refresh of an existing group's shares (`share refresh`): the same key, new shares for the members
/// who take part (each at its identifier in the old group); members left out are removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refresh {
    /// Compact fingerprint of the group whose shares are refreshed.
    pub group: String,
    /// Its key, which the refresh keeps.
    pub group_key: [u8; 32],
    /// Its minisign key id, which the refreshed group keeps.
    pub minisign_key_id: [u8; 8],
    /// The members left out, as `ID FPR NAME` lines.
    pub removed: Vec<String>,
    /// The version the refreshed group will have, and the history it continues.
    pub lineage: Lineage,
}

/// A repair or enrolment (`share repair`): the same key and the same shares for every member, and a
/// share rebuilt, by t helpers, for one identifier: a member who lost its share (with a new card or its
/// old one), or a new member at a new identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repair {
    /// Compact fingerprint of the group repaired.
    pub group: String,
    /// Its key, which stays.
    pub group_key: [u8; 32],
    /// Its minisign key id, which stays.
    pub minisign_key_id: [u8; 8],
    /// The identifier whose share is rebuilt.
    pub target: u16,
    /// The t helpers' identifiers, increasing.
    pub helpers: Vec<u16>,
    /// The version the repaired group will have, and the history it continues.
    pub lineage: Lineage,
}

/// Where a renewed group (refresh, repair) stands in its group's membership history: its version, the
/// SHA-256 of the previous version's membership statement, and every approved statement from version 2
/// up to the previous version (checked on parse: consecutive, each signed by the group key, each naming
/// the one before). A renewal starts only from an approved group, so the history has no gap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lineage {
    /// The new group's version: the renewed group's plus one (at least 2).
    pub version: u32,
    /// SHA-256 of the renewed group's membership statement.
    pub previous: [u8; 32],
    /// The approved statements of versions 2 to `version - 1`.
    pub history: Vec<Approved>,
}

/// How a ceremony makes its group's shares.
#[derive(Clone, Copy, Debug)]
pub enum Origin<'a> {
    /// Distributed key generation: a new key.
    KeyGen,
    /// One key split by a dealer (`dealer split`).
    Dealt(&'a Dealer),
    /// New shares of an existing group's key, for the members at these identifiers (`share refresh`).
    Refresh(&'a Refresh, &'a [u16]),
    /// A share rebuilt for one identifier of an existing group, whose members are at these identifiers.
    Repair(&'a Repair, &'a [u16]),
}

const CEREMONY_SCHEMA: &[Spec] = &[
    Spec::line("id", Need::Required),
    Spec::line("label", Need::Optional),
    Spec::line("threshold", Need::Required),
    Spec::line("participants", Need::Required),
    Spec::line("created", Need::Required),
    Spec::line("participant", Need::Repeated),
    Spec::line("dealer", Need::Optional),
    Spec::line("dealt-key", Need::Optional),
    Spec::line("refresh-of", Need::Optional),
    Spec::line("refresh-key", Need::Optional),
    Spec::line("removed", Need::Repeated),
    Spec::line("repair-of", Need::Optional),
    Spec::line("repair-key", Need::Optional),
    Spec::line("repair-for", Need::Optional),
    Spec::line("helper", Need::Repeated),
    Spec::line("minisign-key-id", Need::Optional),
    Spec::line("version", Need::Optional),
    Spec::line("previous", Need::Optional),
    Spec::block("card", Need::Repeated),
    Spec::block("dealer-card", Need::Optional),
    Spec::block("history-statement", Need::Repeated),
    Spec::block("history-signature", Need::Repeated),
];

/// How many ceremony files [`checked_before`] remembers.
const CHECKED_MAX: usize = 8;

/// The SHA-256 of the ceremony files whose cards were checked in this process (oldest first), or by this
/// keyholder when it joined (see [`DkgCeremony::parse_known`]).
static CHECKED: std::sync::Mutex<Vec<[u8; 32]>> = std::sync::Mutex::new(Vec::new());

/// True if a ceremony file with this SHA-256 had its cards checked (successes only are remembered).
fn checked_before(digest: &[u8; 32]) -> bool {
    CHECKED.lock().map(|m| m.contains(digest)).unwrap_or(false)
}

fn remember_checked(digest: [u8; 32]) {
    if let Ok(mut m) = CHECKED.lock() {
        if !m.contains(&digest) {
            if m.len() >= CHECKED_MAX {
                m.remove(0);
            }
            m.push(digest);
        }
    }
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

impl DkgCeremony {
    /// Describe a new ceremony. Checks 2 <= t <= n <= 255, that no keyholder appears twice, and that no
    /// card comes from a home made with a test setting unless `allow_insecure` says so.
    pub fn create(
        label: Option<&str>,
        threshold: u16,
        cards: Vec<Card>,
        origin: Origin<'_>,
        allow_insecure: bool,
    ) -> Result<(DkgCeremony, String)> {
        let n = cards.len();
        let dealer = match origin {
            Origin::Dealt(d) => Some(d),
            _ => None,
        };
        let ids: Vec<u16> = match origin {
            Origin::Refresh(_, ids) | Origin::Repair(_, ids) => ids.to_vec(),
            _ => (1..=n as u16).collect(),
        };
        let insecure: Vec<String> = cards
            .iter()
            .chain(dealer.map(|d| &d.card))
            .filter_map(|c| c.insecure().map(|k| format!("{}: {}", c.label(), k.warning())))
            .collect();
        if !insecure.is_empty() && !allow_insecure {
            let mut e = Error::new(format!(
                "{} of the cards come from a home made with a setting for tests and demos only",
                insecure.len()
            ));
            for line in insecure {
                e = e.with_note(line);
            }
            return Err(e.with_help(
                "ask each of them for a card from a real identity (`frostsign holder new` without --insecure-*); for a test or demo, pass --allow-insecure-cards",
            ));
        }
        if let Some(l) = label {
            PlainText::new(TextKind::Label, l)?;
        }
        if !(2..=MAX_MEMBERS).contains(&n) {
            return Err(Error::new(format!("a group needs 2 to {MAX_MEMBERS} keyholders, {n} cards were given")));
        }
        if threshold < 2 || threshold as usize > n {
            return Err(Error::new(format!(
                "the threshold must be between 2 and the number of keyholders ({n}), got {threshold}"
            ))
            .with_help("with t = 1 any single keyholder could sign alone, which is what frostsign exists to prevent"));
        }
        for (i, a) in cards.iter().enumerate() {
            for b in &cards[..i] {
                if a.fingerprint() == b.fingerprint() {
                    return Err(Error::new(format!("{} is listed twice", a.label()))
                        .with_help("give each keyholder's card once"));
                }
                if a.name() == b.name() {
                    return Err(Error::new(format!("two different keyholders are both named `{}`", a.name()))
                        .with_help("names must be unique in a group so people can tell keyholders apart"));
                }
            }
        }
        if let Some(why) = dealer.and_then(|d| dealer_clash(&d.card, &cards)) {
            return Err(Error::new(format!("the dealer {why}"))
                .with_help("the dealer is either one of the keyholders (the same card) or has a name of its own"));
        }
        use rand_core::{OsRng, RngCore};
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        let mut w = DocWriter::new("dkg", 1).field("id", hex::encode(id));
        if let Some(l) = label {
            w = w.field("label", l);
        }
        w = w
            .field("threshold", threshold)
            .field("participants", n)
            .field("created", crate::clock::format(crate::clock::now()));
        for (id, c) in ids.iter().zip(&cards) {
            w = w.field("participant", format!("{id} {} {}", c.fingerprint().compact(), c.name()));
        }
        if let Origin::Refresh(r, _) = origin {
            w = w.field("refresh-of", &r.group).field("refresh-key", hex::encode(r.group_key));
            for line in &r.removed {
                w = w.field("removed", line);
            }
            w = w.field("minisign-key-id", crate::formats::minisign::key_id_display(&r.minisign_key_id));
            w = write_lineage_fields(w, &r.lineage);
        }
        if let Origin::Repair(r, _) = origin {
            w = w
                .field("repair-of", &r.group)
                .field("repair-key", hex::encode(r.group_key))
                .field("repair-for", r.target);
            for h in &r.helpers {
                w = w.field("helper", h);
            }
            w = w.field("minisign-key-id", crate::formats::minisign::key_id_display(&r.minisign_key_id));
            w = write_lineage_fields(w, &r.lineage);
        }
        if let Some(d) = dealer {
            w = w
                .field("dealer", format!("{} {}", d.card.fingerprint().compact(), d.card.name()))
                .field("dealt-key", hex::encode(d.group_key));
            if let Some(id) = &d.minisign_key_id {
                w = w.field("minisign-key-id", crate::formats::minisign::key_id_display(id));
            }
        }
        for c in &cards {
            w = w.block("card", c.text().as_bytes());
        }
        if let Some(d) = dealer {
            w = w.block("dealer-card", d.card.text().as_bytes());
        }
        let lineage = match origin {
            Origin::Refresh(r, _) => Some(&r.lineage),
            Origin::Repair(r, _) => Some(&r.lineage),
            _ => None,
        };
        if let Some(l) = lineage {
            for a in &l.history {
                w = w.block("history-statement", a.statement.text.as_bytes());
            }
            for a in &l.history {
                w = w.block("history-signature", &a.signature);
            }
        }
        let text = w.finish()?;
        let parsed = DkgCeremony::parse(&text).map_err(|e| Error::new(format!("internal error: {e}")))?;
        Ok((parsed, text))
    }

    /// Parse and check a ceremony file.
    ///
    /// A file whose cards were checked in this process already (by SHA-256 of the exact text: the same
    /// ceremony is embedded in every group file a key generation step reads) is checked again except for
    /// its cards' keys and self-signatures; see [`checked_before`].
    pub fn parse(text: &str) -> std::result::Result<DkgCeremony, DocError> {
        let digest = sha256(&[text.as_bytes()]);
        Self::parse_remembered(text, digest, checked_before(&digest))
    }

    /// Parse a ceremony file that this keyholder may have checked in full before: `known` is the SHA-256
    /// of the file it joined, as its own sealed ceremony state holds it. If `text` hashes to `known`, its
    /// bytes are those checked then, and the cards' keys and self-signatures (one Ed25519 check per card,
    /// most of the cost of a step at 100 keyholders) are not checked again; any other text, however small
    /// the change, is parsed and checked in full (and the caller refuses it as not the file it joined).
    pub fn parse_known(text: &str, known: Option<&CheckedDigest>) -> std::result::Result<DkgCeremony, DocError> {
        let digest = sha256(&[text.as_bytes()]);
        let trusted = known.map(CheckedDigest::bytes) == Some(&digest) || checked_before(&digest);
        Self::parse_remembered(text, digest, trusted)
    }

    /// Parse (cards checked unless `cards_checked_before`), then remember the file as checked.
    fn parse_remembered(
        text: &str,
        digest: [u8; 32],
        cards_checked_before: bool,
    ) -> std::result::Result<DkgCeremony, DocError> {
        let c = Self::parse_with(text, digest, cards_checked_before)?;
        remember_checked(digest);
        Ok(c)
    }

    fn parse_with(
        text: &str,
        digest: [u8; 32],
        cards_checked_before: bool,
    ) -> std::result::Result<DkgCeremony, DocError> {
        let doc = Document::parse(text, "dkg", CEREMONY_SCHEMA, false)?;
        let bad = |key: &str, reason: String| DocError::BadValue { key: key.into(), reason };
        let id: [u8; 16] = doc.hex("id")?;
        let threshold: u16 = doc.number("threshold")?;
        let n: usize = doc.number("participants")?;
        if !(2..=MAX_MEMBERS).contains(&n) || threshold < 2 || threshold as usize > n {
            return Err(bad("threshold", "need 2 <= threshold <= participants <= 255".into()));
        }
        let lines = doc.get_all("participant");
        let blocks = doc.blocks("card");
        if lines.len() != n || blocks.len() != n {
            return Err(bad(
                "participant",
                "the number of participants and cards does not match `participants`".into(),
            ));
        }
        let refresh = parse_refresh(&doc)?;
        let repair = parse_repair(&doc)?;
        // A new group numbers its participants 1..n; a refresh or a repair keeps the old identifiers.
        let explicit = refresh.is_some() || repair.is_some();
        let mut cards: Vec<Card> = Vec::with_capacity(n);
        let mut ids: Vec<u16> = Vec::with_capacity(n);
        for (i, (line, b64)) in lines.iter().zip(&blocks).enumerate() {
            let raw = B64.decode(b64).map_err(|_| bad("card", "invalid base64".into()))?;
            let t = String::from_utf8(raw).map_err(|_| bad("card", "not UTF-8".into()))?;
            let card = if cards_checked_before { Card::parse_checked_before(&t) } else { Card::parse(&t) }
                .map_err(|e| bad("card", format!("participant {}: {e}", i + 1)))?;
            let id = match line.split_once(' ').map(|(id, _)| id.parse::<u16>()) {
                Some(Ok(id)) if explicit && (1..=MAX_MEMBERS as u16).contains(&id) => id,
                _ if !explicit => i as u16 + 1,
                _ => return Err(bad("participant", format!("line {} has no identifier in 1..=255", i + 1))),
            };
            if *line != format!("{id} {} {}", card.fingerprint().compact(), card.name()) {
                return Err(bad("participant", format!("line {} does not match its card", i + 1)));
            }
            if ids.last().is_some_and(|last| *last >= id) {
                return Err(bad("participant", "identifiers are not in increasing order".into()));
            }
            ids.push(id);
            if cards.iter().any(|c| c.fingerprint() == card.fingerprint() || c.name() == card.name()) {
                return Err(bad("participant", format!("{} is listed twice, or shares a name", card.label())));
            }
            cards.push(card);
        }
        let label = match doc.get("label") {
            Some(l) => Some(PlainText::new(TextKind::Label, l).map_err(|e| bad("label", e.to_string()))?),
            None => None,
        };
        if crate::clock::parse(doc.require("created")?).is_none() {
            return Err(bad("created", "not a UTC time".into()));
        }
        let dealer = parse_dealer(&doc, explicit)?;
        if [dealer.is_some(), refresh.is_some(), repair.is_some()].iter().filter(|x| **x).count() > 1 {
            return Err(bad("refresh-of", "a ceremony is one of: key generation, dealt group, refresh, repair".into()));
        }
        let lineage_fields = doc.get("version").is_some()
            || doc.get("previous").is_some()
            || !doc.blocks("history-statement").is_empty()
            || !doc.blocks("history-signature").is_empty();
        if lineage_fields && !explicit {
            return Err(bad("version", "only a refresh or a repair has a version and a history".into()));
        }
        if let Some(r) = &repair {
            let known = |id: &u16| ids.contains(id);
            if !known(&r.target) || !r.helpers.iter().all(known) || r.helpers.contains(&r.target) {
                return Err(bad(
                    "helper",
                    "the repaired identifier and the helpers must be participants, distinct".into(),
                ));
            }
            if r.helpers.len() != threshold as usize || r.helpers.windows(2).any(|w| w[0] >= w[1]) {
                return Err(bad("helper", "a repair has exactly t helpers, in increasing order".into()));
            }
        }
        if let Some(why) = dealer.as_ref().and_then(|d| dealer_clash(&d.card, &cards)) {
            return Err(bad("dealer", why));
        }
        Ok(DkgCeremony {
            id,
            label,
            threshold,
            created: doc.require("created")?.to_string(),
            cards,
            ids,
            dealer,
            refresh,
            repair,
            digest,
            text: text.to_string(),
        })
    }

    /// Load `DIR/ceremony.txt`.
    pub fn load(folder: &Folder) -> Result<DkgCeremony> {
        Self::load_known(folder, &Self::read(folder)?, None)
    }

    /// The text of `DIR/ceremony.txt`, unchecked (see [`DkgCeremony::id_in`] and [`DkgCeremony::load_known`]).
    pub fn read(folder: &Folder) -> Result<String> {
        folder.read(CEREMONY_FILE, crate::group::MAX_GROUP_BYTES)?.ok_or_else(|| {
            Error::new(format!(
                "no key generation ceremony in `{}` ({CEREMONY_FILE} is missing)",
                crate::text::path(folder.dir())
            ))
            .with_help("start one with `frostsign dkg init --dir DIR --threshold T CARD...`")
        })
    }

    /// [`DkgCeremony::parse_known`] of `text`, read from `DIR/ceremony.txt`, with errors naming that file.
    pub fn load_known(folder: &Folder, text: &str, known: Option<&CheckedDigest>) -> Result<DkgCeremony> {
        DkgCeremony::parse_known(text, known)
            .map_err(|e| Error::file(&folder.path(CEREMONY_FILE), format!("not a valid ceremony file: {e}")))
    }

    /// What a ceremony file claims, read without checking anything else (for answers that file names
    /// decide, and that can only send a keyholder to the checked path).
    pub fn claims_in(text: &str) -> Option<Claims> {
        let doc = Document::parse(text, "dkg", CEREMONY_SCHEMA, false).ok()?;
        Some(Claims {
            id: doc.hex("id").ok()?,
            participants: doc.number("participants").ok()?,
            dealt: doc.get("dealer").is_some(),
        })
    }

    /// The ceremony id (random, chosen at `init`).
    pub fn id(&self) -> &[u8; 16] {
        &self.id
    }
    /// SHA-256 of the ceremony file: the `ceremony` field of every message.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }
    /// The label.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }
    /// The label as checked text.
    pub fn label_text(&self) -> Option<&PlainText> {
        self.label.as_ref()
    }
    /// t.
    pub fn threshold(&self) -> u16 {
        self.threshold
    }
    /// When the ceremony was started.
    pub fn created(&self) -> &str {
        &self.created
    }
    /// The exact file text.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The participants' cards in identifier order.
    pub fn cards(&self) -> &[Card] {
        &self.cards
    }
    /// The dealer, when the shares are dealt from one key rather than generated together.
    pub fn dealer(&self) -> Option<&Dealer> {
        self.dealer.as_ref()
    }
    /// The refresh this ceremony is, if it is one.
    pub fn refresh(&self) -> Option<&Refresh> {
        self.refresh.as_ref()
    }
    /// The minisign key id the group keeps, when it is not derived from the key (an imported minisign
    /// key, or a refresh of a group that has one).
    pub fn minisign_key_id(&self) -> Option<[u8; 8]> {
        (self.dealer.as_ref().and_then(|d| d.minisign_key_id))
            .or(self.refresh.as_ref().map(|r| r.minisign_key_id))
            .or(self.repair.as_ref().map(|r| r.minisign_key_id))
    }
    /// The repair this ceremony is, if it is one.
    pub fn repair(&self) -> Option<&Repair> {
        self.repair.as_ref()
    }
    /// The group this ceremony renews (refresh or repair): its compact fingerprint and key. Its members'
    /// shares of that group are retired when they store their share of the new one.
    pub fn renews(&self) -> Option<(&str, &[u8; 32])> {
        match (&self.refresh, &self.repair) {
            (Some(r), _) => Some((&r.group, &r.group_key)),
            (_, Some(r)) => Some((&r.group, &r.group_key)),
            _ => None,
        }
    }
    /// Where the group this ceremony makes stands in its membership history (a renewal), or `None` for
    /// a new group (version 1).
    pub fn lineage(&self) -> Option<&Lineage> {
        match (&self.refresh, &self.repair) {
            (Some(r), _) => Some(&r.lineage),
            (_, Some(r)) => Some(&r.lineage),
            _ => None,
        }
    }
    /// The FROST identifier of the participant at position `j`.
    ///
    /// Before: `j < self.cards().len()`.
    pub fn identifier(&self, j: usize) -> frost_ed25519::Identifier {
        crate::group::frost_identifier(self.ids[j])
    }
    /// Every participant's FROST identifier, in participant order.
    pub fn identifiers(&self) -> Vec<frost_ed25519::Identifier> {
        self.ids.iter().map(|&id| crate::group::frost_identifier(id)).collect()
    }
    /// The identifiers as numbers.
    pub fn identifier_numbers(&self) -> &[u16] {
        &self.ids
    }
    /// Position of the participant with FROST identifier `id`.
    pub fn position_of(&self, id: &frost_ed25519::Identifier) -> Option<usize> {
        (0..self.ids.len()).find(|&j| self.identifier(j) == *id)
    }
    /// Position of a keyholder.
    pub fn index_of(&self, fp: Fingerprint) -> Option<usize> {
        self.cards.iter().position(|c| c.fingerprint() == fp)
    }
    /// Human summary, shown before a keyholder joins.
    pub fn summary(&self) -> String {
        let kind = match (&self.dealer, &self.refresh, &self.repair) {
            (Some(_), _, _) => "Dealt group ceremony",
            (_, Some(_), _) => "Share refresh",
            (_, _, Some(_)) => "Share repair",
            _ => "Key generation ceremony",
        };
        let mut s = format!(
            "{kind} {}{}\n  {}-of-{}: any {} of these {} keyholders will be able to sign\n",
            hex::encode(self.id),
            self.label.as_ref().map(|l| format!(" \"{l}\"")).unwrap_or_default(),
            self.threshold,
            self.cards.len(),
            self.threshold,
            self.cards.len()
        );
        for (id, c) in self.ids.iter().zip(&self.cards) {
            s.push_str(&format!("  {id:>3}. {:<24} {}\n", c.name(), c.fingerprint()));
            if let Some(k) = c.insecure() {
                s.push_str(&format!("       ^ {}\n", k.warning()));
            }
        }
        if let Some(r) = &self.refresh {
            s.push_str(&format!(
                "  New shares of group {} (key {}); the key stays the same.\n",
                crate::group::GroupFingerprint::parse_compact(&r.group).map(|f| f.to_string()).unwrap_or_default(),
                hex::encode(r.group_key)
            ));
            for line in &r.removed {
                s.push_str(&format!("  Removed (their share becomes useless): {line}\n"));
            }
        }
        if let Some(r) = &self.repair {
            let name = |id: &u16| {
                self.position_of(&crate::group::frost_identifier(*id))
                    .map(|j| self.cards[j].name().to_string())
                    .unwrap_or_default()
            };
            s.push_str(&format!(
                "  A share of group {} (key {}) is rebuilt for {} (identifier {}), by {}; the key stays the same.\n",
                crate::group::GroupFingerprint::parse_compact(&r.group).map(|f| f.to_string()).unwrap_or_default(),
                hex::encode(r.group_key),
                name(&r.target),
                r.target,
                r.helpers.iter().map(name).collect::<Vec<_>>().join(", ")
            ));
            s.push_str(&format!(
                "  The project's minisign.pub must end with this line (compare): {}\n",
                crate::formats::minisign::public_key_line(&r.minisign_key_id, &r.group_key)
            ));
        }
        if let Some(d) = &self.dealer {
            s.push_str(&format!(
                "  The shares are dealt from one key by {} ({}): that machine held the whole key.\n  Group key: {}\n",
                d.card.name(),
                d.card.fingerprint(),
                hex::encode(d.group_key)
            ));
            if let Some(id) = &d.minisign_key_id {
                s.push_str(&format!(
                    "  It is an existing minisign key (key id {}): signatures verify with its minisign.pub.\n  \
                     Its minisign.pub must end with this line (compare): {}\n",
                    crate::formats::minisign::key_id_display(id),
                    crate::formats::minisign::public_key_line(id, &d.group_key)
                ));
            }
        }
        s
    }
}

/// The `dealer`, `dealer-card` and `minisign-key-id` fields: all absent (key generation), or the dealer's
/// line and card, which must agree, and an optional imported key id in minisign's display form.
fn parse_dealer(doc: &Document, refresh: bool) -> std::result::Result<Option<Dealer>, DocError> {
    let bad = |key: &str, reason: &str| DocError::BadValue { key: key.into(), reason: reason.into() };
    let key_id = doc.get("minisign-key-id");
    let (line, key, card) = match (doc.get("dealer"), doc.get("dealt-key"), doc.blocks("dealer-card").first()) {
        (None, None, None) if key_id.is_none() || refresh => return Ok(None),
        (Some(line), Some(key), Some(card)) => (line, key, card.to_string()),
        _ => return Err(bad("dealer", "a dealt group names its dealer and key and carries the dealer's card")),
    };
    let group_key = parse_key_hex(key).ok_or_else(|| bad("dealt-key", "expected 64 lowercase hex digits"))?;
    let raw = B64.decode(card).map_err(|_| bad("dealer-card", "invalid base64"))?;
    let text = String::from_utf8(raw).map_err(|_| bad("dealer-card", "not UTF-8"))?;
    let card = Card::parse(&text).map_err(|e| bad("dealer-card", &e.to_string()))?;
    if line != format!("{} {}", card.fingerprint().compact(), card.name()) {
        return Err(bad("dealer", "does not match the dealer's card"));
    }
    let minisign_key_id = match key_id {
        None => None,
        Some(k) => {
            Some(parse_key_id_display(k).ok_or_else(|| bad("minisign-key-id", "expected 16 uppercase hex digits"))?)
        }
    };
    Ok(Some(Dealer { card, group_key, minisign_key_id }))
}

/// 32 bytes as exactly 64 lowercase hex digits.
fn parse_key_hex(s: &str) -> Option<[u8; 32]> {
    hex::decode(s).ok().and_then(|k| <[u8; 32]>::try_from(k).ok()).filter(|k| hex::encode(k) == s)
}

/// The `refresh-of`, `refresh-key`, `removed` and `minisign-key-id` fields of a refresh: `refresh-of` and
/// `refresh-key` both present (a refresh, which must carry the old group's minisign key id) or both absent.
fn parse_refresh(doc: &Document) -> std::result::Result<Option<Refresh>, DocError> {
    let bad = |key: &str, reason: &str| DocError::BadValue { key: key.into(), reason: reason.into() };
    let (group, key) = match (doc.get("refresh-of"), doc.get("refresh-key")) {
        (None, None) if doc.get_all("removed").is_empty() => return Ok(None),
        (Some(g), Some(k)) => (g, k),
        _ => return Err(bad("refresh-of", "a refresh names the group and its key")),
    };
    if crate::group::GroupFingerprint::parse_compact(group).is_none() {
        return Err(bad("refresh-of", "expected a compact group fingerprint (32 uppercase hex digits)"));
    }
    let group_key = parse_key_hex(key).ok_or_else(|| bad("refresh-key", "expected 64 lowercase hex digits"))?;
    let id = doc.get("minisign-key-id").ok_or_else(|| bad("minisign-key-id", "a refresh keeps the group's key id"))?;
    let minisign_key_id =
        parse_key_id_display(id).ok_or_else(|| bad("minisign-key-id", "expected 16 uppercase hex digits"))?;
    // Each removed member as `ID FPR NAME`, every part checked, so the line is shown to keyholders as is.
    let removed: Vec<String> = doc.get_all("removed").iter().map(|l| l.to_string()).collect();
    if !removed.iter().all(|l| is_member_line(l)) {
        return Err(bad("removed", "expected `ID FPR NAME` of a member"));
    }
    let lineage = parse_lineage(doc, &group_key)?;
    Ok(Some(Refresh { group: group.to_string(), group_key, minisign_key_id, removed, lineage }))
}

/// True for a member line `ID FPR NAME` in its one spelling: an identifier in 1..=255, a compact card
/// fingerprint, a keyholder name (plain text). Lines of this form are shown to people as they are.
pub fn is_member_line(l: &str) -> bool {
    let mut parts = l.splitn(3, ' ');
    let id = parts.next().and_then(|id| id.parse::<u16>().ok()).filter(|n| (1..=MAX_MEMBERS as u16).contains(n));
    let fp = parts.next().and_then(Fingerprint::parse_compact);
    let name = parts.next().and_then(|n| PlainText::new(TextKind::KeyholderName, n).ok());
    match (id, fp, name) {
        (Some(id), Some(fp), Some(name)) => l == format!("{id} {} {name}", fp.compact()),
        _ => false,
    }
}

/// Why `dealer` cannot deal to `cards`, if it cannot: a dealer that shares a keyholder's name but not its
/// keys (or its keys but not its name) would be shown as that keyholder in every summary, status and
/// complaint, so the name no longer tells who held the whole key.
fn dealer_clash(dealer: &Card, cards: &[Card]) -> Option<String> {
    cards.iter().find_map(|c| {
        let (same_keys, same_name) = (c.fingerprint() == dealer.fingerprint(), c.name() == dealer.name());
        (same_keys != same_name).then(|| {
            format!(
                "{} and the keyholder {} share a {} but not the {}",
                dealer.label(),
                c.label(),
                if same_name { "name" } else { "card's keys" },
                if same_name { "keys" } else { "name" }
            )
        })
    })
}

/// The `repair-of`, `repair-key`, `repair-for`, `helper` and `minisign-key-id` fields of a repair (all
/// present) or none of them.
fn parse_repair(doc: &Document) -> std::result::Result<Option<Repair>, DocError> {
    let bad = |key: &str, reason: &str| DocError::BadValue { key: key.into(), reason: reason.into() };
    let (group, key, target) = match (doc.get("repair-of"), doc.get("repair-key"), doc.get("repair-for")) {
        (None, None, None) if doc.get_all("helper").is_empty() => return Ok(None),
        (Some(g), Some(k), Some(t)) => (g, k, t),
        _ => return Err(bad("repair-of", "a repair names the group, its key and the identifier repaired")),
    };
    if crate::group::GroupFingerprint::parse_compact(group).is_none() {
        return Err(bad("repair-of", "expected a compact group fingerprint (32 uppercase hex digits)"));
    }
    let group_key = parse_key_hex(key).ok_or_else(|| bad("repair-key", "expected 64 lowercase hex digits"))?;
    let number = |s: &str| s.parse::<u16>().ok().filter(|n| (1..=MAX_MEMBERS as u16).contains(n) && n.to_string() == s);
    let target = number(target).ok_or_else(|| bad("repair-for", "expected an identifier in 1..=255"))?;
    let helpers = doc
        .get_all("helper")
        .iter()
        .map(|h| number(h))
        .collect::<Option<Vec<u16>>>()
        .ok_or_else(|| bad("helper", "expected an identifier in 1..=255"))?;
    let id = doc.get("minisign-key-id").ok_or_else(|| bad("minisign-key-id", "a repair keeps the group's key id"))?;
    let minisign_key_id =
        parse_key_id_display(id).ok_or_else(|| bad("minisign-key-id", "expected 16 uppercase hex digits"))?;
    let lineage = parse_lineage(doc, &group_key)?;
    Ok(Some(Repair { group: group.to_string(), group_key, minisign_key_id, target, helpers, lineage }))
}

/// The `version` and `previous` lines of a renewal.
fn write_lineage_fields(w: DocWriter, l: &Lineage) -> DocWriter {
    w.field("version", l.version).field("previous", hex::encode(l.previous))
}

/// The `version`, `previous`, `history-statement` and `history-signature` fields of a renewal of the
/// group with `key`: its place in the membership history, checked as a chain (see [`Lineage`]).
fn parse_lineage(doc: &Document, key: &[u8; 32]) -> std::result::Result<Lineage, DocError> {
    let bad = |key: &str, reason: String| DocError::BadValue { key: key.into(), reason };
    let version: u32 = doc.number("version")?;
    if !(2..=membership::MAX_VERSION).contains(&version) {
        return Err(bad("version", "a renewed group has a version from 2 on".into()));
    }
    let previous = parse_key_hex(doc.require("previous")?)
        .ok_or_else(|| bad("previous", "expected 64 lowercase hex digits".into()))?;
    let (texts, sigs) = (doc.blocks("history-statement"), doc.blocks("history-signature"));
    if texts.len() != sigs.len() || texts.len() as u32 != version - 2 {
        return Err(bad(
            "history-statement",
            format!("version {version} carries the approved statements of versions 2 to {}", version - 1),
        ));
    }
    let mut history = Vec::with_capacity(texts.len());
    for (t, s) in texts.iter().zip(&sigs) {
        let text = B64
            .decode(t)
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok())
            .ok_or_else(|| bad("history-statement", "not UTF-8 base64".into()))?;
        let statement = Statement::parse(&text).map_err(|e| bad("history-statement", e.to_string()))?;
        let signature: [u8; 64] = B64
            .decode(s)
            .ok()
            .and_then(|raw| raw.try_into().ok())
            .ok_or_else(|| bad("history-signature", "expected a 64-byte signature".into()))?;
        history.push(Approved { statement, signature });
    }
    membership::check_chain(key, 2, None, &history).map_err(|e| bad("history-statement", e.to_string()))?;
    if history.last().is_some_and(|last| membership::digest(&last.statement.text) != previous) {
        return Err(bad("previous", "does not name the last statement of the history".into()));
    }
    Ok(Lineage { version, previous, history })
}

/// A minisign key id in minisign's display form (16 uppercase hex digits of the id read as a
/// little-endian u64), back to its 8 bytes.
fn parse_key_id_display(s: &str) -> Option<[u8; 8]> {
    let canonical = s.len() == 16 && s.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b));
    canonical.then(|| u64::from_str_radix(s, 16).ok()).flatten().map(u64::to_le_bytes)
}

/// What a keyholder publishes when it has its share.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfirmPayload {
    /// The group's Ed25519 key (hex on the wire).
    #[serde(with = "crate::secret::codec::hex32")]
    pub group_key: [u8; 32],
    /// SHA-256 of the serialized FROST public key package.
    #[serde(with = "crate::secret::codec::hex32")]
    pub public_key_package: [u8; 32],
    /// The transcript hash of all round-1 files.
    #[serde(with = "crate::secret::codec::hex32")]
    pub transcript: [u8; 32],
}

/// What a keyholder publishes when all n confirmations agree: the group file it accepts.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AcceptPayload {
    /// SHA-256 of the group file's core (`Group::core_text`: everything but the acceptances), built
    /// from the ceremony, the n confirmations and the public key package.
    #[serde(with = "crate::secret::codec::hex32")]
    pub group_file: [u8; 32],
}
