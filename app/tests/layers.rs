//! The app's layering, checked on the source (ARCHITECTURE.md, "The app layer"):
//! the session service knows nothing of Slint, and no two modules of `app/src/ui/`
//! import each other, directly or through a circle. A controller that needs another
//! view raises a callback of that view's global instead.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

fn sources(dir: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("source folder") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            out.push((stem, std::fs::read_to_string(&path).expect("read")));
        }
    }
    out.sort();
    out
}

/// The sibling modules a file names through `super::` (in `use` lists and paths),
/// outside its tests.
fn imports(source: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let code = source.split("#[cfg(test)]").next().unwrap_or(source);
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("super::") {
        rest = &rest[at + "super::".len()..];
        // `super::{a, b::c, …}` or `super::name`.
        let list = if let Some(inner) = rest.strip_prefix('{') {
            let end = matching_brace(inner);
            inner[..end].to_owned()
        } else {
            rest.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        };
        for word in list.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if modules.contains(word) {
                found.insert(word.to_owned());
            }
        }
    }
    found
}

fn matching_brace(s: &str) -> usize {
    let mut depth = 1;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    s.len()
}

/// A cycle in the graph, if there is one (as the path of modules).
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut c = path[at..].to_vec();
            c.push(node.to_owned());
            return Some(c);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(c) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn the_service_knows_nothing_of_slint() {
    let files = sources("src/service");
    assert!(files.len() >= 5, "service modules: {}", files.len());
    for (name, src) in files {
        assert!(
            !src.contains("slint"),
            "service/{name}.rs mentions slint: the service must work without a window"
        );
    }
}

#[test]
fn no_two_ui_modules_import_each_other() {
    let files = sources("src/ui");
    let modules: BTreeSet<String> = files
        .iter()
        .map(|(n, _)| n.clone())
        .filter(|n| n != "mod")
        .collect();
    let graph: BTreeMap<String, BTreeSet<String>> = files
        .iter()
        .filter(|(n, _)| n != "mod")
        .map(|(n, src)| (n.clone(), imports(src, &modules)))
        .collect();
    assert!(graph.len() >= 15, "ui modules: {:?}", graph.keys());
    if let Some(c) = cycle(&graph) {
        panic!("ui modules import each other: {}", c.join(" → "));
    }
}

#[test]
fn the_checker_sees_a_circle() {
    let modules: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
    let a = imports("use super::{AppWindow, b::Thing};", &modules);
    let b = imports(
        "use super::{c, view::View};\nfn f() { super::c::go() }",
        &modules,
    );
    let c = imports(
        "use super::a;\n#[cfg(test)]\nmod tests { use super::b; }",
        &modules,
    );
    assert_eq!(a, ["b".to_owned()].into());
    assert_eq!(c, ["a".to_owned()].into(), "tests do not count");
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("a".into(), a), ("b".into(), b), ("c".into(), c)].into();
    assert_eq!(cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
}
