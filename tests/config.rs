//! `crossaz.toml`, `CROSSAZ_…` variables and flags: the file < the environment < flags; unknown
//! keys are errors; completions and the manual page.

use crate::util::*;
use std::process::Command;

fn run_with(args: &[&str], env: &[(&str, &str)], cwd: &std::path::Path) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crossaz"));
    cmd.args(args).current_dir(cwd).env("CROSSAZ_NO_PROGRESS", "1").env_remove("CROSSAZ_WORKSPACE").env_remove("CROSSAZ_BY").env_remove("CROSSAZ_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn heading(out: &str) -> &str {
    out.lines().next().unwrap_or_default()
}

#[test]
fn the_file_loses_to_the_environment_which_loses_to_flags() {
    let ws = generated(short(1));
    std::fs::write(ws.path().join("crossaz.toml"), "[output]\nby = \"namespace\"\n").unwrap();
    let cwd = tempdir();
    let w = ws.path().to_str().unwrap();
    // The workspace from the environment; `by` from its crossaz.toml.
    let run = run_with(&["attribute"], &[("CROSSAZ_WORKSPACE", w)], cwd.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(heading(&run.stdout), "Cross-AZ data transfer by namespace");
    let run = run_with(&["attribute", "--workspace", w], &[("CROSSAZ_BY", "workload")], cwd.path());
    assert_eq!(heading(&run.stdout), "Cross-AZ data transfer by workload", "{}", run.stderr);
    let run = run_with(&["attribute", "--workspace", w, "--by", "az-pair"], &[("CROSSAZ_BY", "workload")], cwd.path());
    assert_eq!(heading(&run.stdout), "Cross-AZ data transfer by az-pair", "{}", run.stderr);
    // `--config` names a file elsewhere; its `workspace` is relative to it.
    let other = tempdir();
    let cfg = other.path().join("team.toml");
    std::fs::write(&cfg, format!("workspace = \"{w}\"\n[output]\nby = \"conversation\"\n")).unwrap();
    let run = run_with(&["attribute", "--config", cfg.to_str().unwrap()], &[], cwd.path());
    assert_eq!(heading(&run.stdout), "Cross-AZ data transfer by conversation", "{}", run.stderr);
    let run = run_with(&["attribute"], &[("CROSSAZ_CONFIG", cfg.to_str().unwrap())], cwd.path());
    assert_eq!(heading(&run.stdout), "Cross-AZ data transfer by conversation", "{}", run.stderr);
}

#[test]
fn unknown_keys_and_bad_values_are_named_with_the_nearest_valid_key() {
    let ws = generated(short(1));
    let w = ws.path().to_str().unwrap();
    std::fs::write(ws.path().join("crossaz.toml"), "region = \"ap-northeast-2\"\n\n[flow_logs]\nbukcet = \"logs\"\n").unwrap();
    let run = crossaz(&["attribute", "--workspace", w], &repo());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("crossaz.toml`: unknown key `flow_logs.bukcet` at line 4"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: did you mean `flow_logs.bucket`?"), "{}", run.stderr);
    std::fs::write(ws.path().join("crossaz.toml"), "[output]\nby = \"team\"\n").unwrap();
    let run = crossaz(&["attribute", "--workspace", w], &repo());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`team` is not a valid `output.by` in crossaz.toml") && run.stderr.contains("one of: service, workload"), "{}", run.stderr);
}

#[test]
fn completions_for_every_shell_and_a_manual_page() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = crossaz(&["completions", shell], &repo());
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        for sub in ["review", "setup", "doctor", "attribute"] {
            assert!(run.stdout.contains(sub), "{shell} completes `{sub}`");
        }
    }
    let bash = crossaz(&["completions", "bash"], &repo()).stdout;
    let dir = tempdir();
    std::fs::write(dir.path().join("crossaz.bash"), &bash).unwrap();
    let check = Command::new("bash").arg("-n").arg(dir.path().join("crossaz.bash")).output().unwrap();
    assert!(check.status.success(), "bash parses the script: {}", String::from_utf8_lossy(&check.stderr));
    let man = crossaz(&["man"], &repo());
    assert_eq!(man.code, 0);
    assert!(man.stdout.starts_with(".ie") || man.stdout.contains(".TH crossaz"), "{}", &man.stdout[..200.min(man.stdout.len())]);
    assert!(man.stdout.contains("review") && man.stdout.contains("setup"));
}
