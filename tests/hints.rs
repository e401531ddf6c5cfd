//! Every `--flag` that an error, hint, note or page of crossaz names exists on the command that
//! prints it. The texts are collected where they are built, in `src/`: each string literal, and
//! each flag in it, is checked against clap's command tree for the command it names (`crossaz
//! pull billing --from`) or, when it names none, for the commands that print that file's texts.

use crate::util::repo;
use std::collections::BTreeSet;

/// A command path below `crossaz`, as words (`["whatif", "rds"]`); `[]` is the top level.
type CommandPath = Vec<&'static str>;

/// The commands that read the shared inputs (`InputArgs`: flow logs, network, k8s, billing, window).
const INPUT_COMMANDS: &[&[&str]] = &[&["attribute"], &["reconcile"], &["whatif", "routing"], &["whatif", "rds"], &["whatif", "paths"], &["review"]];

/// The commands whose output carries a file's texts, when a text names no command itself.
/// Each flag such a text names must exist on every one of them.
fn printed_by(file: &str) -> Vec<CommandPath> {
    let inputs = || INPUT_COMMANDS.iter().map(|c| c.to_vec()).collect::<Vec<_>>();
    let one = |c: &[&'static str]| vec![c.to_vec()];
    match file {
        "src/pipeline.rs"
        | "src/sources/network.rs"
        | "src/sources/k8s.rs"
        | "src/sources/billing.rs"
        | "src/sources/billing_export.rs"
        | "src/report/render.rs" => inputs(),
        f if f.starts_with("src/attribution/") || f.starts_with("src/measurement/") || f.starts_with("src/sources/flowlogs/") => inputs(),
        "src/report/html.rs" | "src/report/markdown.rs" | "src/review.rs" | "src/report/review_view.rs" => one(&["review"]),
        "src/report/render_routing.rs" | "src/whatif/routing.rs" => one(&["whatif", "routing"]),
        "src/report/render_rds.rs" | "src/whatif/rds.rs" | "src/pricing/rds.rs" => one(&["whatif", "rds"]),
        "src/report/render_paths.rs" | "src/whatif/paths.rs" | "src/pricing/paths.rs" => one(&["whatif", "paths"]),
        "src/report/focus.rs" | "src/allocate.rs" => one(&["attribute"]),
        "src/athena.rs" => one(&["athena"]),
        // A statement run for `athena setup` and a query for `attribute --engine athena`.
        "src/sources/aws/athena.rs" => vec![vec!["attribute"], vec!["athena", "setup"]],
        // Every command that calls AWS.
        "src/sources/aws/mod.rs" => vec![
            vec!["pull", "flow-logs"],
            vec!["pull", "network"],
            vec!["pull", "billing"],
            vec!["pull", "prices"],
            vec!["setup"],
            vec!["athena", "setup"],
            vec!["attribute"],
        ],
        "src/sources/aws/s3.rs" | "src/sources/aws/cwl.rs" => one(&["pull", "flow-logs"]),
        "src/sources/aws/cur.rs" | "src/sources/aws/ce.rs" => one(&["pull", "billing"]),
        "src/sources/aws/pricing.rs" => one(&["pull", "prices"]),
        "src/sources/aws/ec2.rs" => one(&["pull", "network"]),
        "src/sources/aws/discover.rs" => one(&["setup"]),
        "src/sources/kube_pull.rs" => vec![vec!["pull", "k8s"], vec!["setup"]],
        "src/bench/mod.rs" => one(&["bench"]),
        f => match f.strip_prefix("src/cli/").and_then(|f| f.strip_suffix(".rs")) {
            Some("mod") => vec![vec![]],
            Some(name) => vec![vec![leak(name)]],
            None => vec![vec![]],
        },
    }
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// Programs crossaz names in its texts whose flags are theirs, not crossaz's.
const OTHER_PROGRAMS: &[&str] = &["aws", "kubectl", "python3", "pip", "cargo", "terraform", "duckdb", "npm", "git"];

/// Files that run programs (crossaz itself, pip): a literal that is one flag is an argument, not a text.
const RUNNERS: &[&str] = &["src/bench/mod.rs", "src/cli/bench.rs"];

/// The string literals of a Rust file, with their lines; comments and character literals skipped.
fn string_literals(text: &str) -> Vec<(usize, String)> {
    let b = text.as_bytes();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    while i < b.len() {
        match b[i] {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' => {
                // A char literal ('"', '\'', '\\') or a lifetime ('a).
                if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                    i += 1;
                } else if b.get(i + 2) == Some(&b'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#')) && (i == 0 || !b[i - 1].is_ascii_alphanumeric() && b[i - 1] != b'_') => {
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
                let start = j + 1;
                let end = text[start..].find(std::str::from_utf8(&close).unwrap()).map_or(b.len(), |k| start + k);
                out.push((line, text[start..end].to_string()));
                line += text[start..end].matches('\n').count();
                i = end + close.len();
            }
            b'"' => {
                let (start, mut j) = (i + 1, i + 1);
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let lit = &text[start..j.min(b.len())];
                out.push((line, lit.to_string()));
                line += lit.matches('\n').count();
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// The `--flags` of a text, with the offset each starts at.
fn flags(text: &str) -> Vec<(usize, String)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(k) = text[i..].find("--") {
        let at = i + k;
        let before_ok = at == 0 || matches!(b[at - 1], b' ' | b'`' | b'(' | b'"' | b'[' | b'\n');
        let mut end = at + 2;
        while end < b.len() && (b[end].is_ascii_lowercase() || b[end].is_ascii_digit() || b[end] == b'-') {
            end += 1;
        }
        if before_ok && end > at + 2 && b[at + 2].is_ascii_lowercase() {
            out.push((at, text[at..end].trim_end_matches('-').to_string()));
        }
        i = end.max(at + 2);
    }
    out
}

/// Where a flag's command comes from: the text names it (`crossaz pull billing …`), another
/// program's (`aws …`, `kubectl …`), or none (the file's commands).
enum Context {
    Named(CommandPath),
    Other,
    File,
}

fn context(text: &str, at: usize, tree: &clap::Command) -> Context {
    let before = &text[..at];
    // The code span the flag is in, or the plain text since the last one closed.
    let segment = &before[before.rfind('`').map_or(0, |k| k + 1)..];
    // The last program named before the flag decides.
    let words: Vec<(usize, &str)> = segment.match_indices(|c: char| !c.is_whitespace()).fold(Vec::new(), |mut v, (k, _)| {
        if k == 0 || segment.as_bytes()[k - 1].is_ascii_whitespace() || segment.as_bytes()[k - 1] == b'(' {
            let w = segment[k..].split(|c: char| c.is_whitespace()).next().unwrap_or("");
            v.push((k, w));
        }
        v
    });
    let Some(&(k, program)) = words.iter().rev().find(|(_, w)| *w == "crossaz" || OTHER_PROGRAMS.contains(w)) else {
        return Context::File;
    };
    if program != "crossaz" {
        return Context::Other;
    }
    let mut path = Vec::new();
    let mut cmd = tree;
    for word in segment[k + "crossaz".len()..].split_whitespace() {
        let word: String = word.chars().take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-').collect();
        match cmd.find_subcommand(&word) {
            Some(sub) => {
                path.push(leak(&word));
                cmd = sub;
            }
            None => break,
        }
    }
    Context::Named(path)
}

/// Long flags (and aliases) a command accepts, globals of its parents included; with `below`,
/// those of its subcommands too (a file's texts when the file serves several of them).
fn accepted(tree: &clap::Command, path: &[&str], below: bool) -> Option<BTreeSet<String>> {
    let mut cmd = tree;
    for word in path {
        cmd = cmd.find_subcommand(word)?;
    }
    fn collect(cmd: &clap::Command, below: bool, out: &mut BTreeSet<String>) {
        for a in cmd.get_arguments() {
            out.extend(a.get_long().map(str::to_string));
            out.extend(a.get_all_aliases().into_iter().flatten().map(str::to_string));
        }
        if below {
            for sub in cmd.get_subcommands() {
                collect(sub, below, out);
            }
        }
    }
    let mut out: BTreeSet<String> = ["help".to_string(), "version".to_string()].into();
    collect(cmd, below, &mut out);
    Some(out)
}

/// Every (file:line, flag, command) a text names that the command does not accept.
fn unknown_flags() -> Vec<String> {
    let mut tree = <crossaz::cli::Cli as clap::CommandFactory>::command();
    tree.build();
    let root = repo();
    let mut bad = Vec::new();
    for entry in walkdir::WalkDir::new(root.join("src")).sort_by_file_name() {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        // The generator writes AWS's and kubectl's shapes; the fuzz harness prints nothing.
        if rel.starts_with("src/generate/") || rel == "src/fuzzing.rs" {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        let text = text.split("\n#[cfg(test)]").next().unwrap();
        for (line, lit) in string_literals(text) {
            for (at, flag) in flags(&lit) {
                if RUNNERS.contains(&rel.as_str()) && lit.trim() == flag {
                    continue;
                }
                let (commands, below) = match context(&lit, at, &tree) {
                    Context::Other => continue,
                    Context::Named(path) => (vec![path], false),
                    // A subcommand's module, or one serving a command with subcommands: any of them.
                    Context::File => (printed_by(&rel), true),
                };
                for cmd in commands {
                    let known = accepted(&tree, &cmd, below).unwrap_or_else(|| panic!("{rel}:{line}: no command `crossaz {}`", cmd.join(" ")));
                    if !known.contains(flag.trim_start_matches("--")) {
                        bad.push(format!("{rel}:{line}: `{flag}` is not a flag of `crossaz {}` (in {lit:?})", cmd.join(" ")));
                    }
                }
            }
        }
    }
    bad
}

#[test]
fn every_flag_a_text_names_exists_on_its_command() {
    let bad = unknown_flags();
    assert!(bad.is_empty(), "{} texts name flags their command lacks:\n{}", bad.len(), bad.join("\n"));
}

#[test]
fn the_check_finds_a_misnamed_flag() {
    let mut tree = <crossaz::cli::Cli as clap::CommandFactory>::command();
    tree.build();
    // The hint `athena setup` once gave, and the flag it meant.
    let text = "pass `--account ID…` and `--log-region REGION…` (partition projection lists them)";
    let setup = accepted(&tree, &["athena", "setup"], false).unwrap();
    let named: Vec<String> = flags(text).into_iter().map(|(_, f)| f).collect();
    assert_eq!(named, ["--account", "--log-region"]);
    assert!(setup.contains("account") && !setup.contains("log-region") && setup.contains("logs-region"));
    // A command named in the text wins over the file's; another program's flags are not checked.
    let t = "run `crossaz pull billing --from … --to …`, or pass `--billing` with it";
    let kinds: Vec<String> = flags(t)
        .into_iter()
        .map(|(at, _)| match context(t, at, &tree) {
            Context::Named(p) => p.join(" "),
            Context::Other => "other".into(),
            Context::File => "file".into(),
        })
        .collect();
    assert_eq!(kinds, ["pull billing", "pull billing", "file"]);
    let t = "`aws rds modify-db-instance --db-instance-identifier x --multi-az`";
    assert!(flags(t).iter().all(|(at, _)| matches!(context(t, *at, &tree), Context::Other)));
    let lits = string_literals("let a = '\"'; // \"not this\"\nlet b = r#\"raw \"--x\"\"#; let c = \"esc \\\" --y\";");
    assert_eq!(lits, [(2, "raw \"--x\"".to_string()), (2, "esc \\\" --y".to_string())]);
}
