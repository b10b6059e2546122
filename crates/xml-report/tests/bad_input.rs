//! Bad input fails in `open`, with a typed error and a line and column, before any issue
//! is yielded: truncated files (plain and gzip), XML that is not well formed, reports of
//! other tools, unknown schema versions, and the text-size, depth and name-length
//! limits. Also: gzip input detected by magic bytes (other compressions and UTF-16 named
//! as what they are), and a file changed between the passes.

mod common;

use std::io::Write;

use common::{fixture, read, read_with, write};
use flate2::Compression;
use flate2::write::GzEncoder;
use xml_report::{Position, ReaderOptions, XmlError, open};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// Line and column (characters) of the end of `text`, 1-based.
fn end_position(text: &str) -> (u64, u64) {
    let line = text.matches('\n').count() as u64 + 1;
    let last = text.rsplit('\n').next().unwrap();
    (line, last.chars().count() as u64 + 1)
}

fn position(e: &XmlError) -> Position {
    e.position()
        .unwrap_or_else(|| panic!("no position in {e:?}"))
}

#[test]
fn gzip_is_detected_by_magic_bytes_and_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let plain = std::fs::read(fixture("dast-many_findings.xml")).unwrap();
    // No .gz extension: only the content says it is gzip.
    let path = write(dir.path(), "report.xml", gzip(&plain));
    let (meta, issues) = read(&path).unwrap();
    assert!(meta.compressed);
    assert_eq!(issues.len(), 60);
    let (_, want) = read(&fixture("dast-many_findings.xml")).unwrap();
    let got: Vec<_> = issues.iter().map(|i| i.to_record()).collect();
    let want: Vec<_> = want.iter().map(|i| i.to_record()).collect();
    assert_eq!(got, want);
}

/// gzip data read as `gzip -d` reads it: several members are one text, zeros after the
/// last are padding, and other bytes after it are said to be what they are (padding was
/// "invalid gzip header", junk "report is truncated").
#[test]
fn gzip_members_padding_and_trailing_junk() {
    let dir = tempfile::tempdir().unwrap();
    let plain = std::fs::read(fixture("dast-many_findings.xml")).unwrap();
    let (_, want) = read(&fixture("dast-many_findings.xml")).unwrap();
    let want: Vec<_> = want.iter().map(|i| i.to_record()).collect();
    let (head, tail) = plain.split_at(plain.len() / 3);
    let mut members = gzip(head);
    members.extend(gzip(tail));
    let mut padded = gzip(&plain);
    padded.extend([0u8; 512]);
    for (name, bytes) in [("members.xml.gz", members), ("padded.xml.gz", padded)] {
        let path = write(dir.path(), name, bytes);
        let (_, issues) = read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got: Vec<_> = issues.iter().map(|i| i.to_record()).collect();
        assert_eq!(got, want, "{name}");
    }
    let mut junk = gzip(&plain);
    junk.extend(b"garbage");
    let path = write(dir.path(), "junk.xml.gz", junk);
    let err = open(&path, ReaderOptions::default(), |_, _| {}).expect_err("junk");
    assert!(err.to_string().contains("no gzip data"), "{err}");
    assert!(!matches!(err, XmlError::Truncated { .. }), "{err:?}");
}

#[test]
fn truncated_file_fails_in_open_with_the_end_position() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["dast-many_findings.xml", "sast-many_issues.xml"] {
        let text = std::fs::read_to_string(fixture(name)).unwrap();
        let mut cut = text.len() / 2;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let half = &text[..cut];
        let path = write(dir.path(), name, half);
        let mut progressed = 0;
        let err = open(&path, ReaderOptions::default(), |_, _| progressed += 1)
            .expect_err("a truncated report must not open");
        assert!(matches!(err, XmlError::Truncated { .. }), "{name}: {err:?}");
        // The position is the end of the data; a leading BOM is not a character.
        let body = half.trim_start_matches('\u{feff}');
        let (line, column) = end_position(body);
        let pos = position(&err);
        assert_eq!((pos.line, pos.column), (line, column), "{name}: {err}");
        assert!(progressed > 0);
        assert!(err.to_string().contains(&format!("line {line}")), "{err}");
    }
}

