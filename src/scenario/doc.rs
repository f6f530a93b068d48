//! The document layer: serde types that mirror the YAML as written, every struct with
//! `deny_unknown_fields`. The loader turns them into the model (`build.rs`, `steps.rs`).
//!
//! A step is read as [`RawStep`], the union of the keys of every kind of step, because the
//! kind is given by which key is present (`send:`, `expect:`, ...), and serde's untagged or
//! flattened enums would lose the positions of the values. The step builder then checks
//! that the keys fit the kind.

use super::located::Located;
use super::model::{AckMode, CapturePath, Impairment, Matcher, Target, Timers, Transport};
use super::template::Template;
use super::values::{Dur, Scalar, SendWhat, WaitDur};
use crate::sdp::Direction;
use serde::de::{self, value::MapAccessDeserializer, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::marker::PhantomData;
use std::net::IpAddr;

/// The whole file. Required keys are `Option` so that their absence is reported with the
/// loader's own message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub name: Option<Located<String>>,
    pub summary: Option<Located<String>>,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub tags: Vec<Located<String>>,
    #[serde(default)]
    pub target: Target,
    #[serde(default)]
    pub timers: Timers,
    pub deadline: Option<Located<Dur>>,
    pub impair: Option<Impairment>,
    #[serde(default, deserialize_with = "present")]
    pub agents: Required<AgentMap>,
    #[serde(default)]
    pub variables: OrderedMap<Located<String>, String>,
    #[serde(default, deserialize_with = "present")]
    pub steps: Required<Vec<Located<RawStep>>>,
}

/// A required key: `None` when absent, `Some(None)` (with the position) when null.
pub(crate) type Required<T> = Option<Located<Option<T>>>;

/// `agents:` in file order.
pub(crate) type AgentMap = OrderedMap<Located<String>, Option<RawAgent>>;

/// For a required key: `Some` whenever the key is present, holding `None` when its value is
/// null (`agents:` with nothing after it), so that the error can point at it.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Required<T>, D::Error> {
    Located::<Option<T>>::deserialize(d).map(Some)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAgent {
    pub user: Option<String>,
    pub transport: Option<Transport>,
    pub display: Option<String>,
}

/// One step: the union of every step kind's keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub send: Option<Located<SendWhat>>,
    pub expect: Option<Located<Matcher>>,
    pub one_of: Option<Located<Vec<Located<RawStep>>>>,
    pub unordered: Option<Located<Vec<Located<RawStep>>>>,
    pub wait: Option<Located<WaitDur>>,
    pub not: Option<Located<Box<RawStep>>>,
    pub from: Option<Located<String>>,
    pub to: Option<Located<String>>,
    pub uri: Option<Located<Template>>,
    pub reply_to: Option<Located<String>>,
    pub ack: Option<Located<AckMode>>,
    pub raw: Option<Located<Template>>,
    pub at: Option<Located<String>>,
    pub dialog: Option<Located<String>>,
    pub label: Option<Located<String>>,
    pub optional: Option<Located<bool>>,
    pub timeout: Option<Located<Dur>>,
    pub within: Option<Located<Dur>>,
    pub headers: Option<Located<OrderedMap<Located<String>, HeaderValue>>>,
    pub sdp: Option<Located<WordOr<SdpDoc>>>,
    pub body: Option<Located<WordOr<BodyDoc>>>,
    pub capture: Option<Located<OrderedMap<Located<String>, Located<CapturePath>>>>,
    pub auth: Option<Located<AuthDoc>>,
    pub act: Option<Located<String>>,
    pub with: Option<Located<String>>,
    pub provisional: Option<Located<Vec<Located<AnyScalar>>>>,
    pub reliable: Option<Located<bool>>,
    pub early_media: Option<Located<bool>>,
    pub ring: Option<Located<Dur>>,
    pub status: Option<Located<AnyScalar>>,
    pub method: Option<Located<String>>,
    pub delay: Option<Located<Dur>>,
    pub late_offer: Option<Located<bool>>,
    pub require_100rel: Option<Located<bool>>,
    pub session_expires: Option<Located<u32>>,
    pub style: Option<Located<String>>,
    pub offerless: Option<Located<bool>>,
    pub user: Option<Located<String>>,
    pub password: Option<Located<String>>,
    pub expires: Option<Located<u32>>,
    pub event: Option<Located<String>>,
}

