//! Client-side encryption for `add --encrypt` / `get --decrypt`: ChaCha20-Poly1305 in a
//! streaming, segmented construction (like age's STREAM), so memory stays constant.
//!
//! Format: `KELPENC1` (8 bytes) + a 7-byte random nonce prefix, then segments of 64 KiB of
//! plaintext sealed with nonce = prefix ‖ segment counter (u32, big-endian) ‖ last flag (0|1),
//! each followed by its 16-byte tag. The last segment (possibly empty) carries flag 1, so a
//! truncated or reordered file fails to decrypt. A fresh random 32-byte key is made per add and
//! kept in `$KELP_HOME/ipfs/keys/<cid>.key` (mode 0600); its share string is `kelp-key-v1:<hex>`.

use crate::IpfsError;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"KELPENC1";
const SEG: usize = 64 * 1024;
const TAG: usize = 16;
const SHARE_PREFIX: &str = "kelp-key-v1:";

/// A 32-byte content key.
#[derive(Clone, PartialEq, Eq)]
pub struct ContentKey([u8; 32]);

impl std::fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContentKey(<hidden>)")
    }
}

impl ContentKey {
    pub fn random() -> Self {
        ContentKey(rand::random())
    }
    /// The share string (`kelp-key-v1:<64 hex>`): whoever has it can decrypt.
    pub fn share_string(&self) -> String {
        format!("{SHARE_PREFIX}{}", hex::encode(self.0))
    }
    pub fn from_share_string(s: &str) -> Result<Self, IpfsError> {
        let bad = || IpfsError::BadOption("the key is not a kelp share string (kelp-key-v1:<64 hex digits>)".into());
        let h = s.trim().strip_prefix(SHARE_PREFIX).ok_or_else(bad)?;
        let b = hex::decode(h).map_err(|_| bad())?;
        Ok(ContentKey(b.try_into().map_err(|_| bad())?))
    }
    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(&self.0))
    }
}

fn nonce(prefix: &[u8; 7], counter: u32, last: bool) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..7].copy_from_slice(prefix);
    n[7..11].copy_from_slice(&counter.to_be_bytes());
    n[11] = u8::from(last);
    n
}

/// Encrypts a plaintext stream into the format above, as a `Read`.
pub struct EncryptReader<R: Read> {
    inner: R,
    cipher: ChaCha20Poly1305,
    prefix: [u8; 7],
    counter: u32,
    out: Vec<u8>,
    pos: usize,
    peeked: Option<u8>,
    done: bool,
}

