//! The definition reader: what it accepts, and a located error for each
//! thing it refuses (never a panic, whatever the input).

use mach_idl::model::{Direction, Element, FieldType, Integer, PortDisposition, Type};
use mach_idl::{parse_interface, DefinitionError};
use proptest::prelude::*;

const KV: &str = include_str!("../../examples/kv.defs");

fn refused(source: &str) -> DefinitionError {
    match parse_interface(source) {
        Ok(interface) => panic!("accepted: {interface:?}"),
        Err(error) => error,
    }
}

fn assert_refused(source: &str, line: usize, message_part: &str) {
    let error = refused(source);
    assert_eq!(error.line, line, "{error}");
    assert!(error.message.contains(message_part), "`{}` does not mention `{message_part}`", error.message);
}

#[test]
fn the_kv_example_parses_into_its_model() {
    let interface = parse_interface(KV).unwrap();
    assert_eq!(interface.name, "kv");
    assert_eq!(interface.base, 4200);
    assert_eq!(interface.id_count, 12);
    assert_eq!(interface.errors.len(), 3);
    assert_eq!(interface.errors[1].name, "store_full");
    assert_eq!(interface.errors[1].code, 2);
    let get = &interface.routines[1];
    assert_eq!((get.name.as_str(), get.id, get.has_reply), ("get", 4201, true));
    assert_eq!(get.errors, vec!["not_found".to_string()]);
    assert_eq!(get.arguments[0].kind, Type::String(64));
    assert_eq!(get.arguments[1].direction, Direction::Out);
    assert_eq!(get.arguments[1].kind, Type::Bytes(512));
    let add = interface.routines.iter().find(|routine| routine.name == "add").unwrap();
    assert_eq!(add.arguments[1].kind, Type::Integer(Integer::I64));
    let watch = interface.routines.iter().find(|routine| routine.name == "watch").unwrap();
    assert_eq!(watch.arguments[0].kind, Type::Port { disposition: PortDisposition::MoveSend, optional: false });
    assert_eq!(watch.doc, vec!["Hands the server a send right to keep (given back by unwatch).".to_string()]);
    let log = interface.routines.iter().find(|routine| routine.name == "log").unwrap();
    assert!(!log.has_reply);
    assert_eq!(log.id, 4209);
}

#[test]
fn message_sizes_are_bounded_by_the_declared_bounds() {
    let interface = parse_interface(KV).unwrap();
    let put = &interface.routines[0];
    // header 24 + string (4 + 64) + bytes (4 + 512)
    assert_eq!(put.message_size_max(Direction::In), 24 + 68 + 516);
    // header 24 + return code 4
    assert_eq!(put.message_size_max(Direction::Out), 28);
    let watch = interface.routines.iter().find(|routine| routine.name == "watch").unwrap();
    assert_eq!(watch.message_size_max(Direction::In), 24 + 4 + 16);
    assert_eq!(put.buffer_size() % 8, 0);
    assert!(interface.buffer_size() >= put.buffer_size());
}

#[test]
fn comments_hex_and_skip_are_understood() {
    let interface = parse_interface(
        "/* a\n block */ subsystem s 0x1000; // line\nskip; routine r(in a: u8, out b: bool); skip; skip;\nroutine t();",
    )
    .unwrap();
    assert_eq!(interface.base, 4096);
    assert_eq!(interface.routines[0].id, 4097);
    assert_eq!(interface.routines[1].id, 4100);
    assert_eq!(interface.id_count, 5);
}

