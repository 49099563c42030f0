//! Typed magic results: one `#[derive(Serialize, JsonSchema)]` type per subcommand result.
//!
//! A magic builds its result as a plain struct and implements [`MagicResult`] for it: the
//! `application/json` part is the struct through serde (never a hand-built `json!`), the
//! `text/plain` and `text/html` parts are rendered from the same struct. Fields that only the
//! renderings need (e.g. the gateway a link points at) are `#[serde(skip)]`, so they are in
//! neither the JSON nor its schema.
//!
//! The JSON Schema of every result is generated from its type ([`ResultSchema::of`]) and committed
//! under `docs/schema/results/<family>.<subcommand>.schema.json`; each family's unit test compares
//! them (`testing::check_result_schemas`, feature `testing`) so a changed type with a stale schema
//! fails.

use crate::Output;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// The result of one subcommand, rendered three ways from one value.
pub trait MagicResult: Serialize + JsonSchema {
    /// `<family>.<subcommand>` (e.g. `ipfs.add`): names the committed schema file.
    const SCHEMA: &'static str;

    /// The `text/plain` form (what a terminal shows).
    fn text(&self) -> String;

    /// The `text/html` form (what a notebook shows); `None` = no HTML part.
    fn html(&self) -> Option<String> {
        None
    }

    /// The `application/json` form: the value through serde.
    fn json(&self) -> Value {
        // Results are plain structs with string map keys: serde_json cannot refuse them. Should a
        // future type do it anyway, the bundle says so instead of the kernel panicking.
        serde_json::to_value(self).unwrap_or_else(|e| Value::String(format!("result not serialisable: {e}")))
    }

    /// The MIME bundle: text, HTML (when there is one) and JSON.
    fn output(&self) -> Output {
        let out = Output::text(self.text()).with_json(self.json());
        match self.html() {
            Some(h) => out.with_html(h),
            None => out,
        }
    }
}

/// One result type's JSON Schema, ready to be written as `<name>.schema.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultSchema {
    /// [`MagicResult::SCHEMA`] of the type.
    pub name: &'static str,
    /// The schema (draft 2020-12, with `$id` and `title` set).
    pub schema: Value,
}

impl ResultSchema {
    /// The schema of `R`, generated from the type.
    pub fn of<R: MagicResult>() -> ResultSchema {
        let mut schema = serde_json::to_value(schemars::schema_for!(R)).unwrap_or_default();
        if let Some(obj) = schema.as_object_mut() {
            obj.insert(
                "$id".into(),
                Value::String(format!("https://example.invalid/kelp/results/{}.schema.json", R::SCHEMA)),
            );
            obj.insert("title".into(), Value::String(format!("kelp result {} (application/json)", R::SCHEMA)));
        }
        ResultSchema { name: R::SCHEMA, schema }
    }

    /// The file name under `docs/schema/results/`.
    pub fn file_name(&self) -> String {
        format!("{}.schema.json", self.name)
    }

    /// The file's text: pretty JSON with a final newline.
    pub fn text(&self) -> String {
        serde_json::to_string_pretty(&self.schema).unwrap_or_default() + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A result with a render-only field.
    #[derive(Serialize, JsonSchema)]
    struct Greeting {
        /// Who is greeted.
        name: String,
        #[serde(skip)]
        loud: bool,
    }

    impl MagicResult for Greeting {
        const SCHEMA: &'static str = "demo.greet";
        fn text(&self) -> String {
            if self.loud { format!("HELLO {}", self.name.to_uppercase()) } else { format!("hello {}", self.name) }
        }
        fn html(&self) -> Option<String> {
            Some(format!("hello <b>{}</b>", crate::html_escape(&self.name)))
        }
    }

    #[test]
    fn the_three_forms_come_from_one_value() {
        let out = Greeting { name: "<reef>".into(), loud: true }.output();
        assert_eq!(out.plain(), Some("HELLO <REEF>"));
        assert_eq!(out.data["text/html"], "hello <b>&lt;reef&gt;</b>");
        assert_eq!(out.json(), Some(&serde_json::json!({"name": "<reef>"})));
    }

    #[test]
    fn schema_names_the_result_and_leaves_out_render_only_fields() {
        let s = ResultSchema::of::<Greeting>();
        assert_eq!(s.file_name(), "demo.greet.schema.json");
        assert_eq!(s.schema["title"], "kelp result demo.greet (application/json)");
        assert_eq!(s.schema["$id"], "https://example.invalid/kelp/results/demo.greet.schema.json");
        assert_eq!(s.schema["properties"]["name"]["description"], "Who is greeted.");
        assert!(s.schema["properties"].get("loud").is_none(), "{}", s.text());
        assert!(s.text().ends_with("}\n"));
    }
}
