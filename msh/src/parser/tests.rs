//! Parser tests: trees for typical text, errors, and the round trip
//! parse → print → parse over a corpus and over random trees.

use alloc::rc::Rc;
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

use super::*;
use crate::printer::print_program;

fn parse_text(text: &str) -> Program {
    match parse(text.as_bytes(), true) {
        Ok(program) => program,
        Err(error) => panic!("{text:?}: {error}"),
    }
}

fn literal(text: &str) -> WordPart {
    WordPart::Literal(text.as_bytes().to_vec())
}

fn word(text: &str) -> Word {
    Word::literal(text.as_bytes())
}

fn simple(words: &[&str]) -> Command {
    Command::Simple(SimpleCommand { words: words.iter().map(|text| word(text)).collect(), ..Default::default() })
}

fn single(command: Command) -> Program {
    Program {
        items: vec![Item {
            list: AndOr { first: Pipeline { negated: false, commands: vec![command] }, rest: vec![] },
            asynchronous: false,
        }],
    }
}

fn parameter(name: &str, operator: ParameterOperator) -> WordPart {
    WordPart::Parameter(ParameterExpansion { name: name.as_bytes().to_vec(), operator })
}

/// parse(print(parse(text))) == parse(text), and printing is stable.
fn assert_round_trip(text: &str) {
    let tree = parse_text(text);
    let printed = print_program(&tree);
    let again = match parse(&printed, true) {
        Ok(again) => again,
        Err(error) => panic!("{text:?} printed as {:?} does not parse: {error}", String::from_utf8_lossy(&printed)),
    };
    assert_eq!(again, tree, "{text:?} printed as {:?}", String::from_utf8_lossy(&printed));
    assert_eq!(print_program(&again), printed);
}

use std::string::String;

#[test]
fn simple_commands_pipelines_and_lists() {
    assert_eq!(parse_text("echo hello world"), single(simple(&["echo", "hello", "world"])));
    let program = parse_text("a | b && ! c || d &\ne; f");
    assert_eq!(program.items.len(), 3);
    assert!(program.items[0].asynchronous);
    let list = &program.items[0].list;
    assert_eq!(list.first.commands.len(), 2);
    assert_eq!(list.rest.len(), 2);
    assert_eq!(list.rest[0].0, Connector::And);
    assert!(list.rest[0].1.negated);
    assert_eq!(list.rest[1].0, Connector::Or);
}

#[test]
fn assignments_only_before_the_command_name() {
    let program = parse_text("A=1 B=x$y cmd C=2");
    let Command::Simple(command) = &program.items[0].list.first.commands[0] else { panic!() };
    assert_eq!(command.assignments.len(), 2);
    assert_eq!(command.assignments[1].value.parts, vec![literal("x"), parameter("y", ParameterOperator::Plain)]);
    assert_eq!(command.words, vec![word("cmd"), word("C=2")]);
}

