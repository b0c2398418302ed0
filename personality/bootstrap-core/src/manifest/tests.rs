use super::*;
use alloc::string::String;
use alloc::vec::Vec;
use proptest::prelude::*;

fn error(text: &str) -> (usize, usize, String) {
    let error = Manifest::parse(text).expect_err("the manifest must be refused");
    (error.line, error.column, alloc::format!("{}", error.kind))
}

fn kind(text: &str) -> ErrorKind<'_> {
    Manifest::parse(text).expect_err("the manifest must be refused").kind
}

fn bytes(argument: Argument) -> Vec<u8> {
    argument.bytes().collect()
}

const SYSTEM: &str = "\
# The personality (comment lines and blank lines are skipped)

virtio   registers=block,random host-port io-ports=0xcf8-0xcff,0x60 restart=yes
fs       registers=fs needs=block   # a comment after the fields
console  registers=console io-ports=0x3f8-0x3ff
init     needs=fs,console -- -v \"two words\" \"a \\\"quote\\\" and a \\\\\" x\"y z\"w
";

#[test]
fn a_manifest_lists_programs_with_their_fields() {
    let manifest = Manifest::parse(SYSTEM).unwrap();
    assert_eq!(manifest.len(), 4);
    let virtio = manifest.program(0).unwrap();
    assert_eq!((virtio.module(), virtio.line()), ("virtio", 3));
    assert_eq!(virtio.registers().collect::<Vec<_>>(), ["block", "random"]);
    assert!(virtio.host_port());
    assert_eq!(
        virtio.io_ports().collect::<Vec<_>>(),
        [IoPortRange { first: 0xcf8, last: 0xcff }, IoPortRange { first: 0x60, last: 0x60 }]
    );
    assert!(virtio.restart());
    assert!(virtio.may_register("block") && !virtio.may_register("fs") && !virtio.may_register("bloc"));
    let fs = manifest.program(1).unwrap();
    assert_eq!(fs.needs().collect::<Vec<_>>(), ["block"]);
    assert!(!fs.host_port());
    assert_eq!(fs.io_ports().count(), 0);
    assert!(fs.restart(), "a program that registers names is restarted by default");
    assert_eq!(fs.arguments().count(), 0);
    let init = manifest.program(3).unwrap();
    assert!(!init.restart(), "a program that registers nothing is not, by default");
    let arguments: Vec<Vec<u8>> = init.arguments().map(bytes).collect();
    assert_eq!(
        arguments,
        [&b"-v"[..], b"two words", b"a \"quote\" and a \\", b"xy zw"].map(<[u8]>::to_vec),
        "quotes group, escapes resolve, quoted parts join their word"
    );
    assert_eq!(manifest.provider("console"), Some(2));
    assert_eq!(manifest.provider("nothing"), None);
}

#[test]
fn restart_no_and_yes_override_the_default() {
    let manifest = Manifest::parse("server registers=s restart=no\nclient restart=yes").unwrap();
    assert!(!manifest.program(0).unwrap().restart());
    assert!(manifest.program(1).unwrap().restart());
}

#[test]
fn a_critical_program_is_never_restarted() {
    let manifest = Manifest::parse("proc registers=proc critical host-port\nmemory registers=memory").unwrap();
    let (proc, memory) = (manifest.program(0).unwrap(), manifest.program(1).unwrap());
    assert!(proc.critical() && !proc.restart(), "a critical server is not restarted");
    assert!(!memory.critical() && memory.restart());
    let refused = Manifest::parse("proc registers=proc critical restart=yes").unwrap_err();
    assert_eq!((refused.line, refused.column), (1, 30), "at restart=yes");
    assert!(alloc::format!("{refused}").contains("never restarted"), "{refused}");
    assert!(Manifest::parse("proc critical restart=no").unwrap().program(0).is_some());
    assert!(Manifest::parse("proc critical=yes").is_err());
    assert!(Manifest::parse("proc critical critical").is_err());
}

#[test]
fn power_off_is_granted_only_where_the_line_says_so_and_needs_the_host_port() {
    let manifest = Manifest::parse("proc registers=proc host-port power-off critical\nmemory host-port").unwrap();
    assert!(manifest.program(0).unwrap().power_off());
    assert!(!manifest.program(1).unwrap().power_off(), "the host port alone grants no power-off");
    let refused = Manifest::parse("proc registers=proc power-off").unwrap_err();
    assert_eq!((refused.line, refused.column), (1, 21), "at power-off");
    assert_eq!(refused.kind, ErrorKind::PowerOffWithoutHostPort);
    assert!(alloc::format!("{refused}").contains("needs host-port"), "{refused}");
    assert_eq!(
        Manifest::parse("proc host-port power-off=yes").unwrap_err().kind,
        ErrorKind::UnexpectedValue("power-off")
    );
    assert_eq!(
        Manifest::parse("proc host-port power-off power-off").unwrap_err().kind,
        ErrorKind::RepeatedField("power-off")
    );
}

