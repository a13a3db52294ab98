//! How the tracing clients parse environment values, to the letter: the executor's Go
//! (`strconv.ParseBool/ParseFloat/ParseInt`, `time.ParseDuration`, `url.ParseRequestURI`,
//! `net.SplitHostPort`) and the Python wrapper's `int()`. Nothing is trimmed where Go does not
//! trim, so `" 1"` is refused exactly when the client refuses it. Each parser returns the reason
//! in the client's terms when it refuses.

/// `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err("not a Go bool (1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False)".into()),
    }
}

/// `strconv.ParseInt(s, 10, 0)` on a 64-bit machine: optional sign, ASCII digits, in range.
pub fn parse_int(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a whole number (Go does not trim spaces)".into());
    }
    s.strip_prefix('+')
        .unwrap_or(s)
        .parse::<i64>()
        .map_err(|_| "out of the 64-bit integer range".into())
}

/// `strconv.ParseFloat(s, 64)`: decimal and hexadecimal (`0x1p-2`) forms, `inf`/`infinity`/`nan`
/// in any case, underscores only after a base prefix; a finite literal that overflows is refused.
pub fn parse_float(s: &str) -> Result<f64, String> {
    let bad = || Err("not a number Go's ParseFloat accepts (Go does not trim spaces)".to_string());
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let sign = if neg { -1.0 } else { 1.0 };
    match lower.as_str() {
        "inf" | "infinity" => return Ok(sign * f64::INFINITY),
        "nan" if body.len() == s.len() => return Ok(f64::NAN),
        _ => {}
    }
    if let Some(hex) = lower.strip_prefix("0x") {
        return parse_hex_float(hex).map(|v| sign * v).or_else(|_| bad());
    }
    let mut seen_digit = false;
    let mut seen_dot = false;
    let mut exp_at = None;
    let bytes = body.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'0'..=b'9' => seen_digit = true,
            b'+' | b'-' if exp_at.is_some_and(|e| e + 1 == i) => {}
            b'.' if !seen_dot && exp_at.is_none() => seen_dot = true,
            b'e' | b'E' if seen_digit && exp_at.is_none() => exp_at = Some(i),
            _ => return bad(),
        }
        if exp_at.is_some_and(|e| e < i) && !matches!(b, b'0'..=b'9' | b'+' | b'-') {
            return bad();
        }
    }
    if !seen_digit {
        return bad();
    }
    if let Some(i) = exp_at {
        let e = &body[i + 1..];
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
            return bad();
        }
    }
    let v: f64 = body.parse().or_else(|_| bad())?;
    if v.is_infinite() {
        return Err("out of the float64 range".into());
    }
    Ok(sign * v)
}

/// The part of a Go hexadecimal float after `0x`: hex mantissa with optional dot, then a
/// mandatory `p` exponent; underscores may separate digits.
fn parse_hex_float(s: &str) -> Result<f64, ()> {
    let (mant, exp) = s.split_once('p').ok_or(())?;
    let exp = exp.replace('_', "");
    let exp: i32 = exp.parse().map_err(|_| ())?;
    let mut value = 0f64;
    let mut scale = 0i32;
    let mut digits = 0;
    let mut after_dot = false;
    for c in mant.chars() {
        match c {
            '_' => continue,
            '.' if !after_dot => after_dot = true,
            c => {
                let d = c.to_digit(16).ok_or(())?;
                value = value * 16.0 + f64::from(d);
                digits += 1;
                if after_dot {
                    scale -= 4;
                }
            }
        }
    }
    if digits == 0 {
        return Err(());
    }
    let v = value * 2f64.powi(exp + scale);
    if v.is_infinite() { Err(()) } else { Ok(v) }
}