#[test]
fn truncated_gzip_fails_in_open() {
    let dir = tempfile::tempdir().unwrap();
    let packed = gzip(&std::fs::read(fixture("dast-many_findings.xml")).unwrap());
    let path = write(dir.path(), "cut.xml.gz", &packed[..packed.len() / 2]);
    let err = open(&path, ReaderOptions::default(), |_, _| {}).unwrap_err();
    assert!(matches!(err, XmlError::Truncated { .. }), "{err:?}");
    assert!(position(&err).line > 1, "{err}");
}

#[test]
fn empty_file_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "empty.xml", "");
    let err = open(&path, ReaderOptions::default(), |_, _| {}).unwrap_err();
    assert!(matches!(err, XmlError::Truncated { .. }), "{err:?}");
}

#[test]
fn mismatched_tag_is_not_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("sast-one_issue.xml")).unwrap();
    let bad = text.replacen("</status>", "</statuz>", 1);
    let line = text[..text.find("</status>").unwrap()]
        .matches('\n')
        .count() as u64
        + 1;
    let path = write(dir.path(), "bad.xml", bad);
    let err = open(&path, ReaderOptions::default(), |_, _| {}).unwrap_err();
    assert!(matches!(err, XmlError::Malformed { .. }), "{err:?}");
    let pos = position(&err);
    assert_eq!(pos.line, line, "{err}");
    assert!(pos.column > 1, "{err}");
}

#[test]
fn other_not_well_formed_documents() {
    let dir = tempfile::tempdir().unwrap();
    let root =
        r#"<xml-report name="AppScan Report" AsocXmlExportVersion="1.7" technology="Mixed">"#;
    for (name, doc, line) in [
        ("json.xml", "{\"runs\": []}\n".to_string(), 1),
        (
            "two-roots.xml",
            format!("{root}</xml-report>\n<xml-report/>\n"),
            2,
        ),
        (
            "bad-entity.xml",
            format!("{root}\n<layout><title>a &nbsp; b</title></layout></xml-report>"),
            2,
        ),
        (
            "dup-attr.xml",
            format!("{root}\n<issue-group><item id=\"1\" id=\"2\"/></issue-group></xml-report>"),
            2,
        ),
        (
            "text-after.xml",
            format!("{root}</xml-report>\ntrailing"),
            2,
        ),
        (
            "bad-utf8.xml",
            format!("{root}\n<layout><title>\u{0}</title></layout></xml-report>")
                .replace('\u{0}', "\u{fffd}"),
            0,
        ),
    ] {
        let path = write(dir.path(), name, doc.as_bytes());
        let result = read(&path);
        if line == 0 {
            // U+FFFD is a valid character: this one must read fine.
            assert!(result.is_ok(), "{name}: {result:?}");
            continue;
        }
        let err = result.unwrap_err();
        assert!(matches!(err, XmlError::Malformed { .. }), "{name}: {err:?}");
        assert_eq!(position(&err).line, line, "{name}: {err}");
    }
    // Invalid UTF-8 bytes.
    let mut bytes = format!("{root}\n<layout><title>").into_bytes();
    bytes.extend_from_slice(&[0xff, 0xfe, 0x41]);
    bytes.extend_from_slice(b"</title></layout></xml-report>");
    let path = write(dir.path(), "latin1.xml", bytes);
    let err = read(&path).unwrap_err();
    assert!(matches!(err, XmlError::Malformed { .. }), "{err:?}");
}

#[test]
fn report_of_another_tool_is_refused_at_its_root() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "zap.xml",
        "<?xml version=\"1.0\"?>\n<OWASPZAPReport version=\"2.11.1\" generated=\"x\">\n<site name=\"http://a\"/>\n</OWASPZAPReport>\n",
    );
    let err = open(&path, ReaderOptions::default(), |_, _| {}).unwrap_err();
    match &err {
        XmlError::WrongRoot { found, pos } => {
            assert_eq!(found, "OWASPZAPReport");
            assert_eq!(pos.line, 2);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("<OWASPZAPReport>"), "{err}");
}