#[test]
fn an_empty_manifest_starts_nothing() {
    let manifest = Manifest::parse("# nothing\n\n   \n").unwrap();
    assert!(manifest.is_empty());
    assert_eq!(manifest.start_order().1, 0);
}

#[test]
fn bad_lines_are_refused_with_their_line_and_column() {
    let cases: &[(&str, (usize, usize), &str)] = &[
        ("a\nb unknown=1", (2, 3), "`unknown=1` is not a field"),
        ("a registers=x registers=y", (1, 15), "`registers` is given twice"),
        ("a registers", (1, 3), "`registers` needs a value"),
        ("a host-port=yes", (1, 3), "`host-port` takes no value"),
        ("a registers=x,,y", (1, 3), "`` is not a name"),
        ("a registers=x\"y\"", (1, 3), "quotes are allowed only in the arguments"),
        ("a needs=a;b", (1, 3), "`a;b` is not a name"),
        ("a io-ports=0x3ff-0x3f8", (1, 3), "`0x3ff-0x3f8` is not a port range"),
        ("a io-ports=65536", (1, 3), "`65536` is not a port range"),
        ("a io-ports=0x", (1, 3), "`0x` is not a port range"),
        ("a io-ports=1-2-3", (1, 3), "`1-2-3` is not a port range"),
        ("a restart=maybe", (1, 3), "restart=maybe: the value is yes or no"),
        ("  -- x", (1, 3), "`--` is not a module name"),
        ("bad/name", (1, 1), "`bad/name` is not a module name"),
        ("a -- \"open", (1, 6), "this quote is not closed"),
        ("a -- \"\\n\"", (1, 7), "a backslash may only precede"),
        ("a\n b registers=x\nc registers=y,x", (3, 3), "`x` is registered by the program on line 2 already"),
        ("a registers=x,x", (1, 3), "`x` is registered by the program on line 1 already"),
        ("a needs=nobody", (1, 3), "needs `nobody`, which no program registers"),
    ];
    for &(text, (line, column), message) in cases {
        let (got_line, got_column, got_message) = error(text);
        assert_eq!((got_line, got_column), (line, column), "where in {text:?} ({got_message})");
        assert!(got_message.contains(message), "{text:?}: {got_message:?} lacks {message:?}");
    }
}

#[test]
fn the_error_displays_as_line_column_message() {
    let shown = alloc::format!("{}", Manifest::parse("a\nb needs=zz").unwrap_err());
    assert_eq!(shown, "2:3: needs `zz`, which no program registers");
}

#[test]
fn long_module_names_and_names_are_refused() {
    let longest = "m".repeat(MODULE_NAME_MAX);
    assert!(Manifest::parse(&longest).is_ok());
    assert!(matches!(kind(&alloc::format!("{longest}m")), ErrorKind::BadModuleName(_)));
    let name = "n".repeat(NAME_LENGTH_MAX);
    assert!(Manifest::parse(&alloc::format!("a registers={name}")).is_ok());
    assert!(matches!(kind(&alloc::format!("a registers={name}n")), ErrorKind::BadName(_)));
}

#[test]
fn every_limit_is_refused_not_cut() {
    let names = |count: usize| (0..count).map(|index| alloc::format!("n{index}")).collect::<Vec<_>>().join(",");
    assert!(Manifest::parse(&alloc::format!("a registers={}", names(NAMES_PER_LIST_MAX))).is_ok());
    assert_eq!(kind(&alloc::format!("a registers={}", names(NAMES_PER_LIST_MAX + 1))), ErrorKind::TooManyNames);
    let ranges = |count: usize| (0..count).map(|index| alloc::format!("{index}")).collect::<Vec<_>>().join(",");
    assert!(Manifest::parse(&alloc::format!("a io-ports={}", ranges(IO_RANGES_MAX))).is_ok());
    assert_eq!(kind(&alloc::format!("a io-ports={}", ranges(IO_RANGES_MAX + 1))), ErrorKind::TooManyIoRanges);
    let arguments = |count: usize| "x ".repeat(count);
    assert!(Manifest::parse(&alloc::format!("a -- {}", arguments(ARGUMENTS_MAX))).is_ok());
    assert_eq!(kind(&alloc::format!("a -- {}", arguments(ARGUMENTS_MAX + 1))), ErrorKind::TooManyArguments);
    // Each argument counts its bytes and a NUL.
    let long = "y".repeat(ARGUMENT_BYTES_MAX / 2 - 1);
    assert!(Manifest::parse(&alloc::format!("a -- {long} {long}")).is_ok());
    assert_eq!(kind(&alloc::format!("a -- {long} {long}y")), ErrorKind::ArgumentsTooLong);
    let programs = |count: usize| (0..count).map(|index| alloc::format!("p{index}\n")).collect::<String>();
    assert_eq!(Manifest::parse(&programs(PROGRAMS_MAX)).unwrap().len(), PROGRAMS_MAX);
    let (line, _, _) = error(&programs(PROGRAMS_MAX + 1));
    assert_eq!((line, kind(&programs(PROGRAMS_MAX + 1))), (PROGRAMS_MAX + 1, ErrorKind::TooManyPrograms));
}

