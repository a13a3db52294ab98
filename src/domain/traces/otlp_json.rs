//! Jaeger's `/api/v3` answers (OTLP JSON, served by Jaeger 1.62 and v2; docs/facts/traces.md,
//! "Jaeger's query API") read into the trace model: `{"result": {"resourceSpans": [...]}}`, where a
//! search merges every matching trace into one result.
//!
//! The service is the resource's `service.name`; the resource attributes stand for the Jaeger
//! process tags (1.62 renames a Jaeger client's `hostname` tag to `host.name`, so that one is
//! read under both names); `kind` (a number, or its enum name) becomes the `span.kind` tag when
//! the span has none; status code 2 (error) makes the span an error, as `error=true` does.
//! Ids are hex, times nanoseconds written as strings (or numbers). Strings are borrowed from the
//! answer where they need no unescaping, and each resource's spans become model spans as soon as
//! they are read, so a search of many traces is never held as a JSON tree.

use std::collections::HashMap;
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::model::{PROCESS_TAGS, SPAN_TAGS, Span, Trace, TraceError, parse_id};

type Text<'a> = std::borrow::Cow<'a, str>;

/// The traces of a `/api/v3/traces/<id>` or `/api/v3/traces?...` answer, each with its spans in
/// start order; traces in the order their first span appears.
pub fn parse_traces_json(body: &[u8]) -> Result<Vec<Trace>, TraceError> {
    // UTF-8 checked once for the whole answer, not string by string as from_slice does.
    let text = std::str::from_utf8(body)
        .map_err(|e| TraceError(format!("the answer is not Jaeger's OTLP JSON: {e}")))?;
    let answer: Answer = serde_json::from_str(text)
        .map_err(|e| TraceError(format!("the answer is not Jaeger's OTLP JSON: {e}")))?;
    let result = answer.result.ok_or_else(|| {
        TraceError("the answer has no `result` (is this Jaeger's /api/v3?)".into())
    })?;
    Ok(result.0.into_traces())
}

/// Spans grouped by trace as they are read.
#[derive(Default)]
struct Collected {
    order: Vec<u128>,
    by_trace: HashMap<u128, Vec<Span>>,
}

impl Collected {
    fn into_traces(mut self) -> Vec<Trace> {
        self.order
            .iter()
            .filter_map(|id| {
                let mut spans = self.by_trace.remove(id)?;
                // Start order, parents first at equal starts: the waterfall reads top to bottom.
                spans.sort_by_key(|s| (s.start_us, s.parent.is_some()));
                Some(Trace { id: *id, spans })
            })
            .collect()
    }

