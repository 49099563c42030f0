//! What a job asks for (plain data, serde): datasets, algorithm with its container metadata,
//! parameters (`algoCustomData.json`), resources, time and output limits; and the parsers for
//! the human forms (`cpu=1,ram=2G`, `90s`, `512M`, `k=v`).

use crate::{C2dError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::PathBuf;

/// One input of a job, already resolved to a local file or folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInput {
    /// Folder name under `/data/inputs/` (Ocean uses the DID); derived from the path when empty.
    #[serde(default)]
    pub id: String,
    /// The local file or folder. A file appears as `/data/inputs/<id>/0`, a folder's content
    /// as `/data/inputs/<id>/…`. It is bound read-only, never copied.
    pub path: PathBuf,
    /// What the user named (path, CID or DID), for the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl DatasetInput {
    pub fn path(p: impl Into<PathBuf>) -> Self {
        let path = p.into();
        DatasetInput { id: String::new(), source: Some(path.display().to_string()), path }
    }
}

/// Ocean's algorithm container metadata (`metadata.algorithm.container` in a DDO).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Container {
    /// Command line; `$ALGO` stands for `/data/transformations/algorithm`.
    pub entrypoint: String,
    /// Image name. The local engine has no images: it runs on the host's runtimes
    /// (`/usr/bin/python3`, `/bin/sh`, …) and records image/tag for the Ocean side.
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub tag: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

impl Container {
    /// Defaults by file extension: `.py` → `python3 $ALGO`, `.sh` → `sh $ALGO`, else `$ALGO`.
    pub fn for_path(p: &std::path::Path) -> Container {
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        let (entrypoint, image, tag) = match ext {
            "py" => ("python3 $ALGO", "python", "3"),
            "sh" => ("sh $ALGO", "debian", "bookworm"),
            "bash" => ("bash $ALGO", "debian", "bookworm"),
            _ => ("$ALGO", "debian", "bookworm"),
        };
        Container { entrypoint: entrypoint.into(), image: image.into(), tag: tag.into(), checksum: None }
    }
}

/// The algorithm: one file, placed at `/data/transformations/algorithm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlgorithmSpec {
    pub path: PathBuf,
    pub container: Container,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl AlgorithmSpec {
    pub fn path(p: impl Into<PathBuf>) -> Self {
        let path = p.into();
        AlgorithmSpec { container: Container::for_path(&path), source: Some(path.display().to_string()), path }
    }
}

/// Resources asked for. `ram` bounds the address space, `disk` the outputs (bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    pub cpu: u32,
    pub ram: u64,
    pub disk: u64,
}

impl Default for Resources {
    fn default() -> Self {
        Resources { cpu: 1, ram: 1 << 30, disk: 1 << 30 }
    }
}

impl Resources {
    /// Parse `cpu=1,ram=2G,disk=1G` over the defaults (keys may be left out).
    pub fn parse(spec: &str) -> Result<Resources> {
        let bad = |why: String| C2dError::BadResources { spec: spec.to_string(), why };
        let mut r = Resources::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| bad(format!("{part:?} is not key=value")))?;
            match k.trim() {
                "cpu" => {
                    r.cpu = v
                        .trim()
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| bad(format!("cpu {v:?} is not a positive integer")))?
                }
                "ram" | "mem" | "memory" => {
                    r.ram = parse_size(v).map_err(|_| bad(format!("ram {v:?} is not a size")))?
                }
                "disk" => r.disk = parse_size(v).map_err(|_| bad(format!("disk {v:?} is not a size")))?,
                other => return Err(bad(format!("unknown resource {other:?} (known: cpu, ram, disk)"))),
            }
        }
        if r.ram < 16 << 20 {
            return Err(bad("ram below 16M cannot start a process".into()));
        }
        Ok(r)
    }

    /// From Ocean's `resources: [{id, amount}]` request (ram and disk in GB, as Ocean counts
    /// them; ids other than cpu/ram/disk are refused), over the defaults.
    pub fn from_ocean(reqs: &[ResourceRequest]) -> Result<Resources> {
        let spec: Vec<String> = reqs.iter().map(|r| format!("{}={}", r.id, r.amount)).collect();
        let bad = |why: String| C2dError::BadResources { spec: spec.join(","), why };
        let mut r = Resources::default();
        for q in reqs {
            if !(q.amount.is_finite() && q.amount > 0.0) {
                return Err(bad(format!("{} amount {} is not positive", q.id, q.amount)));
            }
            match q.id.as_str() {
                "cpu" if q.amount.fract() == 0.0 => r.cpu = q.amount as u32,
                "cpu" => return Err(bad(format!("cpu {} is not a whole number", q.amount))),
                "ram" => r.ram = (q.amount * 1e9) as u64,
                "disk" => r.disk = (q.amount * 1e9) as u64,
                other => return Err(bad(format!("unknown resource {other:?} (known: cpu, ram, disk)"))),
            }
        }
        if r.ram < 16 << 20 {
            return Err(bad("ram below 16M cannot start a process".into()));
        }
        Ok(r)
    }

    /// Ocean's `resources: [{id, amount}]` form (ram and disk in GB as Ocean counts them).
    pub fn to_ocean(&self) -> Value {
        serde_json::json!([
            {"id": "cpu", "amount": self.cpu},
            {"id": "ram", "amount": self.ram as f64 / 1e9},
            {"id": "disk", "amount": self.disk as f64 / 1e9},
        ])
    }
}

