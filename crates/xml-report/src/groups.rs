//! The lookup tables issue references resolve against: one compact entry per item of
//! each `*-group` section, keyed by the item's `id`, with texts already flattened and
//! bounded.
//!
//! Only these small tables are kept between the two passes; the big sections of a report
//! (issue items with their HTTP traffic, visited links, cookies) are never held.

use std::collections::HashMap;

use crate::error::XmlError;
use crate::lookup_table::LookupTable;
use crate::options::ReaderOptions;
use crate::text::{bound, plain_text, plain_text_all};
use crate::tree::{NodeId, Tree};

/// Top-level sections read as lookup tables (children of `<xml-report>`).
pub const GROUP_SECTIONS: &[&str] = &[
    "issue-type-group",
    "url-group",
    "entity-group",
    "remediation-group",
    "advisory-group",
    "fix-recommendation-group",
    "threat-class-group",
    "security-risk-group",
    "cause-group",
    "affected-product-group",
    "article-group",
    // Counted only: its items repeat what ASoC issue items carry inline.
    "fix-group-group",
];

/// An `issue-type-group` item.
#[derive(Debug, Clone, Default)]
pub(crate) struct IssueTypeEntry {
    pub name: Option<String>,
    pub cve: Option<String>,
    pub cwe: Option<String>,
    pub remediation: Vec<String>,
    pub advisory: Vec<String>,
    pub threat_class: Vec<String>,
    pub fix_recommendation: Vec<String>,
    pub causes: Vec<String>,
    pub security_risks: Vec<String>,
    pub affected_products: Vec<String>,
}

/// An `entity-group` item.
#[derive(Debug, Clone, Default)]
pub(crate) struct EntityEntry {
    pub name: Option<String>,
    pub url_name: Option<String>,
    pub entity_type: Option<String>,
}

/// An item of a group whose items are one text (remediation, cause, security risk,
/// affected product, threat class).
#[derive(Debug, Clone, Default)]
pub(crate) struct TextEntry {
    /// A `<name>` child, when the item has one.
    pub name: Option<String>,
    /// The whole item as plain text.
    pub text: String,
    /// An `href` attribute (threat classes link to the WASC page).
    pub href: Option<String>,
}

/// An `advisory-group` item (AppScan Standard).
#[derive(Debug, Clone, Default)]
pub(crate) struct AdvisoryEntry {
    pub name: Option<String>,
    pub threat_class: Option<String>,
    pub technical_description: Option<String>,
    pub causes: Option<String>,
    pub security_risks: Option<String>,
    pub affected_products: Option<String>,
    pub cwe: Option<String>,
    pub fix_recommendation: Option<String>,
}

/// An `article-group` item (ASoC exports: the advisory of an issue type).
#[derive(Debug, Clone, Default)]
pub(crate) struct ArticleEntry {
    pub display_name: Option<String>,
    pub cwe: Option<String>,
    pub description: Option<String>,
    pub cause: Option<String>,
    pub risk: Option<String>,
    pub affected_products: Option<String>,
    pub recommendations: Option<String>,
}

/// The tables. `urls` and `entities` grow with the scanned site (hundreds of thousands
/// of entries in a big AppScan Standard report): they are kept compact, and in a
/// temporary file past their memory budget. The others have an entry per issue type at
/// most.
#[derive(Debug)]
pub(crate) struct GroupTables {
    pub issue_types: HashMap<String, IssueTypeEntry>,
    /// url-group: id → URL.
    urls: LookupTable,
    /// entity-group: id → name, url-name, entity-type.
    entities: LookupTable,
    pub remediations: HashMap<String, TextEntry>,
    pub advisories: HashMap<String, AdvisoryEntry>,
    pub fix_recommendations: HashMap<String, String>,
    pub threat_classes: HashMap<String, TextEntry>,
    pub security_risks: HashMap<String, TextEntry>,
    pub causes: HashMap<String, TextEntry>,
    pub affected_products: HashMap<String, TextEntry>,
    pub articles: HashMap<String, ArticleEntry>,
    /// Bytes of text held by the tables above, and their budget (see
    /// [`XmlError::TablesTooLarge`]).
    text_bytes: usize,
    text_budget: usize,
}

