//! `POST /api/aquarius/assets/metadata/query` as Ocean Node v3.1.0 on Typesense answers it: the
//! body is `{query:{bool:{filter:[{term:{f:v}}|{terms:{f:[…]}}], must_not:[…]}}, sort, size,
//! from}` (or a Typesense body with `filter_by: "f:=v && …"`, `q`, `query_by`), and the answer is
//! an array of one Typesense result per DDO collection (`op_ddo_short`, `op_ddo_v4.1.0`, …),
//! each `{facet_counts, found, hits[{document, highlight, highlights}], out_of, page,
//! request_params, search_cutoff, search_time_ms}`. A body without `query.bool` (nor
//! `filter_by`) answers 500 "Internal Server Error", as the real node does.
//!
//! Matching is equality, case-insensitive for text (addresses match in any case); an array
//! field matches if one element does. Unlike Ocean Node, an owner filter does find assets: the
//! real node answers `[]` there only because its `op_ddo_short` collection lacks the field.

use crate::state::{ApiError, NodeState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

/// Ocean Node's DDO collections, in the order its answer lists them.
pub const COLLECTIONS: [&str; 5] = ["op_ddo_short", "op_ddo_v4.1.0", "op_ddo_v4.3.0", "op_ddo_v4.5.0", "op_ddo_v4.7.0"];

/// Typesense's default page size in Ocean Node's queries.
const PER_PAGE: u64 = 250;

/// One condition of a query: the dotted field and the values it may take.
#[derive(Debug, PartialEq)]
struct Cond {
    field: String,
    values: Vec<Value>,
}

/// A parsed query: conditions that must hold, conditions that must not, and text search.
#[derive(Debug, Default)]
struct Parsed {
    must: Vec<Cond>,
    must_not: Vec<Cond>,
    text: Option<(String, Vec<String>)>,
}

fn conds(list: &Value) -> Vec<Cond> {
    let mut out = Vec::new();
    for item in list.as_array().map(Vec::as_slice).unwrap_or_default() {
        for (kind, many) in [("term", false), ("terms", true), ("match", false)] {
            if let Some(obj) = item[kind].as_object() {
                for (field, v) in obj {
                    let values = if many { v.as_array().cloned().unwrap_or_default() } else { vec![v.clone()] };
                    out.push(Cond { field: field.clone(), values });
                }
            }
        }
    }
    out
}

/// Parse the body, or `None` when Ocean Node would fail on it (no `query.bool`, no `filter_by`).
fn parse(body: &Value) -> Option<Parsed> {
    let mut p = Parsed::default();
    if let Some(filter_by) = body["filter_by"].as_str() {
        for part in filter_by.split("&&").map(str::trim).filter(|s| !s.is_empty()) {
            let (field, value) = part.split_once(":=").or_else(|| part.split_once(':'))?;
            let value = value.trim().trim_matches('`');
            let values = match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
                Some(list) => list.split(',').map(|v| json!(v.trim().trim_matches('`'))).collect(),
                None => vec![json!(value)],
            };
            p.must.push(Cond { field: field.trim().to_string(), values });
        }
    } else {
        let b = body["query"]["bool"].as_object()?;
        p.must = conds(b.get("filter").unwrap_or(&Value::Null));
        p.must.extend(conds(b.get("must").unwrap_or(&Value::Null)));
        p.must_not = conds(b.get("must_not").unwrap_or(&Value::Null));
    }
    if let Some(q) = body["q"].as_str().filter(|q| !q.is_empty() && *q != "*") {
        let by = body["query_by"].as_str().unwrap_or("").split(',').map(|f| f.trim().to_string()).collect();
        p.text = Some((q.to_lowercase(), by));
    }
    Some(p)
}

fn field<'a>(doc: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(doc, |v, k| &v[k])
}

fn value_matches(got: &Value, want: &Value) -> bool {
    let norm = |v: &Value| v.as_str().map(str::to_lowercase).unwrap_or_else(|| v.to_string());
    match got {
        Value::Array(items) => items.iter().any(|i| value_matches(i, want)),
        Value::Null => false,
        _ => norm(got) == norm(want),
    }
}

fn holds(doc: &Value, c: &Cond) -> bool {
    let got = field(doc, &c.field);
    c.values.iter().any(|w| value_matches(got, w))
}

fn matches(doc: &Value, p: &Parsed) -> bool {
    let text_ok = p.text.as_ref().is_none_or(|(q, by)| {
        by.iter().any(|f| field(doc, f).as_str().is_some_and(|t| t.to_lowercase().contains(q.as_str())))
    });
    text_ok && p.must.iter().all(|c| holds(doc, c)) && !p.must_not.iter().any(|c| holds(doc, c))
}

