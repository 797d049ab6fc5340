//! A deterministic (seeded) corpus of German/English business chat messages with known
//! words, shared by the precision/recall fixture (`tests/fixture.rs`) and the benchmark
//! (`benches/search.rs`).
//!
//! Every message is built from units (words as written); the generator records them, so
//! the ground truth of a query ("which messages contain a form of the word") comes from
//! the generator, not from the analyzer under test.
#![allow(dead_code)]

use kontor_search::{Doc, DocKind};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// Words with their inflected / alternatively spelled forms.
pub const CONCEPTS: &[&[&str]] = &[
    &["Angebot", "Angebote", "Angebots", "Angeboten"],
    &["Termin", "Termine", "Terminen"],
    &["Rechnung", "Rechnungen"],
    &["Straße", "Strasse", "Straßen"],
    &["Müller", "Mueller"],
    &["invoice", "invoices", "Invoice"],
    &["appointment", "appointments"],
    &["Lieferung", "Lieferungen"],
    &["delivery", "deliveries"],
    &["Kunde", "Kunden"],
    &["Schlüssel", "Schluessel"],
    &["Café", "Cafe"],
    &["Bestellung", "Bestellungen"],
    &["payment", "payments"],
];

/// Look-alikes that must not be found by the concepts' queries.
pub const DISTRACTORS: &[&str] = &[
    "Terrasse", "Anfrage", "Rechner", "Miller", "Mieter", "voice", "Strand", "Kanne", "Angel",
];

/// Everyday words around the concepts (none shares a form with a concept).
pub const FILLERS: &[&str] = &[
    "bitte",
    "danke",
    "heute",
    "morgen",
    "noch",
    "schon",
    "wir",
    "Sie",
    "der",
    "die",
    "das",
    "und",
    "oder",
    "mit",
    "für",
    "gerne",
    "wann",
    "passt",
    "gut",
    "Woche",
    "Montag",
    "Dienstag",
    "Büro",
    "Baustelle",
    "Material",
    "Fenster",
    "Tür",
    "Küche",
    "Bad",
    "Dach",
    "Farbe",
    "Holz",
    "neue",
    "wegen",
    "kurz",
    "Frage",
    "Info",
    "Uhr",
    "ab",
    "bis",
    "ist",
    "sind",
    "haben",
    "machen",
    "schicken",
    "prüfen",
    "fertig",
    "offen",
    "please",
    "thanks",
    "today",
    "tomorrow",
    "the",
    "and",
    "we",
    "you",
    "send",
    "check",
    "meeting",
    "office",
    "project",
    "team",
    "update",
    "call",
    "email",
    "next",
    "week",
    "good",
    "ready",
    "window",
    "door",
    "kitchen",
    "roof",
    "paint",
    "wood",
    "for",
    "with",
    "soon",
    "done",
    "open",
];

/// People named in messages (besides Müller, a concept).
pub const NAMES: &[&str] = &[
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Schäfer",
    "Schröder",
    "Krüger",
    "Neumann",
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
];

/// A generated document and the units (words as written) it was made of, in order.
pub struct GenDoc {
    /// The document to index.
    pub doc: Doc,
    /// Its words as written (punctuation and file-name decoration left out).
    pub units: Vec<String>,
}

/// Generates `n` documents over `chats` chats; the same seed gives the same corpus.
pub struct Corpus {
    rng: StdRng,
    i: usize,
    n: usize,
    chats: usize,
    ts: i64,
}

/// Start of the generated timeline: 2026-01-01T00:00:00Z.
pub const T0: i64 = 1_767_225_600_000;

pub fn corpus(seed: u64, n: usize, chats: usize) -> Corpus {
    Corpus {
        rng: StdRng::seed_from_u64(seed),
        i: 0,
        n,
        chats,
        ts: T0,
    }
}

/// A Matrix-like event id: `$` and 43 URL-safe base64 chars (as room v4+ event ids),
/// unique per index and deterministic. Real ids are this long, which matters for the
/// index size.
pub fn event_id(i: usize) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = StdRng::seed_from_u64(i as u64 ^ 0x5eed);
    let mut id = String::with_capacity(44);
    id.push('$');
    id.push_str(&format!("{i:06}"));
    for _ in 0..37 {
        id.push(B64[rng.gen_range(0..64)] as char);
    }
    id
}

pub fn room(c: usize) -> String {
    format!("!chat{c:03}:kontor.example")
}

