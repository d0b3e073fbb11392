//! Scenario errors that point at the file, the line, the key and the value,
//! in the one format every caller prints: `file:line: context: message`.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match self.line {
            Some(line) => write!(f, "{file}:{line}: {}", self.message),
            None => write!(f, "{file}: {}", self.message),
        }
    }
}

impl std::error::Error for ScenarioError {}

/// Turns byte spans into line numbers and names the table a line sits in.
pub struct Source<'a> {
    pub file: &'a Path,
    pub text: &'a str,
}

impl Source<'_> {
    pub fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|b| **b == b'\n').count() + 1
    }

    pub fn error(&self, span: Option<Range<usize>>, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.to_path_buf(),
            line: span.map(|s| self.line_of(s.start)),
            message: message.into(),
        }
    }

    /// A TOML syntax or type error, reworded around the key it happened at.
    pub fn parse_error(&self, err: &toml::de::Error) -> ScenarioError {
        let message = err.message().trim().trim_end_matches('.').to_string();
        let Some(span) = err.span() else {
            return self.error(None, message);
        };
        let line = self.line_of(span.start);
        let text = self.text.lines().nth(line - 1).unwrap_or("").trim();
        let section = self.section_before(span.start);
        let place = match (section.as_str(), text.is_empty()) {
            ("", true) => String::new(),
            ("", false) => format!(" (at `{}`)", shorten(text)),
            (s, true) => format!(" (in {s})"),
            (s, false) => format!(" (in {s}, at `{}`)", shorten(text)),
        };
        self.error(Some(span), format!("{message}{place}"))
    }

    /// The `[table]` or `[[array]]` header above an offset, counting array
    /// entries so the second stage reads as `[[stage]] #2`.
    fn section_before(&self, offset: usize) -> String {
        let mut section = String::new();
        let mut counts: Vec<(String, usize)> = Vec::new();
        let mut at = 0;
        for line in self.text.split_inclusive('\n') {
            if at > offset {
                break;
            }
            at += line.len();
            let head = line.trim();
            if let Some(name) = head.strip_prefix("[[").and_then(|h| h.split("]]").next()) {
                let name = name.trim().to_string();
                let n = match counts.iter_mut().find(|(k, _)| *k == name) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        counts.push((name.clone(), 1));
                        1
                    }
                };
                section = format!("[[{name}]] #{n}");
            } else if let Some(name) = head.strip_prefix('[').and_then(|h| h.split(']').next()) {
                section = format!("[{}]", name.trim());
            }
        }
        section
    }
}

fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(60).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_the_section_and_line() {
        let text = "[bus]\nkind = \"memory\"\n\n[[stage]]\nname = \"a\"\nmessages = 1\n\n[[stage]]\nmesages = 5\n";
        let err = toml::from_str::<crate::scenario::raw::RawScenario>(text).unwrap_err();
        let source = Source { file: Path::new("s.toml"), text };
        let shown = source.parse_error(&err).to_string();
        assert!(shown.starts_with("s.toml:9: unknown field `mesages`"), "{shown}");
        assert!(shown.contains("[[stage]] #2"), "{shown}");
    }
}
