//! All the `unsafe` Rust of the project lives in `bindings-c/src/`: this test reads every other Rust source
//! file of the repository and fails, naming the lines, when one uses the `unsafe` keyword. (The core also
//! has `#![forbid(unsafe_code)]`, checked here too, so the compiler refuses unsafe there first.)

use std::path::{Path, PathBuf};

/// Folders that are not the project's own Rust sources.
const SKIPPED_DIRS: &[&str] = &["target", ".tools", ".venv", "node_modules", ".git", "bindings-c"];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_str()) {
                rust_files(&path, found);
            }
        } else if name.ends_with(".rs") {
            found.push(path);
        }
    }
}

/// Whether a line uses the `unsafe` keyword outside a `//` comment (`unsafe_code` in a lint attribute
/// is a different word).
fn uses_unsafe(line: &str) -> bool {
    let code = line.split("//").next().unwrap_or("");
    code.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|word| word == "unsafe")
}

#[test]
fn unsafe_rust_lives_only_in_bindings_c() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repository root");
    let mut files = Vec::new();
    rust_files(repo, &mut files);
    assert!(files.iter().any(|f| f.ends_with("core/src/lib.rs")), "the scan found the core: {files:?}");
    let mut offenders = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for (number, line) in text.lines().enumerate() {
            if uses_unsafe(line) {
                offenders.push(format!("{}:{}: {}", file.display(), number + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "`unsafe` outside bindings-c/src (all unsafe code of the project belongs to the C ABI crate; \
         move it there or find a safe API):\n{}",
        offenders.join("\n")
    );
    let core = std::fs::read_to_string(repo.join("core/src/lib.rs")).expect("core/src/lib.rs");
    assert!(core.contains("#![forbid(unsafe_code)]"), "core/src/lib.rs must keep #![forbid(unsafe_code)]");
}

#[test]
fn the_scan_recognises_the_keyword() {
    assert!(uses_unsafe("    unsafe { x() }"));
    assert!(uses_unsafe("pub unsafe extern \"C\" fn f() {}"));
    assert!(!uses_unsafe("#![forbid(unsafe_code)]"));
    assert!(!uses_unsafe("let x = 1; // unsafe in a comment"));
}
