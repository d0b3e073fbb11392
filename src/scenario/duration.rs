//! Human durations as scenarios write them: "250us", "500ms", "2m", "1h30m",
//! "1.5s". A bare number is refused, because "30" could mean any unit.

use std::time::Duration;

pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(
            "expected a duration like \"500ms\", \"10s\" or \"2m\", got an empty string".into()
        );
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let (number, tail) = rest.split_at(digits);
        let unit_len = tail.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let value: f64 = number.parse().map_err(|_| bad(text))?;
        let scale = match unit.trim() {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => {
                return Err(format!(
                    "`{text}` has no unit: write it as \"{text}s\" or \"{text}ms\""
                ))
            }
            _ => return Err(bad(text)),
        };
        total += value * scale;
        rest = tail;
    }
    if !total.is_finite() || total > 365.0 * 86_400.0 {
        return Err(format!("`{text}` is longer than a year"));
    }
    Ok(Duration::from_secs_f64(total))
}

fn bad(text: &str) -> String {
    format!("`{text}` is not a duration (use ns, us, ms, s, m or h, e.g. \"500ms\" or \"2m\")")
}

/// The shortest exact way to write a duration back, for the resolved copy.
pub fn show(d: Duration) -> String {
    let ns = d.as_nanos();
    let units = [(3_600_000_000_000, "h"), (60_000_000_000, "m"), (1_000_000_000, "s")];
    for (size, unit) in units {
        if ns >= size && ns.is_multiple_of(size) {
            return format!("{}{unit}", ns / size);
        }
    }
    if ns.is_multiple_of(1_000_000) {
        format!("{}ms", ns / 1_000_000)
    } else if ns.is_multiple_of(1_000) {
        format!("{}us", ns / 1_000)
    } else {
        format!("{ns}ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_unit_and_compounds() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("250us"), Ok(Duration::from_micros(250)));
    }

    #[test]
    fn refuses_bare_numbers_and_unknown_units() {
        assert!(parse("30").unwrap_err().contains("has no unit"));
        assert!(parse("5 parsecs").unwrap_err().contains("not a duration"));
        assert!(parse("").is_err());
        assert!(parse("-5s").is_err());
        assert!(parse("99999999h").unwrap_err().contains("longer than a year"));
    }

    #[test]
    fn shows_the_shortest_exact_form() {
        assert_eq!(show(Duration::from_secs(120)), "2m");
        assert_eq!(show(Duration::from_millis(1500)), "1500ms");
        assert_eq!(show(Duration::from_secs(10)), "10s");
    }
}
