//! Reading a `.defs` file: tokens, grammar, and the checks that make an
//! [`Interface`] safe to generate code from.
//!
//! ```text
//! file      := "subsystem" NAME INTEGER ";" item*
//! item      := "error" NAME "=" INTEGER [STRING] ";"
//!            | "struct" NAME "{" field ("," field)* [","] "}" ";"
//!            | ["deferrable"] "routine" NAME "(" [argument ("," argument)*] ")"
//!              ["errors" "(" NAME ("," NAME)* ")"] ";"
//!            | "simpleroutine" NAME "(" [argument ("," argument)*] ")" ";"
//!            | "skip" ";"
//! field     := NAME ":" (INTEGER_TYPE | STRUCT_NAME | "[" element ";" INTEGER "]")
//! argument  := ("in" | "out") NAME ":" type
//! type      := INTEGER_TYPE
//!            | "bytes" "<" INTEGER ">" | "string" "<" INTEGER ">" | "ool" "<" INTEGER ">"
//!            | ["optional"] "port" "<" DISPOSITION ">"
//!            | "array" "<" element "," INTEGER ">"
//!            | STRUCT_NAME
//! element   := INTEGER_TYPE | STRUCT_NAME
//! INTEGER_TYPE := "u8" | "u16" | "u32" | "u64" | "i8" | "i16" | "i32" | "i64" | "bool"
//! ```
//! Comments are `// ...` and `/* ... */`. Integers are decimal or `0x` hex.
//! A structure is used by its name after its declaration.

use crate::model::*;

/// A problem in a definition, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefinitionError {
    /// 1-based line (0 when the problem is the file as a whole).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl core::fmt::Display for DefinitionError {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(formatter, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for DefinitionError {}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Name(String),
    Integer(u64),
    Text(String),
    Symbol(char),
    End,
}

#[derive(Clone, Debug)]
struct Located {
    token: Token,
    line: usize,
    column: usize,
    /// The `//` comment lines right before the token (a routine's documentation).
    doc: Vec<String>,
}

fn error_at(line: usize, column: usize, message: impl Into<String>) -> DefinitionError {
    DefinitionError { line, column, message: message.into() }
}

fn tokenize(source: &str) -> Result<Vec<Located>, DefinitionError> {
    let characters: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut pending_doc: Vec<String> = Vec::new();
    let (mut index, mut line, mut column) = (0usize, 1usize, 1usize);
    let advance = |index: &mut usize, line: &mut usize, column: &mut usize, character: char| {
        *index += 1;
        if character == '\n' {
            *line += 1;
            *column = 1;
        } else {
            *column += 1;
        }
    };
    while index < characters.len() {
        let character = characters[index];
        let (start_line, start_column) = (line, column);
        if character.is_whitespace() {
            advance(&mut index, &mut line, &mut column, character);
        } else if character == '/' && characters.get(index + 1) == Some(&'/') {
            let mut comment = String::new();
            while index < characters.len() && characters[index] != '\n' {
                let skipped = characters[index];
                comment.push(skipped);
                advance(&mut index, &mut line, &mut column, skipped);
            }
            pending_doc.push(comment.trim_start_matches('/').trim().to_string());
        } else if character == '/' && characters.get(index + 1) == Some(&'*') {
            advance(&mut index, &mut line, &mut column, '/');
            advance(&mut index, &mut line, &mut column, '*');
            loop {
                match characters.get(index) {
                    None => return Err(error_at(start_line, start_column, "comment is not closed (missing */)")),
                    Some('*') if characters.get(index + 1) == Some(&'/') => {
                        advance(&mut index, &mut line, &mut column, '*');
                        advance(&mut index, &mut line, &mut column, '/');
                        break;
                    }
                    Some(&other) => advance(&mut index, &mut line, &mut column, other),
                }
            }
        } else if character.is_ascii_alphabetic() || character == '_' {
            let mut name = String::new();
            while let Some(&next) = characters.get(index) {
                if !(next.is_ascii_alphanumeric() || next == '_') {
                    break;
                }
                name.push(next);
                advance(&mut index, &mut line, &mut column, next);
            }
            tokens.push(Located {
                token: Token::Name(name),
                line: start_line,
                column: start_column,
                doc: std::mem::take(&mut pending_doc),
            });
        } else if character.is_ascii_digit() {
            let mut digits = String::new();
            while let Some(&next) = characters.get(index) {
                if !(next.is_ascii_alphanumeric() || next == '_') {
                    break;
                }
                digits.push(next);
                advance(&mut index, &mut line, &mut column, next);
            }
            let cleaned = digits.replace('_', "");
            let value = match cleaned.strip_prefix("0x").or_else(|| cleaned.strip_prefix("0X")) {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => cleaned.parse::<u64>(),
            }
            .map_err(|_| error_at(start_line, start_column, format!("`{digits}` is not an integer")))?;
            tokens.push(Located {
                token: Token::Integer(value),
                line: start_line,
                column: start_column,
                doc: std::mem::take(&mut pending_doc),
            });
        } else if character == '"' {
            advance(&mut index, &mut line, &mut column, '"');
            let mut text = String::new();
            loop {
                match characters.get(index) {
                    None | Some('\n') => return Err(error_at(start_line, start_column, "string is not closed")),
                    Some('"') => {
                        advance(&mut index, &mut line, &mut column, '"');
                        break;
                    }
                    Some('\\') => {
                        advance(&mut index, &mut line, &mut column, '\\');
                        match characters.get(index) {
                            Some(&escaped @ ('"' | '\\')) => {
                                text.push(escaped);
                                advance(&mut index, &mut line, &mut column, escaped);
                            }
                            _ => return Err(error_at(line, column, "only \\\" and \\\\ may be escaped in a string")),
                        }
                    }
                    Some(&other) => {
                        text.push(other);
                        advance(&mut index, &mut line, &mut column, other);
                    }
                }
            }
            tokens.push(Located {
                token: Token::Text(text),
                line: start_line,
                column: start_column,
                doc: std::mem::take(&mut pending_doc),
            });
        } else if ";(),:<>={}[]".contains(character) {
            tokens.push(Located {
                token: Token::Symbol(character),
                line: start_line,
                column: start_column,
                doc: std::mem::take(&mut pending_doc),
            });
            advance(&mut index, &mut line, &mut column, character);
        } else {
            return Err(error_at(start_line, start_column, format!("unexpected character `{character}`")));
        }
    }
    tokens.push(Located { token: Token::End, line, column, doc: Vec::new() });
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Located>,
    position: usize,
}