#[test]
fn quotes_and_escapes() {
    let program = parse_text(r#"echo 'a b' "c $d \$ \x" \e"#);
    let Command::Simple(command) = &program.items[0].list.first.commands[0] else { panic!() };
    assert_eq!(command.words[1].parts, vec![WordPart::SingleQuoted(b"a b".to_vec())]);
    assert_eq!(
        command.words[2].parts,
        vec![WordPart::DoubleQuoted(vec![literal("c "), parameter("d", ParameterOperator::Plain), literal(" $ \\x")])]
    );
    assert_eq!(command.words[3].parts, vec![WordPart::Escaped(b'e')]);
}

#[test]
fn parameter_expansions() {
    let program = parse_text("echo ${a:-x y} ${#b} ${c%%*.c} ${#} $10 ${10} $$");
    let Command::Simple(command) = &program.items[0].list.first.commands[0] else { panic!() };
    assert_eq!(
        command.words[1].parts,
        vec![parameter("a", ParameterOperator::Default { colon: true, word: word("x y") })]
    );
    assert_eq!(command.words[2].parts, vec![parameter("b", ParameterOperator::Length)]);
    assert_eq!(
        command.words[3].parts,
        vec![parameter("c", ParameterOperator::RemoveSuffix { longest: true, pattern: word("*.c") })]
    );
    assert_eq!(command.words[4].parts, vec![parameter("#", ParameterOperator::Plain)]);
    assert_eq!(command.words[5].parts, vec![parameter("1", ParameterOperator::Plain), literal("0")]);
    assert_eq!(command.words[6].parts, vec![parameter("10", ParameterOperator::Plain)]);
    assert_eq!(command.words[7].parts, vec![parameter("$", ParameterOperator::Plain)]);
}

#[test]
fn command_substitutions_and_arithmetic() {
    let program = parse_text("echo $(cd /; ls) `echo \\`x\\`` $((1 + (2 * 3))) $( (sub) )");
    let Command::Simple(command) = &program.items[0].list.first.commands[0] else { panic!() };
    let WordPart::CommandSubstitution(inner) = &command.words[1].parts[0] else { panic!() };
    assert_eq!(inner.items.len(), 2);
    let WordPart::CommandSubstitution(inner) = &command.words[2].parts[0] else { panic!() };
    let Command::Simple(nested) = &inner.items[0].list.first.commands[0] else { panic!() };
    assert!(matches!(nested.words[1].parts[0], WordPart::CommandSubstitution(_)));
    assert_eq!(command.words[3].parts, vec![WordPart::Arithmetic(vec![literal("1 + (2 * 3)")])]);
    let WordPart::CommandSubstitution(inner) = &command.words[4].parts[0] else { panic!() };
    assert!(matches!(inner.items[0].list.first.commands[0], Command::Compound(CompoundCommand::Subshell(_), _)));
}

#[test]
fn redirections() {
    let program = parse_text("cmd <in >out 2>>log 2>&1 3<>rw >|f 0<&-");
    let Command::Simple(command) = &program.items[0].list.first.commands[0] else { panic!() };
    let operators: Vec<_> =
        command.redirections.iter().map(|redirection| (redirection.descriptor, redirection.operator)).collect();
    assert_eq!(
        operators,
        vec![
            (None, RedirectionOperator::Input),
            (None, RedirectionOperator::Output),
            (Some(2), RedirectionOperator::Append),
            (Some(2), RedirectionOperator::DuplicateOutput),
            (Some(3), RedirectionOperator::ReadWrite),
            (None, RedirectionOperator::Clobber),
            (Some(0), RedirectionOperator::DuplicateInput),
        ]
    );
}

#[test]
fn here_documents() {
    let program =
        parse_text("cat <<EOF; cat <<-'END' | tr a b\nhello $name\n\\$x\nEOF\n\t\tliteral $x\n\tEND\necho after\n");
    assert_eq!(program.items.len(), 3);
    let Command::Simple(first) = &program.items[0].list.first.commands[0] else { panic!() };
    let RedirectionTarget::HereDocument(document) = &first.redirections[0].target else { panic!() };
    assert!(!document.quoted);
    assert_eq!(document.body, vec![literal("hello "), parameter("name", ParameterOperator::Plain), literal("\n$x\n")]);
    let Command::Simple(second) = &program.items[1].list.first.commands[0] else { panic!() };
    let RedirectionTarget::HereDocument(document) = &second.redirections[0].target else { panic!() };
    assert!(document.quoted && document.strip_tabs);
    assert_eq!(document.body, vec![literal("literal $x\n")]);
    assert_eq!(program.items[2].list.first.commands[0], simple(&["echo", "after"]));
}

#[test]
fn here_documents_inside_compound_commands_and_functions() {
    let program = parse_text("f() {\n  cat <<A\n  a\nA\n}\nwhile read x; do cat <<B; done <<C\nb\nB\nc\nC\n");
    let Command::Function(function) = &program.items[0].list.first.commands[0] else { panic!() };
    let CompoundCommand::Group(body) = &function.body.0 else { panic!() };
    let Command::Simple(cat) = &body.items[0].list.first.commands[0] else { panic!() };
    let RedirectionTarget::HereDocument(document) = &cat.redirections[0].target else { panic!() };
    assert_eq!(document.body, vec![literal("  a\n")]);
    let Command::Compound(CompoundCommand::Loop { body, .. }, redirections) = &program.items[1].list.first.commands[0]
    else {
        panic!()
    };
    let Command::Simple(cat) = &body.items[0].list.first.commands[0] else { panic!() };
    let RedirectionTarget::HereDocument(inner) = &cat.redirections[0].target else { panic!() };
    assert_eq!(inner.body, vec![literal("b\n")]);
    let RedirectionTarget::HereDocument(outer) = &redirections[0].target else { panic!() };
    assert_eq!(outer.body, vec![literal("c\n")]);
}

#[test]
fn compound_commands() {
    let program = parse_text(
        "if a; then b; elif c\nthen d; else e; fi\nwhile x; do y; done\nuntil x; do y; done\nfor i in 1 2; do echo $i; done\nfor j; do :; done\ncase $x in a|b) one;; (c) two;; *) ;; esac\n{ g; }\n(h)\n",
    );
    assert_eq!(program.items.len(), 8);
    let Command::Compound(CompoundCommand::If { branches, otherwise }, _) = &program.items[0].list.first.commands[0]
    else {
        panic!()
    };
    assert_eq!(branches.len(), 2);
    assert!(otherwise.is_some());
    let Command::Compound(CompoundCommand::For { words, .. }, _) = &program.items[4].list.first.commands[0] else {
        panic!()
    };
    assert!(words.is_none());
    let Command::Compound(CompoundCommand::Case { arms, .. }, _) = &program.items[5].list.first.commands[0] else {
        panic!()
    };
    assert_eq!(arms.len(), 3);
    assert_eq!(arms[0].patterns, vec![word("a"), word("b")]);
    assert!(arms[2].body.items.is_empty());
}

#[test]
fn reserved_words_only_in_command_position() {
    assert_eq!(parse_text("echo if then fi"), single(simple(&["echo", "if", "then", "fi"])));
    // After an assignment the reserved word is an ordinary command name.
    let program = parse_text("a=1 if");
    let Command::Simple(command) = &program.items[0].list.first.commands[0] else { panic!() };
    assert_eq!(command.words, vec![word("if")]);
    assert_eq!(parse_text("{ { echo a; } }").items.len(), 1);
    assert_eq!(parse_text("in x"), single(simple(&["in", "x"])));
}

#[test]
fn comments_and_line_continuations() {
    assert_eq!(parse_text("echo a # comment\n# whole line\n"), single(simple(&["echo", "a"])));
    assert_eq!(parse_text("echo a\\\nb c#d"), single(simple(&["echo", "ab", "c#d"])));
}

#[test]
fn incomplete_input_asks_for_more() {
    for text in [
        "if true; then",
        "echo 'open",
        "echo \"open",
        "while x; do y",
        "a &&",
        "a |",
        "case x in",
        "f() {",
        "cat <<EOF\nbody",
        "echo $(ls",
        "echo ${x",
        "echo `ls",
        "echo \\",
        "for i in a b",
        "(",
    ] {
        let error = parse(text.as_bytes(), false).expect_err(text);
        assert!(error.is_incomplete(), "{text:?}: {error}");
    }
}

#[test]
fn syntax_errors_name_the_token() {
    for (text, token) in [
        ("fi", "fi"),
        ("echo a; then", "then"),
        (";", ";"),
        ("echo )", ")"),
        ("if true; then fi", "fi"),
        ("{ }", "}"),
        ("echo a(b", "("),
        ("a && ;", ";"),
        ("a;;", ";;"),
    ] {
        let error = parse(text.as_bytes(), true).expect_err(text);
        assert_eq!(error.kind, ParseErrorKind::Unexpected(token.as_bytes().to_vec()), "{text:?}");
    }
    assert_eq!(parse(b"echo ${x!}", true).unwrap_err().kind, ParseErrorKind::BadSubstitution);
    assert_eq!(parse(b"echo a\n\necho )", true).unwrap_err().line, 3);
}

#[test]
fn nesting_is_bounded() {
    let deep = "(".repeat(10_000);
    assert!(parse(deep.as_bytes(), true).is_err());
    let deep = "$(".repeat(10_000);
    assert!(parse(format!("echo {deep}").as_bytes(), true).is_err());
    let deep = "${x:-".repeat(10_000);
    assert!(parse(format!("echo {deep}").as_bytes(), true).is_err());
}

use std::format;

#[test]
fn a_script_may_end_inside_a_here_document() {
    let program = parse(b"cat <<EOF\nno delimiter", true).unwrap();
    let Command::Simple(command) = &program.items[0].list.first.commands[0] else { panic!() };
    let RedirectionTarget::HereDocument(document) = &command.redirections[0].target else { panic!() };
    assert_eq!(document.body, vec![literal("no delimiter\n")]);
}

const CORPUS: &[&str] = &[
    "echo hello",
    "a=1 b=\"$a two\" env | grep -v x > /dev/null 2>&1 && echo ok || echo no &",
    "for f in *.c; do cc -c \"$f\" || exit 1; done",
    "case \"$1\" in\n  -h|--help) usage; exit 0;;\n  -*) echo \"bad option $1\" >&2; exit 2;;\n  *) ;;\nesac",
    "if [ -n \"${HOME:-}\" ]; then cd; elif test -d /tmp; then cd /tmp; else :; fi",
    "while read -r line; do printf '%s\\n' \"${line%%#*}\"; done < file",
    "f() { local_var=$1; shift; echo \"$@\"; return 3; }",
    "g() ( cd /; pwd ) > out",
    "x=$(( (1 + 2) * $y / 3 ))",
    "echo ${x#*/} ${x##*/} ${x%/*} ${x%%/*} ${#x} ${x:=d} ${x=d} ${x:?msg} ${x?} ${x:+alt} ${x+alt}",
    "echo \"${x:-\"quoted default\"}\" \"${x:-a}b\" \"${x}y\"",
    "cat <<EOF | sort\n$HOME `echo hi` $(echo there)\n\\$not \\\\ \\` end\nEOF",
    "cat <<'EOF'\n$literal `text` \\\nEOF",
    "cat <<-EOF\n\tindented\n\tEOF",
    "echo $(cat <<EOF\ninner\nEOF\n) after",
    "! true | false; echo $?",
    "{ echo a; echo b; } 2>&1 | cat",
    "until false; do break; done",
    "echo a\\ b 'c d' \"e f\" \\$g",
    "echo ~ ~/x ~root/y a=~",
    "x= y='' z=\"\"",
    "exec 3<&0 4>&- <>rw",
    "echo $1 $10 ${10} $@ \"$@\" $* $# $? $$ $! $- $0",
    "trap 'echo bye' EXIT",
    "for i\ndo\n  echo $i\ndone",
    "echo `echo \\`echo nested\\``",
    "[ \"$a\" = \"$b\" ] && echo same",
    "echo $(echo $(echo deep))",
    "echo \"$(echo \"inner quotes\")\"",
    "cmd >\"$out\" 2>\"${err}\"",
    "echo ${#} ${#@} ${##} ${@} ${*:-none}",
    "echo a#b '#' # comment",
    "(\n  echo in subshell\n)",
    "echo $((x+=2)) $(( $(echo 3) * 2 ))",
    "if (exit 1); then echo no; fi",
    ">empty",
    ">x if",
    "a=1 if",
    "echo ${x:-$(echo 'a)b')}",
    "case x in (x) echo one;; esac",
    "echo \"a\\\nb\"",
    "f() {\n  cat <<A\n  a\nA\n}",
    "cat <<\\'\n'\n",
    "cat <<\"a'b\"\na'b\n",
];

#[test]
fn corpus_round_trips() {
    for text in CORPUS {
        assert_round_trip(text);
    }
}

#[test]
fn printed_form_is_readable() {
    let printed = print_program(&parse_text("if a; then b; c; fi; for i in 1 2; do echo \"$i\"x; done"));
    assert_eq!(
        String::from_utf8(printed).unwrap(),
        "if a; then\n    b\n    c\nfi\nfor i in 1 2; do\n    echo \"$i\"x\ndone\n"
    );
}

// ---- random trees ------------------------------------------------------

fn bytes(pattern: &'static str) -> BoxedStrategy<Vec<u8>> {
    proptest::string::string_regex(pattern).unwrap().prop_map(String::into_bytes).boxed()
}

/// Merges adjacent literals, as the parser always produces them.
fn normalize(parts: Vec<WordPart>) -> Vec<WordPart> {
    let mut normal: Vec<WordPart> = Vec::new();
    for part in parts {
        if let WordPart::Literal(text) = &part {
            if text.is_empty() {
                continue;
            }
            if let Some(WordPart::Literal(previous)) = normal.last_mut() {
                previous.extend_from_slice(text);
                continue;
            }
        }
        normal.push(part);
    }
    normal
}

fn name() -> BoxedStrategy<Vec<u8>> {
    bytes("[a-z_][a-z0-9_]{0,3}").prop_filter("not reserved", |name| !RESERVED_WORDS.contains(&name.as_slice())).boxed()
}

fn parameter_name() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![name(), bytes("[@*?$!0-9]"), bytes("[1-9][0-9]")].boxed()
}

