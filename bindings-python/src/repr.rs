//! Python-style `repr` pieces for the classes' `__repr__` (single-quoted strings, `None`).

use std::fmt::{Display, Write as _};

/// `'text'` as Python's `repr(str)` writes it (double quotes when the text has a single quote only).
pub fn string(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `repr` of an optional string.
pub fn optional_string(text: Option<&str>) -> String {
    text.map_or_else(|| "None".to_owned(), string)
}

/// `repr` of an optional number.
pub fn optional<T: Display>(value: Option<T>) -> String {
    value.map_or_else(|| "None".to_owned(), |value| value.to_string())
}
