//! The printer: a syntax tree back to shell text (for `type`, `set` with no
//! arguments, job names and the parser's round-trip tests).
//!
//! The output is canonical, not the text the tree came from: one command
//! per line, bodies indented by four spaces, `$name` written `${name}` where
//! the next character would continue the name. Parsing the output gives the
//! same tree (`parser::parse(print(tree)) == tree` for every tree the parser
//! makes), which the property tests check.

use alloc::vec::Vec;

use crate::syntax::*;

/// The text of a whole program, each command ending with a newline.
pub fn print_program(program: &Program) -> Vec<u8> {
    let mut printer = Printer::default();
    printer.program(program);
    printer.output
}

/// One and-or list on one line (here-document bodies follow it), as job
/// names are shown.
pub fn print_and_or(list: &AndOr) -> Vec<u8> {
    let mut printer = Printer::default();
    printer.and_or(list);
    printer.flush_here_documents();
    while printer.output.last() == Some(&b'\n') {
        printer.output.pop();
    }
    printer.output
}

/// A function definition as `type` shows it.
pub fn print_function(function: &FunctionDefinition) -> Vec<u8> {
    let mut printer = Printer::default();
    printer.function(function);
    printer.flush_here_documents();
    printer.output
}

/// A word as written (quotes and expansions kept).
pub fn print_word(word: &Word) -> Vec<u8> {
    let mut printer = Printer::default();
    printer.word(word);
    printer.output
}

#[derive(Default)]
struct Printer<'t> {
    output: Vec<u8>,
    indent: usize,
    /// Here-documents whose `<<` is printed and whose body waits for the
    /// end of the line.
    pending: Vec<&'t HereDocument>,
}

/// The quoting context a word part is printed in (it decides which
/// characters of literal text need a backslash).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Unquoted,
    UnquotedBrace,
    DoubleQuoted,
    DoubleQuotedBrace,
    HereDocument,
    Arithmetic,
}

impl<'t> Printer<'t> {
    fn text(&mut self, text: &[u8]) {
        self.output.extend_from_slice(text);
    }

    /// Ends the line, writes the bodies of the here-documents started on it,
    /// and indents the next one.
    fn newline(&mut self) {
        self.output.push(b'\n');
        self.flush_here_documents();
    }

    fn flush_here_documents(&mut self) {
        for document in core::mem::take(&mut self.pending) {
            if document.quoted {
                for part in &document.body {
                    if let WordPart::Literal(text) = part {
                        self.output.extend_from_slice(text);
                    }
                }
            } else {
                self.parts(&document.body, Context::HereDocument);
            }
            // A delimiter with a newline in it matches no line: the
            // document ran to the end of the text, and so it must again.
            if !document.delimiter.contains(&b'\n') {
                self.output.extend_from_slice(&document.delimiter);
                self.output.push(b'\n');
            }
        }
    }

    fn indentation(&mut self) {
        for _ in 0..self.indent {
            self.output.extend_from_slice(b"    ");
        }
    }

    /// Each item on its own indented line.
    fn program(&mut self, program: &'t Program) {
        for item in &program.items {
            self.indentation();
            self.and_or(&item.list);
            if item.asynchronous {
                self.text(b" &");
            }
            self.newline();
        }
    }

    /// A nested body, one level deeper.
    fn block(&mut self, program: &'t Program) {
        self.indent += 1;
        self.program(program);
        self.indent -= 1;
    }

    /// A condition or loop head: inline (`if cond; then`) when it is one
    /// command without here-documents, else as a block.
    fn head(&mut self, program: &'t Program, keyword: &[u8]) {
        if let [item] = program.items.as_slice() {
            if !contains_here_document(&item.list) {
                self.text(b" ");
                self.and_or(&item.list);
                self.text(if item.asynchronous { b" & " } else { b"; " });
                self.text(keyword);
                self.newline();
                return;
            }
        }
        self.newline();
        self.block(program);
        self.indentation();
        self.text(keyword);
        self.newline();
    }

    fn and_or(&mut self, list: &'t AndOr) {
        self.pipeline(&list.first);
        for (connector, pipeline) in &list.rest {
            self.text(match connector {
                Connector::And => b" && ",
                Connector::Or => b" || ",
            });
            self.pipeline(pipeline);
        }
    }

    fn pipeline(&mut self, pipeline: &'t Pipeline) {
        if pipeline.negated {
            self.text(b"! ");
        }
        for (index, command) in pipeline.commands.iter().enumerate() {
            if index > 0 {
                self.text(b" | ");
            }
            self.command(command);
        }
    }

    fn command(&mut self, command: &'t Command) {
        match command {
            Command::Simple(simple) => self.simple_command(simple),
            Command::Compound(compound, redirections) => {
                self.compound(compound);
                self.redirections(redirections);
            }
            Command::Function(function) => self.function(function),
        }
    }