impl GroupTables {
    pub fn new(opts: &ReaderOptions) -> GroupTables {
        let budget = opts.table_memory_bytes;
        GroupTables {
            issue_types: HashMap::new(),
            urls: LookupTable::new("url-group", 1, budget),
            entities: LookupTable::new("entity-group", 3, budget),
            remediations: HashMap::new(),
            advisories: HashMap::new(),
            fix_recommendations: HashMap::new(),
            threat_classes: HashMap::new(),
            security_risks: HashMap::new(),
            causes: HashMap::new(),
            affected_products: HashMap::new(),
            articles: HashMap::new(),
            text_bytes: 0,
            text_budget: opts.max_table_text_bytes,
        }
    }

    /// The URL of a url-group item.
    pub fn url(&self, id: &str) -> Result<Option<String>, XmlError> {
        Ok(self
            .urls
            .get(id)?
            .and_then(|r| r.into_iter().next().flatten()))
    }

    /// An entity-group item.
    pub fn entity(&self, id: &str) -> Result<Option<EntityEntry>, XmlError> {
        Ok(self.entities.get(id)?.map(|r| {
            let mut r = r.into_iter();
            EntityEntry {
                name: r.next().flatten(),
                url_name: r.next().flatten(),
                entity_type: r.next().flatten(),
            }
        }))
    }

    /// Ends pass 1: releases spare capacity, or commits the tables kept on disk.
    pub fn finish(&mut self) -> Result<(), XmlError> {
        self.urls.finish()?;
        self.entities.finish()
    }

