//! The README stays true: its first lines give the run and test commands, and its configuration
//! table lists every setting the code reads.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use boz_common::config::SETTINGS;

fn readme() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn readme_starts_with_the_run_and_test_commands() {
    let text = readme();
    let head: Vec<&str> = text.lines().take(6).collect();
    assert!(head.iter().any(|l| l.contains("boz -- run")), "{head:?}");
    assert!(head.iter().any(|l| l.starts_with(".ci/run")), "{head:?}");
}

#[test]
fn readme_lists_every_setting_with_its_default() {
    let text = readme();
    for s in SETTINGS {
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", s.name)))
            .unwrap_or_else(|| panic!("README has no row for {}", s.name));
        if let Some(default) = s.default {
            assert!(
                row.contains(&format!("`{default}`")),
                "{}: default {default} not in {row}",
                s.name
            );
        }
    }
}
