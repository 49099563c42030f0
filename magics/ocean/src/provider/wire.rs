//! What an Ocean Node answers, read tolerantly: numbers that arrive as JSON numbers or as
//! decimal strings (Ocean Node v3.1 sends `"nonce":"0"`, `"contentLength":"48"`,
//! `"providerFeeAmount":"0"`, but `"v":27`), `initialize`'s provider fee, `fileInfo` entries,
//! and the three shapes a metadata query comes back in (Typesense results per collection,
//! Elasticsearch-backed lists per collection, Aquarius' `hits.hits[]._source`).

use alloy::primitives::{Address, B256, U256};
use kelp_ocean_wire::fees::ProviderFee;
use serde_json::Value;

/// The sha256 of no bytes: what Ocean Node reports as the checksum of a file it could not fetch.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A non-negative integer sent as a JSON number or as a decimal string.
pub fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A token amount (uint256) sent as a JSON number or as a decimal string.
fn amount(v: &Value) -> Option<U256> {
    match v {
        Value::Number(n) => n.as_u64().map(U256::from),
        Value::String(s) => s.trim().parse::<U256>().ok().filter(|_| s.trim().bytes().all(|b| b.is_ascii_digit())),
        _ => None,
    }
}

fn address(v: &Value) -> Option<Address> {
    v.as_str()?.parse().ok()
}

fn word(v: &Value) -> Option<B256> {
    v.as_str()?.parse().ok()
}

/// The answer of `initialize`.
#[derive(Debug, Clone)]
pub struct Initialized {
    pub datatoken: Address,
    /// The consumer's current nonce at the node.
    pub nonce: u64,
    pub provider_fee: ProviderFee,
    /// The `computeAddress` the node echoes (the consumer), when given.
    pub compute_address: Option<Address>,
}

/// Read `providerFee`; `Err` names the field that is missing or malformed.
pub fn provider_fee(f: &Value) -> Result<ProviderFee, String> {
    let bad = |k: &str| format!("providerFee.{k} is missing or malformed ({})", f[k]);
    let v = number(&f["v"]).and_then(|v| u8::try_from(v).ok()).ok_or_else(|| bad("v"))?;
    Ok(ProviderFee {
        provider_fee_address: address(&f["providerFeeAddress"]).ok_or_else(|| bad("providerFeeAddress"))?,
        provider_fee_token: address(&f["providerFeeToken"]).ok_or_else(|| bad("providerFeeToken"))?,
        provider_fee_amount: amount(&f["providerFeeAmount"]).ok_or_else(|| bad("providerFeeAmount"))?.to_string(),
        provider_data: f["providerData"]
            .as_str()
            .filter(|d| alloy::hex::decode(d).is_ok())
            .ok_or_else(|| bad("providerData"))?
            .to_string(),
        v,
        r: word(&f["r"]).ok_or_else(|| bad("r"))?,
        s: word(&f["s"]).ok_or_else(|| bad("s"))?,
        // Absent means "no expiry", as the node's own 0.
        valid_until: if f["validUntil"].is_null() {
            0
        } else {
            number(&f["validUntil"]).ok_or_else(|| bad("validUntil"))?
        },
    })
}

/// Read an `initialize` answer.
pub fn initialized(v: &Value) -> Result<Initialized, String> {
    Ok(Initialized {
        datatoken: address(&v["datatoken"])
            .ok_or_else(|| format!("datatoken is missing or malformed ({})", v["datatoken"]))?,
        nonce: number(&v["nonce"]).ok_or_else(|| format!("nonce is missing or malformed ({})", v["nonce"]))?,
        provider_fee: provider_fee(&v["providerFee"])?,
        compute_address: address(&v["computeAddress"]),
    })
}

/// One entry of a `fileInfo` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub valid: bool,
    /// Bytes, when the node could tell.
    pub content_length: Option<u64>,
    pub content_type: String,
    /// Lowercase hex sha256 of the bytes (no `0x`), when the node sent one.
    pub checksum: Option<String>,
    pub name: String,
    /// `url`, `ipfs`, `arweave`, …
    pub kind: String,
}