/// A parameter expansion whose words are printed in `inner` context.
fn parameter_expansion(depth: u32, quoted: bool) -> BoxedStrategy<WordPart> {
    let inner = move || brace_word(depth, quoted);
    let operator = prop_oneof![
        Just(ParameterOperator::Plain),
        Just(ParameterOperator::Length),
        (any::<bool>(), inner()).prop_map(|(colon, word)| ParameterOperator::Default { colon, word }),
        (any::<bool>(), inner()).prop_map(|(colon, word)| ParameterOperator::Assign { colon, word }),
        (any::<bool>(), inner()).prop_map(|(colon, word)| ParameterOperator::Error { colon, word }),
        (any::<bool>(), inner()).prop_map(|(colon, word)| ParameterOperator::Alternative { colon, word }),
        (any::<bool>(), inner()).prop_map(|(longest, pattern)| ParameterOperator::RemoveSuffix { longest, pattern }),
        (any::<bool>(), inner()).prop_map(|(longest, pattern)| ParameterOperator::RemovePrefix { longest, pattern }),
    ];
    (parameter_name(), operator)
        .prop_map(|(name, operator)| WordPart::Parameter(ParameterExpansion { name, operator }))
        .boxed()
}

/// The word of `${name op word}`.
fn brace_word(depth: u32, quoted: bool) -> BoxedStrategy<Word> {
    let mut choices: Vec<BoxedStrategy<WordPart>> = if quoted {
        vec![bytes("[a-z $`\"\\\\}']{1,4}").prop_map(WordPart::Literal).boxed(), double_quoted(depth).boxed()]
    } else {
        vec![
            bytes("[a-z ./*]{1,4}").prop_map(WordPart::Literal).boxed(),
            bytes("[a-z}$\\\\'\" ]").prop_map(|text| WordPart::Escaped(text[0])).boxed(),
            bytes("[a-z $\"]{0,3}").prop_map(WordPart::SingleQuoted).boxed(),
            double_quoted(depth).boxed(),
        ]
    };
    if depth > 0 {
        choices.push(parameter_expansion(depth - 1, quoted));
        choices.push(command_substitution(depth - 1));
    }
    proptest::collection::vec(proptest::strategy::Union::new(choices), 0..3)
        .prop_map(|parts| {
            let mut parts = normalize(parts);
            // A leading `#` or `%` would read as the longest-match operator.
            if let Some(WordPart::Literal(text)) = parts.first_mut() {
                text.retain(|byte| *byte != b'#' && *byte != b'%');
            }
            Word { parts: normalize(parts) }
        })
        .boxed()
}