/// `time.ParseDuration`: `[-+]` then one or more `NUMBER UNIT` (ns, us, µs, μs, ms, s, m, h);
/// a bare `0` is allowed.
pub fn parse_duration(s: &str) -> Result<(), String> {
    let err = || Err("not a Go duration (e.g. 500ms, 10s, 1m30s; a unit is required)".to_string());
    let mut rest = s.strip_prefix(['+', '-']).unwrap_or(s);
    if rest == "0" {
        return Ok(());
    }
    if rest.is_empty() {
        return err();
    }
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let mut after = &rest[int_len..];
        let mut frac_len = 0;
        if let Some(f) = after.strip_prefix('.') {
            frac_len = f.bytes().take_while(u8::is_ascii_digit).count();
            after = &f[frac_len..];
        }
        if int_len == 0 && frac_len == 0 {
            return err();
        }
        let unit_len = after
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(after.len(), |(i, _)| i);
        if !matches!(
            &after[..unit_len],
            "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h"
        ) {
            return err();
        }
        rest = &after[unit_len..];
    }
    Ok(())
}

/// `url.ParseRequestURI`, the check the executor runs on `JAEGER_ENDPOINT`.
pub fn parse_request_uri(s: &str) -> Result<(), String> {
    if s.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("contains a control character".into());
    }
    if s == "*" {
        return Ok(());
    }
    let (scheme, rest) = split_scheme(s)?;
    let rest = match rest.split_once('?') {
        Some((before, _)) => before,
        None => rest,
    };
    if !rest.starts_with('/') {
        return if scheme.is_empty() {
            Err("not an absolute URL (e.g. http://jaeger-collector:14268/api/traces)".into())
        } else {
            Ok(())
        };
    }
    let mut path = rest;
    if !scheme.is_empty()
        && let Some(after) = rest.strip_prefix("//")
    {
        let end = after.find('/').unwrap_or(after.len());
        check_authority(&after[..end])?;
        path = &after[end..];
    }
    check_escapes(path).map_err(|_| "has a malformed %-escape in its path".to_string())
}

fn split_scheme(s: &str) -> Result<(&str, &str), String> {
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing protocol scheme".into()),
            b':' => return Ok((&s[..i], &s[i + 1..])),
            _ => return Ok(("", s)),
        }
    }
    Ok(("", s))
}

fn check_escapes(s: &str) -> Result<(), ()> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok =
                b.len() > i + 2 && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit();
            if !ok {
                return Err(());
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

fn check_authority(auth: &str) -> Result<(), String> {
    let host = match auth.rfind('@') {
        Some(at) => {
            let user = &auth[..at];
            let ok = user.bytes().all(|b| {
                b.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&b) || b >= 0x80
            });
            if !ok {
                return Err("has an invalid character in its user information".into());
            }
            &auth[at + 1..]
        }
        None => auth,
    };
    let name = if let Some(v6) = host.strip_prefix('[') {
        let close = v6.find(']').ok_or("has a '[' without ']' in its host")?;
        valid_port(&v6[close + 1..])?;
        return Ok(());
    } else if let Some(colon) = host.rfind(':') {
        valid_port(&host[colon..])?;
        &host[..colon]
    } else {
        host
    };
    check_escapes(name).map_err(|_| "has a malformed %-escape in its host".to_string())?;
    for b in name.bytes() {
        let ok = b >= 0x80 || b.is_ascii_alphanumeric() || b"!$&'()*+,;=:[]<>\"-_.~%".contains(&b);
        if !ok {
            return Err(format!(
                "has an invalid character {:?} in its host",
                b as char
            ));
        }
    }
    Ok(())
}

fn valid_port(p: &str) -> Result<(), String> {
    match p.strip_prefix(':') {
        None if p.is_empty() => Ok(()),
        Some(d) if d.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        _ => Err(format!("has an invalid port {p:?} after the host")),
    }
}

/// `net.SplitHostPort(host + ":" + port)`, the check the executor's UDP reporter runs on the
/// agent address: a host with a colon must be in brackets.
pub fn split_host_port(host: &str) -> Result<(), String> {
    let bracketed =
        host.starts_with('[') && host.ends_with(']') && host.matches(['[', ']']).count() == 2;
    if bracketed {
        return Ok(());
    }
    if host.contains(':') {
        return Err(
            "contains ':' (put only the host here, the port goes in JAEGER_AGENT_PORT)".into(),
        );
    }
    if host.contains(['[', ']']) {
        return Err("has an unmatched '[' or ']'".into());
    }
    Ok(())
}

