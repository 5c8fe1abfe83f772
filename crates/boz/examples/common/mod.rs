//! What the measuring examples (`memory`, `load`) share: the release binary they run and the
//! resident memory of a process.

/// The release `boz` (`$BOZ_BIN`, else `$CARGO_TARGET_DIR/release/boz`), as an absolute path.
pub fn release_boz() -> String {
    let bin = std::env::var("BOZ_BIN").unwrap_or_else(|_| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        format!("{target}/release/boz")
    });
    std::fs::canonicalize(&bin)
        .unwrap_or_else(|e| panic!("no {bin} (build it with --release): {e}"))
        .display()
        .to_string()
}

/// VmRSS of `pid` in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