fn double_quoted(depth: u32) -> BoxedStrategy<WordPart> {
    let mut choices: Vec<BoxedStrategy<WordPart>> =
        vec![bytes("[a-z $`\"\\\\}'\n]{1,4}").prop_map(WordPart::Literal).boxed()];
    if depth > 0 {
        choices.push(parameter_expansion(depth - 1, true));
        choices.push(command_substitution(depth - 1));
        choices.push(arithmetic(depth - 1));
    }
    proptest::collection::vec(proptest::strategy::Union::new(choices), 0..3)
        .prop_map(|parts| WordPart::DoubleQuoted(normalize(parts)))
        .boxed()
}

fn command_substitution(depth: u32) -> BoxedStrategy<WordPart> {
    program(depth, true).prop_map(WordPart::CommandSubstitution).boxed()
}

fn arithmetic(depth: u32) -> BoxedStrategy<WordPart> {
    let choices: Vec<BoxedStrategy<WordPart>> = vec![
        bytes("[0-9a-z +*/-]{1,6}").prop_map(WordPart::Literal).boxed(),
        name()
            .prop_map(|name| WordPart::Parameter(ParameterExpansion { name, operator: ParameterOperator::Plain }))
            .boxed(),
        command_substitution(depth),
    ];
    proptest::collection::vec(proptest::strategy::Union::new(choices), 0..3)
        .prop_map(|parts| WordPart::Arithmetic(normalize(parts)))
        .boxed()
}