    fn simple_command(&mut self, command: &'t SimpleCommand) {
        let mut separator = false;
        let mut space = |printer: &mut Self| {
            if separator {
                printer.text(b" ");
            }
            separator = true;
        };
        // A reserved word as the first word would start a compound command
        // again: put the redirections first (it became a word after one).
        let redirections_first = command.assignments.is_empty()
            && command.words.first().and_then(Word::as_literal).is_some_and(|text| RESERVED_WORDS.contains(&text));
        if redirections_first {
            for redirection in &command.redirections {
                space(self);
                self.redirection(redirection);
            }
        }
        for assignment in &command.assignments {
            space(self);
            self.text(&assignment.name);
            self.text(b"=");
            self.word(&assignment.value);
        }
        for word in &command.words {
            space(self);
            self.word(word);
        }
        if !redirections_first {
            for redirection in &command.redirections {
                space(self);
                self.redirection(redirection);
            }
        }
    }

    fn redirections(&mut self, redirections: &'t [Redirection]) {
        for redirection in redirections {
            self.text(b" ");
            self.redirection(redirection);
        }
    }

    fn redirection(&mut self, redirection: &'t Redirection) {
        if let Some(descriptor) = redirection.descriptor {
            self.number(descriptor as u64);
        }
        match &redirection.target {
            RedirectionTarget::Word(word) => {
                self.text(match redirection.operator {
                    RedirectionOperator::Input => b"<",
                    RedirectionOperator::Output => b">",
                    RedirectionOperator::Clobber => b">|",
                    RedirectionOperator::Append => b">>",
                    RedirectionOperator::ReadWrite => b"<>",
                    RedirectionOperator::DuplicateInput => b"<&",
                    RedirectionOperator::DuplicateOutput => b">&",
                    RedirectionOperator::HereDocument => b"<<",
                });
                self.word(word);
            }
            RedirectionTarget::HereDocument(document) => {
                self.text(if document.strip_tabs { b"<<-" } else { b"<<" });
                if document.quoted {
                    // In double quotes, which hold any byte once `$`, `` ` ``,
                    // `"` and `\` are escaped (single quotes cannot hold `'`).
                    self.text(b"\"");
                    self.literal(&document.delimiter, Context::DoubleQuoted);
                    self.text(b"\"");
                } else {
                    self.text(&document.delimiter);
                }
                self.pending.push(document);
            }
        }
    }