impl FileInfo {
    /// Whether the node actually read bytes: Ocean Node v3.1 answers `valid:true`,
    /// `contentLength:"0"` and the empty input's sha256 for a source it could not reach.
    pub fn is_empty(&self) -> bool {
        self.content_length == Some(0) || self.checksum.as_deref() == Some(EMPTY_SHA256)
    }
}

/// Read a `fileInfo` answer (a list).
pub fn file_infos(v: &Value) -> Result<Vec<FileInfo>, String> {
    let list = v.as_array().ok_or_else(|| "fileInfo answered with something other than a list".to_string())?;
    Ok(list
        .iter()
        .map(|i| FileInfo {
            valid: i["valid"].as_bool().unwrap_or(false),
            content_length: number(&i["contentLength"]),
            content_type: i["contentType"].as_str().unwrap_or("").to_string(),
            checksum: i["checksum"]
                .as_str()
                .map(|c| c.trim_start_matches("0x").to_ascii_lowercase())
                .filter(|c| !c.is_empty()),
            name: i["name"].as_str().unwrap_or("").to_string(),
            kind: i["type"].as_str().unwrap_or("").to_string(),
        })
        .collect())
}

/// The body of a metadata query in the node's syntax: a `bool` query whose `filter` holds
/// `term` clauses (`[(field, value)]`; none = every asset).
pub fn bool_query(terms: &[(&str, Value)]) -> Value {
    let filter: Vec<Value> = terms.iter().map(|(k, v)| serde_json::json!({"term": {*k: v}})).collect();
    serde_json::json!({"query": {"bool": {"filter": filter}}})
}

/// The DDOs of a metadata query answer, whichever shape it came in: Ocean Node on Typesense
/// (`[{hits:[{document}]}]`, one result per collection), Ocean Node on Elasticsearch
/// (`[[ddo…]…]`, one list per collection), or Aquarius (`{hits:{hits:[{_source}]}}`).
/// `None` for any other shape.
pub fn query_hits(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Array(results) => {
            let mut out = Vec::new();
            for r in results {
                match r {
                    Value::Array(docs) => out.extend(docs.iter().filter(|d| d.is_object()).cloned()),
                    Value::Object(o) if o.get("hits").is_some_and(Value::is_array) => {
                        out.extend(o["hits"].as_array()?.iter().map(|h| h["document"].clone()).filter(Value::is_object))
                    }
                    Value::Object(o) if o.get("id").is_some() => out.push(r.clone()),
                    _ => return None,
                }
            }
            Some(out)
        }
        Value::Object(o) => {
            let hits = o.get("hits")?.get("hits")?.as_array()?;
            Some(hits.iter().map(|h| h["_source"].clone()).filter(Value::is_object).collect())
        }
        _ => None,
    }
}

/// The one line to show for an error answer: Ocean Node's plain-text message, a JSON string
/// (compute start), `{"error": …}` (older nodes), or the `<pre>` of Express' HTML error page.
pub fn error_text(body: &str) -> String {
    let t = body.trim();
    if let Ok(v) = serde_json::from_str::<Value>(t) {
        match v {
            Value::String(s) => return s,
            Value::Object(o) => match o.get("error").and_then(Value::as_str) {
                Some(e) => return e.to_string(),
                None if o.is_empty() => return String::new(),
                None => {}
            },
            _ => {}
        }
    }
    if t.starts_with('<')
        && let Some(start) = t.find("<pre>")
        && let Some(len) = t[start + 5..].find("</pre>")
    {
        return t[start + 5..start + 5 + len].replace("&nbsp;", " ").trim().to_string();
    }
    t.to_string()
}

/// The owner of an indexed DDO: `indexedMetadata.nft.owner` (Ocean Node v3), else `nft.owner`
/// (Aquarius and kelp's local node).
pub fn owner(ddo: &Value) -> Option<Address> {
    address(&ddo["indexedMetadata"]["nft"]["owner"]).or_else(|| address(&ddo["nft"]["owner"]))
}