/// One entry of Ocean's `resources` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceRequest {
    pub id: String,
    pub amount: f64,
}

/// A whole job request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    pub datasets: Vec<DatasetInput>,
    pub algorithm: AlgorithmSpec,
    /// Written to `/data/inputs/algoCustomData.json`.
    #[serde(default)]
    pub params: Map<String, Value>,
    #[serde(default)]
    pub resources: Resources,
    /// Wall-time limit in seconds.
    pub timeout_secs: u64,
    /// Compute environment id; the engine's default when `None`.
    #[serde(default)]
    pub environment: Option<String>,
    /// Who asked (Ocean's consumer address); `local` for notebook jobs.
    #[serde(default = "default_owner")]
    pub owner: String,
    /// Free-form metadata kept with the job (Ocean's `metadata`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
}

fn default_owner() -> String {
    "local".into()
}

impl JobSpec {
    /// A job with default resources, a 60 s limit and no parameters.
    pub fn new(datasets: Vec<DatasetInput>, algorithm: AlgorithmSpec) -> Self {
        JobSpec {
            datasets,
            algorithm,
            params: Map::new(),
            resources: Resources::default(),
            timeout_secs: 60,
            environment: None,
            owner: default_owner(),
            metadata: Map::new(),
        }
    }
}

/// `90s`, `5m`, `1h`, `1m30s`, `250ms` (rounded up to whole seconds), or bare seconds → seconds.
pub fn parse_duration(s: &str) -> Result<u64> {
    let bad = || C2dError::BadDuration(s.to_string());
    let t = s.trim();
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(n) = t.parse::<u64>() {
        return if n > 0 { Ok(n) } else { Err(bad()) };
    }
    let mut total_ms: u128 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let n: u128 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let mult = match &rest[..unit_len] {
            "ms" => 1,
            "s" | "sec" => 1000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            _ => return Err(bad()),
        };
        total_ms += n * mult;
        rest = &rest[unit_len..];
    }
    let secs = total_ms.div_ceil(1000);
    if secs == 0 || secs > u64::MAX as u128 { Err(bad()) } else { Ok(secs as u64) }
}

/// `512M`, `2G`, `2GiB`, `100k`, `1048576` → bytes (binary units: K = 1024).
pub fn parse_size(s: &str) -> Result<u64> {
    let bad = || C2dError::BadSize(s.to_string());
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad())?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0f64.powi(4),
        _ => return Err(bad()),
    };
    let v = n * mult;
    if !v.is_finite() || v < 1.0 || v > u64::MAX as f64 { Err(bad()) } else { Ok(v as u64) }
}

