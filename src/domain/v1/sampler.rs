//! Jaeger sampler settings as users type them (`TYPE[:PARAM]`) and as the executor reads them
//! (`JAEGER_SAMPLER_TYPE` + `JAEGER_SAMPLER_PARAM`).

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamplerKind {
    Const,
    Probabilistic,
    RateLimiting,
    Remote,
}

impl SamplerKind {
    pub const ALL: [SamplerKind; 4] = [
        SamplerKind::Const,
        SamplerKind::Probabilistic,
        SamplerKind::RateLimiting,
        SamplerKind::Remote,
    ];

    /// The lowercase spelling both Jaeger clients accept.
    pub fn as_str(self) -> &'static str {
        match self {
            SamplerKind::Const => "const",
            SamplerKind::Probabilistic => "probabilistic",
            SamplerKind::RateLimiting => "ratelimiting",
            SamplerKind::Remote => "remote",
        }
    }

    /// One line a user reads when choosing a sampler.
    pub fn describe(self) -> &'static str {
        match self {
            SamplerKind::Const => "const: trace every request (1) or none (0)",
            SamplerKind::Probabilistic => {
                "probabilistic: trace a random fraction of requests (0..1)"
            }
            SamplerKind::RateLimiting => "ratelimiting: trace at most N requests per second",
            SamplerKind::Remote => {
                "remote: ask the Jaeger agent for a rate (port 5778); optional initial rate 0..1"
            }
        }
    }

    fn parse(s: &str) -> Option<Self> {
        SamplerKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }

    /// Checks a parameter for this kind; the error says what the kind accepts.
    pub fn check_param(self, param: &str) -> Result<f64, String> {
        let want = match self {
            SamplerKind::Const => "0 or 1",
            SamplerKind::Probabilistic | SamplerKind::Remote => "a number from 0 to 1",
            SamplerKind::RateLimiting => "a number of traces per second greater than 0",
        };
        let bad = || format!("the {} sampler takes {want}, not '{param}'", self.as_str());
        let value: f64 = param.trim().parse().map_err(|_| bad())?;
        let ok = value.is_finite()
            && match self {
                SamplerKind::Const => value == 0.0 || value == 1.0,
                SamplerKind::Probabilistic | SamplerKind::Remote => (0.0..=1.0).contains(&value),
                SamplerKind::RateLimiting => value > 0.0,
            };
        if ok { Ok(value) } else { Err(bad()) }
    }
}

/// A validated sampler. `param` is kept as written (trimmed) so `0.10` stays `0.10`,
/// except `const`, which is always written `0` or `1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampler {
    pub kind: SamplerKind,
    pub param: Option<String>,
}

impl Sampler {
    pub fn const_on() -> Self {
        Sampler {
            kind: SamplerKind::Const,
            param: Some("1".into()),
        }
    }
}

impl fmt::Display for Sampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.param {
            Some(p) => write!(f, "{}:{p}", self.kind.as_str()),
            None => f.write_str(self.kind.as_str()),
        }
    }
}

impl FromStr for Sampler {
    type Err = String;