/// The collection Ocean Node keeps `doc` in: `op_ddo_short` for a DDO whose metadata state is
/// not active (e.g. 5, unlisted), else by its `version`.
pub fn collection_of(doc: &Value) -> &'static str {
    let state = doc["indexedMetadata"]["nft"]["state"].as_u64().unwrap_or(0);
    if state != 0 {
        return COLLECTIONS[0];
    }
    let v = format!("op_ddo_v{}", doc["version"].as_str().unwrap_or("4.1.0"));
    COLLECTIONS.iter().copied().find(|c| *c == v).unwrap_or(COLLECTIONS[1])
}

/// The query's answer over `docs` (see the module docs), or `None` for a body Ocean Node fails on.
pub fn answer(docs: &[Value], body: &Value) -> Option<Value> {
    let p = parse(body)?;
    let per_page = body["size"].as_u64().filter(|s| *s > 0).unwrap_or(PER_PAGE);
    let from = body["from"].as_u64().unwrap_or(0);
    let sort: Vec<(String, bool)> = body["sort"]
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str() == Some("desc"))).collect())
        .unwrap_or_default();
    let results = COLLECTIONS
        .iter()
        .map(|name| {
            let all: Vec<&Value> = docs.iter().filter(|d| collection_of(d) == *name).collect();
            let mut found: Vec<&Value> = all.iter().copied().filter(|d| matches(d, &p)).collect();
            for (key, desc) in sort.iter().rev() {
                found.sort_by(|a, b| {
                    let (a, b) = (field(a, key).to_string(), field(b, key).to_string());
                    if *desc { b.cmp(&a) } else { a.cmp(&b) }
                });
            }
            let hits: Vec<Value> = found
                .iter()
                .skip(from as usize)
                .take(per_page as usize)
                .map(|d| json!({"document": d, "highlight": {}, "highlights": []}))
                .collect();
            json!({
                "facet_counts": [], "found": found.len(), "hits": hits, "out_of": all.len(),
                "page": from / per_page + 1,
                "request_params": {"collection_name": name, "per_page": per_page, "q": body["q"].as_str().unwrap_or("*")},
                "search_cutoff": false, "search_time_ms": 0,
            })
        })
        .collect();
    Some(Value::Array(results))
}

/// The route: 500 "Internal Server Error" for a body Ocean Node fails on.
/// A body that is not JSON gets Express's 400 page, as from its JSON body parser.
pub(super) async fn query(State(s): State<Arc<NodeState>>, body: axum::body::Bytes) -> Result<Json<Value>, Response> {
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| super::http::error_page(StatusCode::BAD_REQUEST, &format!("SyntaxError: {e} in JSON")))?;
    let docs: Vec<Value> = s.ddos.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
    answer(&docs, &body)
        .map(Json)
        .ok_or_else(|| ApiError(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error".into()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({"version": "4.1.0", "nftAddress": "0xAbC", "metadata": {"name": "Ocean Temps", "type": "dataset", "tags": ["climate", "sea"]},
               "indexedMetadata": {"nft": {"owner": "0xDeF", "state": 0}}})
    }

    fn found(body: Value) -> Option<u64> {
        let a = answer(&[doc()], &body)?;
        Some(a.as_array().unwrap().iter().map(|r| r["found"].as_u64().unwrap()).sum())
    }

    #[test]
    fn bool_filters_match_like_typesense() {
        assert_eq!(found(json!({"query": {"bool": {}}})), Some(1));
        assert_eq!(found(json!({"query": {"bool": {"filter": [{"term": {"nftAddress": "0xabc"}}]}}})), Some(1));
        assert_eq!(found(json!({"query": {"bool": {"filter": [{"term": {"metadata.type": "algorithm"}}]}}})), Some(0));
        assert_eq!(
            found(json!({"query": {"bool": {"filter": [{"terms": {"metadata.tags": ["x", "sea"]}}]}}})),
            Some(1)
        );
        assert_eq!(
            found(json!({"query": {"bool": {"must_not": [{"term": {"indexedMetadata.nft.owner": "0xdef"}}]}}})),
            Some(0)
        );
        assert_eq!(
            found(json!({"filter_by": "metadata.type:=dataset", "q": "temps", "query_by": "metadata.name"})),
            Some(1)
        );
        assert_eq!(found(json!({"query": {"bool": {"filter": [{"term": {"no.such": "x"}}]}}})), Some(0));
    }

    #[test]
    fn bodies_without_bool_fail_like_ocean_node() {
        for b in [json!({}), json!({"text": "reef"}), json!({"query": {"match_all": {}}})] {
            assert_eq!(found(b), None);
        }
    }

    #[test]
    fn answer_lists_every_collection_in_order() {
        let a = answer(&[doc()], &json!({"query": {"bool": {}}})).unwrap();
        let names: Vec<&str> =
            a.as_array().unwrap().iter().map(|r| r["request_params"]["collection_name"].as_str().unwrap()).collect();
        assert_eq!(names, COLLECTIONS);
        assert_eq!(a[1]["hits"][0]["document"]["nftAddress"], "0xAbC");
    }
}