/// `key=value` → (key, JSON value): numbers, booleans, null, arrays and objects parse as JSON,
/// anything else is a string.
pub fn parse_param(s: &str) -> Result<(String, Value)> {
    let (k, v) = s.split_once('=').ok_or_else(|| C2dError::BadParam(s.to_string()))?;
    let k = k.trim();
    if k.is_empty() {
        return Err(C2dError::BadParam(s.to_string()));
    }
    let value = serde_json::from_str::<Value>(v)
        .ok()
        .filter(|j| !j.is_string())
        .unwrap_or_else(|| Value::String(v.to_string()));
    Ok((k.to_string(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_parse_and_reject() {
        let r = Resources::parse("cpu=2,ram=512M").unwrap();
        assert_eq!((r.cpu, r.ram, r.disk), (2, 512 << 20, 1 << 30));
        assert_eq!(Resources::parse("disk=2G").unwrap().disk, 2 << 30);
        for bad in ["cpu=0", "cpu=x", "gpu=1", "ram", "ram=lots", "ram=1k"] {
            let e = Resources::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("bad resource spec") && !e.contains('\n'), "{bad}: {e}");
        }
    }

    #[test]
    fn resources_from_ocean_requests() {
        let reqs: Vec<ResourceRequest> =
            serde_json::from_str(r#"[{"id":"cpu","amount":2},{"id":"ram","amount":1.5},{"id":"disk","amount":0.5}]"#)
                .unwrap();
        let r = Resources::from_ocean(&reqs).unwrap();
        assert_eq!((r.cpu, r.ram, r.disk), (2, 1_500_000_000, 500_000_000));
        let back: Vec<ResourceRequest> = serde_json::from_value(r.to_ocean()).unwrap();
        assert_eq!(Resources::from_ocean(&back).unwrap(), r);
        for bad in [r#"[{"id":"gpu","amount":1}]"#, r#"[{"id":"cpu","amount":1.5}]"#, r#"[{"id":"ram","amount":0}]"#] {
            let reqs: Vec<ResourceRequest> = serde_json::from_str(bad).unwrap();
            assert!(Resources::from_ocean(&reqs).unwrap_err().to_string().starts_with("bad resource spec"), "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s").unwrap(), 60);
        assert_eq!(parse_duration("90").unwrap(), 90);
        assert_eq!(parse_duration("5m").unwrap(), 300);
        assert_eq!(parse_duration("1m30s").unwrap(), 90);
        assert_eq!(parse_duration("1h").unwrap(), 3600);
        assert_eq!(parse_duration("1500ms").unwrap(), 2);
        for bad in ["", "s", "10x", "-5s", "0", "1.5s", "m5"] {
            assert!(matches!(parse_duration(bad), Err(C2dError::BadDuration(_))), "{bad}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576").unwrap(), 1 << 20);
        assert_eq!(parse_size("2G").unwrap(), 2 << 30);
        assert_eq!(parse_size("1.5k").unwrap(), 1536);
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert!(parse_size("2Q").is_err() && parse_size("").is_err() && parse_size("0").is_err());
    }

    #[test]
    fn params_parse_json_or_string() {
        assert_eq!(parse_param("epochs=10").unwrap(), ("epochs".into(), serde_json::json!(10)));
        assert_eq!(parse_param("lr=0.1").unwrap().1, serde_json::json!(0.1));
        assert_eq!(parse_param("name=abc").unwrap().1, serde_json::json!("abc"));
        assert_eq!(parse_param("q=\"x\"").unwrap().1, serde_json::json!("\"x\""));
        assert_eq!(parse_param("cols=[1,2]").unwrap().1, serde_json::json!([1, 2]));
        assert_eq!(parse_param("empty=").unwrap().1, serde_json::json!(""));
        assert!(parse_param("novalue").is_err() && parse_param("=1").is_err());
    }

    #[test]
    fn container_defaults_by_extension() {
        assert_eq!(Container::for_path("a/train.py".as_ref()).entrypoint, "python3 $ALGO");
        assert_eq!(Container::for_path("run.sh".as_ref()).entrypoint, "sh $ALGO");
        assert_eq!(Container::for_path("model".as_ref()).entrypoint, "$ALGO");
    }

    #[test]
    fn spec_roundtrips_json() {
        let mut s = JobSpec::new(vec![DatasetInput::path("/d/x.csv")], AlgorithmSpec::path("/a/t.py"));
        s.params.insert("k".into(), serde_json::json!(1));
        let back: JobSpec = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }
}
