//! Arithmetic expansion `$(( expression ))` (XCU 2.6.4): signed 64-bit
//! integers with C's operators and precedence, variables by name, and the
//! assignment operators.
//!
//! The expression text arrives already expanded (parameters, command
//! substitutions). Evaluation is a recursive-descent parser that computes as
//! it parses; the branches `&&`, `||` and `?:` do not take are parsed with
//! evaluation off, so their assignments do not happen and their divisions
//! by zero are not errors. Overflow wraps, as in C on our machines.

use alloc::vec::Vec;
use core::fmt;

/// Where variables come from and go to.
pub trait Variables {
    /// The value of a variable, `None` when unset.
    fn get(&mut self, name: &[u8]) -> Option<Vec<u8>>;
    /// Sets a variable to a number (its decimal text); fails for a read-only one.
    fn set(&mut self, name: &[u8], value: i64) -> Result<()>;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArithmeticError {
    Syntax,
    DivisionByZero,
    /// A variable whose value is not a number.
    NotANumber(Vec<u8>),
    /// Assignment to a read-only variable.
    ReadOnly(Vec<u8>),
    /// Parentheses nested deeper than the evaluator allows.
    TooDeep,
}

impl fmt::Display for ArithmeticError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArithmeticError::Syntax => write!(formatter, "arithmetic syntax error"),
            ArithmeticError::DivisionByZero => write!(formatter, "division by zero"),
            ArithmeticError::NotANumber(value) => {
                write!(formatter, "{}: not a number", alloc::string::String::from_utf8_lossy(value))
            }
            ArithmeticError::ReadOnly(name) => {
                write!(formatter, "{}: read-only variable", alloc::string::String::from_utf8_lossy(name))
            }
            ArithmeticError::TooDeep => write!(formatter, "expression nested too deeply"),
        }
    }
}

type Result<T> = core::result::Result<T, ArithmeticError>;

/// Evaluates an expression. An empty (or blank) expression is 0.
pub fn evaluate(text: &[u8], variables: &mut dyn Variables) -> Result<i64> {
    let mut evaluator = Evaluator { text, position: 0, variables, depth: 0 };
    evaluator.skip_blanks();
    if evaluator.at_end() {
        return Ok(0);
    }
    let value = evaluator.assignment(true)?;
    evaluator.skip_blanks();
    if !evaluator.at_end() {
        return Err(ArithmeticError::Syntax);
    }
    Ok(value)
}

/// Parses a variable's value as a number: optional blanks and sign, then a
/// decimal, octal (`0…`) or hexadecimal (`0x…`) constant. Empty is 0.
pub fn parse_number(text: &[u8]) -> Option<i64> {
    let trimmed = trim_blanks(text);
    if trimmed.is_empty() {
        return Some(0);
    }
    let (negative, digits) = match trimmed.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, trimmed),
    };
    let (value, length) = constant(digits)?;
    if length != digits.len() {
        return None;
    }
    Some(if negative { value.wrapping_neg() } else { value })
}

fn trim_blanks(text: &[u8]) -> &[u8] {
    let start = text.iter().position(|byte| !byte.is_ascii_whitespace()).unwrap_or(text.len());
    let end = text.iter().rposition(|byte| !byte.is_ascii_whitespace()).map_or(start, |index| index + 1);
    &text[start..end]
}

/// A numeric constant at the start of `text`: its value and length.
fn constant(text: &[u8]) -> Option<(i64, usize)> {
    if !text.first()?.is_ascii_digit() {
        return None;
    }
    let (radix, start) = if text.len() > 1 && text[0] == b'0' && (text[1] == b'x' || text[1] == b'X') {
        (16, 2)
    } else if text[0] == b'0' {
        (8, 1)
    } else {
        (10, 0)
    };
    let mut value: i64 = 0;
    let mut index = start;
    while let Some(&byte) = text.get(index) {
        let digit = match byte {
            b'0'..=b'9' => i64::from(byte - b'0'),
            b'a'..=b'z' => i64::from(byte - b'a' + 10),
            b'A'..=b'Z' => i64::from(byte - b'A' + 10),
            b'_' => return None,
            _ => break,
        };
        if digit >= radix {
            // `08`, `0x1g`, `12a`: a malformed constant, not a short one.
            return None;
        }
        value = value.wrapping_mul(radix).wrapping_add(digit);
        index += 1;
    }
    if radix == 16 && index == start {
        return None;
    }
    Some((value, index))
}

const MAX_DEPTH: usize = 200;

