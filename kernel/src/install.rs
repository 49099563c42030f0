//! `kelp install`: write the "Rust (kelp)" kernelspec (kernel.json + logos) where Jupyter
//! looks for it: the user's data dir, the current Python environment, or a given prefix.

use anyhow::{Context, Result};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Where to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    User,
    SysPrefix,
    Prefix(PathBuf),
}

/// The kernels directory for a target (`…/share/jupyter/kernels` or the user's equivalent).
pub fn kernels_dir(target: &Target) -> Result<PathBuf> {
    Ok(match target {
        Target::User => match std::env::var_os("JUPYTER_DATA_DIR") {
            Some(d) => PathBuf::from(d).join("kernels"),
            None => dirs::data_dir().context("no user data directory")?.join("jupyter").join("kernels"),
        },
        Target::SysPrefix => {
            let prefix = match std::env::var_os("VIRTUAL_ENV") {
                Some(v) => PathBuf::from(v),
                None => {
                    let out = std::process::Command::new("python3")
                        .args(["-c", "import sys; print(sys.prefix)"])
                        .output()
                        .context("--sys-prefix needs python3 on PATH (or VIRTUAL_ENV set)")?;
                    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
                }
            };
            prefix.join("share").join("jupyter").join("kernels")
        }
        Target::Prefix(p) => p.join("share").join("jupyter").join("kernels"),
    })
}

/// The kernel.json content for the binary at `exe`.
pub fn kernel_json(exe: &Path) -> serde_json::Value {
    json!({
        "argv": [exe.to_string_lossy(), "kernel", "--connection-file", "{connection_file}"],
        "display_name": "Rust (kelp)",
        "language": "rust",
        "interrupt_mode": "message",
        "metadata": { "debugger": false },
    })
}

/// Install the kernelspec named `name` for the running binary; returns its directory.
pub fn install(target: &Target, name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the kelp binary's path")?;
    let dir = kernels_dir(target)?.join(name);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let spec = serde_json::to_string_pretty(&kernel_json(&exe))?;
    std::fs::write(dir.join("kernel.json"), spec)?;
    std::fs::write(dir.join("logo-32x32.png"), logo_png(32))?;
    std::fs::write(dir.join("logo-64x64.png"), logo_png(64))?;
    std::fs::write(dir.join("logo-svg.svg"), LOGO_SVG)?;
    Ok(dir)
}

const LOGO_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><circle cx="32" cy="32" r="30" fill="#0e6e5c"/><path d="M28 54 C 20 40, 38 30, 28 10" stroke="#9be3c8" stroke-width="6" fill="none" stroke-linecap="round"/><path d="M38 54 C 46 42, 30 32, 40 16" stroke="#d4f5e6" stroke-width="4" fill="none" stroke-linecap="round"/></svg>"##;

/// A small RGBA PNG of the logo (a teal disc with a pale frond), encoded without dependencies:
/// uncompressed deflate blocks inside zlib, CRC-32 per chunk.
pub fn logo_png(size: u32) -> Vec<u8> {
    let mut raw = Vec::with_capacity(((size * 4 + 1) * size) as usize);
    let c = size as f32 / 2.0;
    for y in 0..size {
        raw.push(0); // filter: none
        for x in 0..size {
            let (fx, fy) = (x as f32 + 0.5 - c, y as f32 + 0.5 - c);
            let inside = (fx * fx + fy * fy).sqrt() <= c - 1.0;
            let frond = ((fx + (fy / c * 3.0).sin() * c * 0.25).abs()) < size as f32 * 0.07;
            let px: [u8; 4] = match (inside, frond) {
                (false, _) => [0, 0, 0, 0],
                (true, true) => [0x9b, 0xe3, 0xc8, 255],
                (true, false) => [0x0e, 0x6e, 0x5c, 255],
            };
            raw.extend_from_slice(&px);
        }
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&size.to_be_bytes());
    ihdr.extend_from_slice(&size.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // 8-bit RGBA
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(65535).collect();
    for (i, b) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        out.extend_from_slice(&(b.len() as u16).to_le_bytes());
        out.extend_from_slice(&(!(b.len() as u16)).to_le_bytes());
        out.extend_from_slice(b);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + x as u32) % 65521;
        b = (b + a) % 65521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_known_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
    }

    #[test]
    fn png_has_signature_and_size() {
        let p = logo_png(32);
        assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&p[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(p[16..20].try_into().unwrap()), 32);
        assert!(p.ends_with(&[0xae, 0x42, 0x60, 0x82]));
    }

    #[test]
    fn installs_into_prefix() {
        let d = tempfile::tempdir().unwrap();
        let dir = install(&Target::Prefix(d.path().into()), "kelp").unwrap();
        assert_eq!(dir, d.path().join("share/jupyter/kernels/kelp"));
        let spec: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("kernel.json")).unwrap()).unwrap();
        assert_eq!(spec["display_name"], "Rust (kelp)");
        assert_eq!(spec["argv"][1], "kernel");
        assert_eq!(spec["argv"][3], "{connection_file}");
        assert_eq!(spec["interrupt_mode"], "message");
        assert!(dir.join("logo-64x64.png").exists() && dir.join("logo-svg.svg").exists());
    }
}