fn describe(token: &Token) -> String {
    match token {
        Token::Name(name) => format!("`{name}`"),
        Token::Integer(value) => format!("`{value}`"),
        Token::Text(text) => format!("\"{text}\""),
        Token::Symbol(symbol) => format!("`{symbol}`"),
        Token::End => "the end of the file".into(),
    }
}

impl Parser {
    fn peek(&self) -> &Located {
        &self.tokens[self.position.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Located {
        let token = self.peek().clone();
        if self.position < self.tokens.len() - 1 {
            self.position += 1;
        }
        token
    }

    fn fail<T>(&self, at: &Located, expected: &str) -> Result<T, DefinitionError> {
        Err(error_at(at.line, at.column, format!("expected {expected}, found {}", describe(&at.token))))
    }

    fn symbol(&mut self, symbol: char) -> Result<(), DefinitionError> {
        let token = self.next();
        match token.token {
            Token::Symbol(found) if found == symbol => Ok(()),
            _ => self.fail(&token, &format!("`{symbol}`")),
        }
    }

    fn is_symbol(&self, symbol: char) -> bool {
        self.peek().token == Token::Symbol(symbol)
    }

    fn name(&mut self, what: &str) -> Result<(String, Located), DefinitionError> {
        let token = self.next();
        match &token.token {
            Token::Name(name) => Ok((name.clone(), token.clone())),
            _ => self.fail(&token, what),
        }
    }

    fn integer(&mut self, what: &str) -> Result<(u64, Located), DefinitionError> {
        let token = self.next();
        match token.token {
            Token::Integer(value) => Ok((value, token)),
            _ => self.fail(&token, what),
        }
    }

    fn keyword(&mut self, keyword: &str) -> Result<(), DefinitionError> {
        let token = self.next();
        match &token.token {
            Token::Name(name) if name == keyword => Ok(()),
            _ => self.fail(&token, &format!("`{keyword}`")),
        }
    }
}

const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self",
    "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract",
    "become", "box", "do", "final", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

const C_RESERVED: &[&str] = &[
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern", "float",
    "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed", "sizeof",
    "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "bool",
    // Macros C libraries or GNU C predefine.
    "errno", "linux", "unix", "i386", // The C stubs' own parameter and locals.
    "client", "message", "writer", "reader", "result", "size",
];

/// Names the generated client already uses for its own methods.
/// Names the generated client already uses for its own methods (Rust), or
/// that the C header uses after the subsystem's prefix.
const CLIENT_METHODS: &[&str] = &[
    "new",
    "set_timeout",
    "timeout",
    "server",
    "kernel",
    "into_server",
    "reply_port",
    "with_reply_port",
    "into_parts",
    "client_init",
    "client_destroy",
    "error_string",
    // The C server's names after the prefix.
    "dispatch",
    "serve",
];

/// Words that name types in a definition (a structure may not take one).
const TYPE_WORDS: &[&str] = &["bytes", "string", "ool", "port", "array", "optional"];

/// Argument names the generated code gives a meaning of its own (the
/// server method's context parameter).
const ARGUMENT_RESERVED: &[&str] = &["context"];

fn check_snake_case(name: &str, at: &Located, what: &str) -> Result<(), DefinitionError> {
    let valid = name.chars().next().is_some_and(|first| first.is_ascii_lowercase())
        && name
            .chars()
            .all(|character| character.is_ascii_lowercase() || character.is_ascii_digit() || character == '_')
        && !name.contains("__")
        && !name.ends_with('_');
    if !valid {
        return Err(error_at(at.line, at.column, format!("{what} `{name}` must be snake_case (a-z, 0-9, _)")));
    }
    if RUST_KEYWORDS.contains(&name) || C_RESERVED.contains(&name) {
        return Err(error_at(at.line, at.column, format!("{what} `{name}` is a reserved word in Rust or C")));
    }
    if name.ends_with("_t") {
        return Err(error_at(at.line, at.column, format!("{what} `{name}`: names ending in _t are C type names")));
    }
    if name.starts_with("idl_") {
        return Err(error_at(at.line, at.column, format!("{what} `{name}`: names starting with idl_ are reserved")));
    }
    Ok(())
}

/// Reads and checks a definition.
pub fn parse_interface(source: &str) -> Result<Interface, DefinitionError> {
    let mut parser = Parser { tokens: tokenize(source)?, position: 0 };
    parser.keyword("subsystem")?;
    let (name, at) = parser.name("the subsystem's name")?;
    check_snake_case(&name, &at, "subsystem")?;
    if name == "mach" || name.starts_with("mach_") || name == "mig" || name.starts_with("mig_") {
        return Err(error_at(
            at.line,
            at.column,
            format!("subsystem `{name}`: mach_ and mig_ prefix the C runtime's names"),
        ));
    }
    let (base, base_at) = parser.integer("the subsystem's first message id")?;
    if base == 0 || base > 0x3fff_ffff {
        return Err(error_at(base_at.line, base_at.column, "the first message id must be in 1..=0x3fffffff"));
    }
    parser.symbol(';')?;
    // A port set serves requests and notifications side by side: a request
    // id among the notification ids would take the kernel's notices.
    let end = base as i64 + 100;
    if base as i64 <= mach_abi::MACH_NOTIFY_LAST as i64 && end > mach_abi::MACH_NOTIFY_FIRST as i64 {
        return Err(error_at(
            base_at.line,
            base_at.column,
            format!(
                "request ids {base}..{end} would overlap the kernel's notification ids {}..={}",
                mach_abi::MACH_NOTIFY_FIRST,
                mach_abi::MACH_NOTIFY_LAST
            ),
        ));
    }
    let mut interface = Interface {
        name,
        base: base as i32,
        errors: Vec::new(),
        structs: Vec::new(),
        routines: Vec::new(),
        id_count: 0,
    };
    let mut routine_errors: Vec<(usize, Vec<(String, Located)>)> = Vec::new();
    let mut declared: Vec<(String, Located)> = Vec::new();
    const ITEMS: &str = "`error`, `struct`, `routine`, `deferrable routine`, `simpleroutine` or `skip`";
    loop {
        let token = parser.next();
        let keyword = match &token.token {
            Token::End => break,
            Token::Name(keyword) => keyword.clone(),
            _ => return parser.fail(&token, ITEMS),
        };
        match keyword.as_str() {
            "error" => parse_error(&mut parser, &mut interface)?,
            "struct" => parse_struct(&mut parser, &mut interface, &token, &mut declared)?,
            "routine" | "simpleroutine" => {
                let errors = parse_routine(&mut parser, &mut interface, keyword == "routine", false, &token)?;
                declared.push((interface.routines[interface.routines.len() - 1].name.clone(), token.clone()));
                routine_errors.push((interface.routines.len() - 1, errors));
            }
            "deferrable" => {
                let routine_token = parser.next();
                match &routine_token.token {
                    Token::Name(word) if word == "routine" => {}
                    Token::Name(word) if word == "simpleroutine" => {
                        return Err(error_at(
                            routine_token.line,
                            routine_token.column,
                            "a simpleroutine has no reply to defer",
                        ))
                    }
                    _ => return parser.fail(&routine_token, "`routine` after `deferrable`"),
                }
                let errors = parse_routine(&mut parser, &mut interface, true, true, &token)?;
                declared.push((interface.routines[interface.routines.len() - 1].name.clone(), token.clone()));
                routine_errors.push((interface.routines.len() - 1, errors));
            }
            "skip" => {
                parser.symbol(';')?;
                interface.id_count += 1;
            }
            _ => return parser.fail(&token, ITEMS),
        }
        if interface.id_count > 100 {
            return Err(error_at(
                token.line,
                token.column,
                "at most 100 message ids per subsystem (replies use id + 100)",
            ));
        }
    }
    for (index, errors) in routine_errors {
        for (error_name, at) in errors {
            if interface.error(&error_name).is_none() {
                return Err(error_at(at.line, at.column, format!("error `{error_name}` is not declared")));
            }
            interface.routines[index].errors.push(error_name);
        }
    }
    check_generated_names(&interface, &declared)?;
    Ok(interface)
}

/// Refuses definitions whose generated names would collide: Rust types
/// (`Error`, `Client`, `Server`, `<Routine>Reply`, `Pending<Routine>`, one
/// per structure), and the C functions of deferred replies
/// (`<prefix>_<routine>_reply`) beside the routines' own.
fn check_generated_names(interface: &Interface, declared: &[(String, Located)]) -> Result<(), DefinitionError> {
    let located = |name: &str| {
        declared.iter().find(|(declared_name, _)| declared_name == name).map_or((0, 0), |(_, at)| (at.line, at.column))
    };
    let mut taken: Vec<(String, String)> =
        ["Error", "Client", "Server"].iter().map(|name| (name.to_string(), "every interface".to_string())).collect();
    let mut claim = |type_name: String, owner: &str, what: String| -> Result<(), DefinitionError> {
        if let Some((_, other)) = taken.iter().find(|(taken_name, _)| *taken_name == type_name) {
            let (line, column) = located(owner);
            return Err(error_at(
                line,
                column,
                format!("{what} would generate the Rust type `{type_name}`, which {other} generates too"),
            ));
        }
        taken.push((type_name.clone(), what));
        Ok(())
    };
    for structure in &interface.structs {
        claim(camel_case(&structure.name), &structure.name, format!("struct `{}`", structure.name))?;
    }
    for routine in &interface.routines {
        if routine.arguments_of(Direction::Out).count() > 1 {
            claim(
                format!("{}Reply", camel_case(&routine.name)),
                &routine.name,
                format!("routine `{}` (its results)", routine.name),
            )?;
        }
        if routine.deferrable {
            claim(
                format!("Pending{}", camel_case(&routine.name)),
                &routine.name,
                format!("routine `{}` (its deferred reply)", routine.name),
            )?;
            let reply_function = format!("{}_reply", routine.name);
            if interface.routines.iter().any(|other| other.name == reply_function) {
                let (line, column) = located(&reply_function);
                return Err(error_at(
                    line,
                    column,
                    format!("routine `{reply_function}` would clash with the C deferred reply of `{}`", routine.name),
                ));
            }
            // The Rust client's split call: send_NAME now, receive_NAME later.
            for half in [format!("send_{}", routine.name), format!("receive_{}", routine.name)] {
                if interface.routines.iter().any(|other| other.name == half) {
                    let (line, column) = located(&half);
                    return Err(error_at(
                        line,
                        column,
                        format!("routine `{half}` would clash with the client's split call of `{}`", routine.name),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn parse_struct(
    parser: &mut Parser,
    interface: &mut Interface,
    keyword_at: &Located,
    declared: &mut Vec<(String, Located)>,
) -> Result<(), DefinitionError> {
    let (name, at) = parser.name("the struct's name")?;
    check_snake_case(&name, &at, "struct")?;
    if Integer::ALL.iter().any(|integer| integer.rust_name() == name) || TYPE_WORDS.contains(&name.as_str()) {
        return Err(error_at(at.line, at.column, format!("struct `{name}`: `{name}` already names a type")));
    }
    if name == "server" {
        return Err(error_at(at.line, at.column, "struct `server` would clash with the C server's type"));
    }
    if interface.structs.iter().any(|structure| structure.name == name) {
        return Err(error_at(at.line, at.column, format!("struct `{name}` is declared twice")));
    }
    parser.symbol('{')?;
    let mut fields: Vec<Field> = Vec::new();
    loop {
        if parser.is_symbol('}') && !fields.is_empty() {
            break;
        }
        let (field_name, field_at) = parser.name("a field's name")?;
        check_snake_case(&field_name, &field_at, "field")?;
        if fields.iter().any(|field| field.name == field_name) {
            return Err(error_at(field_at.line, field_at.column, format!("field `{field_name}` appears twice")));
        }
        parser.symbol(':')?;
        let kind = if parser.is_symbol('[') {
            parser.next();
            let element = parse_element(parser, interface)?;
            parser.symbol(';')?;
            let (count, count_at) = parser.integer("the number of elements")?;
            if count == 0 || count > mach_abi::MACH_MSG_SIZE_MAX as u64 {
                return Err(error_at(
                    count_at.line,
                    count_at.column,
                    format!("an array's length must be in 1..={}", mach_abi::MACH_MSG_SIZE_MAX),
                ));
            }
            parser.symbol(']')?;
            FieldType::Array { element, count: count as usize }
        } else {
            match parse_element(parser, interface)? {
                Element::Integer(integer) => FieldType::Integer(integer),
                Element::Struct(structure) => FieldType::Struct(structure),
            }
        };
        fields.push(Field { name: field_name, kind });
        if parser.is_symbol(',') {
            parser.next();
            continue;
        }
        break;
    }
    parser.symbol('}')?;
    parser.symbol(';')?;
    let wire_size: usize = fields.iter().map(|field| field.kind.wire_size()).sum();
    if wire_size > mach_abi::MACH_MSG_SIZE_MAX {
        return Err(error_at(
            keyword_at.line,
            keyword_at.column,
            format!("struct `{name}` takes {wire_size} bytes, more than a message's {}", mach_abi::MACH_MSG_SIZE_MAX),
        ));
    }
    declared.push((name.clone(), at));
    interface.structs.push(Structure { doc: keyword_at.doc.clone(), name, fields, wire_size });
    Ok(())
}

/// An array element or field type: an integer type or a declared struct.
fn parse_element(parser: &mut Parser, interface: &Interface) -> Result<Element, DefinitionError> {
    let (type_name, type_at) = parser.name("an integer type or a struct's name")?;
    if let Some(integer) = Integer::ALL.iter().find(|integer| integer.rust_name() == type_name) {
        return Ok(Element::Integer(*integer));
    }
    match struct_named(interface, &type_name) {
        Some(structure) => Ok(Element::Struct(structure)),
        None => Err(error_at(
            type_at.line,
            type_at.column,
            format!("`{type_name}` is not an integer type or a struct declared before this point"),
        )),
    }
}

fn struct_named(interface: &Interface, name: &str) -> Option<StructRef> {
    interface
        .structs
        .iter()
        .position(|structure| structure.name == name)
        .map(|index| StructRef { index, wire_size: interface.structs[index].wire_size })
}

fn parse_error(parser: &mut Parser, interface: &mut Interface) -> Result<(), DefinitionError> {
    let (name, at) = parser.name("the error's name")?;
    check_snake_case(&name, &at, "error")?;
    if interface.error(&name).is_some() {
        return Err(error_at(at.line, at.column, format!("error `{name}` is declared twice")));
    }
    parser.symbol('=')?;
    let (code, code_at) = parser.integer("the error's code")?;
    if code == 0 || code > i32::MAX as u64 {
        return Err(error_at(code_at.line, code_at.column, "an error code must be in 1..=2147483647 (0 is success)"));
    }
    if let Some(other) = interface.errors.iter().find(|error| error.code == code as i32) {
        return Err(error_at(code_at.line, code_at.column, format!("code {code} is already `{}`", other.name)));
    }
    let description = match &parser.peek().token {
        Token::Text(text) => {
            let text = text.clone();
            parser.next();
            text
        }
        _ => String::new(),
    };
    parser.symbol(';')?;
    interface.errors.push(ErrorCode { name, code: code as i32, description });
    Ok(())
}

fn parse_routine(
    parser: &mut Parser,
    interface: &mut Interface,
    has_reply: bool,
    deferrable: bool,
    keyword_at: &Located,
) -> Result<Vec<(String, Located)>, DefinitionError> {
    let (name, at) = parser.name("the routine's name")?;
    check_snake_case(&name, &at, "routine")?;
    if CLIENT_METHODS.contains(&name.as_str()) {
        return Err(error_at(at.line, at.column, format!("routine `{name}` would clash with a client method")));
    }
    if interface.routines.iter().any(|routine| routine.name == name) {
        return Err(error_at(at.line, at.column, format!("routine `{name}` is defined twice")));
    }
    parser.symbol('(')?;
    let mut arguments: Vec<Argument> = Vec::new();
    if !parser.is_symbol(')') {
        loop {
            let argument = parse_argument(parser, interface, has_reply)?;
            if arguments.iter().any(|other| other.name == argument.name) {
                let at = parser.peek().clone();
                return Err(error_at(at.line, at.column, format!("argument `{}` appears twice", argument.name)));
            }
            // The C stubs pass `bytes`, `ool` and `array` arguments with a
            // second parameter named `<name>_length`, `_size` or `_count`.
            let companion = |other: &Argument, candidate: &str| match other.kind {
                Type::Bytes(_) => candidate == format!("{}_length", other.name),
                Type::OutOfLine(_) => candidate == format!("{}_size", other.name),
                Type::Array { .. } => candidate == format!("{}_count", other.name),
                _ => false,
            };
            if arguments.iter().any(|other| companion(other, &argument.name) || companion(&argument, &other.name)) {
                let at = parser.peek().clone();
                return Err(error_at(
                    at.line,
                    at.column,
                    format!("argument `{}` clashes with the C length parameter of another argument", argument.name),
                ));
            }
            arguments.push(argument);
            if parser.is_symbol(',') {
                parser.next();
                continue;
            }
            break;
        }
    }
    parser.symbol(')')?;
    let mut errors = Vec::new();
    if let Token::Name(word) = &parser.peek().token {
        if word == "errors" {
            let errors_at = parser.next();
            if !has_reply {
                return Err(error_at(errors_at.line, errors_at.column, "a simpleroutine has no reply, so no errors"));
            }
            parser.symbol('(')?;
            loop {
                let (error_name, error_name_at) = parser.name("an error's name")?;
                if errors.iter().any(|(other, _)| *other == error_name) {
                    return Err(error_at(error_name_at.line, error_name_at.column, "error listed twice"));
                }
                errors.push((error_name, error_name_at));
                if parser.is_symbol(',') {
                    parser.next();
                    continue;
                }
                break;
            }
            parser.symbol(')')?;
        }
    }
    parser.symbol(';')?;
    let routine = Routine {
        doc: keyword_at.doc.clone(),
        name,
        id: interface.base + interface.id_count,
        has_reply,
        deferrable,
        arguments,
        errors: Vec::new(),
    };
    for direction in [Direction::In, Direction::Out] {
        let descriptors = routine.arguments_of(direction).filter(|argument| argument.kind.is_descriptor()).count();
        if descriptors > mach_abi::MACH_MSG_DESCRIPTORS_MAX {
            return Err(error_at(
                keyword_at.line,
                keyword_at.column,
                format!(
                    "routine `{}`: {descriptors} ports and regions in one message, more than the {} a message carries",
                    routine.name,
                    mach_abi::MACH_MSG_DESCRIPTORS_MAX
                ),
            ));
        }
        let size = routine.message_size_max(direction);
        if size > mach_abi::MACH_MSG_SIZE_MAX {
            return Err(error_at(
                keyword_at.line,
                keyword_at.column,
                format!(
                    "routine `{}`: its {} can reach {size} bytes, more than a message's {} (use ool<N> for large data)",
                    routine.name,
                    if direction == Direction::In { "request" } else { "reply" },
                    mach_abi::MACH_MSG_SIZE_MAX
                ),
            ));
        }
    }
    interface.routines.push(routine);
    interface.id_count += 1;
    Ok(errors)
}

fn parse_argument(parser: &mut Parser, interface: &Interface, has_reply: bool) -> Result<Argument, DefinitionError> {
    let (word, at) = parser.name("`in` or `out`")?;
    let direction = match word.as_str() {
        "in" => Direction::In,
        "out" if has_reply => Direction::Out,
        "out" => return Err(error_at(at.line, at.column, "a simpleroutine has no reply, so no out arguments")),
        _ => return parser.fail(&at, "`in` or `out`"),
    };
    let (name, name_at) = parser.name("the argument's name")?;
    check_snake_case(&name, &name_at, "argument")?;
    if ARGUMENT_RESERVED.contains(&name.as_str()) {
        return Err(error_at(
            name_at.line,
            name_at.column,
            format!("argument `{name}`: the server method's request context has that name"),
        ));
    }
    parser.symbol(':')?;
    let (type_name, type_at) = parser.name("a type")?;
    let kind = parse_type(parser, interface, &type_name, &type_at)?;
    if direction == Direction::Out {
        match kind {
            Type::Port { disposition, .. } if !disposition.is_move() => {
                return Err(error_at(
                    type_at.line,
                    type_at.column,
                    "an out port must be move_send, move_send_once or move_receive (the server hands over a right it owns; make one with ReceiveRight::make_send)",
                ))
            }
            _ => {}
        }
    }
    Ok(Argument { name, direction, kind })
}

/// The type whose first word `type_name` was just read.
fn parse_type(
    parser: &mut Parser,
    interface: &Interface,
    type_name: &str,
    type_at: &Located,
) -> Result<Type, DefinitionError> {
    if let Some(integer) = Integer::ALL.iter().find(|integer| integer.rust_name() == type_name) {
        return Ok(Type::Integer(*integer));
    }
    match type_name {
        "bytes" | "string" | "ool" => {
            parser.symbol('<')?;
            let (bound, bound_at) = parser.integer("the largest size in bytes")?;
            parser.symbol('>')?;
            let limit =
                if type_name == "ool" { mach_abi::MACH_MSG_OOL_SIZE_MAX } else { mach_abi::MACH_MSG_SIZE_MAX as u64 };
            if bound == 0 || bound > limit {
                return Err(error_at(
                    bound_at.line,
                    bound_at.column,
                    format!("a {type_name} bound must be in 1..={limit}"),
                ));
            }
            Ok(match type_name {
                "bytes" => Type::Bytes(bound as usize),
                "string" => Type::String(bound as usize),
                _ => Type::OutOfLine(bound as usize),
            })
        }
        "port" => Ok(Type::Port { disposition: parse_disposition(parser)?, optional: false }),
        "optional" => {
            let (next, next_at) = parser.name("`port` after `optional`")?;
            if next != "port" {
                return Err(error_at(
                    next_at.line,
                    next_at.column,
                    "only a port can be optional (`optional port<...>`)",
                ));
            }
            Ok(Type::Port { disposition: parse_disposition(parser)?, optional: true })
        }
        "array" => {
            parser.symbol('<')?;
            let element = parse_element(parser, interface)?;
            parser.symbol(',')?;
            let (bound, bound_at) = parser.integer("the largest number of elements")?;
            parser.symbol('>')?;
            if bound == 0 || bound > mach_abi::MACH_MSG_SIZE_MAX as u64 {
                return Err(error_at(
                    bound_at.line,
                    bound_at.column,
                    format!("an array bound must be in 1..={}", mach_abi::MACH_MSG_SIZE_MAX),
                ));
            }
            Ok(Type::Array { element, bound: bound as usize })
        }
        other => match struct_named(interface, other) {
            Some(structure) => Ok(Type::Struct(structure)),
            None => Err(error_at(type_at.line, type_at.column, format!("`{other}` is not a type"))),
        },
    }
}

/// `<DISPOSITION>` after `port`.
fn parse_disposition(parser: &mut Parser) -> Result<PortDisposition, DefinitionError> {
    parser.symbol('<')?;
    let (disposition_name, disposition_at) = parser.name("a disposition (move_send, copy_send, ...)")?;
    let disposition = PortDisposition::ALL
        .iter()
        .find(|disposition| disposition.defs_name() == disposition_name)
        .copied()
        .ok_or_else(|| {
            error_at(
                disposition_at.line,
                disposition_at.column,
                format!(
                    "`{disposition_name}` is not a disposition: move_receive, move_send, move_send_once, copy_send, make_send or make_send_once"
                ),
            )
        })?;
    parser.symbol('>')?;
    Ok(disposition)
}
