//! Reading result files back, for the commands that work on finished runs
//! (`compare`, `merge`, `plot`). Every error names the file, and for a bad
//! cell its line, column and value, so a hand-edited CSV is easy to fix.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};

/// A CSV file held as its header and rows, with the line of every row.
#[derive(Debug, Clone)]
pub struct Table {
    pub path: PathBuf,
    pub header: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub line: u64,
    cells: HashMap<String, String>,
}

impl Table {
    /// Reads `path`, insisting that every column in `required` is there.
    pub fn read(path: &Path, required: &[&str]) -> Result<Table> {
        let mut reader = csv::Reader::from_path(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let header: Vec<String> = reader
            .headers()
            .with_context(|| format!("{}: malformed header", path.display()))?
            .iter()
            .map(str::to_string)
            .collect();
        for column in required {
            if !header.iter().any(|h| h == column) {
                bail!("{}: no column '{column}' in the header", path.display());
            }
        }
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| malformed(path, &e))?;
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            let cells = header.iter().cloned().zip(record.iter().map(str::to_string)).collect();
            rows.push(Row { line, cells });
        }
        Ok(Table { path: path.to_path_buf(), header, rows })
    }

    pub fn text<'a>(&self, row: &'a Row, column: &str) -> &'a str {
        row.cells.get(column).map(String::as_str).unwrap_or("")
    }

    /// A number, or an error naming the file, line, column and value.
    pub fn num(&self, row: &Row, column: &str) -> Result<f64> {
        let text = self.text(row, column);
        text.trim().parse::<f64>().map_err(|_| {
            anyhow!(
                "{}:{}: column '{column}': `{text}` is not a number",
                self.path.display(),
                row.line
            )
        })
    }
}

impl Table {
    /// A number, or None for an empty cell: a figure the stage did not
    /// measure (a stage with `consume = false` leaves its delivery figures
    /// empty).
    pub fn measured(&self, row: &Row, column: &str) -> Result<Option<f64>> {
        match self.text(row, column).trim() {
            "" => Ok(None),
            _ => self.num(row, column).map(Some),
        }
    }
}

fn malformed(path: &Path, e: &csv::Error) -> anyhow::Error {
    match e.position() {
        Some(p) => anyhow!("{}:{}: malformed row ({e})", path.display(), p.line()),
        None => anyhow!("{}: malformed ({e})", path.display()),
    }
}

/// Checks that `dir` is a directory holding a summary.csv, the one file
/// every result directory has.
pub fn result_dir(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        bail!("{}: not a result directory (no such directory)", dir.display());
    }
    if !dir.join("summary.csv").is_file() {
        bail!("{}: not a result directory (no summary.csv)", dir.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_that_is_not_a_number_is_named_with_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.csv");
        std::fs::write(&path, "stage,e2e_p99_us\nlow,12.5\nhigh,fast\n").unwrap();
        let t = Table::read(&path, &["stage"]).unwrap();
        assert_eq!(t.num(&t.rows[0], "e2e_p99_us").unwrap(), 12.5);
        let e = t.num(&t.rows[1], "e2e_p99_us").unwrap_err().to_string();
        assert!(e.ends_with("summary.csv:3: column 'e2e_p99_us': `fast` is not a number"), "{e}");
    }

    #[test]
    fn a_missing_column_and_a_ragged_row_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        std::fs::write(&path, "stage,bus\nlow,memory\n").unwrap();
        let e = Table::read(&path, &["status"]).unwrap_err().to_string();
        assert!(e.contains("no column 'status'"), "{e}");
        std::fs::write(&path, "stage,bus\nlow,memory,extra\n").unwrap();
        let e = Table::read(&path, &[]).unwrap_err().to_string();
        assert!(e.contains("s.csv:2: malformed row"), "{e}");
    }
}