pub const ME: &str = "@me:kontor.example";

pub fn customer(c: usize) -> String {
    format!("@kunde{c:03}:kontor.example")
}

impl Corpus {
    fn unit(&mut self) -> String {
        let r: f64 = self.rng.r#gen();
        let pick = |rng: &mut StdRng, list: &[&str]| list.choose(rng).unwrap().to_string();
        if r < 0.12 {
            let c = CONCEPTS.choose(&mut self.rng).unwrap();
            pick(&mut self.rng, c)
        } else if r < 0.16 {
            pick(&mut self.rng, NAMES)
        } else if r < 0.18 {
            pick(&mut self.rng, DISTRACTORS)
        } else if r < 0.19 {
            format!("A-2026-{:04}", self.rng.gen_range(1..20))
        } else if r < 0.21 {
            let euros = self.rng.gen_range(1..20_000);
            let cents = self.rng.gen_range(0..100);
            let thousands = if euros >= 1000 {
                format!("{}.{:03}", euros / 1000, euros % 1000)
            } else {
                euros.to_string()
            };
            format!("{thousands},{cents:02}")
        } else if r < 0.23 {
            self.rng.gen_range(1..500).to_string()
        } else {
            pick(&mut self.rng, FILLERS)
        }
    }

    fn len(&mut self) -> usize {
        let r: f64 = self.rng.r#gen();
        if r < 0.7 {
            self.rng.gen_range(8..=15)
        } else if r < 0.85 {
            self.rng.gen_range(5..=7)
        } else {
            self.rng.gen_range(16..=40)
        }
    }
}

impl Iterator for Corpus {
    type Item = GenDoc;

    fn next(&mut self) -> Option<GenDoc> {
        if self.i >= self.n {
            return None;
        }
        let i = self.i;
        self.i += 1;
        self.ts += self.rng.gen_range(1_000..600_000);
        let chat = self.rng.gen_range(0..self.chats);
        let sender = if self.rng.gen_bool(0.5) {
            ME.to_string()
        } else {
            customer(chat)
        };
        let r: f64 = self.rng.r#gen();
        let (kind, units, text) = if r < 0.015 {
            // A file: "Rechnung_2026_0412.pdf" and a short caption.
            let c = CONCEPTS.choose(&mut self.rng).unwrap();
            let name = c.choose(&mut self.rng).unwrap().to_string();
            let num = self.rng.gen_range(1..9999);
            let mut units = vec![
                name.clone(),
                "2026".into(),
                format!("{num:04}"),
                "pdf".into(),
            ];
            let caption: Vec<String> = (0..self.rng.gen_range(0..5)).map(|_| self.unit()).collect();
            let text = format!("{name}_2026_{num:04}.pdf {}", caption.join(" "));
            units.extend(caption);
            (DocKind::File, units, text.trim_end().to_string())
        } else if r < 0.02 {
            // A quote: number, title, items, total.
            let mut units = vec![
                "Angebot".to_string(),
                format!("A-2026-{:04}", self.rng.gen_range(1..20)),
            ];
            for _ in 0..self.rng.gen_range(4..12) {
                units.push(self.unit());
            }
            let text = units.join(" ");
            (DocKind::Quote, units, text)
        } else {
            let n = self.len();
            let mut units: Vec<String> = (0..n).map(|_| self.unit()).collect();
            if self.rng.gen_bool(0.03) {
                let at = self.rng.gen_range(0..units.len());
                let pair = if self.rng.gen_bool(0.5) {
                    ["neue", "Angebote"]
                } else {
                    ["next", "appointment"]
                };
                units.splice(at..at, pair.iter().map(|s| s.to_string()));
            }
            let mut text = String::new();
            for (k, u) in units.iter().enumerate() {
                if k > 0 {
                    text.push(' ');
                }
                text.push_str(u);
                if self.rng.gen_bool(0.05) {
                    text.push_str([",", ".", "!", "?", ":"].choose(&mut self.rng).unwrap());
                }
            }
            (DocKind::Message, units, text)
        };
        Some(GenDoc {
            doc: Doc {
                event_id: event_id(i),
                room_id: room(chat),
                sender,
                timestamp_ms: self.ts,
                kind,
                text,
            },
            units,
        })
    }
}

/// A query with its ground truth: a document is relevant when, for every group, it has
/// a unit from that group, and (for a phrase) the phrase's units adjacently.
pub struct TruthQuery {
    pub text: &'static str,
    pub groups: &'static [&'static [&'static str]],
    pub phrase: &'static [&'static str],
}