/// `auth:` of a send step.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuthDoc {
    pub user: Option<Located<Template>>,
    pub password: Option<Located<Template>>,
    pub algorithm: Option<Located<String>>,
}

/// Any scalar, checked by the builder (statuses of `act` steps: a number or `none`).
#[derive(Debug)]
pub(crate) struct AnyScalar(pub Scalar);

impl<'de> Deserialize<'de> for AnyScalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Scalar::read(d, "a status (486) or `none`").map(AnyScalar)
    }
}

/// A key present in a step, with the position of its value.
pub(crate) struct KeyAt {
    pub key: &'static str,
    pub line: u32,
    pub column: u32,
}

impl RawStep {
    /// The keys present, in the order of the struct (not of the file).
    pub fn keys(&self) -> Vec<KeyAt> {
        let mut v = Vec::new();
        let mut add = |key: &'static str, at: Option<(u32, u32)>| {
            if let Some((line, column)) = at {
                v.push(KeyAt { key, line, column });
            }
        };
        fn p<T>(l: &Option<Located<T>>) -> Option<(u32, u32)> {
            l.as_ref().map(|l| (l.line, l.column))
        }
        add("send", p(&self.send));
        add("expect", p(&self.expect));
        add("one_of", p(&self.one_of));
        add("unordered", p(&self.unordered));
        add("wait", p(&self.wait));
        add("not", p(&self.not));
        add("from", p(&self.from));
        add("to", p(&self.to));
        add("uri", p(&self.uri));
        add("reply_to", p(&self.reply_to));
        add("ack", p(&self.ack));
        add("raw", p(&self.raw));
        add("at", p(&self.at));
        add("dialog", p(&self.dialog));
        add("label", p(&self.label));
        add("optional", p(&self.optional));
        add("timeout", p(&self.timeout));
        add("within", p(&self.within));
        add("headers", p(&self.headers));
        add("sdp", p(&self.sdp));
        add("body", p(&self.body));
        add("capture", p(&self.capture));
        add("auth", p(&self.auth));
        add("act", p(&self.act));
        add("with", p(&self.with));
        add("provisional", p(&self.provisional));
        add("reliable", p(&self.reliable));
        add("early_media", p(&self.early_media));
        add("ring", p(&self.ring));
        add("status", p(&self.status));
        add("method", p(&self.method));
        add("delay", p(&self.delay));
        add("late_offer", p(&self.late_offer));
        add("require_100rel", p(&self.require_100rel));
        add("session_expires", p(&self.session_expires));
        add("style", p(&self.style));
        add("offerless", p(&self.offerless));
        add("user", p(&self.user));
        add("password", p(&self.password));
        add("expires", p(&self.expires));
        add("event", p(&self.event));
        v
    }
}

/// The object form of `sdp`, for both sending and expecting.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SdpDoc {
    pub direction: Option<DirectionDoc>,
    pub codecs: Option<Vec<Located<String>>>,
    pub connection: Option<IpDoc>,
    pub port_zero: Option<bool>,
    pub media: Option<Located<u32>>,
}

/// The object form of `body`, for both sending and expecting.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BodyDoc {
    pub content_type: Option<Located<String>>,
    pub text: Option<Located<Template>>,
    pub equals: Option<Located<Template>>,
    pub contains: Option<Located<Template>>,
    pub matches: Option<Located<String>>,
}

/// The object form of an expected header.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HeaderAssertionDoc {
    pub equals: Option<Located<Template>>,
    pub contains: Option<Located<Template>>,
    pub matches: Option<Located<String>>,
}