/// Python's `int(str)`: surrounding whitespace is stripped, an optional sign, decimal digits with
/// single underscores between them.
pub fn python_int(s: &str) -> Result<i128, String> {
    let bad = || Err(format!("{s:?} is not an integer to Python's int()"));
    let t = s.trim_matches(|c: char| c.is_whitespace());
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return bad();
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    let v: i128 = clean.parse().unwrap_or(i128::MAX);
    Ok(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bools_are_exactly_gos_twelve_spellings() {
        for s in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(s), Ok(true), "{s}");
        }
        for s in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(s), Ok(false), "{s}");
        }
        for s in ["yes", "on", " true", "true ", "tRUE", ""] {
            assert!(parse_bool(s).is_err(), "{s}");
        }
    }

    #[test]
    fn floats_follow_go_not_rust() {
        for (s, v) in [
            ("1", 1.0),
            ("+0.5", 0.5),
            (".5", 0.5),
            ("1.", 1.0),
            ("1e-3", 0.001),
            ("0x1p-2", 0.25),
            ("-0", 0.0),
        ] {
            assert_eq!(parse_float(s), Ok(v), "{s}");
        }
        assert!(parse_float("NaN").unwrap().is_nan());
        assert_eq!(parse_float("-Inf"), Ok(f64::NEG_INFINITY));
        for s in [
            " 1", "1 ", "", "1e400", "1_0", "0x1", "abc", "1e", ".", "+", "1.2.3", "e5",
        ] {
            assert!(parse_float(s).is_err(), "{s}");
        }
    }

    #[test]
    fn ints_durations_and_hosts() {
        assert_eq!(parse_int("+6831"), Ok(6831));
        assert_eq!(parse_int("-1"), Ok(-1));
        for s in [
            " 6831",
            "6831 ",
            "68.31",
            "",
            "+",
            "1_0",
            "99999999999999999999",
        ] {
            assert!(parse_int(s).is_err(), "{s}");
        }
        for s in [
            "0", "1s", "500ms", "1m30s", "1.5h", "-2us", "3µs", ".5s", "1.s",
        ] {
            assert!(parse_duration(s).is_ok(), "{s}");
        }
        for s in ["1", " 1s", "1s ", "1 s", "s", "1d", "", ".s", "1ss"] {
            assert!(parse_duration(s).is_err(), "{s}");
        }
        assert!(split_host_port("127.0.0.1").is_ok());
        assert!(split_host_port("[::1]").is_ok());
        assert!(split_host_port("jaeger-agent:6831").is_err());
        assert!(split_host_port("::1").is_err());
    }

    #[test]
    fn request_uris_as_go_parses_them() {
        for s in [
            "http://127.0.0.1:14268/api/traces",
            "https://u:p@collector/api/traces?x=1",
            "localhost:14268",
            "/api/traces",
            "http://[::1]:14268/api/traces",
            "http://host:/x",
        ] {
            assert!(parse_request_uri(s).is_ok(), "{s}");
        }
        for s in [
            "127.0.0.1:14268/api/traces",
            " http://x/",
            "http://x /",
            "http://x:abc/",
            ":14268",
            "http://x/%zz",
            "collector/api/traces",
            "http://a b/",
        ] {
            assert!(parse_request_uri(s).is_err(), "{s}");
        }
    }

    #[test]
    fn python_int_strips_and_takes_underscores() {
        for (s, v) in [
            ("1", 1),
            (" 1 ", 1),
            ("+1", 1),
            ("-1", -1),
            ("1_0", 10),
            ("007", 7),
        ] {
            assert_eq!(python_int(s), Ok(v), "{s}");
        }
        for s in ["", "true", "1.0", "_1", "1__0", "0x1", " "] {
            assert!(python_int(s).is_err(), "{s}");
        }
    }
}