    fn number(&mut self, mut value: u64) {
        let mut digits = [0u8; 20];
        let mut count = 0;
        loop {
            digits[count] = b'0' + (value % 10) as u8;
            count += 1;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        for index in (0..count).rev() {
            self.output.push(digits[index]);
        }
    }

    fn compound(&mut self, compound: &'t CompoundCommand) {
        match compound {
            CompoundCommand::Group(program) => {
                self.text(b"{");
                self.newline();
                self.block(program);
                self.indentation();
                self.text(b"}");
            }
            CompoundCommand::Subshell(program) => {
                self.text(b"(");
                self.newline();
                self.block(program);
                self.indentation();
                self.text(b")");
            }
            CompoundCommand::If { branches, otherwise } => {
                for (index, (condition, body)) in branches.iter().enumerate() {
                    if index > 0 {
                        self.indentation();
                    }
                    self.text(if index == 0 { b"if" } else { b"elif" });
                    self.head(condition, b"then");
                    self.block(body);
                }
                if let Some(otherwise) = otherwise {
                    self.indentation();
                    self.text(b"else");
                    self.newline();
                    self.block(otherwise);
                }
                self.indentation();
                self.text(b"fi");
            }
            CompoundCommand::Loop { until, condition, body } => {
                self.text(if *until { b"until" } else { b"while" });
                self.head(condition, b"do");
                self.block(body);
                self.indentation();
                self.text(b"done");
            }
            CompoundCommand::For { name, words, body } => {
                self.text(b"for ");
                self.text(name);
                if let Some(words) = words {
                    self.text(b" in");
                    for word in words {
                        self.text(b" ");
                        self.word(word);
                    }
                }
                self.text(b"; do");
                self.newline();
                self.block(body);
                self.indentation();
                self.text(b"done");
            }
            CompoundCommand::Case { word, arms } => {
                self.text(b"case ");
                self.word(word);
                self.text(b" in");
                self.newline();
                for arm in arms {
                    self.indentation();
                    for (index, pattern) in arm.patterns.iter().enumerate() {
                        if index > 0 {
                            self.text(b"|");
                        }
                        self.word(pattern);
                    }
                    self.text(b")");
                    self.newline();
                    self.block(&arm.body);
                    self.indent += 1;
                    self.indentation();
                    self.indent -= 1;
                    self.text(b";;");
                    self.newline();
                }
                self.indentation();
                self.text(b"esac");
            }
        }
    }

    fn function(&mut self, function: &'t FunctionDefinition) {
        self.text(&function.name);
        self.text(b"() ");
        let (body, redirections) = &*function.body;
        self.compound(body);
        self.redirections(redirections);
    }

    fn word(&mut self, word: &'t Word) {
        self.parts(&word.parts, Context::Unquoted);
    }

    fn parts(&mut self, parts: &'t [WordPart], context: Context) {
        for (index, part) in parts.iter().enumerate() {
            let next = parts.get(index + 1);
            // `$` then `$(…)` would read as `$$`: a `$` followed by a
            // backquoted command is how such a word is written.
            let after_dollar = index > 0
                && matches!(&parts[index - 1], WordPart::Literal(text) if text.ends_with(b"$"))
                && matches!(context, Context::Unquoted | Context::UnquotedBrace);
            match part {
                WordPart::CommandSubstitution(program) if after_dollar => self.backquoted(program),
                _ => self.part(part, next, context),
            }
        }
    }

    /// `` `program` ``, with `\`, `` ` `` and `$` escaped as the parser unescapes them.
    fn backquoted(&mut self, program: &Program) {
        let text = print_program(program);
        self.output.push(b'`');
        for byte in text {
            if matches!(byte, b'\\' | b'`' | b'$') {
                self.output.push(b'\\');
            }
            self.output.push(byte);
        }
        self.output.push(b'`');
    }

    fn part(&mut self, part: &'t WordPart, next: Option<&WordPart>, context: Context) {
        match part {
            WordPart::Literal(text) => self.literal(text, context),
            WordPart::Escaped(byte) => {
                self.output.push(b'\\');
                self.output.push(*byte);
            }
            WordPart::SingleQuoted(text) => {
                self.text(b"'");
                self.text(text);
                self.text(b"'");
            }
            WordPart::DoubleQuoted(inner) => {
                self.text(b"\"");
                self.parts(inner, Context::DoubleQuoted);
                self.text(b"\"");
            }
            WordPart::Parameter(expansion) => self.parameter(expansion, next, context),
            WordPart::CommandSubstitution(program) => {
                self.text(b"$(");
                if !program.items.is_empty() {
                    // The program is printed on lines of its own, so `$((`
                    // (arithmetic) cannot appear. Its here-documents are its
                    // own: the outer line's bodies wait for the outer newline.
                    let outer = core::mem::take(&mut self.pending);
                    let indent = self.indent;
                    self.indent = 0;
                    self.output.push(b'\n');
                    self.block(program);
                    self.indent = indent;
                    self.indentation();
                    self.pending = outer;
                }
                self.text(b")");
            }
            WordPart::Arithmetic(inner) => {
                self.text(b"$((");
                self.parts(inner, Context::Arithmetic);
                self.text(b"))");
            }
        }
    }

    fn literal(&mut self, text: &[u8], context: Context) {
        let escaped: &[u8] = match context {
            Context::Unquoted | Context::UnquotedBrace => b"",
            Context::DoubleQuoted => b"$`\"\\",
            Context::DoubleQuotedBrace => b"$`\"\\}",
            Context::HereDocument | Context::Arithmetic => b"$`\\",
        };
        for &byte in text {
            if escaped.contains(&byte) {
                self.output.push(b'\\');
            }
            self.output.push(byte);
        }
    }

    fn parameter(&mut self, expansion: &'t ParameterExpansion, next: Option<&WordPart>, context: Context) {
        let name = &expansion.name;
        let inner = match context {
            Context::Unquoted | Context::UnquotedBrace => Context::UnquotedBrace,
            _ => Context::DoubleQuotedBrace,
        };
        match &expansion.operator {
            ParameterOperator::Plain => {
                let special = name.len() == 1 && is_special_parameter(name[0]);
                let continues_name = |part: Option<&WordPart>| match part {
                    Some(WordPart::Literal(text)) => {
                        text.first().is_some_and(|byte| byte.is_ascii_alphanumeric() || *byte == b'_')
                    }
                    _ => false,
                };
                if special || (is_name(name) && !continues_name(next)) {
                    self.text(b"$");
                    self.text(name);
                } else {
                    self.text(b"${");
                    self.text(name);
                    self.text(b"}");
                }
            }
            ParameterOperator::Length => {
                self.text(b"${#");
                self.text(name);
                self.text(b"}");
            }
            ParameterOperator::Default { colon, word }
            | ParameterOperator::Assign { colon, word }
            | ParameterOperator::Error { colon, word }
            | ParameterOperator::Alternative { colon, word } => {
                self.text(b"${");
                self.text(name);
                if *colon {
                    self.text(b":");
                }
                self.text(match &expansion.operator {
                    ParameterOperator::Default { .. } => b"-",
                    ParameterOperator::Assign { .. } => b"=",
                    ParameterOperator::Error { .. } => b"?",
                    _ => b"+",
                });
                self.parts(&word.parts, inner);
                self.text(b"}");
            }
            ParameterOperator::RemoveSuffix { longest, pattern }
            | ParameterOperator::RemovePrefix { longest, pattern } => {
                let symbol: &[u8] =
                    if matches!(expansion.operator, ParameterOperator::RemoveSuffix { .. }) { b"%" } else { b"#" };
                self.text(b"${");
                self.text(name);
                self.text(symbol);
                if *longest {
                    self.text(symbol);
                }
                self.parts(&pattern.parts, inner);
                self.text(b"}");
            }
        }
    }
}

fn contains_here_document(list: &AndOr) -> bool {
    let pipelines = core::iter::once(&list.first).chain(list.rest.iter().map(|(_, pipeline)| pipeline));
    pipelines.flat_map(|pipeline| pipeline.commands.iter()).any(Command::contains_here_document)
}