struct Evaluator<'t, 'v> {
    text: &'t [u8],
    position: usize,
    variables: &'v mut dyn Variables,
    depth: usize,
}

/// Binary operators by precedence level, lowest first (after `||` and
/// `&&`, which short-circuit and are handled separately).
const LEVELS: &[&[&[u8]]] = &[
    &[b"|"],
    &[b"^"],
    &[b"&"],
    &[b"==", b"!="],
    &[b"<=", b">=", b"<", b">"],
    &[b"<<", b">>"],
    &[b"+", b"-"],
    &[b"*", b"/", b"%"],
];

const ASSIGNMENT_OPERATORS: &[&[u8]] = &[b"<<=", b">>=", b"*=", b"/=", b"%=", b"+=", b"-=", b"&=", b"^=", b"|=", b"="];

impl Evaluator<'_, '_> {
    fn at_end(&self) -> bool {
        self.position >= self.text.len()
    }

    fn skip_blanks(&mut self) {
        while self.text.get(self.position).is_some_and(u8::is_ascii_whitespace) {
            self.position += 1;
        }
    }

    fn rest(&self) -> &[u8] {
        &self.text[self.position..]
    }

    /// Takes `operator` if it is next and is not the start of a longer
    /// operator (`<` of `<<`, `&` of `&&`, `=` of `==`...).
    fn take(&mut self, operator: &[u8]) -> bool {
        self.skip_blanks();
        let rest = self.rest();
        if !rest.starts_with(operator) {
            return false;
        }
        let after = rest.get(operator.len()).copied();
        let longer = match operator {
            b"|" => after == Some(b'|') || after == Some(b'='),
            b"&" => after == Some(b'&') || after == Some(b'='),
            b"<" => after == Some(b'<') || after == Some(b'='),
            b">" => after == Some(b'>') || after == Some(b'='),
            b"<<" | b">>" => after == Some(b'='),
            b"!" => after == Some(b'='),
            b"+" | b"-" | b"*" | b"/" | b"%" | b"^" => after == Some(b'='),
            b"=" => after == Some(b'='),
            _ => false,
        };
        if longer {
            return false;
        }
        self.position += operator.len();
        true
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ArithmeticError::TooDeep);
        }
        Ok(())
    }

    fn assignment(&mut self, evaluate: bool) -> Result<i64> {
        self.enter()?;
        let result = self.assignment_inner(evaluate);
        self.depth -= 1;
        result
    }

    fn assignment_inner(&mut self, evaluate: bool) -> Result<i64> {
        self.skip_blanks();
        let start = self.position;
        let name_length = self.rest().iter().take_while(|byte| byte.is_ascii_alphanumeric() || **byte == b'_').count();
        if name_length > 0 && !self.rest()[0].is_ascii_digit() {
            let name = &self.text[start..start + name_length];
            self.position += name_length;
            for operator in ASSIGNMENT_OPERATORS {
                if self.take(operator) {
                    let value = self.assignment(evaluate)?;
                    if !evaluate {
                        return Ok(0);
                    }
                    let result = if *operator == b"=" {
                        value
                    } else {
                        let current = self.variable(name)?;
                        apply(&operator[..operator.len() - 1], current, value)?
                    };
                    self.variables.set(name, result)?;
                    return Ok(result);
                }
            }
            self.position = start;
        }
        self.conditional(evaluate)
    }

    fn conditional(&mut self, evaluate: bool) -> Result<i64> {
        let condition = self.logical_or(evaluate)?;
        if !self.take(b"?") {
            return Ok(condition);
        }
        let chosen = condition != 0;
        let if_true = self.assignment(evaluate && chosen)?;
        if !self.take(b":") {
            return Err(ArithmeticError::Syntax);
        }
        let if_false = self.conditional(evaluate && !chosen)?;
        Ok(if chosen { if_true } else { if_false })
    }

    fn logical_or(&mut self, evaluate: bool) -> Result<i64> {
        let mut value = self.logical_and(evaluate)?;
        while self.take(b"||") {
            let right = self.logical_and(evaluate && value == 0)?;
            value = i64::from(value != 0 || right != 0);
        }
        Ok(value)
    }

    fn logical_and(&mut self, evaluate: bool) -> Result<i64> {
        let mut value = self.binary(0, evaluate)?;
        while self.take(b"&&") {
            let right = self.binary(0, evaluate && value != 0)?;
            value = i64::from(value != 0 && right != 0);
        }
        Ok(value)
    }

    fn binary(&mut self, level: usize, evaluate: bool) -> Result<i64> {
        if level == LEVELS.len() {
            return self.unary(evaluate);
        }
        let mut value = self.binary(level + 1, evaluate)?;
        'operators: loop {
            for operator in LEVELS[level] {
                if self.take(operator) {
                    let right = self.binary(level + 1, evaluate)?;
                    value = if evaluate { apply(operator, value, right)? } else { 0 };
                    continue 'operators;
                }
            }
            return Ok(value);
        }
    }

    fn unary(&mut self, evaluate: bool) -> Result<i64> {
        self.enter()?;
        let result = self.unary_inner(evaluate);
        self.depth -= 1;
        result
    }

    fn unary_inner(&mut self, evaluate: bool) -> Result<i64> {
        self.skip_blanks();
        for (operator, apply) in [
            (b'-', i64::wrapping_neg as fn(i64) -> i64),
            (b'+', |value| value),
            (b'!', |value| i64::from(value == 0)),
            (b'~', |value: i64| !value),
        ] {
            if self.rest().first() == Some(&operator) && self.rest().get(1) != Some(&b'=') {
                self.position += 1;
                return Ok(apply(self.unary(evaluate)?));
            }
        }
        self.primary(evaluate)
    }

    fn primary(&mut self, evaluate: bool) -> Result<i64> {
        self.skip_blanks();
        let rest = self.rest();
        match rest.first() {
            Some(b'(') => {
                self.position += 1;
                let value = self.assignment(evaluate)?;
                if !self.take(b")") {
                    return Err(ArithmeticError::Syntax);
                }
                Ok(value)
            }
            Some(byte) if byte.is_ascii_digit() => {
                let (value, length) = constant(rest).ok_or(ArithmeticError::Syntax)?;
                self.position += length;
                if self.rest().first().is_some_and(|byte| byte.is_ascii_alphanumeric() || *byte == b'_') {
                    return Err(ArithmeticError::Syntax);
                }
                Ok(value)
            }
            Some(byte) if byte.is_ascii_alphabetic() || *byte == b'_' => {
                let length = rest.iter().take_while(|byte| byte.is_ascii_alphanumeric() || **byte == b'_').count();
                let name = &self.text[self.position..self.position + length];
                self.position += length;
                if evaluate {
                    self.variable(name)
                } else {
                    Ok(0)
                }
            }
            _ => Err(ArithmeticError::Syntax),
        }
    }

    fn variable(&mut self, name: &[u8]) -> Result<i64> {
        match self.variables.get(name) {
            None => Ok(0),
            Some(value) => parse_number(&value).ok_or(ArithmeticError::NotANumber(value)),
        }
    }
}

