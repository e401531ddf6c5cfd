//! One binary for every fuzz target: `crossaz-fuzz <target>` reads AFL's inputs as that target's
//! file kind through `crossaz::fuzzing::run` (docs/fuzzing.md).

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(target) = crossaz::fuzzing::Target::from_name(&name) else {
        let names: Vec<&str> = crossaz::fuzzing::Target::ALL.iter().map(|t| t.name()).collect();
        eprintln!("usage: crossaz-fuzz <target>, one of: {}", names.join(", "));
        std::process::exit(2);
    };
    let scratch = tempfile::tempdir_in(std::env::var_os("CROSSAZ_FUZZ_SCRATCH").unwrap_or_else(|| "/dev/shm".into())).expect("a scratch directory");
    afl::fuzz!(|data: &[u8]| {
        crossaz::fuzzing::run(target, data, scratch.path());
    });
}
