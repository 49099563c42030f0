//! Rows from CSV or JSON (a file, or a CID through [`super::ipfs`]) and showing them:
//! [`table`] for rows, [`image`] for SVG/PNG/JPEG/GIF bytes. Std only, like the whole prelude.

use std::fmt;

/// What a helper could not do, in one line saying what was wrong and what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

pub(crate) fn err<T>(msg: impl Into<String>) -> Result<T, Error> {
    Err(Error(msg.into()))
}

/// A table of text cells: column names and rows (a row may be shorter or longer than
/// `columns` when its source was).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Rows {
    /// How many rows (the header not counted).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The cells of column `name`, top to bottom ("" where a row is short); None if there is
    /// no such column.
    pub fn column(&self, name: &str) -> Option<Vec<&str>> {
        let i = self.columns.iter().position(|c| c == name)?;
        Some(self.rows.iter().map(|r| r.get(i).map_or("", |s| s.as_str())).collect())
    }

    /// Column `name` as numbers (cells that do not parse are skipped).
    pub fn numbers(&self, name: &str) -> Vec<f64> {
        self.column(name).unwrap_or_default().iter().filter_map(|s| s.trim().parse().ok()).collect()
    }
}

/// Bytes of `source`: a file's path if it exists, else an IPFS CID (`Qm…`, `bafy…`,
/// `/ipfs/CID`, `ipfs://CID`), fetched when missing ([`super::ipfs::bytes`]).
pub fn read_bytes(source: &str) -> Result<Vec<u8>, Error> {
    let path = std::path::Path::new(source);
    if path.is_file() {
        return std::fs::read(path).map_err(|e| Error(format!("cannot read {source}: {e}")));
    }
    match super::ipfs::cid_of(source) {
        Some(cid) => super::ipfs::bytes(cid),
        None => err(format!("no file {source:?} here and it is not an IPFS CID: give a path that exists or a CID")),
    }
}

/// Rows of a CSV or JSON `source` (a path or a CID): JSON when it is named `*.json` or starts
/// with `[`/`{`, CSV otherwise.
///
/// ```ignore
/// let reefs = kelp::read_rows("data/reefs.csv")?;
/// kelp::table(&reefs);
/// ```
pub fn read_rows(source: &str) -> Result<Rows, Error> {
    let bytes = read_bytes(source)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error(format!("{source} is not UTF-8 text: rows come from CSV or JSON text")))?;
    let lower = source.to_ascii_lowercase();
    let first = text.trim_start().chars().next();
    if lower.ends_with(".json") || (!lower.ends_with(".csv") && matches!(first, Some('[') | Some('{'))) {
        parse_json(&text).map_err(|e| Error(format!("{source}: {e}")))
    } else {
        parse_csv(&text).map_err(|e| Error(format!("{source}: {e}")))
    }
}

/// Rows of CSV text (RFC 4180: `,` between fields, `"` quotes, `""` a quote inside them; the
/// first record names the columns).
pub fn parse_csv(text: &str) -> Result<Rows, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records: Vec<Vec<String>> = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let (mut quoted, mut line, mut quote_line) = (false, 1usize, 0usize);
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                quoted = true;
                quote_line = line;
            }
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                line += 1;
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                any = false;
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return err(format!("CSV line {quote_line}: a quoted field never ends: close it with \""));
    }
    if any {
        record.push(field);
        records.push(record);
    }
    records.retain(|r| !(r.len() == 1 && r[0].is_empty()));
    let mut records = records.into_iter();
    let columns = records.next().unwrap_or_default();
    Ok(Rows { columns, rows: records.collect() })
}

