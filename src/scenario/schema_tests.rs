//! The schema agrees with the serde types that read the YAML: every object's properties are
//! exactly the fields of its type.

use super::*;
use crate::scenario::doc::{
    AuthDoc, BodyDoc, HeaderAssertionDoc, RawAgent, RawScenario, RawStep, SdpDoc,
};
use crate::scenario::model::{ImpairRule, Impairment, PathImpairment, Target, Timers};
use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::collections::BTreeSet;
use std::fmt;

/// A deserializer that only records the field names a derived `Deserialize` asks for.
struct FieldProbe;

#[derive(Debug)]
struct Fields(&'static [&'static str]);

impl fmt::Display for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::error::Error for Fields {}

impl de::Error for Fields {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Fields(&[])
    }
}

impl<'de> Deserializer<'de> for FieldProbe {
    type Error = Fields;
    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
        Err(Fields(&[]))
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Fields> {
        Err(Fields(fields))
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

fn fields<'de, T: Deserialize<'de>>() -> BTreeSet<String> {
    match T::deserialize(FieldProbe) {
        Err(Fields(f)) => f.iter().map(|s| s.to_string()).collect(),
        Ok(_) => unreachable!(),
    }
}

fn props(v: &Value) -> BTreeSet<String> {
    v["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .cloned()
        .collect()
}

fn def(name: &str) -> Value {
    json_schema()["$defs"][name].clone()
}

/// The object alternative of an `anyOf`.
fn object_of(name: &str) -> Value {
    let d = def(name);
    let alts = d["anyOf"].as_array().expect("anyOf");
    alts.iter()
        .find(|a| a["type"] == "object")
        .expect("an object")
        .clone()
}

#[test]
fn objects_match_their_serde_types() {
    assert_eq!(props(&json_schema()), fields::<RawScenario>());
    assert_eq!(props(&def("target")), fields::<Target>());
    assert_eq!(props(&def("timers")), fields::<Timers>());
    assert_eq!(props(&def("agent")), fields::<RawAgent>());
    assert_eq!(props(&def("impair")), fields::<Impairment>());
    assert_eq!(props(&def("path_impairment")), fields::<PathImpairment>());
    assert_eq!(props(&def("impair_rule")), fields::<ImpairRule>());
    assert_eq!(
        props(&def("header_assertion")),
        fields::<HeaderAssertionDoc>()
    );
    let sdp: BTreeSet<String> = props(&object_of("send_sdp"))
        .union(&props(&object_of("expect_sdp")))
        .cloned()
        .collect();
    assert_eq!(sdp, fields::<SdpDoc>());
    let body: BTreeSet<String> = props(&def("send_body"))
        .union(&props(&object_of("expect_body")))
        .cloned()
        .collect();
    assert_eq!(body, fields::<BodyDoc>());
    assert_eq!(props(&def("auth")), fields::<AuthDoc>());
}

#[test]
fn step_kinds_cover_exactly_the_step_keys() {
    let mut all = BTreeSet::new();
    for kind in [
        "send_step",
        "expect_step",
        "one_of_step",
        "unordered_step",
        "wait_step",
        "not_step",
        "act_step",
        "one_of_entry",
        "unordered_entry",
        "not_entry",
    ] {
        all.extend(props(&def(kind)));
    }
    assert_eq!(all, fields::<RawStep>());
    let keys: BTreeSet<String> = RawStep::default()
        .keys()
        .iter()
        .map(|k| k.key.to_string())
        .collect();
    assert!(keys.is_empty());
}

#[test]
fn every_ref_resolves() {
    let schema = json_schema();
    let text = schema.to_string();
    for part in text.split("\"#/$defs/").skip(1) {
        let name = &part[..part.find('"').expect("closing quote")];
        assert!(
            schema["$defs"].get(name).is_some(),
            "dangling $ref to {name}"
        );
    }
}