/// An ordinary (unquoted-context) word with at least one part.
fn word_strategy(depth: u32) -> BoxedStrategy<Word> {
    let mut choices: Vec<BoxedStrategy<WordPart>> = vec![
        bytes("[a-z0-9_./*?~-]{1,5}").prop_map(WordPart::Literal).boxed(),
        bytes("[a-z ;&|<>()'\"\\\\$`#*]").prop_map(|text| WordPart::Escaped(text[0])).boxed(),
        bytes("[a-z $\"\\\\\n#;]{0,4}").prop_map(WordPart::SingleQuoted).boxed(),
        double_quoted(depth).boxed(),
    ];
    if depth > 0 {
        choices.push(parameter_expansion(depth - 1, false));
        choices.push(command_substitution(depth - 1));
        choices.push(arithmetic(depth - 1));
    }
    proptest::collection::vec(proptest::strategy::Union::new(choices), 1..4)
        .prop_map(|parts| Word { parts: normalize(parts) })
        .prop_filter("not empty", |word| !word.parts.is_empty())
        .boxed()
}

fn here_document(depth: u32) -> BoxedStrategy<HereDocument> {
    let line = move || {
        let mut choices: Vec<BoxedStrategy<WordPart>> =
            vec![bytes("[a-z $`\\\\\"']{0,5}").prop_map(WordPart::Literal).boxed()];
        if depth > 0 {
            choices.push(parameter_expansion(depth - 1, true));
            choices.push(command_substitution(depth - 1));
        }
        proptest::collection::vec(proptest::strategy::Union::new(choices), 0..3).prop_map(|mut parts| {
            parts.push(WordPart::Literal(b"\n".to_vec()));
            parts
        })
    };
    let quoted_line = bytes("[a-z $`\\\\\"']{0,6}").prop_map(|mut text| {
        text.push(b'\n');
        WordPart::Literal(text)
    });
    // The depth in the delimiter keeps a nested here-document's delimiter
    // line from ending the outer body early (which the language cannot avoid).
    let delimiter = bytes("[A-Z]{1,3}").prop_map(move |mut text| {
        text.push(b'0' + depth as u8);
        text
    });
    (
        delimiter,
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(line(), 0..3),
        proptest::collection::vec(quoted_line, 0..3),
    )
        .prop_map(|(delimiter, quoted, strip_tabs, lines, quoted_lines)| {
            let body = if quoted { normalize(quoted_lines) } else { normalize(lines.into_iter().flatten().collect()) };
            HereDocument { delimiter, quoted, strip_tabs, body }
        })
        .boxed()
}