impl TruthQuery {
    pub fn relevant(&self, units: &[String]) -> bool {
        self.groups
            .iter()
            .all(|g| units.iter().any(|u| g.contains(&u.as_str())))
            && (self.phrase.is_empty()
                || units
                    .windows(self.phrase.len())
                    .any(|w| w.iter().zip(self.phrase).all(|(a, b)| a == b)))
    }
}

const ANGEBOT: &[&str] = &["Angebot", "Angebote", "Angebots", "Angeboten"];
const TERMIN: &[&str] = &["Termin", "Termine", "Terminen"];
const STRASSE: &[&str] = &["Straße", "Strasse", "Straßen"];
const MUELLER: &[&str] = &["Müller", "Mueller"];

/// The folding and stemming queries (what a person types → what they expect found).
pub const TRUTH: &[TruthQuery] = &[
    TruthQuery {
        text: "angebot",
        groups: &[ANGEBOT],
        phrase: &[],
    },
    TruthQuery {
        text: "Angeboten",
        groups: &[ANGEBOT],
        phrase: &[],
    },
    TruthQuery {
        text: "termin",
        groups: &[TERMIN],
        phrase: &[],
    },
    TruthQuery {
        text: "Termine",
        groups: &[TERMIN],
        phrase: &[],
    },
    TruthQuery {
        text: "rechnungen",
        groups: &[&["Rechnung", "Rechnungen"]],
        phrase: &[],
    },
    TruthQuery {
        text: "strasse",
        groups: &[STRASSE],
        phrase: &[],
    },
    TruthQuery {
        text: "Straße",
        groups: &[STRASSE],
        phrase: &[],
    },
    TruthQuery {
        text: "muller",
        groups: &[&["Müller"]],
        phrase: &[],
    },
    TruthQuery {
        text: "mueller",
        groups: &[MUELLER],
        phrase: &[],
    },
    TruthQuery {
        text: "Müller",
        groups: &[MUELLER],
        phrase: &[],
    },
    TruthQuery {
        text: "invoice",
        groups: &[&["invoice", "invoices", "Invoice"]],
        phrase: &[],
    },
    TruthQuery {
        text: "appointments",
        groups: &[&["appointment", "appointments"]],
        phrase: &[],
    },
    TruthQuery {
        text: "lieferungen",
        groups: &[&["Lieferung", "Lieferungen"]],
        phrase: &[],
    },
    TruthQuery {
        text: "deliveries",
        groups: &[&["delivery", "deliveries"]],
        phrase: &[],
    },
    TruthQuery {
        text: "kunden",
        groups: &[&["Kunde", "Kunden"]],
        phrase: &[],
    },
    TruthQuery {
        text: "schluessel",
        groups: &[&["Schlüssel", "Schluessel"]],
        phrase: &[],
    },
    TruthQuery {
        text: "schlussel",
        groups: &[&["Schlüssel"]],
        phrase: &[],
    },
    TruthQuery {
        text: "cafe",
        groups: &[&["Café", "Cafe"]],
        phrase: &[],
    },
    TruthQuery {
        text: "bestellung",
        groups: &[&["Bestellung", "Bestellungen"]],
        phrase: &[],
    },
    TruthQuery {
        text: "payment",
        groups: &[&["payment", "payments"]],
        phrase: &[],
    },
    TruthQuery {
        text: "angebot termin",
        groups: &[ANGEBOT, TERMIN],
        phrase: &[],
    },
    TruthQuery {
        text: "mueller strasse",
        groups: &[MUELLER, STRASSE],
        phrase: &[],
    },
    TruthQuery {
        text: "rech*",
        groups: &[&["Rechnung", "Rechnungen", "Rechner"]],
        phrase: &[],
    },
    TruthQuery {
        text: "lief*",
        groups: &[&["Lieferung", "Lieferungen"]],
        phrase: &[],
    },
    TruthQuery {
        text: "\"neue Angebote\"",
        groups: &[],
        phrase: &["neue", "Angebote"],
    },
    TruthQuery {
        text: "\"next appointment\"",
        groups: &[],
        phrase: &["next", "appointment"],
    },
    TruthQuery {
        text: "A-2026-0012",
        groups: &[&["A-2026-0012"]],
        phrase: &[],
    },
];