    fn add(&mut self, rs: RawResourceSpans) -> Result<(), String> {
        let mut service = String::new();
        let mut process: Vec<(String, String)> = Vec::new();
        for kv in rs.resource.map(|r| r.attributes).unwrap_or_default() {
            match kv.key.as_ref() {
                "service.name" => service = kv.value.0.into_owned(),
                // A Jaeger client's `hostname`, as Jaeger renames it (1.62's v3, every v2).
                "host.name" if !process.iter().any(|(k, _)| k == "hostname") => {
                    process.push(("hostname".into(), kv.value.0.into_owned()));
                }
                k if PROCESS_TAGS.contains(&k) => {
                    process.retain(|(pk, _)| pk != k);
                    process.push((k.to_string(), kv.value.0.into_owned()));
                }
                _ => {}
            }
        }
        let process = Arc::new(process);
        for scope in rs.scope_spans {
            for s in scope.spans {
                let trace = parse_id(&s.trace_id)
                    .ok_or_else(|| format!("trace id {:?} is not hex", s.trace_id))?;
                let id = parse_id(&s.span_id)
                    .and_then(|v| u64::try_from(v).ok())
                    .ok_or_else(|| format!("span id {:?} is not hex", s.span_id))?;
                let parent = s
                    .parent_span_id
                    .as_deref()
                    .filter(|p| !p.is_empty())
                    .and_then(parse_id)
                    .and_then(|v| u64::try_from(v).ok())
                    .filter(|p| *p != 0);
                let mut tags: Vec<(String, String)> = s
                    .attributes
                    .into_iter()
                    .filter(|kv| SPAN_TAGS.contains(&kv.key.as_ref()))
                    .map(|kv| (kv.key.into_owned(), kv.value.0.into_owned()))
                    .collect();
                if !tags.iter().any(|(k, _)| k == "span.kind")
                    && let Some(kind) = kind_word(s.kind)
                {
                    tags.push(("span.kind".into(), kind.into()));
                }
                let status_5xx = tags
                    .iter()
                    .filter(|(k, _)| k == "http.status_code" || k == "http.response.status_code")
                    .filter_map(|(_, v)| v.parse::<i64>().ok())
                    .any(|code| code >= 500);
                let error = s.status.is_some_and(|st| st.code.0 == 2)
                    || tags.iter().any(|(k, v)| k == "error" && v == "true")
                    || status_5xx;
                let start_us = (s.start.0 / 1_000) as i64;
                let end_us = (s.end.0 / 1_000) as i64;
                let span = Span {
                    id,
                    parent,
                    service: service.clone(),
                    operation: s.name.into_owned(),
                    start_us,
                    duration_us: (end_us - start_us).max(0),
                    error,
                    tags,
                    process: process.clone(),
                };
                match self.by_trace.get_mut(&trace) {
                    Some(spans) => spans.push(span),
                    None => {
                        self.order.push(trace);
                        self.by_trace.insert(trace, vec![span]);
                    }
                }
            }
        }
        Ok(())
    }
}

/// OTLP's span kinds (1 internal, 2 server, 3 client, 4 producer, 5 consumer) as the words
/// Jaeger's clients write in `span.kind`.
fn kind_word(kind: Kind) -> Option<&'static str> {
    match kind.0 {
        1 => Some("internal"),
        2 => Some("server"),
        3 => Some("client"),
        4 => Some("producer"),
        5 => Some("consumer"),
        _ => None,
    }
}

#[derive(serde::Deserialize)]
struct Answer {
    result: Option<ResourceList>,
}

/// `result`: its `resourceSpans`, each read and converted in turn.
struct ResourceList(Collected);

impl<'de> serde::Deserialize<'de> for ResourceList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ResourceList, D::Error> {
        struct Outer;
        impl<'de> Visitor<'de> for Outer {
            type Value = ResourceList;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object with resourceSpans")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<ResourceList, A::Error> {
                let mut collected = Collected::default();
                while let Some(key) = m.next_key::<Text<'de>>()? {
                    if key == "resourceSpans" {
                        m.next_value_seed(Each(&mut collected))?;
                    } else {
                        m.next_value::<de::IgnoredAny>()?;
                    }
                }
                Ok(ResourceList(collected))
            }
        }
        d.deserialize_map(Outer)
    }
}

/// The `resourceSpans` list, each element added to the collection as soon as it is read.
struct Each<'c>(&'c mut Collected);

impl<'de> de::DeserializeSeed<'de> for Each<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Each<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of resourceSpans")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        while let Some(rs) = a.next_element::<RawResourceSpans<'de>>()? {
            if let Err(e) = self.0.add(rs) {
                return Err(de::Error::custom(e));
            }
        }
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawResourceSpans<'a> {
    #[serde(default, borrow)]
    resource: Option<RawResource<'a>>,
    #[serde(default, borrow)]
    scope_spans: Vec<RawScopeSpans<'a>>,
}

#[derive(serde::Deserialize)]
struct RawResource<'a> {
    #[serde(default, borrow)]
    attributes: Vec<RawKv<'a>>,
}

#[derive(serde::Deserialize)]
struct RawScopeSpans<'a> {
    #[serde(default, borrow)]
    spans: Vec<RawSpan<'a>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSpan<'a> {
    #[serde(default, borrow)]
    trace_id: Text<'a>,
    #[serde(default, borrow)]
    span_id: Text<'a>,
    #[serde(default, borrow)]
    parent_span_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    name: Text<'a>,
    #[serde(default)]
    kind: Kind,
    #[serde(rename = "startTimeUnixNano", default)]
    start: Nanos,
    #[serde(rename = "endTimeUnixNano", default)]
    end: Nanos,
    #[serde(default, borrow)]
    attributes: Vec<RawKv<'a>>,
    #[serde(default)]
    status: Option<Status>,
}

