//! XML external entities and DTDs are never resolved: a report that declares an external
//! entity (file or URL), a parameter entity or an entity bomb fails in `open` with
//! "undefined entity" at the reference, and nothing of the referenced file is read into
//! an error, a warning or a record.

use xml_report::{ReaderOptions, XmlError, open};

const SECRET: &str = "xxe-secret-7f3a9c";

fn report(doctype: &str, name: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{doctype}\n\
         <xml-report name=\"AppScan Report\" AsocXmlExportVersion=\"1.7\" technology=\"Mixed\">\n\
         <issue-group><item id=\"1\"><name>{name}</name></item></issue-group>\n</xml-report>\n"
    )
}

fn open_text(text: &str) -> Result<u64, XmlError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.xml");
    std::fs::write(&path, text).expect("write");
    let r = open(&path, ReaderOptions::default(), |_, _| {})?;
    let n = r.issue_count();
    for issue in r.issues()? {
        let record = issue?.to_record().to_string();
        assert!(
            !record.contains(SECRET),
            "an entity was expanded into a record"
        );
    }
    Ok(n)
}

#[test]
fn external_entities_are_never_resolved() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret_file = dir.path().join("secret.txt");
    std::fs::write(&secret_file, SECRET).expect("write");
    let url = format!("file://{}", secret_file.display());
    let cases = [
        (
            format!("<!DOCTYPE xml-report [<!ENTITY x SYSTEM \"{url}\">]>"),
            "&x;",
            "undefined entity &x;",
        ),
        (
            format!("<!DOCTYPE xml-report [<!ENTITY x PUBLIC \"-//X//EN\" \"{url}\">]>"),
            "&x;",
            "undefined entity &x;",
        ),
        (
            format!("<!DOCTYPE xml-report [<!ENTITY % p SYSTEM \"{url}\"> %p;]>"),
            "&q;",
            "undefined entity &q;",
        ),
        (
            format!("<!DOCTYPE xml-report SYSTEM \"{url}\">"),
            "&x;",
            "undefined entity &x;",
        ),
        (
            "<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
                .to_string(),
            "&b;",
            "undefined entity &b;",
        ),
    ];
    for (doctype, reference, expected) in cases {
        let text = report(&doctype, reference);
        let err = open_text(&text).expect_err(&doctype);
        let msg = err.to_string();
        assert!(msg.contains(expected), "{doctype}: {msg}");
        assert!(!msg.contains(SECRET), "{doctype}: the error shows the file");
    }
}

#[test]
fn a_doctype_without_references_is_ignored_not_fetched() {
    // A DTD naming an unreachable URL: nothing is fetched, the report reads as usual.
    let text = report(
        "<!DOCTYPE xml-report SYSTEM \"http://127.0.0.1:9/never.dtd\">",
        "Cross-Site Scripting",
    );
    assert_eq!(open_text(&text).expect("reads"), 1);
}
