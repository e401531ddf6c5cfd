//! The README's worked example is what the demo prints: every command it shows is run on the
//! bundled sample files, and every figure in its output block and in the prose under it (dollars,
//! bytes, percentages, counts) must appear in what that command prints today.

use crate::util::{crossaz, repo};

/// A command the README shows, the figures of its block, and those of the prose that follows.
#[derive(Debug)]
struct Example {
    line: usize,
    command: Vec<String>,
    block: Vec<String>,
    prose: Vec<String>,
}

/// Dollars (`$790.98`, `-$15.67`), sizes (`38.62 TiB`, `2153.5 GB`), percentages (`95.69%`) and
/// grouped counts (`82,152`): the figures a reader would compare.
fn figures(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let dollar = b[i] == b'$' && b.get(i + 1).is_some_and(u8::is_ascii_digit);
        let digit = b[i].is_ascii_digit() && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || matches!(b[i - 1], b'.' | b',' | b'-' | b':' | b'/' | b'_')));
        if !dollar && !digit {
            i += 1;
            continue;
        }
        let start = i;
        i += usize::from(dollar);
        while i < b.len() && (b[i].is_ascii_digit() || (matches!(b[i], b',' | b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit))) {
            i += 1;
        }
        let number = &text[start..i];
        let rest = &text[i..];
        let unit = ["%", " TiB", " GiB", " MiB", " KiB", " GB", " TB", " B"]
            .into_iter()
            .find(|u| rest.starts_with(u) && !rest.as_bytes().get(u.len()).is_some_and(u8::is_ascii_alphanumeric));
        let grouped = number.contains(',');
        if let Some(u) = unit {
            out.push(format!("{number}{u}"));
        } else if dollar || grouped {
            out.push(number.to_string());
        }
    }
    out
}

fn examples(readme: &str) -> Vec<Example> {
    let start = readme.find("## A worked example on the sample files").expect("the worked example");
    let end = readme[start..].find("\n## Output").map_or(readme.len(), |e| start + e);
    let first_line = readme[..start].lines().count();
    let mut out: Vec<Example> = Vec::new();
    let mut lines = readme[start..end].lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        if line.starts_with("```") && lines.peek().is_some_and(|(_, l)| l.starts_with("$ crossaz ")) {
            let mut command = String::new();
            let mut block = Vec::new();
            let mut in_command = true;
            for (_, l) in lines.by_ref() {
                if l.starts_with("```") {
                    break;
                }
                if in_command {
                    command.push_str(l.trim_start_matches("$ ").trim_end_matches('\\'));
                    command.push(' ');
                    in_command = l.ends_with('\\');
                } else {
                    block.extend(figures(l));
                }
            }
            let command = command.split_whitespace().skip(1).map(str::to_string).collect();
            out.push(Example { line: first_line + n + 1, command, block, prose: Vec::new() });
        } else if line.starts_with("```") {
            // Another kind of block: skip it whole.
            for (_, l) in lines.by_ref() {
                if l.starts_with("```") {
                    break;
                }
            }
        } else if line.starts_with('#') {
            continue;
        } else if let Some(last) = out.last_mut() {
            last.prose.extend(figures(line));
        }
    }
    out
}

#[test]
fn the_worked_example_quotes_what_the_demo_prints() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let examples = examples(&readme);
    assert!(examples.len() >= 5, "{examples:?}");
    let mut stale = Vec::new();
    for ex in &examples {
        let args: Vec<&str> = ex.command.iter().map(String::as_str).collect();
        let run = crossaz(&args, &repo());
        assert!(run.code == 0, "README.md:{}: `crossaz {}` failed: {}", ex.line, args.join(" "), run.stderr);
        for (what, list) in [("block", &ex.block), ("prose", &ex.prose)] {
            for f in list.iter().filter(|f| !run.stdout.contains(f.as_str())) {
                stale.push(format!("README.md:{} ({what} of `crossaz {}`): {f}", ex.line, args[0]));
            }
        }
    }
    assert!(stale.is_empty(), "figures the demo no longer prints (run the command and copy its output):\n{}", stale.join("\n"));
}

#[test]
fn figures_are_found_in_text() {
    let text = "Total (22 rows)   38.62 TiB   $790.98   71.8% · 82,152 read · -$15.67, 2153.5 GB, ap-northeast-2a 1 in 2b, 0 B";
    assert_eq!(figures(text), ["38.62 TiB", "$790.98", "71.8%", "82,152", "$15.67", "2153.5 GB", "0 B"]);
}
