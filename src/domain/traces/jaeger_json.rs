//! Jaeger's old JSON API (`GET /api/traces`, `GET /api/traces/<id>`; Jaeger 1.62 and v2) read
//! into the trace model: only the tags attribution and the waterfall read are kept, borrowed
//! while parsing, so a search of many traces stays small. The answer's shape is in
//! docs/facts/traces.md, "Jaeger's query API".

use std::collections::HashMap;

use serde_json::Value;

use super::model::{PROCESS_TAGS, SPAN_TAGS, Span, Trace, TraceError, parse_id};

/// A response of `/api/traces` as far as it is read: everything else (logs, warnings, span
/// flags) is skipped while parsing, strings are borrowed from the answer where they need no
/// unescaping, and only the tags something reads are kept, so a large answer is never held as a
/// JSON tree nor copied string by string.
#[derive(serde::Deserialize)]
struct RawAnswer {
    data: Option<Converted>,
}

/// The `data` list, each trace turned into a [`Trace`] as soon as it is read, so the raw form
/// of one trace at a time is alive, never of the whole answer.
struct Converted(Vec<Trace>);

impl<'de> serde::Deserialize<'de> for Converted {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Converted, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Converted;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of traces")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Converted, A::Error> {
                let mut out = Vec::with_capacity(a.size_hint().unwrap_or(0));
                while let Some(raw) = a.next_element::<RawTrace<'de>>()? {
                    out.push(parse_trace(raw).map_err(|e| serde::de::Error::custom(e.0))?);
                }
                Ok(Converted(out))
            }
        }
        d.deserialize_seq(V)
    }
}

type Text<'a> = std::borrow::Cow<'a, str>;

#[derive(serde::Deserialize)]
struct RawTrace<'a> {
    #[serde(rename = "traceID", borrow)]
    trace_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    spans: Vec<RawSpan<'a>>,
    #[serde(default, borrow)]
    processes: HashMap<Text<'a>, RawProcess<'a>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSpan<'a> {
    #[serde(rename = "spanID", default, borrow)]
    span_id: Text<'a>,
    #[serde(default, borrow)]
    references: Vec<RawRef<'a>>,
    #[serde(default, borrow)]
    operation_name: Text<'a>,
    #[serde(default)]
    start_time: i64,
    #[serde(default)]
    duration: i64,
    #[serde(default, borrow)]
    tags: Vec<RawTag<'a>>,
    #[serde(rename = "processID", default, borrow)]
    process_id: Text<'a>,
}

#[derive(serde::Deserialize)]
struct RawRef<'a> {
    #[serde(rename = "traceID", borrow)]
    trace_id: Option<Text<'a>>,
    #[serde(rename = "spanID", borrow)]
    span_id: Option<Text<'a>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProcess<'a> {
    #[serde(default, borrow)]
    service_name: Text<'a>,
    #[serde(default, borrow)]
    tags: Vec<RawTag<'a>>,
}

#[derive(serde::Deserialize)]
struct RawTag<'a> {
    #[serde(borrow)]
    key: Text<'a>,
    #[serde(default, borrow)]
    value: TagText<'a>,
}

/// The tags of `tags` whose key is in `keep`, owned.
fn kept(tags: Vec<RawTag>, keep: &[&str]) -> Vec<(String, String)> {
    tags.into_iter()
        .filter(|t| keep.contains(&t.key.as_ref()))
        .map(|t| (t.key.into_owned(), t.value.0.into_owned()))
        .collect()
}

/// The process tags kept; Jaeger v2 names a Jaeger client's `hostname` `host.name` (its
/// receiver renames it), read here under the one name.
fn process_tags(tags: Vec<RawTag>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in tags {
        let key = match t.key.as_ref() {
            "host.name" if !out.iter().any(|(k, _)| k == "hostname") => "hostname",
            k if PROCESS_TAGS.contains(&k) => k,
            _ => continue,
        };
        out.retain(|(k, _)| k != key);
        out.push((key.to_string(), t.value.0.into_owned()));
    }
    out
}