#[test]
fn bytes_that_are_not_utf8_are_located() {
    let error = Manifest::parse_bytes(b"a\nbc \xff d").unwrap_err();
    assert_eq!((error.line, error.column, error.kind), (2, 4, ErrorKind::NotUtf8));
    assert!(Manifest::parse_bytes(b"a registers=x").is_ok());
}

#[test]
fn programs_start_after_the_programs_whose_names_they_need() {
    // Listed in the wrong order on purpose: the order follows the needs.
    let manifest = Manifest::parse(
        "proc needs=fs,memory registers=proc\n\
         fs needs=block registers=fs\n\
         client\n\
         memory registers=memory\n\
         virtio registers=block\n",
    )
    .unwrap();
    let (order, count) = manifest.start_order();
    let modules: Vec<&str> = order[..count].iter().map(|&index| manifest.program(index).unwrap().module()).collect();
    assert_eq!(modules, ["client", "memory", "virtio", "fs", "proc"]);
    // At run time: nothing registered yet, so only those without needs.
    let mut started = StartedSet::default();
    let nothing = |_: &str| false;
    assert_eq!(manifest.next_to_start(&started, nothing), Some(2));
    started.insert(2);
    assert_eq!(manifest.next_to_start(&started, nothing), Some(3));
    started.insert(3);
    assert_eq!(manifest.next_to_start(&started, nothing), Some(4));
    started.insert(4);
    assert_eq!(manifest.next_to_start(&started, nothing), None, "fs waits for block");
    assert_eq!(manifest.next_to_start(&started, |name| name == "block"), Some(1));
}

#[test]
fn cycles_are_refused_at_the_line_that_closes_them() {
    assert_eq!(
        error("a registers=x needs=x"),
        (
            1,
            15,
            String::from(
                "needs `x`, whose program (line 1) waits, through its own needs, for this one: neither would start"
            )
        )
    );
    assert_eq!(kind("a registers=x needs=y\nb registers=y needs=x"), ErrorKind::Cycle { name: "y", provider_line: 2 });
    let three = "a registers=x needs=z\nb registers=y needs=x\nc registers=z needs=y\nd needs=x";
    assert_eq!(error(three).0, 1);
    assert!(matches!(kind(three), ErrorKind::Cycle { name: "z", provider_line: 3 }));
}

/// A random manifest: program `i` registers `n{i}` and needs some of the
/// other programs' names.
fn random_manifest() -> impl Strategy<Value = Vec<Vec<usize>>> {
    (1usize..12).prop_flat_map(|count| proptest::collection::vec(proptest::collection::vec(0..count, 0..3), count))
}

fn render(needs: &[Vec<usize>]) -> String {
    let mut text = String::new();
    for (index, needed) in needs.iter().enumerate() {
        text.push_str(&alloc::format!("p{index} registers=n{index}"));
        let mut names: Vec<String> = needed.iter().map(|other| alloc::format!("n{other}")).collect();
        names.dedup();
        if !names.is_empty() {
            text.push_str(&alloc::format!(" needs={}", names.join(",")));
        }
        text.push('\n');
    }
    text
}

/// The model: a cycle exists when some program reaches itself.
fn has_cycle(needs: &[Vec<usize>]) -> bool {
    (0..needs.len()).any(|start| {
        let mut seen = alloc::vec![false; needs.len()];
        let mut stack: Vec<usize> = needs[start].clone();
        while let Some(next) = stack.pop() {
            if next == start {
                return true;
            }
            if !seen[next] {
                seen[next] = true;
                stack.extend(needs[next].iter().copied());
            }
        }
        false
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("MACH_PROPTEST_CASES").ok().and_then(|value| value.parse().ok()).unwrap_or(256)
    ))]
    /// Against a model: refused exactly when the needs have a cycle; else
    /// every program starts once, after every program whose name it needs.
    #[test]
    fn the_start_order_respects_every_need(needs in random_manifest()) {
        let text = render(&needs);
        match Manifest::parse(&text) {
            Err(error) => {
                prop_assert!(matches!(error.kind, ErrorKind::Cycle { .. }), "{}", error);
                prop_assert!(has_cycle(&needs));
            }
            Ok(manifest) => {
                prop_assert!(!has_cycle(&needs));
                let (order, count) = manifest.start_order();
                prop_assert_eq!(count, needs.len());
                let position = |program: usize| order[..count].iter().position(|&index| index == program);
                for (index, needed) in needs.iter().enumerate() {
                    for &other in needed {
                        prop_assert!(position(other) < position(index), "p{} before p{}", other, index);
                    }
                }
            }
        }
    }

    /// Arbitrary text never panics the parser, and a refusal points inside the text.
    #[test]
    fn any_text_is_parsed_or_refused_with_a_location(text in "[a-z=,\" \\\\#\\-\n0-9x]{0,200}") {
        if let Err(error) = Manifest::parse(&text) {
            prop_assert!(error.line >= 1 && error.line <= text.split('\n').count());
            prop_assert!(error.column >= 1);
        }
    }
}
