//! The JSON Schema of the provenance records inside this crate's results.
//!
//! `%provenance`, `%verify` and their rows carry kelp-magic's [`kelp_magic::Record`] and
//! [`kelp_magic::Item`] as they are. Their shape is the committed record schema
//! (`docs/schema/kelp-record.schema.json`, kept equal to the types by kelp-magic's own test), so
//! a result schema takes its definitions from that file (`$defs/Record`, `$defs/Item`,
//! `$defs/RecordKind`) instead of describing them a second time. Fields use these marker types
//! with `#[schemars(with = "…")]`; they are never built.

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The committed record schema.
const RECORD_SCHEMA: &str = include_str!("../../../docs/schema/kelp-record.schema.json");

fn record_schema() -> Map<String, Value> {
    match serde_json::from_str::<Value>(RECORD_SCHEMA) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// One definition of the record schema's `$defs`.
fn definition(name: &str) -> Schema {
    let def = record_schema().get("$defs").and_then(|d| d.get(name)).cloned().unwrap_or(Value::Bool(true));
    Schema::try_from(def).unwrap_or_default()
}

/// Schema of a [`kelp_magic::Item`] (`$defs/Item`).
pub(crate) struct ItemSchema;

impl JsonSchema for ItemSchema {
    fn schema_name() -> Cow<'static, str> {
        "Item".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        definition("Item")
    }
}

/// Schema of a [`kelp_magic::RecordKind`] (`$defs/RecordKind`).
pub(crate) struct RecordKindSchema;

impl JsonSchema for RecordKindSchema {
    fn schema_name() -> Cow<'static, str> {
        "RecordKind".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        definition("RecordKind")
    }
}

/// Schema of a [`kelp_magic::Record`] (`$defs/Record`: the record schema's root, whose
/// `#/$defs/Item` and `#/$defs/RecordKind` references are added beside it).
pub(crate) struct RecordSchema;

impl JsonSchema for RecordSchema {
    fn schema_name() -> Cow<'static, str> {
        "Record".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<ItemSchema>();
        generator.subschema_for::<RecordKindSchema>();
        let mut root = record_schema();
        for k in ["$defs", "$id", "$schema", "title"] {
            root.remove(k);
        }
        Schema::from(root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definitions_are_the_committed_record_schemas() {
        let all: Value = serde_json::from_str(RECORD_SCHEMA).unwrap();
        let s = serde_json::to_value(schemars::schema_for!(Vec<RecordSchema>)).unwrap();
        assert_eq!(s["items"]["$ref"], "#/$defs/Record");
        assert_eq!(s["$defs"]["Item"], all["$defs"]["Item"]);
        assert_eq!(s["$defs"]["RecordKind"], all["$defs"]["RecordKind"]);
        assert_eq!(s["$defs"]["Record"]["properties"], all["properties"]);
        assert_eq!(s["$defs"]["Record"]["properties"]["reads"]["items"]["$ref"], "#/$defs/Item");
        assert!(s["$defs"]["Record"].get("$id").is_none());
    }
}
