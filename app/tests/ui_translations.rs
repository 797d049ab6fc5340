//! Every user-visible string of the UI has a German translation.
//!
//! Slint silently shows the English msgid when a translation is missing (or its msgid
//! differs by one character), so this test reads the `@tr("…")` calls in `app/ui/*.slint`
//! and the German catalogue and fails for each msgid without a translation, or with one
//! whose `{}` placeholders do not match. `python3 scripts/i18n-extract.py` adds new
//! msgids to the catalogues.

use std::{collections::HashMap, path::Path};

/// Reads a C-style string literal starting at `s[0] == '"'`; returns it and the rest.
fn literal(s: &str) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('"')?.char_indices();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 2..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// The msgids of `@tr(…)` calls (singular and, for plurals, the plural form too).
fn tr_msgids(source: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("@tr(") {
        rest = rest[at + 4..].trim_start();
        let Some((first, after)) = literal(rest) else {
            continue;
        };
        let after = after.trim_start();
        // `@tr("context" => "text")`: the text is the msgid.
        let (id, after) = match after.strip_prefix("=>") {
            Some(a) => literal(a.trim_start()).expect("text after =>"),
            None => (first, after),
        };
        ids.push(id);
        if let Some(a) = after.trim_start().strip_prefix('|') {
            ids.push(literal(a.trim_start()).expect("plural form").0);
        }
        rest = after;
    }
    ids
}

/// msgid (and msgid_plural) → the translations given for it, from a gettext file.
fn po_entries(po: &str) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    let mut ids: Vec<String> = Vec::new();
    let mut strs: Vec<String> = Vec::new();
    let mut field: Option<(bool, usize)> = None; // (is msgid, index)
    let mut flush = |ids: &mut Vec<String>, strs: &mut Vec<String>| {
        for id in ids.drain(..) {
            map.insert(id, strs.clone());
        }
        strs.clear();
    };
    for line in po.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (kw, rest) = line.split_once(' ').unwrap_or((line, ""));
        let text = || literal(rest.trim()).expect("quoted string").0;
        match kw {
            "msgid" => {
                flush(&mut ids, &mut strs);
                ids.push(text());
                field = Some((true, ids.len() - 1));
            }
            "msgid_plural" => {
                ids.push(text());
                field = Some((true, ids.len() - 1));
            }
            kw if kw.starts_with("msgstr") => {
                strs.push(text());
                field = Some((false, strs.len() - 1));
            }
            _ if line.starts_with('"') => {
                let more = literal(line).expect("continuation").0;
                match field {
                    Some((true, i)) => ids[i].push_str(&more),
                    Some((false, i)) => strs[i].push_str(&more),
                    None => {}
                }
            }
            _ => {}
        }
    }
    flush(&mut ids, &mut strs);
    map
}

fn ui_msgids() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("app/ui") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "slint") {
            let src = std::fs::read_to_string(&path).expect("read .slint");
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            out.extend(tr_msgids(&src).into_iter().map(|id| (file.clone(), id)));
        }
    }
    out
}

fn catalogue(lang: &str) -> HashMap<String, Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../i18n")
        .join(lang)
        .join("LC_MESSAGES/kontor.po");
    po_entries(&std::fs::read_to_string(&path).expect("catalogue"))
}

#[test]
fn every_ui_string_has_a_german_translation() {
    let ids = ui_msgids();
    assert!(ids.len() > 20, "found only {} @tr strings", ids.len());
    let de = catalogue("de");
    let mut problems = Vec::new();
    for (file, id) in &ids {
        match de.get(id) {
            None => problems.push(format!("{file}: {id:?} is not in i18n/de")),
            Some(t) if t.is_empty() || t.iter().any(String::is_empty) => {
                problems.push(format!("{file}: {id:?} has no German translation"))
            }
            Some(t) => {
                let want = id.matches("{}").count();
                if let Some(bad) = t.iter().find(|s| s.matches("{}").count() != want) {
                    problems.push(format!("{file}: {id:?} → {bad:?}: placeholders differ"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn english_catalogue_knows_every_string() {
    let en = catalogue("en");
    let missing: Vec<_> = ui_msgids()
        .into_iter()
        .filter(|(_, id)| !en.contains_key(id))
        .collect();
    assert!(
        missing.is_empty(),
        "run scripts/i18n-extract.py: {missing:?}"
    );
}

#[test]
fn the_checker_sees_a_missing_translation() {
    let ids =
        tr_msgids(r#"Text { text: @tr("Hello \"you\""); } @tr("{n} file" | "{n} files" % n)"#);
    assert_eq!(ids, ["Hello \"you\"", "{n} file", "{n} files"]);
    let po = "msgid \"\"\nmsgstr \"\"\n\"Language: de\\n\"\n\nmsgid \"Hello\"\nmsgstr \"\"\n\n\
              msgid \"Bye\"\nmsgstr \"Tschüss\"\n";
    let map = po_entries(po);
    assert_eq!(map["Hello"], [""]);
    assert_eq!(map["Bye"], ["Tschüss"]);
}
