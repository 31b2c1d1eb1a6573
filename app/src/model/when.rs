//! Times as people read them: "3 min ago", "in 2 h", with the exact time beside.

/// How long ago (positive `seconds`) or until when (negative) something is, in words:
/// "just now", "45 s ago", "3 min ago", "2 h ago", "5 days ago", "in 10 min". Amounts are
/// rounded to the nearest unit, as people say them: a silence of 2 h made a minute ago ends
/// "in 2 h", not "in 1 h".
pub fn relative(seconds: i64) -> String {
    let (future, s) = (seconds < 0, seconds.unsigned_abs());
    if s < 10 {
        return "just now".into();
    }
    const DAY: u64 = 86_400;
    let round = |unit: u64| (s + unit / 2) / unit;
    // Each unit holds until its amount would round up to the next unit's one.
    let amount = match s {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 - 30 => format!("{} min", round(60)),
        s if s < DAY - 1800 => format!("{} h", round(3600)),
        s if s < DAY + DAY / 2 => "1 day".into(),
        s if s < 60 * DAY - DAY / 2 => format!("{} days", round(DAY)),
        s if s < 730 * DAY => format!("{} months", round(30 * DAY)),
        _ => format!("{} years", round(365 * DAY)),
    };
    if future { format!("in {amount}") } else { format!("{amount} ago") }
}

/// An RFC 3339 time (`2026-11-30T15:04:05.123Z`, as the server stores them) as
/// `2026-11-30 15:04:05 UTC`; anything else as it is.
pub fn utc_text(rfc3339: &str) -> String {
    let b = rfc3339.as_bytes();
    if b.len() >= 19 && b[10] == b'T' && rfc3339.ends_with('Z') {
        format!("{} {} UTC", &rfc3339[..10], &rfc3339[11..19])
    } else {
        rfc3339.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_people_say_them() {
        assert_eq!(relative(3), "just now");
        assert_eq!(relative(45), "45 s ago");
        assert_eq!(relative(3 * 60 + 20), "3 min ago");
        assert_eq!(relative(2 * 3600 + 5), "2 h ago");
        assert_eq!(relative(30 * 3600), "1 day ago");
        assert_eq!(relative(5 * 86_400), "5 days ago");
        assert_eq!(relative(-600), "in 10 min");
        assert_eq!(relative(400 * 86_400), "13 months ago");
        assert_eq!(relative(3 * 365 * 86_400), "3 years ago");
        // Rounded to the nearest unit, never to a unit's 60th or 24th.
        assert_eq!(relative(-(2 * 3600 - 60)), "in 2 h");
        assert_eq!(relative(89), "1 min ago");
        assert_eq!(relative(91), "2 min ago");
        assert_eq!(relative(3590), "1 h ago");
        assert_eq!(relative(86_000), "1 day ago");
        assert_eq!(relative(59 * 86_400 + 50_000), "2 months ago");
        assert_eq!(utc_text("2026-11-30T15:04:05.123Z"), "2026-11-30 15:04:05 UTC");
        assert_eq!(utc_text("never"), "never");
    }
}