#[test]
fn each_mistake_is_reported_where_it_is() {
    assert_refused("routine r();", 1, "expected `subsystem`");
    assert_refused("subsystem Kv 1000;", 1, "snake_case");
    assert_refused("subsystem kv 0;", 1, "first message id");
    assert_refused("subsystem kv 1000\nroutine r();", 2, "expected `;`");
    assert_refused("subsystem kv 1000;\nroutine r();\nroutine r();", 3, "defined twice");
    assert_refused("subsystem kv 1000;\nroutine type();", 2, "reserved word");
    assert_refused("subsystem kv 1000;\nroutine new();", 2, "clash with a client method");
    assert_refused("subsystem kv 1000;\nroutine r(in a: u8, in a: u8);", 2, "appears twice");
    assert_refused("subsystem kv 1000;\nroutine r(in idl_x: u8);", 2, "reserved");
    assert_refused("subsystem kv 1000;\nroutine r(in a: float);", 2, "not a type");
    assert_refused("subsystem kv 1000;\nroutine r(in a: port<steal>);", 2, "not a disposition");
    assert_refused("subsystem kv 1000;\nroutine r(in a: bytes<0>);", 2, "bound");
    assert_refused("subsystem kv 1000;\nroutine r(in a: string<70000>);", 2, "bound");
    assert_refused("subsystem kv 1000;\nroutine r(out a: port<copy_send>);", 2, "out port must be");
    assert_refused("subsystem kv 1000;\nsimpleroutine r(out a: u8);", 2, "no out arguments");
    assert_refused("subsystem kv 1000;\nerror e = 1;\nsimpleroutine r() errors(e);", 3, "no errors");
    assert_refused("subsystem kv 1000;\nroutine r() errors(missing);", 2, "not declared");
    assert_refused("subsystem kv 1000;\nerror e = 1;\nroutine r() errors(e, e);", 3, "listed twice");
    assert_refused("subsystem kv 1000;\nerror a = 1;\nerror b = 1;", 3, "already `a`");
    assert_refused("subsystem kv 1000;\nerror a = 1;\nerror a = 2;", 3, "declared twice");
    assert_refused("subsystem kv 1000;\nerror a = 0;", 2, "0 is success");
    assert_refused("subsystem kv 1000;\nroutine r(in a: bytes<65000>, in b: bytes<1000>);", 2, "more than a message");
    assert_refused("subsystem kv 1000; /* open", 1, "not closed");
    assert_refused("subsystem kv 1000;\nerror e = 1 \"open;", 2, "not closed");
    assert_refused("subsystem kv 1000;\n$", 2, "unexpected character");
    assert_refused("subsystem kv 1000;\nroutine r(in a: u8", 2, "expected `)`");
    assert_refused("subsystem kv 1000;\nroutine r(inout a: u8);", 2, "`in` or `out`");
    assert_refused("subsystem kv 99999999999;", 1, "first message id");
    assert_refused("subsystem kv 1000;\nroutine r(in data: bytes<4>, in data_length: u32);", 2, "C length parameter");
    assert_refused("subsystem kv 1000;\nroutine r(in blob_size: u32, in blob: ool<4>);", 2, "C length parameter");
    assert_refused("subsystem kv 1000;\nroutine r(in size: u32);", 2, "reserved word");
    assert_refused("subsystem kv 1000;\nroutine client_init();", 2, "clash");
    assert_refused("subsystem mach_idl 1000;", 1, "C runtime");
    assert_refused("subsystem kv 1000;\nroutine r(in uint8_t: u8);", 2, "C type names");
    let ports: Vec<String> = (0..257).map(|index| format!("in p{index}: port<copy_send>")).collect();
    assert_refused(&format!("subsystem kv 1000;\nroutine r({});", ports.join(", ")), 2, "more than the 256");
    let many: String = (0..101).map(|index| format!("routine r{index}();\n")).collect();
    assert_refused(&format!("subsystem kv 1000;\n{many}"), 102, "at most 100");
}

#[test]
fn structs_arrays_optional_ports_and_deferrable_routines_parse() {
    let interface = parse_interface(
        "subsystem fs 3000;\n\
         // A time.\n\
         struct timespec { seconds: i64, nanoseconds: u32 };\n\
         struct stat { mode: u32, times: [timespec; 3], name: [u8; 6], inner: timespec, };\n\
         routine a(in many: array<stat, 4>, in ids: array<u16, 10>, out one: stat);\n\
         deferrable routine b(in watcher: optional port<move_send>, out back: optional port<move_send>);",
    )
    .unwrap();
    assert_eq!(interface.structs.len(), 2);
    let timespec = &interface.structs[0];
    assert_eq!((timespec.name.as_str(), timespec.wire_size), ("timespec", 12));
    assert_eq!(timespec.doc, vec!["A time.".to_string()]);
    let stat = &interface.structs[1];
    // mode 4 + three timespecs 36 + six bytes packed and padded 8 + timespec 12
    assert_eq!(stat.wire_size, 4 + 36 + 8 + 12);
    assert!(
        matches!(stat.fields[1].kind, FieldType::Array { element: Element::Struct(reference), count: 3 } if reference.index == 0)
    );
    assert_eq!(stat.fields[2].kind, FieldType::Array { element: Element::Integer(Integer::U8), count: 6 });
    let a = &interface.routines[0];
    assert!(matches!(a.arguments[0].kind, Type::Array { element: Element::Struct(_), bound: 4 }));
    // header + count + 4 stats, then count + ten u16 packed (20 bytes)
    assert_eq!(a.message_size_max(Direction::In), 24 + 4 + 4 * 60 + 4 + 20);
    assert!(matches!(a.arguments[2].kind, Type::Struct(reference) if reference.wire_size == 60));
    let b = &interface.routines[1];
    assert!(b.deferrable && !a.deferrable);
    assert_eq!(b.arguments[0].kind, Type::Port { disposition: PortDisposition::MoveSend, optional: true });
}