fn apply(operator: &[u8], left: i64, right: i64) -> Result<i64> {
    Ok(match operator {
        b"+" => left.wrapping_add(right),
        b"-" => left.wrapping_sub(right),
        b"*" => left.wrapping_mul(right),
        b"/" | b"%" => {
            if right == 0 {
                return Err(ArithmeticError::DivisionByZero);
            }
            if operator == b"/" {
                left.wrapping_div(right)
            } else {
                left.wrapping_rem(right)
            }
        }
        b"<<" => left.wrapping_shl(right as u32),
        b">>" => left.wrapping_shr(right as u32),
        b"<" => i64::from(left < right),
        b"<=" => i64::from(left <= right),
        b">" => i64::from(left > right),
        b">=" => i64::from(left >= right),
        b"==" => i64::from(left == right),
        b"!=" => i64::from(left != right),
        b"&" => left & right,
        b"^" => left ^ right,
        b"|" => left | right,
        _ => return Err(ArithmeticError::Syntax),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use alloc::format;
    use proptest::prelude::*;

    #[derive(Default)]
    struct Map(BTreeMap<Vec<u8>, Vec<u8>>);

    impl Variables for Map {
        fn get(&mut self, name: &[u8]) -> Option<Vec<u8>> {
            self.0.get(name).cloned()
        }
        fn set(&mut self, name: &[u8], value: i64) -> Result<()> {
            if name == b"readonly" {
                return Err(ArithmeticError::ReadOnly(name.to_vec()));
            }
            self.0.insert(name.to_vec(), format!("{value}").into_bytes());
            Ok(())
        }
    }

    fn eval(text: &str) -> Result<i64> {
        evaluate(text.as_bytes(), &mut Map::default())
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(eval("1 + 2 * 3"), Ok(7));
        assert_eq!(eval("(1 + 2) * 3"), Ok(9));
        assert_eq!(eval("10 - 4 - 3"), Ok(3));
        assert_eq!(eval("2 * 3 % 4"), Ok(2));
        assert_eq!(eval("1 << 4 >> 2"), Ok(4));
        assert_eq!(eval("1 < 2 == 1"), Ok(1));
        assert_eq!(eval("6 & 3 | 8 ^ 1"), Ok(11));
        assert_eq!(eval("-3 / 2"), Ok(-1));
        assert_eq!(eval("-7 % 3"), Ok(-1));
        assert_eq!(eval("!0 + ~0"), Ok(0));
        assert_eq!(eval("1 ? 2 : 3"), Ok(2));
        assert_eq!(eval("0 ? 2 : 0 ? 3 : 4"), Ok(4));
        assert_eq!(eval("0x1f + 010 + 9"), Ok(48));
        assert_eq!(eval(""), Ok(0));
        assert_eq!(eval("  "), Ok(0));
        assert_eq!(eval("- -1"), Ok(1));
        assert_eq!(eval("3 >= 3 && 2 <= 1 || 5 != 5"), Ok(0));
    }

    #[test]
    fn variables_and_assignment() {
        let mut map = Map::default();
        map.0.insert(b"x".to_vec(), b" 5 ".to_vec());
        map.0.insert(b"bad".to_vec(), b"5a".to_vec());
        assert_eq!(evaluate(b"x * 2", &mut map), Ok(10));
        assert_eq!(evaluate(b"unset + 1", &mut map), Ok(1));
        assert_eq!(evaluate(b"y = x += 2", &mut map), Ok(7));
        assert_eq!(map.0.get(&b"y"[..]).map(Vec::as_slice), Some(&b"7"[..]));
        assert_eq!(map.0.get(&b"x"[..]).map(Vec::as_slice), Some(&b"7"[..]));
        assert_eq!(evaluate(b"x <<= 1", &mut map), Ok(14));
        assert_eq!(evaluate(b"x == 14", &mut map), Ok(1));
        assert_eq!(evaluate(b"bad + 1", &mut map), Err(ArithmeticError::NotANumber(b"5a".to_vec())));
        assert_eq!(evaluate(b"readonly = 1", &mut map), Err(ArithmeticError::ReadOnly(b"readonly".to_vec())));
    }

    #[test]
    fn untaken_branches_do_nothing() {
        let mut map = Map::default();
        assert_eq!(evaluate(b"0 && (a = 1)", &mut map), Ok(0));
        assert_eq!(evaluate(b"1 || (b = 1)", &mut map), Ok(1));
        assert_eq!(evaluate(b"1 ? 5 : (c = 1 / 0)", &mut map), Ok(5));
        assert!(map.0.is_empty());
    }

    #[test]
    fn errors() {
        assert_eq!(eval("1 / 0"), Err(ArithmeticError::DivisionByZero));
        assert_eq!(eval("1 % 0"), Err(ArithmeticError::DivisionByZero));
        assert_eq!(eval("1 +"), Err(ArithmeticError::Syntax));
        assert_eq!(eval("(1"), Err(ArithmeticError::Syntax));
        assert_eq!(eval("1 2"), Err(ArithmeticError::Syntax));
        assert_eq!(eval("08"), Err(ArithmeticError::Syntax));
        assert_eq!(eval("12abc"), Err(ArithmeticError::Syntax));
        assert_eq!(eval("3 = 4"), Err(ArithmeticError::Syntax));
        assert_eq!(eval(&"(".repeat(10_000)), Err(ArithmeticError::TooDeep));
        assert_eq!(eval(&"-".repeat(10_000)), Err(ArithmeticError::TooDeep));
        assert_eq!(eval("-9223372036854775807 - 1"), Ok(i64::MIN));
        assert_eq!(eval("(-9223372036854775807 - 1) / -1"), Ok(i64::MIN));
        assert_eq!(eval("9223372036854775807 + 1"), Ok(i64::MIN));
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number(b" -42 "), Some(-42));
        assert_eq!(parse_number(b""), Some(0));
        assert_eq!(parse_number(b"0x10"), Some(16));
        assert_eq!(parse_number(b"1 2"), None);
        assert_eq!(parse_number(b"x"), None);
    }

    proptest! {
        #[test]
        fn matches_wrapping_integer_arithmetic(a in any::<i32>(), b in any::<i32>(), c in 1i32..1000) {
            let (a, b, c) = (i64::from(a), i64::from(b), i64::from(c));
            let text = format!("({a}) + ({b}) * ({c}) - ({a}) / ({c}) % 7");
            prop_assert_eq!(eval(&text), Ok(a + b * c - a / c % 7));
        }
    }
}