#[test]
fn unknown_schema_versions_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("dast-many_findings.xml")).unwrap();
    let cases = [
        text.replacen(
            r#"AsocXmlExportVersion="1.7""#,
            r#"AsocXmlExportVersion="9.0""#,
            1,
        ),
        text.replacen(
            r#"AsocXmlExportVersion="1.7""#,
            r#"xmlExportVersion="3.1""#,
            1,
        ),
        text.replacen(r#"AsocXmlExportVersion="1.7" "#, "", 1),
    ];
    for (n, doc) in cases.iter().enumerate() {
        assert_ne!(doc, &text, "case {n} changed nothing");
        let path = write(dir.path(), &format!("v{n}.xml"), doc);
        let err = open(&path, ReaderOptions::default(), |_, _| {}).unwrap_err();
        assert!(
            matches!(err, XmlError::UnknownVersion { .. }),
            "case {n}: {err:?}"
        );
        assert_eq!(position(&err).line, 2, "case {n}: {err}");
    }
    // Another minor version of a known major is read, with a warning.
    let doc = text.replacen(
        r#"AsocXmlExportVersion="1.7""#,
        r#"AsocXmlExportVersion="1.8""#,
        1,
    );
    let path = write(dir.path(), "v1.8.xml", doc);
    let (meta, issues) = read(&path).unwrap();
    assert_eq!(issues.len(), 60);
    assert!(
        meta.warnings.iter().any(|w| w.contains("1.8")),
        "{:?}",
        meta.warnings
    );
}

fn small_report(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<xml-report name=\"AppScan Report\" AsocXmlExportVersion=\"1.7\" technology=\"Mixed\">\n{body}\n</xml-report>\n"
    )
}

#[test]
fn text_over_the_limit_is_an_error_not_an_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ReaderOptions {
        max_text_bytes: 64 * 1024,
        ..ReaderOptions::default()
    };
    let big = "A".repeat(200 * 1024);
    let cases = [
        // One plain text node.
        format!("<issue-group>\n<item id=\"1\"><reasoning>{big}</reasoning></item></issue-group>"),
        // A text node split into many events by entity references.
        format!(
            "<layout><title>{}</title></layout>",
            "x&amp;".repeat(40_000)
        ),
        // CDATA.
        format!("<layout><title><![CDATA[{big}]]></title></layout>"),
        // A huge attribute value (markup, not text: the per-event guard).
        format!("<layout><title x=\"{big}\"/></layout>"),
    ];
    for (n, body) in cases.iter().enumerate() {
        let path = write(dir.path(), &format!("big{n}.xml"), small_report(body));
        let err = open(&path, opts.clone(), |_, _| {}).unwrap_err();
        match &err {
            XmlError::TextTooLarge { limit, pos } => {
                assert_eq!(*limit, 64 * 1024);
                assert!(pos.line >= 2, "case {n}: {err}");
            }
            other => panic!("case {n}: {other:?}"),
        }
    }
    // Under the limit, the same shape reads.
    let ok = format!(
        "<issue-group>\n<item id=\"1\"><reasoning>{}</reasoning></item></issue-group>",
        "A".repeat(1000)
    );
    let path = write(dir.path(), "ok.xml", small_report(&ok));
    let (_, issues) = read_with(&path, opts).unwrap();
    assert_eq!(issues.len(), 1);
}

#[test]
fn a_huge_text_without_markup_stops_at_the_limit() {
    // 64 MiB of text and no '<' at all: the reader must stop at the limit rather than
    // buffer the whole run.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flood.xml");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    f.write_all(
        small_report("<layout><title>")
            .trim_end_matches("\n</xml-report>\n")
            .as_bytes(),
    )
    .unwrap();
    let chunk = vec![b'z'; 1024 * 1024];
    for _ in 0..64 {
        f.write_all(&chunk).unwrap();
    }
    f.write_all(b"</title></layout></xml-report>").unwrap();
    drop(f);
    let opts = ReaderOptions {
        max_text_bytes: 1024 * 1024,
        ..ReaderOptions::default()
    };
    let mut last = 0;
    let err = open(&path, opts, |read, _| last = read).unwrap_err();
    assert!(matches!(err, XmlError::TextTooLarge { .. }), "{err:?}");
    assert!(last < 8 * 1024 * 1024, "stopped early: {last} bytes read");
}

