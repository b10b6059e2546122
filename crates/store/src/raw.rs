//! Raw records are kept compressed beside the normalized row, so a re-map never needs a
//! re-fetch; a content hash of the normalized record tells an update from a no-op.
//!
//! A record is one small JSON object (about 900 bytes for an ASoC issue), too short for
//! LZ4 to find much to repeat inside it: alone it shrinks by ~15 %. Against a dictionary
//! of typical AppScan records (`raw/dictionary-1.json`: field names, common values and
//! the report texts' boilerplate) it shrinks by ~50 %, which makes a million-finding
//! store ~20 % smaller and every scan of the findings table (index builds, exports)
//! read that much less. Records of earlier versions (LZ4 alone, zlib) still read.

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

/// The mark a full run puts before the content hash of a finding it closes because it
/// did not see it. A later sighting of the same record hashes without the mark, so the
/// writer rewrites (reopens) the finding; a remap that keeps such a finding CLOSED hashes
/// its record with the mark ([`crate::FindingRecord::kept_closed`]), so an unchanged map
/// leaves it untouched instead of counting it updated.
pub const CLOSED_UNSEEN_MARK: &str = "closed:";

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
    /// Already encoded as `encoded`.
    pub fn with(encoded: Encoded) -> Prepared {
        Prepared(OnceLock::from(encoded))
    }

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

/// First byte of a record written by [`pack`]: an LZ4 block against [`DICTIONARY_1`],
/// after the uncompressed length (u32 little-endian).
const LZ4_DICTIONARY_1: u8 = b'1';

/// What [`LZ4_DICTIONARY_1`] records are compressed against. Records in stores depend on
/// these exact bytes: never edit the file; a better dictionary is a new file and a new
/// first byte.
const DICTIONARY_1: &[u8] = include_bytes!("raw/dictionary-1.json");

/// First byte of a record of earlier versions: LZ4 alone, then the same layout.
/// Older still are zlib streams, whose first byte is 0x78.
const LZ4: u8 = b'L';

/// Compresses `bytes` with LZ4 (several times faster than zlib at its fastest level,
/// which matters when a sync writes a million records) against [`DICTIONARY_1`],
/// written in place rather than copied from a second buffer.
fn pack(bytes: &[u8]) -> Vec<u8> {
    const HEAD: usize = 1 + 4;
    let mut out = vec![0u8; HEAD + lz4_flex::block::get_maximum_output_size(bytes.len())];
    out[0] = LZ4_DICTIONARY_1;
    out[1..HEAD].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
    match lz4_flex::block::compress_into_with_dict(bytes, &mut out[HEAD..], DICTIONARY_1) {
        Ok(n) => out.truncate(HEAD + n),
        // Cannot happen (the buffer has the block's maximum size); kept correct anyway.
        Err(_) => {
            out = [
                &[LZ4_DICTIONARY_1][..],
                &lz4_flex::block::compress_prepend_size_with_dict(bytes, DICTIONARY_1),
            ]
            .concat()
        }
    }
    out.shrink_to_fit();
    out
}

/// Decompresses a raw record written by [`compress`].
pub fn decompress(bytes: &[u8]) -> Result<serde_json::Value, String> {
    let text = match bytes.split_first() {
        Some((&LZ4_DICTIONARY_1, rest)) => {
            lz4_flex::block::decompress_size_prepended_with_dict(rest, DICTIONARY_1)
                .map_err(|e| format!("cannot decompress raw record: {e}"))?
        }
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
    fn hashing_keeps_the_bytes_earlier_versions_hashed() {
        let raw = serde_json::json!({"Id": "é\"q", "Text": "abc".repeat(100)});
        let json = json_bytes(&raw);
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

    /// A typical ASoC issue as the source sends it.
    fn asoc_issue() -> serde_json::Value {
        serde_json::json!({
            "ApplicationId": "2f1c9a4e-5b7d-4c3e-9a8f-1e2d3c4b5a69", "Cve": null, "Cvss": "6.1",
            "CvssVersion": "Cvss31", "Cwe": 79, "DateCreated": "2026-03-04T10:11:12Z",
            "DiffResult": "NoChange", "DiscoveryMethod": "DAST", "Domain": "shop.test",
            "Element": "q", "ElementType": "Parameter",
            "FixGroupId": "7d3e2f1a-0b9c-4d8e-a7f6-5e4d3c2b1a08", "Host": "www.shop.test",
            "Id": "c0ffee00-1234-4abc-9def-0123456789ab", "IsNewInScope": false,
            "IssueType": "Cross-Site Scripting",
            "IssueTypeGuid": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "IssueTypeId": "attCrossSiteScripting", "LastComment": null,
            "LastFound": "2026-11-20T08:00:00Z", "LastUpdated": "2026-11-21T09:30:00Z",
            "Location": "https://www.shop.test/search?q=1", "Path": "/search", "Port": 443,
            "ScanName": "Shop - DAST scan 3", "Scanner": "AppScan Dynamic Analyzer",
            "Scheme": "https", "Severity": "Medium", "SeverityValue": 2, "Status": "Open"
        })
    }

    #[test]
    fn the_dictionary_halves_a_typical_record() {
        let json = json_bytes(&asoc_issue());
        let packed = pack(&json);
        assert!(
            packed.len() * 100 < json.len() * 60,
            "{} bytes of JSON packed into {}",
            json.len(),
            packed.len()
        );
    }

    /// Stores hold records packed against dictionary 1: its bytes must never change.
    #[test]
    fn records_packed_against_dictionary_1_still_read() {
        let packed = hex::decode(DICTIONARY_1_RECORD).unwrap();
        assert_eq!(decompress(&packed).unwrap(), asoc_issue());
    }

    const DICTIONARY_1_RECORD: &str = concat!(
        "31400300000e9b08f01532663163396134652d356237642d346333652d396138662d31653264",
        "33633462356136395c0e0d560c21362ec0030fd70308223739aa0803a70e02e501f001362d30",
        "332d30345431303a31313a31320a020fc603279673686f702e74657374c20346223a22710e00",
        "03000308c606099703f61537643365326631612d306239632d346438652d613766362d356534",
        "6433633262316130389703487777772e7300005901f00b2263306666656530302d313233342d",
        "346162632d396465662d301000713536373839616280030fa4030cc243726f73732d53697465",
        "20537e0f216e67380003810304b80312669b01102d9c01ff072d363937382d383739362d6135",
        "623463336432653166b80302015f00005e00085d000fba030faf362d31312d3230543038ba03",
        "0802250065315430393a33ba030eb007093f01a02f7365617263683f713d4802048e03021500",
        "0fd907064953686f708303103333030d300a0f84031c021710004a0003560a035b0c1732b307",
        "604f70656e227d",
    );

    #[test]
    fn records_written_by_earlier_versions_lz4_still_read() {
        let raw = asoc_issue();
        let mut earlier = vec![LZ4];
        earlier.extend_from_slice(&lz4_flex::compress_prepend_size(&json_bytes(&raw)));
        assert_eq!(decompress(&earlier).unwrap(), raw);
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