    /// Parses `TYPE[:PARAM]`; every error is one sentence that shows a valid example.
    fn from_str(input: &str) -> Result<Self, String> {
        const EXAMPLES: &str = "e.g. const:1, probabilistic:0.1, ratelimiting:5 or remote";
        let s = input.trim();
        let mut parts = s.split(':');
        let kind_text = parts.next().unwrap_or_default();
        let param = parts.next();
        if parts.next().is_some() {
            return Err(format!(
                "invalid sampler '{input}': expected TYPE[:PARAM] with one colon ({EXAMPLES})"
            ));
        }
        if kind_text.is_empty() {
            return Err(format!(
                "invalid sampler '{input}': the sampler type is missing ({EXAMPLES})"
            ));
        }
        let kind = SamplerKind::parse(kind_text).ok_or_else(|| {
            format!(
                "invalid sampler '{input}': unknown type '{kind_text}' (use const, probabilistic, ratelimiting or remote)"
            )
        })?;
        let param = match param {
            None => match kind {
                SamplerKind::Const => Some("1".to_string()),
                SamplerKind::Remote => None,
                _ => {
                    return Err(format!(
                        "invalid sampler '{input}': {} needs a parameter ({EXAMPLES})",
                        kind.as_str()
                    ));
                }
            },
            Some(p) if p.trim().is_empty() => {
                return Err(format!(
                    "invalid sampler '{input}': the parameter after ':' is empty ({EXAMPLES})"
                ));
            }
            Some(p) => {
                let value = kind
                    .check_param(p)
                    .map_err(|e| format!("invalid sampler '{input}': {e}"))?;
                Some(match kind {
                    SamplerKind::Const => format!("{}", value as u8),
                    _ => p.trim().to_string(),
                })
            }
        };
        Ok(Sampler { kind, param })
    }
}

/// Reads what the executor would do with `JAEGER_SAMPLER_TYPE`/`PARAM` as set (either may be
/// absent). Returns None when the values would make the executor fail at start.
pub fn from_env(kind: Option<&str>, param: Option<&str>) -> Option<Sampler> {
    let kind = match kind {
        None | Some("") => SamplerKind::Remote,
        Some(k) => SamplerKind::parse(k.trim())?,
    };
    let param = match param {
        None | Some("") => None,
        Some(p) => {
            kind.check_param(p).ok()?;
            Some(p.trim().to_string())
        }
    };
    Some(Sampler { kind, param })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_each_type_and_writes_lowercase() {
        assert_eq!("CONST:1".parse::<Sampler>().unwrap().to_string(), "const:1");
        assert_eq!("const".parse::<Sampler>().unwrap().to_string(), "const:1");
        assert_eq!("const:0".parse::<Sampler>().unwrap().to_string(), "const:0");
        assert_eq!(
            "probabilistic:0.10".parse::<Sampler>().unwrap().to_string(),
            "probabilistic:0.10"
        );
        assert_eq!(
            "RateLimiting:5".parse::<Sampler>().unwrap().to_string(),
            "ratelimiting:5"
        );
        assert_eq!("remote".parse::<Sampler>().unwrap().to_string(), "remote");
        assert_eq!(
            "remote:0.001".parse::<Sampler>().unwrap().to_string(),
            "remote:0.001"
        );
    }

    #[test]
    fn rejects_every_bad_sampler_with_a_reason() {
        let cases = [
            ("const:2", "takes 0 or 1"),
            ("probabilistic:1.5", "from 0 to 1"),
            ("probabilistic:-0.1", "from 0 to 1"),
            ("ratelimiting:0", "greater than 0"),
            ("foo:1", "unknown type 'foo'"),
            ("const:", "parameter after ':' is empty"),
            (":1", "type is missing"),
            ("probabilistic:abc", "not 'abc'"),
            ("remote:2", "from 0 to 1"),
            ("const:1:2", "one colon"),
            ("probabilistic", "needs a parameter"),
            ("probabilistic:NaN", "from 0 to 1"),
        ];
        for (input, want) in cases {
            let err = input.parse::<Sampler>().unwrap_err();
            assert!(err.contains(want), "{input}: {err}");
            assert!(
                err.contains(input),
                "{input}: error does not name the input: {err}"
            );
        }
    }

    #[test]
    fn env_values_default_to_remote_and_reject_what_crashes_the_executor() {
        assert_eq!(from_env(None, None).unwrap().to_string(), "remote");
        assert_eq!(
            from_env(Some("Probabilistic"), Some("0.5"))
                .unwrap()
                .to_string(),
            "probabilistic:0.5"
        );
        assert!(from_env(Some("probabilistic"), Some("2")).is_none());
        assert!(from_env(Some("fancy"), None).is_none());
    }
}