/// How many times an indexed DDO's datatokens were ordered: the sum of
/// `indexedMetadata.stats[].orders` (Ocean Node counts each `OrderStarted` and `OrderReused`
/// of the service's datatoken; a number, or its decimal text); 0 when the node does not count.
pub fn orders(ddo: &Value) -> u64 {
    let stats = ddo["indexedMetadata"]["stats"].as_array().map(Vec::as_slice).unwrap_or_default();
    stats
        .iter()
        .map(|s| match &s["orders"] {
            Value::Number(n) => n.as_u64().unwrap_or(0),
            Value::String(t) => t.parse().unwrap_or(0),
            _ => 0,
        })
        .sum()
}

/// The prices an indexed DDO lists (`indexedMetadata.stats[].prices[]`), each
/// `{serviceId, type, price, token}` with `type` `dispenser` or `fixedrate` and `price` the
/// node's decimal text ("0", "1.0"); empty when the node does not index prices.
pub fn prices(ddo: &Value) -> Vec<Value> {
    let stats = ddo["indexedMetadata"]["stats"].as_array().map(Vec::as_slice).unwrap_or_default();
    stats
        .iter()
        .flat_map(|s| {
            s["prices"].as_array().map(Vec::as_slice).unwrap_or_default().iter().map(move |p| {
                let price = match &p["price"] {
                    Value::Number(n) => n.to_string(),
                    other => other.as_str().unwrap_or("").to_string(),
                };
                serde_json::json!({"serviceId": s["serviceId"], "type": p["type"], "price": price, "token": p["token"]})
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_arrive_as_numbers_or_strings() {
        assert_eq!(number(&json!("12")), Some(12));
        assert_eq!(number(&json!(12)), Some(12));
        assert_eq!(number(&json!("-1")), None);
        assert_eq!(number(&json!("x")), None);
        assert_eq!(number(&json!(1.5)), None);
        assert_eq!(amount(&json!("1000000000000000000000")), Some(U256::from(10u64).pow(U256::from(21))));
        assert_eq!(amount(&json!("0x10")), None);
    }

    #[test]
    fn query_shapes() {
        let d = json!({"id": "did:op:1"});
        let typesense = json!([{"found": 0, "hits": []}, {"found": 1, "hits": [{"document": d}]}]);
        let es = json!([[d], []]);
        let aquarius = json!({"hits": {"hits": [{"_source": d}]}});
        for v in [typesense, es, aquarius] {
            assert_eq!(query_hits(&v).unwrap(), vec![d.clone()], "{v}");
        }
        assert_eq!(query_hits(&json!([])).unwrap(), Vec::<Value>::new());
        assert_eq!(query_hits(&json!("Internal Server Error")), None);
        assert_eq!(query_hits(&json!([1])), None);
    }

    #[test]
    fn error_lines() {
        assert_eq!(error_text("DDO not found"), "DDO not found");
        assert_eq!(error_text("\"No compute engine\""), "No compute engine");
        assert_eq!(error_text(r#"{"error":"x"}"#), "x");
        assert_eq!(error_text("{}"), "");
        let html = "<!DOCTYPE html>\n<html><body>\n<pre>Cannot POST /api/fileInfo</pre>\n</body></html>";
        assert_eq!(error_text(html), "Cannot POST /api/fileInfo");
    }

    #[test]
    fn empty_file_info_is_recognised() {
        let i = file_infos(&json!([{"valid": true, "contentLength": "0", "checksum": EMPTY_SHA256}])).unwrap();
        assert!(i[0].is_empty());
        let i = file_infos(&json!([{"valid": true, "contentLength": 5, "checksum": "0xAB"}])).unwrap();
        assert!(!i[0].is_empty());
        assert_eq!(i[0].checksum.as_deref(), Some("ab"));
        assert!(file_infos(&json!({})).is_err());
    }
}
