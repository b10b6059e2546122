//! Raw records are kept compressed (LZ4; zlib in stores of earlier versions) beside the normalized row, so a re-map never needs
//! a re-fetch; a content hash of the normalized record tells an update from a no-op.

use flate2::read::ZlibDecoder;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::sync::OnceLock;

/// Compresses a raw JSON record.
pub fn compress(raw: &serde_json::Value) -> Vec<u8> {
    pack(&json_bytes(raw))
}

/// A raw record's compact JSON text. `Value::to_string` writes the same bytes through
/// the formatting machinery, several times slower.
fn json_bytes(raw: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(raw).unwrap_or_default()
}

/// A raw record ready to store: its JSON text compressed, and the content hash of the
/// normalized record with it (one serialization of the raw record for both).
#[derive(Clone)]
pub struct Encoded {
    pub compressed: Vec<u8>,
    pub hash: String,
}

/// [`compress`] and [`content_hash`] of one record at once.
pub fn encode<T: Serialize>(normalized: &T, raw: &serde_json::Value) -> Encoded {
    let json = json_bytes(raw);
    Encoded {
        hash: hash_of(normalized, &json),
        compressed: pack(&json),
    }
}

/// A record's [`Encoded`] form, computed once: by the runner while the previous batch is
/// being written ([`crate::Batch::prepare`]), or else by the writer when it needs it.
/// Change a record before its encoding is first asked for, not after.
#[derive(Clone, Default)]
pub struct Prepared(OnceLock<Encoded>);

impl Prepared {
    pub fn get_or_encode<T: Serialize>(&self, normalized: &T, raw: &serde_json::Value) -> &Encoded {
        self.0.get_or_init(|| encode(normalized, raw))
    }
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.0.get().is_some() {
            "encoded"
        } else {
            "not yet"
        };
        write!(f, "Prepared({state})")
    }
}

/// First byte of a record written by [`pack`]: LZ4, then the uncompressed length.
/// Records of earlier versions are zlib streams, whose first byte is 0x78.
const LZ4: u8 = b'L';

/// Compresses `bytes` with LZ4 (several times faster than zlib at its fastest level,
/// which matters when a sync writes a million records).
/// The layout is `compress_prepend_size`'s (length as u32 little-endian, then the block),
/// written in place rather than copied from a second buffer.
fn pack(bytes: &[u8]) -> Vec<u8> {
    const HEAD: usize = 1 + 4;
    let mut out = vec![0u8; HEAD + lz4_flex::block::get_maximum_output_size(bytes.len())];
    out[0] = LZ4;
    out[1..HEAD].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
    match lz4_flex::block::compress_into(bytes, &mut out[HEAD..]) {
        Ok(n) => out.truncate(HEAD + n),
        // Cannot happen (the buffer has the block's maximum size); kept correct anyway.
        Err(_) => out = [&[LZ4][..], &lz4_flex::compress_prepend_size(bytes)].concat(),
    }
    out.shrink_to_fit();
    out
}

/// Decompresses a raw record written by [`compress`].
pub fn decompress(bytes: &[u8]) -> Result<serde_json::Value, String> {
    let text = match bytes.split_first() {
        Some((&LZ4, rest)) => lz4_flex::decompress_size_prepended(rest)
            .map_err(|e| format!("cannot decompress raw record: {e}"))?,
        _ => {
            let mut text = Vec::new();
            ZlibDecoder::new(bytes)
                .read_to_end(&mut text)
                .map_err(|e| format!("cannot decompress raw record: {e}"))?;
            text
        }
    };
    serde_json::from_slice(&text).map_err(|e| format!("raw record is not JSON: {e}"))
}

/// A short hash of a value's JSON form: equal records hash equal.
pub fn content_hash<T: Serialize>(value: &T, raw: &serde_json::Value) -> String {
    hash_of(value, &json_bytes(raw))
}

fn hash_of<T: Serialize>(value: &T, raw_json: &[u8]) -> String {
    let mut h = Sha256::new();
    // Serialized straight into the hash: the same bytes as `to_vec`, without the copy.
    let _ = serde_json::to_writer(&mut h, value);
    h.update([0]);
    h.update(raw_json);
    hex::encode(&h.finalize()[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let big = serde_json::json!({"Id": "x", "Text": "é\"q".repeat(50_000)});
        for raw in [
            serde_json::json!({}),
            big.clone(),
            serde_json::json!({"Id": 1}),
            big,
        ] {
            assert_eq!(decompress(&compress(&raw)).unwrap(), raw);
            let e = encode(&raw, &raw);
            assert_eq!(decompress(&e.compressed).unwrap(), raw);
            assert_eq!(e.hash, content_hash(&raw, &raw));
        }
    }

    #[test]
    fn packing_and_hashing_keep_the_bytes_earlier_versions_wrote() {
        let raw = serde_json::json!({"Id": "é\"q", "Text": "abc".repeat(100)});
        let json = json_bytes(&raw);
        let mut earlier = vec![LZ4];
        earlier.extend_from_slice(&lz4_flex::compress_prepend_size(&json));
        assert_eq!(pack(&json), earlier);
        let mut h = Sha256::new();
        h.update(serde_json::to_vec(&raw).unwrap());
        h.update([0]);
        h.update(&json);
        assert_eq!(hash_of(&raw, &json), hex::encode(&h.finalize()[..12]));
    }

    #[test]
    fn raw_json_is_the_compact_text_earlier_versions_hashed() {
        let raw = serde_json::json!({"Id": "é\"q", "N": [1, 2.5, null], "B": {"x": true}});
        assert_eq!(json_bytes(&raw), raw.to_string().into_bytes());
    }

    #[test]
    fn records_written_by_earlier_versions_zlib_still_read() {
        use std::io::Write;
        let raw = serde_json::json!({"Id": "old", "Severity": "High"});
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(raw.to_string().as_bytes()).unwrap();
        assert_eq!(decompress(&z.finish().unwrap()).unwrap(), raw);
        assert!(decompress(b"Lxx").is_err());
    }
}
