//! A small, bounded element tree for one item (an issue, or one entry of a group table),
//! built from scanner events and then queried.
//!
//! Nodes live in a flat arena and every walk uses an explicit stack, so neither building,
//! reading nor dropping a tree recurses. Building is bounded: named heavy subtrees (HTTP
//! traffic, change history) are skipped, each text node is cut at a per-field cap, and the
//! whole item has a byte budget; whatever is dropped is flagged.

/// Bytes a node costs against an item's budget on top of its text.
const NODE_COST: usize = 96;

/// Index of a node in its tree; the captured element is [`Tree::ROOT`].
pub(crate) type NodeId = usize;

#[derive(Debug)]
pub(crate) struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Child>,
}

#[derive(Debug)]
pub(crate) enum Child {
    Elem(NodeId),
    Text(String),
}

#[derive(Debug)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
    /// Some text was cut or dropped while building (see the builder's limits).
    pub truncated: bool,
}

impl Tree {
    pub const ROOT: NodeId = 0;

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    pub fn attr(&self, id: NodeId, key: &str) -> Option<&str> {
        self.nodes[id]
            .attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A non-empty, trimmed attribute value.
    pub fn attr_value(&self, id: NodeId, key: &str) -> Option<String> {
        self.attr(id, key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// Element children.
    pub fn elems(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.nodes[id].children.iter().filter_map(|c| match c {
            Child::Elem(e) => Some(*e),
            Child::Text(_) => None,
        })
    }

    /// Element children with a given name.
    pub fn children<'a>(&'a self, id: NodeId, name: &'a str) -> impl Iterator<Item = NodeId> + 'a {
        self.elems(id).filter(move |&c| self.nodes[c].name == name)
    }

    /// First element child with a given name.
    pub fn child(&self, id: NodeId, name: &str) -> Option<NodeId> {
        self.children(id, name).next()
    }

    /// Follows a path of child names.
    pub fn find(&self, id: NodeId, path: &[&str]) -> Option<NodeId> {
        path.iter().try_fold(id, |at, name| self.child(at, name))
    }

    /// All character data under a node, in document order, untrimmed.
    pub fn raw_text(&self, id: NodeId) -> String {
        let mut out = String::new();
        let mut stack: Vec<(NodeId, usize)> = vec![(id, 0)];
        while let Some((at, i)) = stack.pop() {
            let Some(child) = self.nodes[at].children.get(i) else {
                continue;
            };
            stack.push((at, i + 1));
            match child {
                Child::Text(t) => out.push_str(t),
                Child::Elem(e) => stack.push((*e, 0)),
            }
        }
        out
    }

    /// All character data under a node, trimmed; `None` when empty.
    pub fn value(&self, id: NodeId) -> Option<String> {
        let t = self.raw_text(id);
        let t = t.trim();
        (!t.is_empty()).then(|| t.to_string())
    }

    /// The trimmed text of the first child with a given name; `None` when absent or empty.
    pub fn child_value(&self, id: NodeId, name: &str) -> Option<String> {
        self.child(id, name).and_then(|c| self.value(c))
    }

    /// Whether a child element with this name exists (even empty).
    pub fn has_child(&self, id: NodeId, name: &str) -> bool {
        self.child(id, name).is_some()
    }

    /// The `<ref>` values under the first child with a given name
    /// (`<cause-id><ref>a</ref><ref>b</ref></cause-id>`); the child's own text when it
    /// holds no `<ref>`.
    pub fn refs(&self, id: NodeId, name: &str) -> Vec<String> {
        let Some(c) = self.child(id, name) else {
            return Vec::new();
        };
        let refs: Vec<String> = self
            .children(c, "ref")
            .filter_map(|r| self.value(r))
            .collect();
        if refs.is_empty() && self.child(c, "ref").is_none() {
            return self.value(c).into_iter().collect();
        }
        refs
    }
}

/// Builds a [`Tree`] from the events of one captured element.
pub(crate) struct TreeBuilder {
    nodes: Vec<Node>,
    /// Open nodes; empty once the captured element closed.
    stack: Vec<NodeId>,
    /// Depth (relative) below which events are skipped, while inside a skipped subtree.
    skipping: Option<usize>,
    skip: &'static [&'static str],
    /// Per text node cap.
    max_node_text: usize,
    /// Remaining byte budget for the whole tree.
    budget: usize,
    truncated: bool,
}

impl TreeBuilder {
    /// Starts a tree whose root is the element `name` with `attrs`.
    pub fn new(
        name: &str,
        attrs: &[(String, String)],
        skip: &'static [&'static str],
        max_node_text: usize,
        budget: usize,
    ) -> TreeBuilder {
        TreeBuilder {
            nodes: vec![Node {
                name: name.to_string(),
                attrs: attrs.to_vec(),
                children: Vec::new(),
            }],
            stack: vec![Tree::ROOT],
            skipping: None,
            skip,
            max_node_text,
            budget: budget.saturating_sub(NODE_COST),
            truncated: false,
        }
    }

    /// An element opened inside the captured one.
    pub fn start(&mut self, name: &str, attrs: &[(String, String)]) {
        if self.skipping.is_some() {
            self.stack.push(usize::MAX);
            return;
        }
        let attr_cost: usize = attrs.iter().map(|(k, v)| k.len() + v.len()).sum();
        if self.skip.contains(&name) || self.budget < NODE_COST + attr_cost {
            if !self.skip.contains(&name) {
                self.truncated = true;
            }
            self.skipping = Some(self.stack.len());
            self.stack.push(usize::MAX);
            return;
        }
        self.budget -= NODE_COST + attr_cost;
        let id = self.nodes.len();
        self.nodes.push(Node {
            name: name.to_string(),
            attrs: attrs.to_vec(),
            children: Vec::new(),
        });
        let parent = *self
            .stack
            .last()
            .expect("builder used after its element closed");
        self.nodes[parent].children.push(Child::Elem(id));
        self.stack.push(id);
    }

    /// Character data inside the captured element.
    pub fn text(&mut self, s: &str) {
        if self.skipping.is_some() || s.is_empty() {
            return;
        }
        let Some(&at) = self.stack.last() else {
            return;
        };
        let children = &mut self.nodes[at].children;
        if let Some(Child::Text(t)) = children.last_mut() {
            let room = self.max_node_text.saturating_sub(t.len()).min(self.budget);
            let take = floor_char_boundary(s, room);
            if take < s.len() {
                self.truncated = true;
            }
            t.push_str(&s[..take]);
            self.budget -= take;
        } else {
            let room = self.max_node_text.min(self.budget);
            let take = floor_char_boundary(s, room);
            if take < s.len() {
                self.truncated = true;
            }
            if take > 0 {
                children.push(Child::Text(s[..take].to_string()));
                self.budget -= take;
            }
        }
    }

    /// An element closed; `true` when it was the captured element itself.
    pub fn end(&mut self) -> bool {
        self.stack.pop();
        if let Some(d) = self.skipping
            && self.stack.len() <= d
        {
            self.skipping = None;
        }
        self.stack.is_empty()
    }

    pub fn finish(self) -> Tree {
        Tree {
            nodes: self.nodes,
            truncated: self.truncated,
        }
    }
}

/// The largest index `<= max` that is a char boundary of `s` (and `<= s.len()`).
pub(crate) fn floor_char_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(events: &[(&str, &str)]) -> Tree {
        let mut b = TreeBuilder::new(
            "item",
            &[("id".into(), "7".into())],
            &["skip-me"],
            8,
            10_000,
        );
        for (kind, v) in events {
            match *kind {
                "start" => b.start(v, &[]),
                "text" => b.text(v),
                "end" => {
                    b.end();
                }
                _ => unreachable!(),
            }
        }
        assert!(b.end(), "root closes last");
        b.finish()
    }