#[test]
fn nesting_over_the_limit_is_an_error_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let deep = |levels: usize| {
        format!(
            "<issue-group><item id=\"1\">{}{}</item></issue-group>",
            "<d>".repeat(levels),
            "</d>".repeat(levels)
        )
    };
    let opts = ReaderOptions {
        max_depth: 32,
        ..ReaderOptions::default()
    };
    let path = write(dir.path(), "deep.xml", small_report(&deep(40)));
    let err = open(&path, opts.clone(), |_, _| {}).unwrap_err();
    match &err {
        XmlError::TooDeep { limit, pos } => {
            assert_eq!(*limit, 32);
            assert_eq!(pos.line, 3);
        }
        other => panic!("{other:?}"),
    }
    // Within the limit it reads.
    let path = write(dir.path(), "ok.xml", small_report(&deep(20)));
    assert_eq!(read_with(&path, opts).unwrap().1.len(), 1);
    // A million levels with the default limit: an error, quickly, no overflow.
    let path = write(dir.path(), "abyss.xml", small_report(&deep(1_000_000)));
    let err = open(&path, ReaderOptions::default(), |_, _| {}).unwrap_err();
    assert!(
        matches!(err, XmlError::TooDeep { limit: 256, .. }),
        "{err:?}"
    );
}

/// Names are bounded: the names of the open elements are held until they close, so
/// long names deep down took memory the text and depth limits each allowed (40 nested
/// elements with names of 15 MiB: 1.5 GB).
#[test]
fn names_over_the_limit_are_an_error_not_an_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let long = "n".repeat(2048);
    let cases = [
        format!("<layout>\n{}</layout>", format!("<{long}>").repeat(40)),
        format!("<layout>\n<title {long}=\"x\"/></layout>"),
    ];
    for (n, body) in cases.iter().enumerate() {
        let path = write(dir.path(), &format!("long{n}.xml"), small_report(body));
        let err = open(&path, ReaderOptions::default(), |_, _| {}).unwrap_err();
        match &err {
            XmlError::NameTooLong { limit, pos } => {
                assert_eq!(*limit, 1024);
                assert_eq!((pos.line, pos.column), (4, 1), "case {n}: {err}");
            }
            other => panic!("case {n}: {other:?}"),
        }
    }
    // Up to the limit, names read.
    let name = "n".repeat(1024);
    let ok = format!("<layout><{name} {name}=\"x\"/></layout>");
    let path = write(dir.path(), "ok.xml", small_report(&ok));
    assert!(read(&path).is_ok());
}

#[test]
fn a_file_changed_between_the_passes_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "r.xml",
        std::fs::read(fixture("sast-one_issue.xml")).unwrap(),
    );
    let report = open(&path, ReaderOptions::default(), |_, _| {}).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(b"\n<!-- appended -->\n")
        .unwrap();
    let err = report.issues().unwrap_err();
    assert!(matches!(err, XmlError::Changed { .. }), "{err:?}");
}

#[test]
fn missing_file_is_an_io_error() {
    let err = open(
        "/nonexistent/report.xml".as_ref(),
        ReaderOptions::default(),
        |_, _| {},
    )
    .unwrap_err();
    assert!(matches!(err, XmlError::Io { .. }), "{err:?}");
    assert!(err.position().is_none());
}

#[test]
fn a_byte_order_mark_does_not_shift_columns() {
    let dir = tempfile::tempdir().unwrap();
    let doc = r#"<xml-report AsocXmlExportVersion="1.7"><a></b></xml-report>"#;
    let want = doc.find("</b>").unwrap() as u64 + 1;
    for (name, bytes) in [
        ("plain.xml", doc.as_bytes().to_vec()),
        (
            "bom.xml",
            [b"\xEF\xBB\xBF".as_slice(), doc.as_bytes()].concat(),
        ),
    ] {
        let path = write(dir.path(), name, bytes);
        let err = open(&path, ReaderOptions::default(), |_, _| {}).unwrap_err();
        assert!(matches!(err, XmlError::Malformed { .. }), "{name}: {err:?}");
        let pos = position(&err);
        assert_eq!((pos.line, pos.column), (1, want), "{name}: {err}");
    }
}

/// A lone `\r` ends a line as `\n` and `\r\n` (once) do: a report with CR-only line
/// ends put every error on "line 1, column 826".
#[test]
fn carriage_returns_end_lines_in_error_positions() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        r#"<xml-report AsocXmlExportVersion="1.7">"#,
        "<layout>",
        "  <title>é</titel>",
        "</layout></xml-report>",
    ];
    for (name, end) in [("lf.xml", "\n"), ("crlf.xml", "\r\n"), ("cr.xml", "\r")] {
        let path = write(dir.path(), name, lines.join(end));
        let err = open(&path, ReaderOptions::default(), |_, _| {}).unwrap_err();
        let pos = position(&err);
        assert_eq!((pos.line, pos.column), (3, 11), "{name}: {err}");
    }
}