    /// Adds one item of `section`; returns a warning when the item cannot be used or
    /// its text was cut, and an error when a table's temporary file fails.
    pub fn add(
        &mut self,
        section: &str,
        t: &Tree,
        opts: &ReaderOptions,
    ) -> Result<Option<String>, XmlError> {
        let r = Tree::ROOT;
        let Some(id) = t.attr_value(r, "id") else {
            return Ok(Some(format!(
                "{section}: an <item> without an id is ignored"
            )));
        };
        let max = opts.max_field_bytes;
        let mut cut = t.truncated;
        let mut text = |node: Option<NodeId>| -> Option<String> {
            let mut s = plain_text(t, node?);
            cut |= bound(&mut s, max);
            (!s.is_empty()).then_some(s)
        };
        match section {
            "issue-type-group" => {
                let e = IssueTypeEntry {
                    name: t.child_value(r, "name"),
                    cve: t.child_value(r, "cve"),
                    cwe: cwe_of(t, r),
                    remediation: t.refs(r, "remediation"),
                    advisory: t.refs(r, "advisory"),
                    threat_class: t.refs(r, "threat-class"),
                    fix_recommendation: t.refs(r, "fix-recommendation"),
                    causes: t.refs(r, "causes"),
                    security_risks: t.refs(r, "security-risks"),
                    affected_products: t.refs(r, "affected-products"),
                };
                self.issue_types.entry(id.clone()).or_insert(e);
            }
            "url-group" => {
                let url = t
                    .child_value(r, "name")
                    .or_else(|| t.child_value(r, "url"))
                    .or_else(|| t.value(r));
                if let Some(u) = url {
                    self.urls.insert(&id, &[Some(&u)])?;
                }
            }
            "entity-group" => {
                let (name, url_name, entity_type) = (
                    t.child_value(r, "name"),
                    t.child_value(r, "url-name"),
                    t.child_value(r, "entity-type"),
                );
                self.entities.insert(
                    &id,
                    &[name.as_deref(), url_name.as_deref(), entity_type.as_deref()],
                )?;
            }
            "advisory-group" => {
                let a = t.child(r, "advisory").unwrap_or(r);
                let e = AdvisoryEntry {
                    name: t.child_value(a, "name"),
                    threat_class: t
                        .find(a, &["threatClassification", "name"])
                        .and_then(|n| t.value(n)),
                    technical_description: text(t.child(a, "testTechnicalDescription")),
                    causes: text(t.child(a, "causes")),
                    security_risks: text(t.child(a, "securityRisks")),
                    affected_products: text(t.child(a, "affectedProducts")),
                    cwe: cwe_of(t, a),
                    fix_recommendation: text(
                        t.child(a, "fixRecommendations")
                            .or_else(|| t.child(a, "fixRecommendation")),
                    ),
                };
                self.advisories.entry(id.clone()).or_insert(e);
            }
            "fix-recommendation-group" => {
                // The general recommendation; platform-specific ones (.NET, J2EE, PHP)
                // follow it under their own heading when present.
                let general = t.child(r, "general");
                let platform: Vec<NodeId> = t.elems(r).filter(|&c| Some(c) != general).collect();
                let mut s = match general {
                    Some(g) => plain_text(t, g),
                    None => plain_text(t, r),
                };
                if general.is_some() && !platform.is_empty() {
                    let rest = plain_text_all(t, platform.iter().copied());
                    if !rest.is_empty() {
                        s.push_str("\n\n");
                        s.push_str(&rest);
                    }
                }
                cut |= bound(&mut s, max);
                if !s.is_empty() {
                    self.fix_recommendations.entry(id.clone()).or_insert(s);
                }
            }
            "remediation-group"
            | "threat-class-group"
            | "security-risk-group"
            | "cause-group"
            | "affected-product-group" => {
                let mut s = plain_text(t, r);
                cut |= bound(&mut s, max);
                let e = TextEntry {
                    name: t.child_value(r, "name"),
                    text: s,
                    href: t.attr_value(r, "href"),
                };
                let table = match section {
                    "remediation-group" => &mut self.remediations,
                    "threat-class-group" => &mut self.threat_classes,
                    "security-risk-group" => &mut self.security_risks,
                    "cause-group" => &mut self.causes,
                    _ => &mut self.affected_products,
                };
                table.entry(id.clone()).or_insert(e);
            }
            "article-group" => {
                let e = ArticleEntry {
                    display_name: t.child_value(r, "displayName"),
                    cwe: t.child_value(r, "cwe"),
                    description: text(
                        t.child(r, "technicalDescription")
                            .or_else(|| t.child(r, "description")),
                    ),
                    cause: text(t.child(r, "cause")),
                    risk: text(t.child(r, "risk")),
                    affected_products: text(t.child(r, "affectedProducts")),
                    recommendations: text(t.child(r, "recommendations")),
                };
                self.articles.entry(id.clone()).or_insert(e);
            }
            _ => return Ok(None),
        }
        // url-group and entity-group move to a temporary file past their own budget.
        let in_memory = !matches!(section, "url-group" | "entity-group");
        if in_memory {
            self.text_bytes = self.text_bytes.saturating_add(t.text_bytes());
        }
        if self.text_bytes > self.text_budget {
            return Err(XmlError::TablesTooLarge {
                section: section.to_string(),
                limit: self.text_budget,
            });
        }
        Ok(cut
            .then(|| format!("{section} item \"{id}\": text longer than the field limit was cut")))
    }
}

/// A CWE as written under `node`: `<cwe>79</cwe>`, `<cwe><ref>79</ref></cwe>` or
/// `<cwe><link id="CWE-79">79</link></cwe>`.
pub(crate) fn cwe_of(t: &Tree, node: NodeId) -> Option<String> {
    let c = t.child(node, "cwe")?;
    if let Some(r) = t.child(c, "ref").or_else(|| t.child(c, "link")) {
        return t.value(r).or_else(|| t.attr_value(r, "id"));
    }
    t.value(c)
}
