//! Prometheus durations (`5m`, `1h30m`, `250ms`): rule `for:`, ranges and offsets in PromQL,
//! silence lengths. One parser, as Prometheus' `model.ParseDuration` reads them.

/// Milliseconds of each unit, in the order a duration must list them.
const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
];

/// The longest duration Prometheus takes, in milliseconds (`i64::MAX` nanoseconds).
const MAX_MS: u64 = i64::MAX as u64 / 1_000_000;

/// Parses a Prometheus duration into milliseconds. Units go from largest to smallest, each at
/// most once (`1h30m`, not `30m1h`); `0` alone is zero.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let bad =
        || format!("{text:?} is not a duration: use a number and a unit (ms, s, m, h, d, w, y), e.g. 5m or 1h30m");
    if text == "0" {
        return Ok(0);
    }
    if text.is_empty() {
        return Err(bad());
    }
    let bytes = text.as_bytes();
    let mut total: u64 = 0;
    let mut i = 0;
    let mut next_unit = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return Err(bad());
        }
        let n: u64 = text[start..i].parse().map_err(|_| bad())?;
        let unit_start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &text[unit_start..i];
        let Some(pos) = UNITS.iter().position(|(u, _)| *u == unit) else { return Err(bad()) };
        if pos < next_unit {
            return Err(format!("{text:?} is not a duration: units must go from largest to smallest, once each"));
        }
        next_unit = pos + 1;
        total = n.checked_mul(UNITS[pos].1).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
    }
    // Go's time.Duration counts nanoseconds in an int64: about 292 years.
    if total > MAX_MS {
        return Err(format!("{text:?} is not a duration: duration out of range (at most about 292 years)"));
    }
    Ok(total)
}

/// Formats milliseconds the way Prometheus prints a duration (`1h30m`, `0s`).
pub fn format_duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = ms;
    for (unit, size) in UNITS {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prometheus_durations() {
        assert_eq!(parse_duration("5m"), Ok(300_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("250ms"), Ok(250));
        assert_eq!(parse_duration("1y2w3d4h5m6s7ms").map(format_duration), Ok("1y2w3d4h5m6s7ms".into()));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("292y"), Ok(292 * 365 * 86_400_000));
        assert!(parse_duration("293y").unwrap_err().contains("duration out of range"));
        assert!(parse_duration("9223372036854775807ms").is_err());
        for bad in ["", "5", "m", "5x", "30m1h", "1m1m", "1.5h", "-5m", " 5m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(90_000), "1m30s");
    }
}
