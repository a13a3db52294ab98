//! Time as kubectl shows it: RFC 3339 timestamps from the API server to an AGE column.

/// kubectl's AGE: 45s, 12m, 5h, 3d; `<unknown>` when the timestamp cannot be read.
pub fn age(created: &str, now: i64) -> String {
    let Some(t) = parse_rfc3339(created) else {
        return "<unknown>".into();
    };
    let s = (now - t).max(0);
    match s {
        0..120 => format!("{s}s"),
        120..7200 => format!("{}m", s / 60),
        7200..172_800 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

pub use crate::domain::clock::parse_rfc3339;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        let t = parse_rfc3339("2026-11-25T13:55:23Z").unwrap();
        assert_eq!(t, 1_795_614_923);
        assert_eq!(age("2026-11-25T13:55:23Z", t + 5), "5s");
        assert_eq!(age("2026-11-25T13:55:23Z", t + 600), "10m");
        assert_eq!(age("2026-11-25T13:55:23Z", t + 3 * 86400), "3d");
        assert_eq!(age("garbage", t), "<unknown>");
    }
}
