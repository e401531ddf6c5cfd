//! The fuzz targets' saved inputs, replayed without the fuzzer (docs/fuzzing.md): the seed corpus
//! (`fuzz/corpus/<target>/`, from real samples) and every input a fuzzer found a crash with
//! (`fuzz/regressions/<target>/`). Each must be read without a panic, through the same code as a
//! file of its kind.

use crate::util::*;
use crossaz::fuzzing::{Target, run};

#[test]
fn every_saved_fuzz_input_is_read_without_a_panic() {
    let scratch = tempdir();
    let mut replayed = 0;
    for target in Target::ALL {
        let mut inputs = Vec::new();
        for folder in ["corpus", "regressions"] {
            let dir = repo().join("fuzz").join(folder).join(target.name());
            if let Ok(entries) = std::fs::read_dir(&dir) {
                inputs.extend(entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()));
            }
        }
        inputs.sort();
        assert!(!inputs.is_empty(), "seeds for {}", target.name());
        for input in inputs {
            let data = std::fs::read(&input).unwrap();
            let outcome = std::panic::catch_unwind(|| run(target, &data, scratch.path()));
            assert!(outcome.is_ok(), "{} panics on `{}`", target.name(), input.display());
            replayed += 1;
        }
    }
    assert!(replayed >= 20, "{replayed} inputs");
}