fn redirection(depth: u32) -> BoxedStrategy<Redirection> {
    let operator = prop_oneof![
        Just(RedirectionOperator::Input),
        Just(RedirectionOperator::Output),
        Just(RedirectionOperator::Clobber),
        Just(RedirectionOperator::Append),
        Just(RedirectionOperator::ReadWrite),
        Just(RedirectionOperator::DuplicateInput),
        Just(RedirectionOperator::DuplicateOutput),
    ];
    prop_oneof![
        3 => (proptest::option::of(0u32..20), operator, word_strategy(depth)).prop_map(|(descriptor, operator, word)| {
            Redirection { descriptor, operator, target: RedirectionTarget::Word(word) }
        }),
        1 => (proptest::option::of(0u32..20), here_document(depth)).prop_map(|(descriptor, document)| Redirection {
            descriptor,
            operator: RedirectionOperator::HereDocument,
            target: RedirectionTarget::HereDocument(document),
        }),
    ]
    .boxed()
}

fn simple_command(depth: u32) -> BoxedStrategy<Command> {
    let assignment = (name(), proptest::option::of(word_strategy(depth)))
        .prop_map(|(name, value)| Assignment { name, value: value.unwrap_or_default() });
    (
        proptest::collection::vec(assignment, 0..2),
        proptest::collection::vec(word_strategy(depth), 0..3),
        proptest::collection::vec(redirection(depth), 0..2),
    )
        .prop_filter("a simple command has something", |(assignments, words, redirections)| {
            !(assignments.is_empty() && words.is_empty() && redirections.is_empty())
        })
        .prop_filter("a reserved first word needs something before it", |(assignments, words, redirections)| {
            let reserved = words.first().and_then(Word::as_literal).is_some_and(|text| RESERVED_WORDS.contains(&text));
            !reserved || !assignments.is_empty() || !redirections.is_empty()
        })
        .prop_map(|(assignments, words, redirections)| {
            Command::Simple(SimpleCommand { assignments, words, redirections })
        })
        .boxed()
}