/// Other compressions than gzip, and UTF-16 text (plain or gzip), are told by their first
/// bytes and named with what to do: they were "XML is not well formed" at line 1.
#[test]
fn other_compressions_and_utf16_say_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let report = small_report("<issue-group total=\"0\"/>");
    let utf16le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(report.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let utf16be: Vec<u8> = [0xFE, 0xFF]
        .into_iter()
        .chain(report.encode_utf16().flat_map(u16::to_be_bytes))
        .collect();
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "r.zip",
            b"PK\x03\x04\x14\x00\x00\x00".to_vec(),
            "a zip archive",
            "unzip it first",
        ),
        ("r.bz2", b"BZh91AY&SY".to_vec(), "bzip2", "bunzip2"),
        (
            "r.xz",
            b"\xFD7zXZ\x00\x00\x04".to_vec(),
            "xz-compressed",
            "unxz",
        ),
        (
            "r.zst",
            b"\x28\xB5\x2F\xFD\x04\x00".to_vec(),
            "zstd",
            "unzstd",
        ),
        (
            "le.xml",
            utf16le.clone(),
            "UTF-16 text",
            "iconv -f UTF-16 -t UTF-8",
        ),
        ("be.xml", utf16be, "UTF-16 text", "iconv -f UTF-16 -t UTF-8"),
        (
            "le.xml.gz",
            gzip(&utf16le),
            "gzip holding UTF-16 text",
            "gunzip it, then convert it to UTF-8",
        ),
    ];
    for (name, bytes, what, advice) in cases {
        let path = write(dir.path(), name, bytes);
        let err = open(&path, ReaderOptions::default(), |_, _| {}).unwrap_err();
        assert!(
            matches!(err, XmlError::NotXmlText { .. }),
            "{name}: {err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains(what) && msg.contains(advice), "{name}: {msg}");
    }
    // The same report in UTF-8 reads.
    let path = write(dir.path(), "ok.xml.gz", gzip(report.as_bytes()));
    assert!(read(&path).is_ok());
}

#[test]
fn readers_and_errors_can_move_between_threads() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    send::<xml_report::Report>();
    send::<xml_report::IssueIter>();
    send_sync::<XmlError>();
    send_sync::<xml_report::Issue>();
}

/// The tables kept in memory per issue type are bounded in all: thousands of 60 KB
/// cause-group items took 233 MB of a reader that promises flat memory. Past the bound
/// the report is refused; an item's element names count against its own budget too.
#[test]
fn tables_kept_in_memory_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let cause = |i: usize| {
        format!(
            "<item id=\"c{i}\"><name>{}</name></item>",
            "x".repeat(50_000)
        )
    };
    let causes: String = (0..40).map(cause).collect();
    let path = write(
        dir.path(),
        "causes.xml",
        small_report(&format!("<cause-group>{causes}</cause-group>")),
    );
    let opts = ReaderOptions {
        max_table_text_bytes: 1024 * 1024,
        ..ReaderOptions::default()
    };
    let err = open(&path, opts, |_, _| {}).unwrap_err();
    assert!(
        matches!(err, XmlError::TablesTooLarge { ref section, .. } if section == "cause-group"),
        "{err:?}"
    );
    assert!(open(&path, ReaderOptions::default(), |_, _| {}).is_ok());

    // Element names are charged: long names no longer pass an item's budget unseen.
    let long = "n".repeat(4_000);
    let names: String = (0..400).map(|_| format!("<{long}/>")).collect();
    let path = write(
        dir.path(),
        "names.xml",
        small_report(&format!(
            "<issue-group><item id=\"1\"><issue-type><ref>t</ref></issue-type>{names}</item></issue-group>"
        )),
    );
    let opts = ReaderOptions {
        max_item_bytes: 256 * 1024,
        max_name_bytes: 8 * 1024,
        ..ReaderOptions::default()
    };
    let (_, issues) = read_with(&path, opts).unwrap();
    assert!(
        issues[0]
            .warnings
            .iter()
            .any(|w| w.contains("cut") || w.contains("dropped")),
        "{:?}",
        issues[0].warnings
    );
}