#[test]
fn each_mistake_in_the_new_syntax_is_reported_where_it_is() {
    let base = "subsystem kv 1000;\n";
    let cases: &[(&str, usize, &str)] = &[
        ("struct s {};", 2, "a field's name"),
        ("struct s { a: u8 }", 2, "expected `;`"),
        ("struct s { a: u8, a: u8 };", 2, "appears twice"),
        ("struct u32 { a: u8 };", 2, "already names a type"),
        ("struct array { a: u8 };", 2, "already names a type"),
        ("struct s { a: u8 };\nstruct s { b: u8 };", 3, "declared twice"),
        ("struct s { a: t };", 2, "declared before this point"),
        ("struct s { a: s };", 2, "declared before this point"),
        ("struct s { a: [u8; 0] };", 2, "length"),
        ("struct s { a: [u8, 3] };", 2, "expected `;`"),
        ("struct s { a: [u8; 65536], b: [u8; 8] };", 2, "more than a message"),
        ("struct s { type: u8 };", 2, "reserved word"),
        ("struct server { a: u8 };", 2, "C server"),
        ("routine r(in a: array<u8>);", 2, "expected `,`"),
        ("routine r(in a: array<u8, 0>);", 2, "array bound"),
        ("routine r(in a: array<bytes, 3>);", 2, "integer type or a struct"),
        ("routine r(in a: array<u64, 9000>);", 2, "more than a message"),
        ("routine r(in a: optional u32);", 2, "only a port can be optional"),
        ("routine r(in a: optional port<steal>);", 2, "not a disposition"),
        ("routine r(out a: optional port<copy_send>);", 2, "out port must be"),
        ("routine r(in ids: array<u8, 3>, in ids_count: u32);", 2, "C length parameter"),
        ("routine r(in context: u32);", 2, "context"),
        ("deferrable simpleroutine r();", 2, "no reply to defer"),
        ("deferrable r();", 2, "`routine` after `deferrable`"),
        ("deferrable routine read();\nroutine read_reply();", 3, "deferred reply"),
        ("deferrable routine poll();\nroutine send_poll();", 3, "split call"),
        ("routine receive_poll();\ndeferrable routine poll();", 2, "split call"),
        ("routine into_parts();", 2, "clash"),
        ("struct pending_r { a: u8 };\ndeferrable routine r();", 3, "PendingR"),
        ("struct r_reply { a: u8 };\nroutine r(out a: u8, out b: u8);", 3, "RReply"),
        ("struct error { a: u8 };", 2, "every interface"),
        ("struct client_type { a: u8 };\nstruct clientype { a: u8 };", 2, ""),
        ("routine dispatch();", 2, "clash"),
    ];
    for (text, line, message) in cases {
        let source = format!("{base}{text}");
        if message.is_empty() {
            assert!(parse_interface(&source).is_ok(), "{source}");
            continue;
        }
        let error = refused(&source);
        assert!(error.line == *line && error.message.contains(message), "{source}\ngave {error}");
    }
    assert_refused("subsystem kv 60;", 1, "notification ids");
    assert_refused("subsystem kv 127;", 1, "notification ids");
    assert!(parse_interface("subsystem kv 128;").is_ok());
    assert!(parse_interface("subsystem kv 1;").is_err());
}

#[test]
fn the_error_display_is_line_colon_column() {
    let error = refused("subsystem kv 1000;\n  routine r(in a: float);");
    assert_eq!(error.to_string(), "2:19: `float` is not a type");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = parse_interface(&text);
    }

    #[test]
    fn token_soup_never_panics(tokens in proptest::collection::vec(prop_oneof![
        Just("subsystem"), Just("routine"), Just("simpleroutine"), Just("error"), Just("skip"), Just("errors"),
        Just("in"), Just("out"), Just("u8"), Just("bytes"), Just("string"), Just("port"), Just("ool"),
        Just("move_send"), Just("x"), Just("kv"), Just("7"), Just("0x10"), Just("1000"), Just("\"text\""),
        Just("struct"), Just("deferrable"), Just("optional"), Just("array"), Just("s"), Just("u64"), Just("bool"),
        Just(";"), Just("("), Just(")"), Just(","), Just(":"), Just("<"), Just(">"), Just("="),
        Just("{"), Just("}"), Just("["), Just("]"),
    ], 0..60)) {
        let source = tokens.join(" ");
        if let Ok(interface) = parse_interface(&source) {
            // Whatever parses also generates.
            let _ = mach_idl::rust::generate(&interface, "soup.defs");
            let _ = mach_idl::c::generate(&interface, "soup.defs");
        }
    }
}

/// Cases per property: `MACH_PROPTEST_CASES` (set by `scripts/fuzz.d/idl`
/// for long runs), else a default that keeps the suite fast.
fn cases(default: u32) -> u32 {
    std::env::var("MACH_PROPTEST_CASES").ok().and_then(|text| text.parse().ok()).unwrap_or(default)
}
