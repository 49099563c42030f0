//! The typed results of `%provenance`, `%bundle` and `%verify`: each a `#[derive(Serialize,
//! JsonSchema)]` type rendered by [`kelp_magic::MagicResult`] (JSON through serde, text and HTML
//! from the same value). The schemas are committed as
//! `docs/schema/results/provenance.{graph,bundle,verify}.schema.json`; the records and items
//! inside them are the committed record schema's definitions ([`crate::record_schema`]).
//!
//! - [`GraphResult`] (`provenance.graph`): the graph of the session or a saved notebook;
//! - [`crate::bundle::BundleReport`] (`provenance.bundle`): what `%bundle` wrote;
//! - [`crate::verify::VerifyReport`] (`provenance.verify`): the input, chain and cell tables,
//!   and [`VerifyReport::failure`](crate::verify::VerifyReport::failure) when not verified.

mod bundle;
mod graph;
mod verify;

pub use graph::GraphResult;

/// Every result type's schema.
#[cfg(test)]
pub(crate) fn schemas() -> Vec<kelp_magic::ResultSchema> {
    use kelp_magic::ResultSchema;
    vec![
        ResultSchema::of::<GraphResult>(),
        ResultSchema::of::<crate::bundle::BundleReport>(),
        ResultSchema::of::<crate::verify::VerifyReport>(),
    ]
}

#[cfg(test)]
mod tests {
    /// The committed schemas are the types' (KELP_UPDATE_SCHEMA=1 regenerates them).
    #[test]
    fn result_schemas_are_committed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema/results");
        kelp_magic::testing::check_result_schemas(&dir, "provenance", "kelp-provenance", &super::schemas());
    }
}