fn compound(depth: u32) -> BoxedStrategy<CompoundCommand> {
    let body = move || program(depth, false);
    let case_arm = (proptest::collection::vec(word_strategy(depth), 1..3), program(depth, true))
        .prop_filter("esac cannot be a first pattern", |(patterns, _)| patterns[0].as_literal() != Some(b"esac"))
        .prop_map(|(patterns, body)| CaseArm { patterns, body });
    prop_oneof![
        body().prop_map(CompoundCommand::Group),
        body().prop_map(CompoundCommand::Subshell),
        (proptest::collection::vec((body(), body()), 1..3), proptest::option::of(body()))
            .prop_map(|(branches, otherwise)| CompoundCommand::If { branches, otherwise }),
        (any::<bool>(), body(), body()).prop_map(|(until, condition, body)| CompoundCommand::Loop {
            until,
            condition,
            body
        }),
        (name(), proptest::option::of(proptest::collection::vec(word_strategy(depth), 0..3)), body())
            .prop_map(|(name, words, body)| CompoundCommand::For { name, words, body }),
        (word_strategy(depth), proptest::collection::vec(case_arm, 0..3))
            .prop_map(|(word, arms)| CompoundCommand::Case { word, arms }),
    ]
    .boxed()
}

fn command(depth: u32) -> BoxedStrategy<Command> {
    if depth == 0 {
        return simple_command(0);
    }
    prop_oneof![
        3 => simple_command(depth),
        1 => (compound(depth - 1), proptest::collection::vec(redirection(depth - 1), 0..2))
            .prop_map(|(compound, redirections)| Command::Compound(compound, redirections)),
        1 => (name(), compound(depth - 1), proptest::collection::vec(redirection(depth - 1), 0..2)).prop_map(
            |(name, compound, redirections)| Command::Function(FunctionDefinition {
                name,
                body: Rc::new((compound, redirections))
            })
        ),
    ]
    .boxed()
}

fn program(depth: u32, allow_empty: bool) -> BoxedStrategy<Program> {
    let pipeline = (any::<bool>(), proptest::collection::vec(command(depth), 1..3))
        .prop_map(|(negated, commands)| Pipeline { negated, commands });
    let connector = prop_oneof![Just(Connector::And), Just(Connector::Or)];
    let and_or = (pipeline.clone(), proptest::collection::vec((connector, pipeline), 0..2))
        .prop_map(|(first, rest)| AndOr { first, rest });
    let item = (and_or, any::<bool>()).prop_map(|(list, asynchronous)| Item { list, asynchronous });
    proptest::collection::vec(item, if allow_empty { 0..3 } else { 1..3 }).prop_map(|items| Program { items }).boxed()
}

/// A quoted delimiter with a newline matches no line, so the document
/// runs to the end; printed with its delimiter line after the body, it read
/// back with that line in the body (found once by the proptest below).
#[test]
fn a_here_document_whose_delimiter_has_a_newline_prints_back_to_itself() {
    for text in [&b"<<'\n'"[..], b"cat <<'a\nb'\nbody\nmore\n"] {
        let tree = parse(text, true).unwrap();
        let printed = print_program(&tree);
        assert_eq!(parse(&printed, true).unwrap(), tree, "printed as {:?}", String::from_utf8_lossy(&printed));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn printed_trees_parse_back_to_themselves(tree in program(2, false)) {
        let printed = print_program(&tree);
        let parsed = parse(&printed, true);
        prop_assert!(parsed.is_ok(), "{:?} does not parse: {:?}", String::from_utf8_lossy(&printed), parsed);
        prop_assert_eq!(parsed.unwrap(), tree, "printed as {:?}", String::from_utf8_lossy(&printed));
    }

    #[test]
    fn arbitrary_text_never_panics(text in proptest::collection::vec(prop_oneof![
        Just(b'('), Just(b')'), Just(b'{'), Just(b'}'), Just(b'$'), Just(b'`'), Just(b'"'), Just(b'\''),
        Just(b'\\'), Just(b'\n'), Just(b' '), Just(b';'), Just(b'&'), Just(b'|'), Just(b'<'), Just(b'>'),
        Just(b'#'), Just(b'a'), Just(b'x'), Just(b'='), Just(b'-'), Just(b':'), Just(b'%'), any::<u8>()
    ], 0..60)) {
        for complete in [true, false] {
            if let Ok(tree) = parse(&text, complete) {
                let printed = print_program(&tree);
                let again = parse(&printed, true);
                prop_assert_eq!(again.as_ref().ok(), Some(&tree), "{:?} printed as {:?}",
                    String::from_utf8_lossy(&text), String::from_utf8_lossy(&printed));
            }
        }
    }
}
