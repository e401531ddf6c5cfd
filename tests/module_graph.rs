//! The house is one-way (docs/architecture.md): no module of `src/` reaches a module that reaches
//! it back, directly or around a circle, and none reaches a floor above its own. A module's
//! dependencies are the paths it names: `use` trees and paths in code that start with `crate::`,
//! `super::`, `self::` or one of its child modules. `mod child;` itself is not a dependency.

use crate::util::repo;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The floors, lowest first: a module may use its own floor and the floors below it.
const FLOORS: &[(&str, &[&str])] = &[
    ("foundations", &["error", "limits", "write", "human", "printer"]),
    ("model, prices, places", &["model", "pricing", "workspace", "config"]),
    ("sources", &["sources", "athena"]),
    ("attribution", &["attribution"]),
    ("measurement", &["measurement"]),
    ("analyses", &["whatif", "reconcile", "allocate"]),
    ("review", &["review"]),
    ("report", &["report"]),
    ("wiring and tools", &["pipeline", "generate", "bench", "fuzzing"]),
    ("commands", &["cli"]),
];

type Module = Vec<String>;

#[derive(Debug, PartialEq)]
enum Token {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Semi,
    Star,
    Other,
}

/// Rust source as the tokens that matter here: comments, strings and chars are dropped.
fn tokens(src: &str) -> Vec<Token> {
    let s: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let next = s.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < s.len() {
                if s[i] == '/' && s.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if s[i] == '*' && s.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || (next == Some('#') && s[i + 1..].iter().take_while(|&&h| h == '#').count() > 0)) {
            // A raw string: r"…", r#"…"#, …; `r#ident` falls through to an identifier.
            let hashes = s[i + 1..].iter().take_while(|&&h| h == '#').count();
            if s.get(i + 1 + hashes) != Some(&'"') {
                i += 1;
                out.push(Token::Other);
                continue;
            }
            i += 2 + hashes;
            while i < s.len() && !(s[i] == '"' && s[i + 1..].iter().take(hashes).filter(|&&h| h == '#').count() == hashes) {
                i += 1;
            }
            i += 1 + hashes;
        } else if c == '"' || (c == 'b' && next == Some('"')) {
            i += if c == 'b' { 2 } else { 1 };
            while i < s.len() && s[i] != '"' {
                i += if s[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{…}'), else a lifetime or label.
            if next == Some('\\') {
                i += 2;
                while i < s.len() && s[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if s.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
                while i < s.len() && (s[i].is_alphanumeric() || s[i] == '_') {
                    i += 1;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < s.len() && (s[i].is_alphanumeric() || s[i] == '_') {
                i += 1;
            }
            out.push(Token::Ident(s[start..i].iter().collect()));
        } else {
            i += 1;
            out.push(match c {
                ':' if next == Some(':') => {
                    i += 1;
                    Token::PathSep
                }
                '{' => Token::Open,
                '}' => Token::Close,
                ',' => Token::Comma,
                ';' => Token::Semi,
                '*' => Token::Star,
                _ => Token::Other,
            });
        }
    }
    out
}

/// The paths of a `use` tree starting at `t[*i]`, each as its segments; stops after its end.
fn use_tree(t: &[Token], i: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    loop {
        match t.get(*i) {
            Some(Token::Ident(id)) if id == "as" => {
                *i += 2;
            }
            Some(Token::Ident(id)) => {
                path.push(id.clone());
                *i += 1;
            }
            Some(Token::PathSep) => *i += 1,
            Some(Token::Star) => *i += 1,
            Some(Token::Open) => {
                *i += 1;
                while !matches!(t.get(*i), Some(Token::Close) | None) {
                    use_tree(t, i, path.clone(), out);
                    if t.get(*i) == Some(&Token::Comma) {
                        *i += 1;
                    }
                }
                *i += 1;
                return;
            }
            _ => {
                out.push(path);
                return;
            }
        }
    }
}

/// A path a file names (`["crate", "report", "Report"]`), with the inline module it is named in
/// (`["tests"]` inside `mod tests { … }`).
type NamedPath = (Vec<String>, Vec<String>);

/// Every path a file names, and the child modules it declares (`mod name;`).
fn named_paths(src: &str) -> (Vec<NamedPath>, BTreeSet<String>) {
    let t = tokens(src);
    let children: BTreeSet<String> = t
        .windows(3)
        .filter_map(|w| match w {
            [Token::Ident(m), Token::Ident(name), Token::Semi] if m == "mod" => Some(name.clone()),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < t.len() {
        let here: Vec<String> = inline.iter().map(|(n, _)| n.clone()).collect();
        match &t[i] {
            Token::Open => depth += 1,
            Token::Close => {
                depth -= 1;
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            Token::Ident(m) if m == "mod" => {
                if let (Some(Token::Ident(name)), Some(Token::Open)) = (t.get(i + 1), t.get(i + 2)) {
                    inline.push((name.clone(), depth));
                }
            }
            Token::Ident(u) if u == "use" => {
                i += 1;
                let mut paths = Vec::new();
                use_tree(&t, &mut i, Vec::new(), &mut paths);
                out.extend(paths.into_iter().map(|p| (here.clone(), p)));
                continue;
            }
            Token::Ident(first)
                if (matches!(first.as_str(), "crate" | "super" | "self") || children.contains(first))
                    && t.get(i + 1) == Some(&Token::PathSep)
                    && (i == 0 || t[i - 1] != Token::PathSep) =>
            {
                let mut path = vec![first.clone()];
                let mut j = i + 1;
                while let (Some(Token::PathSep), Some(Token::Ident(seg))) = (t.get(j), t.get(j + 1)) {
                    path.push(seg.clone());
                    j += 2;
                }
                out.push((here, path));
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    (out, children)
}

/// `src/report/views.rs` → `["report", "views"]`; `src/report/mod.rs` → `["report"]`.
fn module_of(rel: &Path) -> Module {
    let mut parts: Vec<String> = rel.with_extension("").iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Each module of `src/` (a file) and the modules it uses.
fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let src = repo().join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut sources = BTreeMap::new();
    for f in all {
        let rel = f.strip_prefix(&src).unwrap().to_path_buf();
        if rel == Path::new("main.rs") || rel == Path::new("lib.rs") {
            continue;
        }
        sources.insert(module_of(&rel), std::fs::read_to_string(&f).unwrap());
    }
    let known: BTreeSet<Module> = sources.keys().cloned().collect();
    let mut graph = BTreeMap::new();
    for (module, text) in &sources {
        let (paths, children) = named_paths(text);
        let mut uses = BTreeSet::new();
        for (inline, path) in paths.into_iter().filter(|(_, p)| !p.is_empty()) {
            let here: Module = module.iter().chain(&inline).cloned().collect();
            // Where the path starts, and what follows: a child module's path starts inside it;
            // `self` and `super` start here (each `super` then climbs one module).
            let (mut abs, mut rest): (Module, &[String]) = match path[0].as_str() {
                "crate" => (Vec::new(), &path[1..]),
                "self" => (here, &path[1..]),
                "super" => (here, &path[..]),
                child if children.contains(child) && inline.is_empty() => (module.iter().cloned().chain([child.to_string()]).collect(), &path[1..]),
                _ => continue,
            };
            while rest.first().is_some_and(|s| s == "super") {
                abs.pop();
                rest = &rest[1..];
            }
            abs.extend(rest.iter().cloned());
            // The longest prefix that is a module of `src/`; items of lib.rs are nobody's floor.
            while !abs.is_empty() && !known.contains(&abs) {
                abs.pop();
            }
            if !abs.is_empty() && &abs != module {
                uses.insert(abs);
            }
        }
        graph.insert(module.clone(), uses);
    }
    graph
}

fn name(m: &Module) -> String {
    m.join("::")
}

fn floor(m: &Module) -> Option<usize> {
    FLOORS.iter().position(|(_, tops)| tops.contains(&m[0].as_str()))
}

/// A circle through `start`, if any: the modules from `start` back to it.
fn circle_through(graph: &BTreeMap<Module, BTreeSet<Module>>, start: &Module) -> Option<Vec<Module>> {
    let mut stack = vec![(start.clone(), vec![start.clone()])];
    let mut seen = BTreeSet::new();
    while let Some((m, path)) = stack.pop() {
        for next in graph.get(&m).into_iter().flatten() {
            if next == start {
                return Some(path.clone());
            }
            if seen.insert(next.clone()) {
                let mut p = path.clone();
                p.push(next.clone());
                stack.push((next.clone(), p));
            }
        }
    }
    None
}

#[test]
fn src_has_no_import_circle_and_no_arrow_up_a_floor() {
    let graph = graph();
    assert!(graph.len() >= 90, "the scan found only {} modules of src/", graph.len());
    let mut problems = Vec::new();
    for m in graph.keys() {
        if floor(m).is_none() {
            problems.push(format!("`{}` is on no floor: add `{}` to FLOORS in tests/module_graph.rs and to docs/architecture.md", name(m), m[0]));
        }
    }
    let mut reported: BTreeSet<BTreeSet<Module>> = BTreeSet::new();
    for m in graph.keys() {
        if let Some(circle) = circle_through(&graph, m)
            && reported.insert(circle.iter().cloned().collect())
        {
            let names: Vec<String> = circle.iter().chain([m]).map(name).collect();
            problems.push(format!("import circle: {}", names.join(" → ")));
        }
    }
    for (m, uses) in &graph {
        for u in uses {
            if let (Some(a), Some(b)) = (floor(m), floor(u))
                && b > a
            {
                problems.push(format!("`{}` ({}) uses `{}` on a floor above ({})", name(m), FLOORS[a].0, name(u), FLOORS[b].0));
            }
        }
    }
    assert!(problems.is_empty(), "the module graph of src/ is not one-way:\n{}", problems.join("\n"));
}

#[test]
fn docs_architecture_draws_the_same_floors() {
    let doc = std::fs::read_to_string(repo().join("docs/architecture.md")).unwrap();
    let start = doc.find("```\n commands").expect("docs/architecture.md draws the floors in a code block starting with ` commands`");
    let block = &doc[start + 4..];
    let block = &block[..block.find("```").unwrap()];
    let drawn: Vec<(String, Vec<String>)> = block
        .lines()
        .map(|line| {
            let name = FLOORS.iter().map(|(n, _)| *n).find(|n| line.trim_start().starts_with(n)).unwrap_or("?");
            let modules = line.trim_start()[name.len().min(line.trim_start().len())..]
                .split_whitespace()
                .map(|w| w.trim_end_matches('/').to_string())
                .take_while(|w| FLOORS.iter().any(|(_, tops)| tops.contains(&w.as_str())))
                .collect();
            (name.to_string(), modules)
        })
        .collect();
    let tested: Vec<(String, Vec<String>)> = FLOORS.iter().rev().map(|(n, tops)| (n.to_string(), tops.iter().map(|t| t.to_string()).collect())).collect();
    assert_eq!(drawn, tested, "docs/architecture.md's drawing and FLOORS in tests/module_graph.rs disagree");
}

#[test]
fn the_scan_sees_every_kind_of_path() {
    let src = r##"
        use crate::a::{b, c::{d, e as f}, g::*};
        use super::h;
        mod kid;
        // use crate::commented::out;
        const S: &str = "crate::in_a_string";
        const R: &str = r#"crate::in_a_raw "string""#;
        fn x<'a>(v: &'a str) -> char { let _ = crate::inline::path(v); kid::thing(); 'c' }
        #[cfg(test)]
        mod tests {
            use super::*;
        }
    "##;
    let (paths, children) = named_paths(src);
    let flat: Vec<String> =
        paths.iter().map(|(inline, p)| format!("{}{}", inline.iter().map(|i| format!("[{i}]")).collect::<String>(), p.join("::"))).collect();
    assert_eq!(children, BTreeSet::from(["kid".to_string()]));
    assert_eq!(flat, ["crate::a::b", "crate::a::c::d", "crate::a::c::e", "crate::a::g", "super::h", "crate::inline::path", "kid::thing", "[tests]super"]);
}

#[test]
fn a_circle_and_an_upward_arrow_are_found() {
    let m = |s: &str| -> Module { s.split("::").map(String::from).collect() };
    let graph: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::from([
        (m("report"), BTreeSet::from([m("review")])),
        (m("review"), BTreeSet::from([m("report::views")])),
        (m("report::views"), BTreeSet::from([m("report")])),
        (m("model"), BTreeSet::new()),
    ]);
    let circle = circle_through(&graph, &m("review")).expect("a circle");
    assert_eq!(circle.iter().map(name).collect::<Vec<_>>(), ["review", "report::views", "report"]);
    assert_eq!(circle_through(&graph, &m("model")), None);
    assert!(floor(&m("review")) < floor(&m("report")));
}
