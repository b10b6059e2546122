//! Telling, by its first bytes, a file that is not XML text this reader reads: another
//! compression than gzip, or text in UTF-16 or UTF-32. Such a file was refused as "XML is
//! not well formed" at line 1, which sent people looking for a broken tag; the error now
//! says what the file is and what to do with it.

use crate::error::XmlError;

/// Bytes [`sniff`] looks at, at most.
pub(crate) const SNIFF_BYTES: usize = 6;

/// What a file that is not XML text turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotXml {
    /// `PK\x03\x04` (also an empty archive's `PK\x05\x06`).
    Zip,
    /// `BZh`.
    Bzip2,
    /// `FD 37 7A 58 5A 00`.
    Xz,
    /// `28 B5 2F FD`.
    Zstd,
    /// A UTF-32 byte order mark.
    Utf32,
    /// A UTF-16 byte order mark, or `<` followed or preceded by a NUL byte.
    Utf16,
}

/// What `head` (the first bytes of a file, or of its gzip content) is, when it is one of
/// the forms this reader refuses.
pub(crate) fn sniff(head: &[u8]) -> Option<NotXml> {
    const FORMS: &[(&[u8], NotXml)] = &[
        (b"PK\x03\x04", NotXml::Zip),
        (b"PK\x05\x06", NotXml::Zip),
        (b"BZh", NotXml::Bzip2),
        (&[0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], NotXml::Xz),
        (&[0x28, 0xB5, 0x2F, 0xFD], NotXml::Zstd),
        // Before UTF-16: a UTF-32 LE mark starts with the UTF-16 LE one.
        (&[0xFF, 0xFE, 0x00, 0x00], NotXml::Utf32),
        (&[0x00, 0x00, 0xFE, 0xFF], NotXml::Utf32),
        (&[0xFF, 0xFE], NotXml::Utf16),
        (&[0xFE, 0xFF], NotXml::Utf16),
        // `<` in UTF-16 without a byte order mark (little and big endian).
        (b"<\x00", NotXml::Utf16),
        (b"\x00<", NotXml::Utf16),
    ];
    FORMS
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|(_, form)| *form)
}

impl NotXml {
    /// What the file is, for the error.
    fn what(self) -> &'static str {
        match self {
            NotXml::Zip => "a zip archive",
            NotXml::Bzip2 => "bzip2-compressed data",
            NotXml::Xz => "xz-compressed data",
            NotXml::Zstd => "zstd-compressed data",
            NotXml::Utf32 => "UTF-32 text",
            NotXml::Utf16 => "UTF-16 text",
        }
    }

    /// What to do with it.
    fn advice(self) -> &'static str {
        match self {
            NotXml::Zip => "unzip it first and import the report it holds",
            NotXml::Bzip2 => "decompress it first (bunzip2) and import the result",
            NotXml::Xz => "decompress it first (unxz) and import the result",
            NotXml::Zstd => "decompress it first (unzstd) and import the result",
            NotXml::Utf32 => {
                "convert it to UTF-8 first, e.g. `iconv -f UTF-32 -t UTF-8 report.xml > report-utf8.xml`"
            }
            NotXml::Utf16 => {
                "convert it to UTF-8 first, e.g. `iconv -f UTF-16 -t UTF-8 report.xml > report-utf8.xml`"
            }
        }
    }

    /// The error for a file of this form; `in_gzip` when gzip held it.
    pub(crate) fn error(self, in_gzip: bool) -> XmlError {
        let (what, advice) = if in_gzip {
            (
                format!("gzip holding {}", self.what()),
                format!("gunzip it, then {}", self.advice()),
            )
        } else {
            (self.what().to_string(), self.advice().to_string())
        };
        XmlError::NotXmlText { what, advice }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_by_their_first_bytes() {
        let cases: &[(&[u8], Option<NotXml>)] = &[
            (b"PK\x03\x04\x14\x00", Some(NotXml::Zip)),
            (b"BZh91AY", Some(NotXml::Bzip2)),
            (b"\xFD7zXZ\x00\x00", Some(NotXml::Xz)),
            (b"\x28\xB5\x2F\xFD\x00", Some(NotXml::Zstd)),
            (b"\xFF\xFE<\x00?\x00", Some(NotXml::Utf16)),
            (b"\xFE\xFF\x00<\x00?", Some(NotXml::Utf16)),
            (b"<\x00?\x00x\x00", Some(NotXml::Utf16)),
            (b"\xFF\xFE\x00\x00<\x00", Some(NotXml::Utf32)),
            (b"<?xml version", None),
            (b"\xEF\xBB\xBF<?xml", None),
            (b"\n<xml-report", None),
            (b"P", None),
            (b"", None),
        ];
        for (head, want) in cases {
            assert_eq!(sniff(head), *want, "{head:?}");
        }
    }
}