impl<R: Read> EncryptReader<R> {
    pub fn new(inner: R, key: &ContentKey) -> Self {
        let prefix: [u8; 7] = rand::random();
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&prefix);
        EncryptReader { inner, cipher: key.cipher(), prefix, counter: 0, out, pos: 0, peeked: None, done: false }
    }

    fn next_segment(&mut self) -> std::io::Result<()> {
        let mut plain = Vec::with_capacity(SEG);
        if let Some(b) = self.peeked.take() {
            plain.push(b);
        }
        let mut buf = [0u8; 8192];
        while plain.len() < SEG {
            let want = (SEG - plain.len()).min(buf.len());
            match self.inner.read(&mut buf[..want]) {
                Ok(0) => break,
                Ok(n) => plain.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let mut last = plain.len() < SEG;
        if !last {
            let mut one = [0u8; 1];
            loop {
                match self.inner.read(&mut one) {
                    Ok(0) => {
                        last = true;
                        break;
                    }
                    Ok(_) => {
                        self.peeked = Some(one[0]);
                        break;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let n = nonce(&self.prefix, self.counter, last);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&n), plain.as_slice())
            .map_err(|_| std::io::Error::other("encryption failed"))?;
        self.counter = self.counter.checked_add(1).ok_or_else(|| std::io::Error::other("file too large to encrypt"))?;
        self.out = sealed;
        self.pos = 0;
        self.done = last;
        Ok(())
    }
}

impl<R: Read> Read for EncryptReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.next_segment()?;
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Decrypts the format above, as a `Write` over the ciphertext; call [`DecryptWriter::finish`].
pub struct DecryptWriter<W: Write> {
    inner: W,
    cipher: ChaCha20Poly1305,
    prefix: Option<[u8; 7]>,
    counter: u32,
    buf: Vec<u8>,
}

fn tampered() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, "decryption failed: wrong key, or the data was altered")
}

impl<W: Write> DecryptWriter<W> {
    pub fn new(inner: W, key: &ContentKey) -> Self {
        DecryptWriter { inner, cipher: key.cipher(), prefix: None, counter: 0, buf: Vec::new() }
    }

    fn open(&mut self, seg: &[u8], last: bool) -> std::io::Result<()> {
        let prefix = self.prefix.ok_or_else(tampered)?;
        let n = nonce(&prefix, self.counter, last);
        let plain = self.cipher.decrypt(Nonce::from_slice(&n), seg).map_err(|_| tampered())?;
        self.counter += 1;
        self.inner.write_all(&plain)
    }

    /// Check and write the last segment; returns the inner writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        if self.prefix.is_none() || self.buf.len() < TAG {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "not kelp-encrypted data (or truncated)"));
        }
        let seg = std::mem::take(&mut self.buf);
        self.open(&seg, true)?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for DecryptWriter<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.prefix.is_none() {
            if self.buf.len() < 15 {
                return Ok(data.len());
            }
            if &self.buf[..8] != MAGIC {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "not kelp-encrypted data (no KELPENC1 header)",
                ));
            }
            self.prefix = Some(self.buf[8..15].try_into().expect("7 bytes"));
            self.buf.drain(..15);
        }
        // Keep at least one whole segment buffered: only finish() knows which one is last.
        while self.buf.len() > SEG + TAG {
            let seg: Vec<u8> = self.buf.drain(..SEG + TAG).collect();
            self.open(&seg, false)?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Where the key of an encrypted CID is kept.
pub fn key_path(store_dir: &Path, cid: &str) -> PathBuf {
    store_dir.join("keys").join(format!("{cid}.key"))
}

/// Save a key (mode 0600) for `cid`.
pub fn save_key(store_dir: &Path, cid: &str, key: &ContentKey) -> Result<(), IpfsError> {
    let p = key_path(store_dir, cid);
    std::fs::create_dir_all(p.parent().expect("key path has a parent"))
        .map_err(IpfsError::io("creating the key directory"))?;
    let tmp = p.with_extension(format!("tmp{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        o.open(&tmp)?.write_all(key.share_string().as_bytes())?;
        std::fs::rename(&tmp, &p)
    };
    write().map_err(IpfsError::io("saving the content key"))
}

/// Load the key saved for `cid`.
pub fn load_key(store_dir: &Path, cid: &str) -> Result<ContentKey, IpfsError> {
    match std::fs::read_to_string(key_path(store_dir, cid)) {
        Ok(s) => ContentKey::from_share_string(&s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(IpfsError::BadOption(format!(
            "no key for {cid} in this store: pass --key-env VAR with the share string in that variable"
        ))),
        Err(e) => Err(IpfsError::io("reading the content key")(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(data: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let key = ContentKey::random();
        let mut ct = Vec::new();
        EncryptReader::new(data, &key).read_to_end(&mut ct).unwrap();
        let mut w = DecryptWriter::new(Vec::new(), &key);
        for piece in ct.chunks(1000) {
            w.write_all(piece).unwrap();
        }
        (ct, w.finish().unwrap())
    }

    #[test]
    fn round_trips_at_segment_edges() {
        for n in [0, 1, SEG - 1, SEG, SEG + 1, 3 * SEG, 3 * SEG + 7] {
            let data: Vec<u8> = (0..n).map(|i| (i * 7 % 256) as u8).collect();
            let (ct, pt) = round(&data);
            assert_eq!(pt, data, "{n}");
            assert_eq!(ct.len(), 15 + n + TAG * n.div_ceil(SEG).max(1), "{n}");
        }
    }

    #[test]
    fn tampering_truncation_and_wrong_key_fail() {
        let key = ContentKey::random();
        let data = vec![5u8; 2 * SEG + 10];
        let mut ct = Vec::new();
        EncryptReader::new(&data[..], &key).read_to_end(&mut ct).unwrap();
        let dec = |bytes: &[u8], k: &ContentKey| -> std::io::Result<Vec<u8>> {
            let mut w = DecryptWriter::new(Vec::new(), k);
            w.write_all(bytes)?;
            w.finish()
        };
        assert_eq!(dec(&ct, &key).unwrap(), data);
        let mut flipped = ct.clone();
        flipped[100] ^= 1;
        assert!(dec(&flipped, &key).is_err());
        assert!(dec(&ct[..15 + SEG + TAG], &key).is_err(), "dropping the tail is detected");
        assert!(dec(&ct, &ContentKey::random()).is_err());
        assert!(dec(b"plain text, not encrypted", &key).is_err());
    }

    #[test]
    fn share_strings() {
        let k = ContentKey::random();
        assert_eq!(ContentKey::from_share_string(&k.share_string()).unwrap(), k);
        assert!(ContentKey::from_share_string("kelp-key-v1:abcd").is_err());
        assert_eq!(format!("{k:?}"), "ContentKey(<hidden>)");
    }
}
