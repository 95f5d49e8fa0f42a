//! `anchor-webhooks demo` is the README's main job: it must run every step and say so.

use std::process::Command;

#[test]
fn demo_runs_every_step() {
    let output =
        Command::new(env!("CARGO_BIN_EXE_anchor-webhooks")).arg("demo").output().expect("the demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!stdout.contains('✗'), "{stdout}");
    assert_eq!(stdout.matches('✓').count(), 7, "{stdout}");
    for line in [
        "   ✓ 14 of 14 events verified and processed once",
        "   ✓ forgery refused with signature_mismatch (401)",
        "   ✓ first attempt got 503, the retry (attempt 2) succeeded",
        "   ✓ duplicate answered 200 without running the handler again",
        "demo: every step behaved as expected",
    ] {
        assert!(stdout.lines().any(|l| l == line), "missing {line:?} in\n{stdout}");
    }
}
