//! Turning AppScan's small text markup into readable plain text, and bounding it.
//!
//! Advisories, fix recommendations and articles hold text as `<text>`, `<item>`, `<code>`,
//! `<br/>`, `<link target="...">`, `<b>`, `<i>` and similar elements. Structural elements
//! become lines, inline ones (`b`, `i`, `link`, ...) stay in the line, an empty structural
//! element (AppScan's `<text />` separator) becomes a blank line, and a link keeps its
//! target in parentheses when the label differs. Indentation inside text is kept (code
//! samples), trailing spaces and runs of blank lines are not.

use crate::tree::{Child, NodeId, Tree, floor_char_boundary};

/// Elements that stay inside the current line.
const INLINE: &[&str] = &[
    "b",
    "i",
    "u",
    "em",
    "strong",
    "span",
    "a",
    "link",
    "bold",
    "italic",
    "font",
    "highlight",
    "sup",
    "sub",
    "tt",
];

/// Appended to a value cut at its field limit.
pub(crate) const TRUNCATION_MARK: &str = " [...truncated]";

/// Plain text of everything under `id`.
pub(crate) fn plain_text(tree: &Tree, id: NodeId) -> String {
    let mut out = String::new();
    render(tree, id, &mut out);
    normalize(&out)
}

/// Plain text of several nodes, one after the other, as separate blocks.
pub(crate) fn plain_text_all(tree: &Tree, ids: impl IntoIterator<Item = NodeId>) -> String {
    let mut out = String::new();
    for id in ids {
        render(tree, id, &mut out);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    normalize(&out)
}

enum Frame<'a> {
    Enter(NodeId),
    Text(&'a str),
    Exit { id: NodeId, start: usize },
}

fn render(tree: &Tree, root: NodeId, out: &mut String) {
    let mut stack = vec![Frame::Enter(root)];
    while let Some(frame) = stack.pop() {
        match frame {
            Frame::Enter(id) => {
                let name = tree.name(id);
                if name == "br" {
                    out.push('\n');
                    continue;
                }
                let inline = INLINE.contains(&name);
                if !inline && !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                stack.push(Frame::Exit {
                    id,
                    start: out.len(),
                });
                let has_elems = tree.elems(id).next().is_some();
                let children = stack.len();
                for child in tree.contents(id) {
                    match child {
                        Child::Elem(e) => stack.push(Frame::Enter(e)),
                        // Whitespace between elements is layout, not content.
                        Child::Text(t) if has_elems && t.trim().is_empty() => {}
                        Child::Text(t) => stack.push(Frame::Text(t)),
                    }
                }
                // Reversed so that children pop in document order.
                stack[children..].reverse();
            }
            Frame::Text(t) => out.push_str(t),
            Frame::Exit { id, start } => {
                if INLINE.contains(&tree.name(id)) {
                    let target = tree
                        .attr_value(id, "target")
                        .or_else(|| tree.attr_value(id, "href"));
                    if let Some(target) = target
                        && out[start..].trim() != target
                    {
                        if out[start..].trim().is_empty() {
                            out.push_str(&target);
                        } else {
                            out.push_str(" (");
                            out.push_str(&target);
                            out.push(')');
                        }
                    }
                    continue;
                }
                if out.len() == start || !out.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
    }
}

/// Trims trailing spaces on each line, collapses runs of blank lines to one, trims the
/// ends.
pub(crate) fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank_run = 0;
    for line in s.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if blank_run > 0 {
                out.push('\n');
            }
        }
        blank_run = 0;
        out.push_str(line);
    }
    out
}

/// Cuts `s` to at most `max` bytes at a character boundary, marking the cut; `true` when
/// it was cut.
pub(crate) fn bound(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let keep = floor_char_boundary(s, max.saturating_sub(TRUNCATION_MARK.len()));
    s.truncate(keep);
    s.push_str(TRUNCATION_MARK);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::TreeBuilder;

    fn tree(events: &[(&str, &str)]) -> Tree {
        let mut b = TreeBuilder::new(Tree::default(), "root", [], &[], 1 << 20, 1 << 24);
        for (kind, v) in events {
            match *kind {
                "start" => b.start(v, []),
                "link" => b.start("link", [("target", *v)]),
                "text" => b.text(v),
                _ => {
                    b.end();
                }
            }
        }
        b.end();
        b.finish()
    }

    #[test]
    fn flattens_appscan_markup() {
        let t = tree(&[
            ("text", "\n  "),
            ("start", "text"),
            ("text", "First "),
            ("start", "b"),
            ("text", "bold"),
            ("end", ""),
            ("text", " line."),
            ("end", ""),
            ("text", "\n  "),
            ("start", "text"),
            ("end", ""),
            ("start", "text"),
            ("text", "See"),
            ("end", ""),
            ("link", "http://x.example/"),
            ("text", "http://x.example/"),
            ("end", ""),
            ("start", "code"),
            ("text", "  indented();   "),
            ("end", ""),
            ("text", "tail"),
            ("start", "br"),
            ("end", ""),
            ("text", "after"),
        ]);
        assert_eq!(
            plain_text(&t, Tree::ROOT),
            "First bold line.\n\nSee\nhttp://x.example/\n  indented();\ntail\nafter"
        );
    }

    #[test]
    fn link_label_keeps_target() {
        let t = tree(&[("link", "http://t/"), ("text", "label"), ("end", "")]);
        assert_eq!(plain_text(&t, Tree::ROOT), "label (http://t/)");
    }

    #[test]
    fn bound_cuts_at_char_boundary() {
        let mut s = "é".repeat(100);
        assert!(bound(&mut s, 50));
        assert!(s.len() <= 50 && s.ends_with(TRUNCATION_MARK));
        let mut short = "abc".to_string();
        assert!(!bound(&mut short, 50));
    }
}