/// A header value as written: null, text, a number, a list of texts or an assertion object.
#[derive(Debug)]
pub(crate) enum HeaderValueDoc {
    Null,
    Text(String),
    /// A plain scalar YAML resolved to a number or boolean; the builder recovers its spelling
    /// from the source (`1.10` must not become `1.1`).
    Number(String),
    List(Vec<Located<Template>>),
    Object(HeaderAssertionDoc),
}

/// A header value with its position and, when known, its byte range in the source.
#[derive(Debug)]
pub(crate) struct HeaderValue {
    pub value: Located<HeaderValueDoc>,
    pub bytes: Option<(usize, usize)>,
}

impl<'de> Deserialize<'de> for HeaderValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<HeaderValueDoc>::deserialize(d)?;
        let span = s.defined.span();
        let bytes = span
            .byte_offset()
            .zip(span.byte_len())
            .and_then(|(o, l)| Some((usize::try_from(o).ok()?, usize::try_from(l).ok()?)));
        let (line, column) = (s.referenced.line(), s.referenced.column());
        let value = Located::new(
            s.value,
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        );
        Ok(HeaderValue { value, bytes })
    }
}

impl<'de> Deserialize<'de> for HeaderValueDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(HeaderValueVisitor)
    }
}

struct HeaderValueVisitor;

impl<'de> Visitor<'de> for HeaderValueVisitor {
    type Value = HeaderValueDoc;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a header value (text, a list of texts, null, or an assertion)")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(HeaderValueDoc::Text(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(HeaderValueDoc::Number(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(HeaderValueDoc::Number(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(HeaderValueDoc::Number(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(HeaderValueDoc::Number(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(HeaderValueDoc::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(HeaderValueDoc::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut v = Vec::new();
        while let Some(t) = seq.next_element()? {
            v.push(t);
        }
        Ok(HeaderValueDoc::List(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        HeaderAssertionDoc::deserialize(MapAccessDeserializer::new(map)).map(HeaderValueDoc::Object)
    }
}

/// A word (`offer`, `present`) or an object.
#[derive(Debug)]
pub(crate) enum WordOr<T> {
    Word(String),
    Object(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for WordOr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(WordOrVisitor(PhantomData))
    }
}

struct WordOrVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for WordOrVisitor<T> {
    type Value = WordOr<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a word or a mapping")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(WordOr::Word(v.to_string()))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(WordOr::Object)
    }
}

/// A media direction attribute name.
#[derive(Debug)]
pub(crate) struct DirectionDoc(pub Direction);

impl<'de> Deserialize<'de> for DirectionDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Direction::from_attribute(&s)
            .map(DirectionDoc)
            .ok_or_else(|| {
                de::Error::custom(format!(
                    "expected a direction (sendrecv, sendonly, recvonly or inactive), found `{s}`"
                ))
            })
    }
}

/// An IPv4 or IPv6 address.
#[derive(Debug)]
pub(crate) struct IpDoc(pub IpAddr);

impl<'de> Deserialize<'de> for IpDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.trim().parse().map(IpDoc).map_err(|_| {
            de::Error::custom(format!(
                "expected an IPv4 or IPv6 address (0.0.0.0, 192.0.2.1, ::), found `{s}`"
            ))
        })
    }
}

/// A mapping kept in file order (serde's maps would sort or hash it).
#[derive(Debug)]
pub(crate) struct OrderedMap<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for OrderedMap<K, V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(OrderedMapVisitor(PhantomData))
    }
}

struct OrderedMapVisitor<K, V>(PhantomData<(K, V)>);

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for OrderedMapVisitor<K, V> {
    type Value = OrderedMap<K, V>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut v = Vec::new();
        while let Some(k) = map.next_key()? {
            v.push((k, map.next_value()?));
        }
        Ok(OrderedMap(v))
    }
}