/// Rows of JSON text: an array of objects (columns: every key, in the order first seen) or an
/// array of arrays (columns `0`, `1`, …); or an object holding one such array. Strings are
/// cells as they are, `null` an empty cell, anything else its JSON text; short rows get empty
/// cells.
pub fn parse_json(text: &str) -> Result<Rows, Error> {
    let value = super::json::parse(text).map_err(Error)?;
    let items = match value {
        super::json::Value::Array(items) => items,
        super::json::Value::Object(fields) => {
            match fields.into_iter().find(|(_, v)| matches!(v, super::json::Value::Array(_))) {
                Some((_, super::json::Value::Array(items))) => items,
                _ => return err("JSON rows come from an array (of objects or of arrays); this object holds none"),
            }
        }
        _ => return err("JSON rows come from an array (of objects or of arrays), not a single value"),
    };
    let mut rows = Rows::default();
    for item in items {
        match item {
            super::json::Value::Object(fields) => {
                let mut row = vec![String::new(); rows.columns.len()];
                for (key, v) in fields {
                    let i = match rows.columns.iter().position(|c| *c == key) {
                        Some(i) => i,
                        None => {
                            rows.columns.push(key);
                            row.push(String::new());
                            rows.columns.len() - 1
                        }
                    };
                    row[i] = v.cell();
                }
                rows.rows.push(row);
            }
            super::json::Value::Array(cells) => {
                while rows.columns.len() < cells.len() {
                    rows.columns.push(rows.columns.len().to_string());
                }
                rows.rows.push(cells.into_iter().map(|v| v.cell()).collect());
            }
            other => rows.rows.push(vec![other.cell()]),
        }
    }
    if rows.columns.is_empty() && !rows.rows.is_empty() {
        rows.columns.push("0".into());
    }
    // Rows seen before a later key was added, and short arrays, get empty cells.
    let n = rows.columns.len();
    for row in &mut rows.rows {
        row.resize(n.max(row.len()), String::new());
    }
    Ok(rows)
}

/// Rows shown at most by [`table`]; the caption says how many there are.
pub const TABLE_MAX_ROWS: usize = 1000;

/// Show `rows` below the cell as an HTML table that scrolls, captioned with its size.
///
/// ```ignore
/// kelp::table(&kelp::parse_csv("a,b\n1,2\n")?);
/// ```
pub fn table(rows: &Rows) {
    super::display("text/html", &table_html(rows));
}

/// The HTML [`table`] shows.
pub fn table_html(rows: &Rows) -> String {
    let mut h = String::from("<div class=\"kelp-table\">");
    let shown = rows.rows.len().min(TABLE_MAX_ROWS);
    let noun = if rows.rows.len() == 1 { "row" } else { "rows" };
    h += &format!("<p>{} {noun} × {} columns", rows.rows.len(), rows.columns.len());
    if shown < rows.rows.len() {
        h += &format!(" (the first {shown} shown)");
    }
    h += "</p><div style=\"max-height:24em;overflow:auto\"><table><thead><tr>";
    for c in &rows.columns {
        h += &format!("<th>{}</th>", escape(c));
    }
    h += "</tr></thead><tbody>";
    for row in &rows.rows[..shown] {
        h += "<tr>";
        for cell in row {
            h += &format!("<td>{}</td>", escape(cell));
        }
        h += "</tr>";
    }
    h + "</tbody></table></div></div>"
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Show an image below the cell from its bytes: SVG, PNG, JPEG or GIF (told by the bytes).
///
/// ```ignore
/// kelp::image(&std::fs::read("plot.png")?)?;
/// ```
pub fn image(bytes: &[u8]) -> Result<(), Error> {
    let (mime, data) = image_data(bytes)?;
    super::display(mime, &data);
    Ok(())
}

/// The MIME type and display data (SVG text, or base64) of an image's bytes.
pub fn image_data(bytes: &[u8]) -> Result<(&'static str, String), Error> {
    let raster = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else {
        None
    };
    if let Some(mime) = raster {
        return Ok((mime, base64(bytes)));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) if text.contains("<svg") => Ok(("image/svg+xml", text.trim().to_string())),
        _ => err(format!(
            "these {} bytes are not an SVG, PNG, JPEG or GIF image: pass an image file's bytes",
            bytes.len()
        )),
    }
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ABC[(n >> shift) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