    #[test]
    fn builds_queries_and_skips() {
        let t = build(&[
            ("start", "issue-type"),
            ("start", "ref"),
            ("text", " attX "),
            ("end", ""),
            ("end", ""),
            ("start", "skip-me"),
            ("start", "ref"),
            ("text", "hidden"),
            ("end", ""),
            ("end", ""),
            ("start", "cause-id"),
            ("start", "ref"),
            ("text", "a"),
            ("end", ""),
            ("start", "ref"),
            ("text", "b"),
            ("end", ""),
            ("end", ""),
            ("start", "long"),
            ("text", "0123456789abc"),
            ("end", ""),
        ]);
        assert_eq!(t.attr(Tree::ROOT, "id"), Some("7"));
        assert_eq!(t.refs(Tree::ROOT, "issue-type"), vec!["attX"]);
        assert_eq!(t.refs(Tree::ROOT, "cause-id"), vec!["a", "b"]);
        assert!(t.child(Tree::ROOT, "skip-me").is_none());
        assert_eq!(
            t.child_value(Tree::ROOT, "long").as_deref(),
            Some("01234567")
        );
        assert!(t.truncated);
        assert!(!t.raw_text(Tree::ROOT).contains("hidden"));
    }

    #[test]
    fn char_boundary() {
        assert_eq!(floor_char_boundary("aé", 2), 1);
        assert_eq!(floor_char_boundary("aé", 3), 3);
        assert_eq!(floor_char_boundary("aé", 9), 3);
    }
}
