//! The verdict on one recorded input or chain fact, shared by [`crate::verify`]'s input table
//! and [`crate::onchain`]'s chain table.

use schemars::JsonSchema;
use serde::Serialize;

/// The state of one recorded input (or transaction, or DID).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum InputStatus {
    /// As recorded.
    Ok,
    /// There, but not as recorded (another sha256, a reverted transaction, a revoked asset).
    Changed { detail: String },
    /// Not found.
    Missing { detail: String },
    /// Not looked at, and why.
    NotChecked { reason: String },
}
