//! Random well-formed interfaces: the C header generated for each compiles
//! with `gcc -Wall -Wextra -Werror` (the Rust output of the example
//! interfaces is compiled by the `mach-kv-example` crate).

use std::process::Command;

use proptest::prelude::*;

const TYPES: &[&str] = &[
    "u8",
    "u16",
    "u32",
    "u64",
    "i8",
    "i16",
    "i32",
    "i64",
    "bool",
    "bytes<7>",
    "string<33>",
    "bytes<1>",
    "port<move_send>",
    "port<move_send_once>",
    "port<move_receive>",
    "optional port<move_send>",
    "optional port<move_send_once>",
    "pair",
    "array<u16, 5>",
    "array<bool, 3>",
    "array<pair, 3>",
];
const IN_ONLY_TYPES: &[&str] =
    &["port<copy_send>", "port<make_send>", "port<make_send_once>", "optional port<make_send>", "ool<4096>"];

fn argument() -> impl Strategy<Value = (bool, String)> {
    (any::<bool>(), 0..TYPES.len() + IN_ONLY_TYPES.len()).prop_map(|(is_in, index)| {
        match index.checked_sub(TYPES.len()) {
            Some(in_only) => (true, IN_ONLY_TYPES[in_only].to_string()),
            None => (is_in, TYPES[index].to_string()),
        }
    })
}

/// A random routine: one-way or not, its arguments (in?, type), whether it
/// lists an error, whether it is deferrable.
type RandomRoutine = (bool, Vec<(bool, String)>, bool, bool);

fn routine() -> impl Strategy<Value = RandomRoutine> {
    (any::<bool>(), proptest::collection::vec(argument(), 0..5), any::<bool>(), any::<bool>())
}

fn definition(errors: usize, routines: &[RandomRoutine]) -> String {
    let mut text = String::from("subsystem random 700;\n");
    text.push_str("struct inner { flag: bool, wide: i64 };\n");
    text.push_str("struct pair { a: u8, b: [u16; 3], c: [inner; 2], d: inner };\n");
    for index in 0..errors {
        text.push_str(&format!("error failure{index} = {} \"failure {index}\";\n", index + 1));
    }
    for (index, (simple, arguments, lists_errors, deferrable)) in routines.iter().enumerate() {
        let simple = *simple && arguments.iter().all(|(is_in, _)| *is_in);
        let list: Vec<String> = arguments
            .iter()
            .enumerate()
            .map(|(position, (is_in, kind))| format!("{} a{position}: {kind}", if *is_in { "in" } else { "out" }))
            .collect();
        let errors_clause = if *lists_errors && errors > 0 && !simple { " errors(failure0)" } else { "" };
        let keyword = match (simple, deferrable) {
            (true, _) => "simpleroutine",
            (false, true) => "deferrable routine",
            (false, false) => "routine",
        };
        text.push_str(&format!("// Routine {index}.\n{keyword} r{index}({}){errors_clause};\n", list.join(", ")));
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(12), ..ProptestConfig::default() })]

    #[test]
    fn random_interfaces_generate_c_that_compiles(errors in 0usize..3, routines in proptest::collection::vec(routine(), 1..5)) {
        let source = definition(errors, &routines);
        let header = mach_idl::generate_c(&source, "random.defs").map_err(|error| TestCaseError::fail(format!("{error}\n{source}")))?;
        // The Rust output must at least be produced for the same definition.
        prop_assert!(mach_idl::generate_rust(&source, "random.defs").is_ok());
        let directory = std::env::temp_dir().join(format!("mach-idl-random-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join("random.h");
        std::fs::write(&path, &header).unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let output = Command::new("gcc")
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only"])
            .arg(format!("-I{}", root.join("mach/abi/include").display()))
            .arg(format!("-I{}", root.join("libmach/include").display()))
            .args(["-x", "c"])
            .arg(&path)
            .output()
            .expect("gcc is required for this test (apt-get install gcc)");
        prop_assert!(output.status.success(), "{}\n{source}", String::from_utf8_lossy(&output.stderr));
    }
}

/// Cases per property: `MACH_PROPTEST_CASES`, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("MACH_PROPTEST_CASES").ok().and_then(|text| text.parse().ok()).unwrap_or(default)
}