/// A tag's value as text, read without a JSON tree: strings as they are (borrowed when they
/// need no unescaping), numbers and booleans printed, null empty (anything else, which Jaeger
/// does not send, as its JSON).
#[derive(Default)]
struct TagText<'a>(Text<'a>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for TagText<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<TagText<'a>, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = TagText<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a tag value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<TagText<'a>, E> {
                Ok(TagText(Text::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<TagText<'a>, E> {
                Ok(TagText(Text::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<TagText<'a>, E> {
                Ok(TagText(Text::Owned(v)))
            }
            fn visit_bool<E>(self, v: bool) -> Result<TagText<'a>, E> {
                Ok(TagText(Text::Owned(v.to_string())))
            }
            fn visit_i64<E>(self, v: i64) -> Result<TagText<'a>, E> {
                Ok(TagText(Text::Owned(v.to_string())))
            }
            fn visit_u64<E>(self, v: u64) -> Result<TagText<'a>, E> {
                Ok(TagText(Text::Owned(v.to_string())))
            }
            fn visit_f64<E>(self, v: f64) -> Result<TagText<'a>, E> {
                Ok(TagText(Text::Owned(Value::from(v).to_string())))
            }
            fn visit_unit<E>(self) -> Result<TagText<'a>, E> {
                Ok(TagText::default())
            }
            fn visit_none<E>(self) -> Result<TagText<'a>, E> {
                Ok(TagText::default())
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                a: A,
            ) -> Result<TagText<'a>, A::Error> {
                let v: Value = serde::Deserialize::deserialize(
                    serde::de::value::SeqAccessDeserializer::new(a),
                )?;
                Ok(TagText(Text::Owned(v.to_string())))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                a: A,
            ) -> Result<TagText<'a>, A::Error> {
                let v: Value = serde::Deserialize::deserialize(
                    serde::de::value::MapAccessDeserializer::new(a),
                )?;
                Ok(TagText(Text::Owned(v.to_string())))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// The traces of a `/api/traces` or `/api/traces/<id>` response (`{data: [trace, ...]}`).
pub fn parse_traces(body: &Value) -> Result<Vec<Trace>, TraceError> {
    use serde::Deserialize;
    let answer = RawAnswer::deserialize(body)
        .map_err(|e| TraceError(format!("the answer is not Jaeger's trace JSON: {e}")))?;
    from_raw(answer)
}

/// [`parse_traces`] straight from the response's bytes.
pub fn parse_traces_json(body: &[u8]) -> Result<Vec<Trace>, TraceError> {
    let answer: RawAnswer = serde_json::from_slice(body)
        .map_err(|e| TraceError(format!("the answer is not Jaeger's trace JSON: {e}")))?;
    from_raw(answer)
}

fn from_raw(answer: RawAnswer) -> Result<Vec<Trace>, TraceError> {
    answer
        .data
        .map(|c| c.0)
        .ok_or_else(|| TraceError("the answer has no `data` list of traces".into()))
}

fn parse_trace(t: RawTrace) -> Result<Trace, TraceError> {
    let id_text = t
        .trace_id
        .ok_or_else(|| TraceError("a trace without a traceID".into()))?;
    let id =
        parse_id(&id_text).ok_or_else(|| TraceError(format!("trace id {id_text:?} is not hex")))?;
    type Process = (String, std::sync::Arc<Vec<(String, String)>>);
    let processes: HashMap<Text, Process> = t
        .processes
        .into_iter()
        .map(|(k, p)| {
            let tags = std::sync::Arc::new(process_tags(p.tags));
            (k, (p.service_name.into_owned(), tags))
        })
        .collect();
    let mut spans = Vec::with_capacity(t.spans.len());
    for s in t.spans {
        let Some(span_id) = parse_id(&s.span_id).and_then(|v| u64::try_from(v).ok()) else {
            return Err(TraceError(format!("span id {:?} is not hex", s.span_id)));
        };
        let parent = s
            .references
            .iter()
            .filter(|r| {
                r.trace_id
                    .as_deref()
                    .and_then(parse_id)
                    .is_none_or(|t| t == id)
            })
            .find_map(|r| r.span_id.as_deref().and_then(parse_id))
            .and_then(|v| u64::try_from(v).ok());
        let process = processes.get(&s.process_id);
        let span_tags = kept(s.tags, SPAN_TAGS);
        let status_5xx = span_tags
            .iter()
            .find(|(k, _)| k == "http.status_code")
            .and_then(|(_, v)| v.parse::<i64>().ok())
            .is_some_and(|code| code >= 500);
        let error = span_tags.iter().any(|(k, v)| k == "error" && v == "true") || status_5xx;
        spans.push(Span {
            id: span_id,
            parent,
            service: process.map(|p| p.0.clone()).unwrap_or_default(),
            operation: s.operation_name.into_owned(),
            start_us: s.start_time,
            duration_us: s.duration,
            error,
            tags: span_tags,
            process: process.map(|p| p.1.clone()).unwrap_or_default(),
        });
    }
    // Start order, parents first at equal starts: the waterfall reads top to bottom.
    spans.sort_by_key(|s| (s.start_us, s.parent.is_some()));
    Ok(Trace { id, spans })
}
