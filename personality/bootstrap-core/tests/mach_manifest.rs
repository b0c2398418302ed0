//! The `mach-manifest` tool the build scripts run: manifests checked
//! together with file:line:column errors, combined, their modules listed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh directory for one test's files.
fn directory(test: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("mach-manifest-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).unwrap();
    path
}

fn write(directory: &Path, name: &str, text: &str) -> String {
    let path = directory.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Runs the tool; (success, stdout, stderr).
fn tool(arguments: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_mach-manifest")).args(arguments).output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into(),
        String::from_utf8_lossy(&output.stderr).into(),
    )
}

#[test]
fn manifests_combine_into_one_and_list_their_modules_once() {
    let files = directory("combine");
    let system = write(&files, "system.manifest", "# system\nkv-server registers=kv\nkv-client needs=kv\n");
    let extra = write(&files, "hello.manifest", "hello-server registers=hello\nkv-client needs=hello -- again");
    let output = files.join("out.manifest").display().to_string();
    let (ok, stdout, stderr) = tool(&["combine", &output, &system, &extra]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "kv-server\nkv-client\nhello-server\n", "each module once, in manifest order");
    let combined = std::fs::read_to_string(&output).unwrap();
    assert!(combined.contains("hello-server registers=hello\n") && combined.contains("# from "));
    let (ok, stdout, _) = tool(&["order", &system, &extra]);
    assert!(ok);
    assert_eq!(
        stdout.lines().map(|line| line.split(' ').next().unwrap()).collect::<Vec<_>>(),
        ["kv-server", "kv-client", "hello-server", "kv-client"]
    );
}

#[test]
fn an_error_names_the_file_line_and_column() {
    let files = directory("error");
    let system = write(&files, "system.manifest", "kv-server registers=kv\n");
    let extra = write(&files, "bad.manifest", "# comment\n\nhello-server registers=hello needs=nobody\n");
    let output = files.join("out.manifest").display().to_string();
    let (ok, _, stderr) = tool(&["combine", &output, &system, &extra]);
    assert!(!ok);
    assert_eq!(stderr.trim(), format!("{extra}:3:30: needs `nobody`, which no program registers"));
    assert!(!Path::new(&output).exists(), "nothing written");
    // Checked together: a name registered in two files.
    let twice = write(&files, "twice.manifest", "other registers=kv\n");
    let (ok, _, stderr) = tool(&["combine", &output, &system, &twice]);
    assert!(!ok);
    assert_eq!(stderr.trim(), format!("{twice}:1:7: `kv` is registered by the program at {system}:1 already"));
}

#[test]
fn a_module_that_was_not_built_is_refused() {
    let files = directory("modules");
    let built = files.join("user");
    std::fs::create_dir_all(&built).unwrap();
    std::fs::write(built.join("kv-server"), b"\x7fELF").unwrap();
    let system = write(&files, "system.manifest", "kv-server registers=kv\nkv-clinet needs=kv\n");
    let output = files.join("out.manifest").display().to_string();
    let built = built.display().to_string();
    let (ok, _, stderr) = tool(&["combine", &output, "--modules", &built, &system]);
    assert!(!ok);
    assert!(stderr.starts_with(&format!("{system}:2: no program called `kv-clinet` was built")), "{stderr}");
    let (ok, _, stderr) = tool(&["combine"]);
    assert!(!ok && stderr.contains("usage"));
}