#[derive(serde::Deserialize)]
struct RawKv<'a> {
    #[serde(borrow)]
    key: Text<'a>,
    #[serde(default, borrow)]
    value: AnyText<'a>,
}

#[derive(serde::Deserialize, Clone, Copy)]
struct Status {
    #[serde(default)]
    code: Kind,
}

/// An enum as protojson writes it: a number, or its name (`SPAN_KIND_SERVER`,
/// `STATUS_CODE_ERROR`).
#[derive(Default, Clone, Copy)]
struct Kind(i64);

impl<'de> serde::Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        // Read in place: no JSON value is built for a field every span has.
        struct V;
        impl<'v> Visitor<'v> for V {
            type Value = Kind;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an enum as a number or its name")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Kind, E> {
                Ok(Kind(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Kind, E> {
                Ok(Kind(i64::try_from(v).unwrap_or(0)))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Kind, E> {
                Ok(Kind(0))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Kind, E> {
                Ok(Kind(match s {
                    "SPAN_KIND_INTERNAL" | "STATUS_CODE_OK" => 1,
                    "SPAN_KIND_SERVER" | "STATUS_CODE_ERROR" => 2,
                    "SPAN_KIND_CLIENT" => 3,
                    "SPAN_KIND_PRODUCER" => 4,
                    "SPAN_KIND_CONSUMER" => 5,
                    other => other.parse().unwrap_or(0),
                }))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Kind, E> {
                Ok(Kind(0))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Kind, E> {
                Ok(Kind(0))
            }
            fn visit_seq<A: SeqAccess<'v>>(self, mut a: A) -> Result<Kind, A::Error> {
                while a.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Kind(0))
            }
            fn visit_map<A: MapAccess<'v>>(self, mut m: A) -> Result<Kind, A::Error> {
                while m.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
                Ok(Kind(0))
            }
        }
        d.deserialize_any(V)
    }
}

/// A uint64 as protojson writes it: a string of digits, or a number.
#[derive(Default, Clone, Copy)]
struct Nanos(u64);

impl<'de> serde::Deserialize<'de> for Nanos {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Nanos, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Nanos;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("nanoseconds, as a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Nanos, E> {
                v.parse()
                    .map(Nanos)
                    .map_err(|_| E::custom(format!("{v:?} is not a time in nanoseconds")))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Nanos, E> {
                Ok(Nanos(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Nanos, E> {
                Ok(Nanos(v.max(0) as u64))
            }
            fn visit_unit<E>(self) -> Result<Nanos, E> {
                Ok(Nanos(0))
            }
        }
        d.deserialize_any(V)
    }
}

/// An OTLP `AnyValue` (`{"stringValue": ...}`, `{"intValue": "200"}`, `{"boolValue": true}`,
/// `{"doubleValue": 1.5}`, arrays and maps) as text: strings borrowed when they can be.
#[derive(Default)]
struct AnyText<'a>(Text<'a>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for AnyText<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<AnyText<'a>, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = AnyText<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an OTLP AnyValue")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<AnyText<'a>, A::Error> {
                let mut out = AnyText::default();
                while let Some(key) = m.next_key::<Text<'de>>()? {
                    match key.as_ref() {
                        "stringValue" => out.0 = m.next_value::<Text<'de>>()?,
                        "intValue" | "boolValue" | "doubleValue" | "arrayValue" | "kvlistValue"
                        | "bytesValue" => {
                            out.0 = Text::Owned(match m.next_value::<Value>()? {
                                Value::String(s) => s,
                                other => other.to_string(),
                            });
                        }
                        _ => {
                            m.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
            fn visit_unit<E>(self) -> Result<AnyText<'a>, E> {
                Ok(AnyText::default())
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}
