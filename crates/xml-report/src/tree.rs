//! A small, bounded element tree for one item (an issue, or one entry of a group table),
//! built from scanner events and then queried.
//!
//! Nodes live in a flat arena, their names, attributes and texts in one string buffer, and
//! every walk uses an explicit stack, so neither building, reading nor dropping a tree
//! recurses, and a tree reused for the next item allocates nothing once its buffers have
//! grown (a 100 MB report's issues parse ~20% faster than with a `String` per node under
//! glibc's allocator). Building is bounded: named heavy subtrees (HTTP
//! traffic, change history) are skipped, each text node is cut at a per-field cap, and the
//! whole item has a byte budget; whatever is dropped is flagged. The item's own fields
//! (its direct children: ids, URL, location, dates) have a small reserve beyond the
//! budget, so that a huge variant list before them cannot drop what identifies the issue.

/// Bytes a node costs against an item's budget on top of its text.
const NODE_COST: usize = 96;
/// What the item's direct children may take once the budget is spent: a few dozen small
/// fields fit, a flood of them does not.
const FIELD_RESERVE: usize = 256 * 1024;
/// "No entry" in the child lists.
const NONE: usize = usize::MAX;

/// Index of a node in its tree; the captured element is [`Tree::ROOT`].
pub(crate) type NodeId = usize;

/// Where a piece of text lives in the tree's buffer.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

#[derive(Debug)]
struct Node {
    name: Span,
    /// This node's attributes: a range of [`Tree::attrs`].
    attrs: (usize, usize),
    /// First and last entries of its child list in [`Tree::entries`], or [`NONE`].
    first: usize,
    last: usize,
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Elem(NodeId),
    Text(Span),
}

/// One child in a node's list; `next` links to its next sibling.
#[derive(Debug)]
struct Entry {
    slot: Slot,
    next: usize,
}

/// A child of a node: an element or a piece of character data.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Child<'a> {
    Elem(NodeId),
    Text(&'a str),
}

/// The tree of one item. Every name, attribute and text sits in one buffer and nodes
/// link their children through one table, so building a tree allocates nothing once
/// its buffers have grown, and one tree is reused item after item.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    buf: String,
    nodes: Vec<Node>,
    attrs: Vec<(Span, Span)>,
    entries: Vec<Entry>,
    /// The builder's stack of open nodes, kept here between uses for its capacity.
    open: Vec<NodeId>,
    /// Some text was cut or dropped while building (see the builder's limits).
    pub truncated: bool,
}

impl Tree {
    pub const ROOT: NodeId = 0;

    /// Bytes of names, attributes and text the tree holds: at least what a table entry
    /// made of it keeps.
    pub fn text_bytes(&self) -> usize {
        self.buf.len()
    }

    fn str(&self, s: Span) -> &str {
        &self.buf[s.start..s.end]
    }

    /// The element name of a node.
    pub fn name(&self, id: NodeId) -> &str {
        self.str(self.nodes[id].name)
    }

    pub fn attr(&self, id: NodeId, key: &str) -> Option<&str> {
        let (from, to) = self.nodes[id].attrs;
        self.attrs[from..to]
            .iter()
            .find(|(k, _)| self.str(*k) == key)
            .map(|(_, v)| self.str(*v))
    }

    /// A non-empty, trimmed attribute value.
    pub fn attr_value(&self, id: NodeId, key: &str) -> Option<String> {
        self.attr(id, key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// Children, elements and texts, in document order.
    pub fn contents(&self, id: NodeId) -> impl Iterator<Item = Child<'_>> + '_ {
        let mut at = self.nodes[id].first;
        std::iter::from_fn(move || {
            let entry = self.entries.get(at)?;
            at = entry.next;
            Some(match entry.slot {
                Slot::Elem(e) => Child::Elem(e),
                Slot::Text(s) => Child::Text(self.str(s)),
            })
        })
    }

    /// Element children.
    pub fn elems(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.contents(id).filter_map(|c| match c {
            Child::Elem(e) => Some(e),
            Child::Text(_) => None,
        })
    }

    /// Element children with a given name.
    pub fn children<'a>(&'a self, id: NodeId, name: &'a str) -> impl Iterator<Item = NodeId> + 'a {
        self.elems(id).filter(move |&c| self.name(c) == name)
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
        let mut stack: Vec<usize> = vec![self.nodes[id].first];
        while let Some(at) = stack.pop() {
            let Some(entry) = self.entries.get(at) else {
                continue;
            };
            stack.push(entry.next);
            match entry.slot {
                Slot::Text(s) => out.push_str(self.str(s)),
                Slot::Elem(e) => stack.push(self.nodes[e].first),
            }
        }
        out
    }

    /// All character data under a node, trimmed; `None` when empty.
    pub fn value(&self, id: NodeId) -> Option<String> {
        let node = &self.nodes[id];
        let trimmed = |t: &str| {
            let t = t.trim();
            (!t.is_empty()).then(|| t.to_string())
        };
        // The common case, one text and nothing else, without an intermediate copy.
        match self.entries.get(node.first) {
            None => None,
            Some(Entry {
                slot: Slot::Text(s),
                next: NONE,
            }) => trimmed(self.str(*s)),
            Some(_) => trimmed(&self.raw_text(id)),
        }
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

    fn clear(&mut self) {
        self.buf.clear();
        self.nodes.clear();
        self.attrs.clear();
        self.entries.clear();
        self.truncated = false;
    }

    /// Copies `s` into the buffer.
    fn push_str(&mut self, s: &str) -> Span {
        let start = self.buf.len();
        self.buf.push_str(s);
        Span {
            start,
            end: self.buf.len(),
        }
    }

    /// Adds an element node, with no children yet.
    fn push_node<'a>(
        &mut self,
        name: &str,
        attrs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> NodeId {
        let name = self.push_str(name);
        let from = self.attrs.len();
        for (k, v) in attrs {
            let attr = (self.push_str(k), self.push_str(v));
            self.attrs.push(attr);
        }
        self.nodes.push(Node {
            name,
            attrs: (from, self.attrs.len()),
            first: NONE,
            last: NONE,
        });
        self.nodes.len() - 1
    }

    /// Appends a child to a node's list.
    fn push_child(&mut self, parent: NodeId, slot: Slot) {
        let at = self.entries.len();
        self.entries.push(Entry { slot, next: NONE });
        let node = &mut self.nodes[parent];
        match node.last {
            NONE => node.first = at,
            last => self.entries[last].next = at,
        }
        self.nodes[parent].last = at;
    }

    /// Length of the text that ends a node's child list, when it is also the last thing
    /// in the buffer (so it can grow in place).
    fn open_text(&self, parent: NodeId) -> Option<usize> {
        match self.entries.get(self.nodes[parent].last) {
            Some(Entry {
                slot: Slot::Text(s),
                ..
            }) if s.end == self.buf.len() => Some(s.end - s.start),
            _ => None,
        }
    }

    /// Moves the end of a node's last child, an open text, to the buffer's end.
    fn grow_text(&mut self, parent: NodeId) {
        let end = self.buf.len();
        if let Some(Entry {
            slot: Slot::Text(s),
            ..
        }) = self.entries.get_mut(self.nodes[parent].last)
        {
            s.end = end;
        }
    }
}

/// Builds a [`Tree`] from the events of one captured element.
pub(crate) struct TreeBuilder {
    tree: Tree,
    /// Open nodes; empty once the captured element closed.
    stack: Vec<NodeId>,
    /// Depth (relative) below which events are skipped, while inside a skipped subtree.
    skipping: Option<usize>,
    skip: &'static [&'static str],
    /// Per text node cap.
    max_node_text: usize,
    /// Remaining byte budget for the whole tree.
    budget: usize,
    /// Remaining [`FIELD_RESERVE`] for the root's direct children.
    reserve: usize,
}

impl TreeBuilder {
    /// Starts a tree whose root is the element `name` with `attrs`, built into the
    /// buffers of `tree` (a finished one whose buffers are reused, or `Tree::default()`).
    pub fn new<'a>(
        mut tree: Tree,
        name: &str,
        attrs: impl IntoIterator<Item = (&'a str, &'a str)>,
        skip: &'static [&'static str],
        max_node_text: usize,
        budget: usize,
    ) -> TreeBuilder {
        tree.clear();
        let root = tree.push_node(name, attrs);
        debug_assert_eq!(root, Tree::ROOT);
        let mut stack = std::mem::take(&mut tree.open);
        stack.clear();
        stack.push(root);
        TreeBuilder {
            tree,
            stack,
            skipping: None,
            skip,
            max_node_text,
            budget: budget.saturating_sub(NODE_COST),
            reserve: FIELD_RESERVE,
        }
    }

    /// Whether the node being built is the root or one of its direct children, which may
    /// draw on the reserve.
    fn in_a_field(&self) -> bool {
        self.stack.len() <= 2
    }

    /// Takes up to `want` bytes from the budget, else (for the item's own fields) from
    /// the reserve; how many it got.
    fn spend(&mut self, want: usize, field: bool) -> usize {
        if self.budget >= want {
            self.budget -= want;
            return want;
        }
        if field {
            let got = want.min(self.reserve);
            self.reserve -= got;
            return got;
        }
        let got = self.budget;
        self.budget = 0;
        got
    }

    /// An element opened inside the captured one.
    pub fn start<'a, A>(&mut self, name: &str, attrs: A)
    where
        A: IntoIterator<Item = (&'a str, &'a str)>,
        A::IntoIter: Clone,
    {
        if self.skipping.is_some() {
            self.stack.push(usize::MAX);
            return;
        }
        let attrs = attrs.into_iter();
        let attr_cost: usize = attrs.clone().map(|(k, v)| k.len() + v.len()).sum();
        // The name is kept too: 40,000 elements with names of 4,000 characters took 437 MB
        // of an item budgeted at 8 MiB.
        let cost = NODE_COST + name.len() + attr_cost;
        let field = self.stack.len() == 1;
        let affordable = self.budget >= cost || (field && self.reserve >= cost);
        if self.skip.contains(&name) || !affordable {
            if !self.skip.contains(&name) {
                self.tree.truncated = true;
            }
            self.skipping = Some(self.stack.len());
            self.stack.push(usize::MAX);
            return;
        }
        self.spend(cost, field);
        let parent = *self
            .stack
            .last()
            .expect("builder used after its element closed");
        let id = self.tree.push_node(name, attrs);
        self.tree.push_child(parent, Slot::Elem(id));
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
        let open = self.tree.open_text(at);
        let field = self.in_a_field();
        let purse = if field {
            self.budget.max(self.reserve)
        } else {
            self.budget
        };
        let room = self
            .max_node_text
            .saturating_sub(open.unwrap_or(0))
            .min(purse);
        let take = floor_char_boundary(s, room);
        if take < s.len() {
            self.tree.truncated = true;
        }
        if take == 0 {
            return;
        }
        let span = self.tree.push_str(&s[..take]);
        self.spend(take, field);
        match open {
            Some(_) => self.tree.grow_text(at),
            None => self.tree.push_child(at, Slot::Text(span)),
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

    pub fn finish(mut self) -> Tree {
        self.tree.open = self.stack;
        self.tree
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
            Tree::default(),
            "item",
            [("id", "7")],
            &["skip-me"],
            8,
            10_000,
        );
        for (kind, v) in events {
            match *kind {
                "start" => b.start(v, []),
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
    fn a_reused_tree_holds_only_the_new_item() {
        let first = build(&[
            ("start", "long"),
            ("text", "0123456789abc"),
            ("end", ""),
            ("start", "name"),
            ("text", "old"),
            ("end", ""),
        ]);
        assert!(first.truncated);
        let mut b = TreeBuilder::new(first, "item", [("id", "8")], &[], 64, 10_000);
        b.start("name", []);
        b.text(" new");
        b.start("b", []);
        b.end();
        b.text("er ");
        b.end();
        assert!(b.end());
        let t = b.finish();
        assert!(!t.truncated);
        assert_eq!(t.attr(Tree::ROOT, "id"), Some("8"));
        assert!(t.child(Tree::ROOT, "long").is_none());
        let name = t.child(Tree::ROOT, "name").unwrap();
        assert_eq!(t.raw_text(name), " newer ");
        assert_eq!(t.value(name).as_deref(), Some("newer"));
        assert_eq!(t.elems(Tree::ROOT).count(), 1);
    }

    #[test]
    fn text_split_across_events_is_one_node() {
        let t = build(&[("start", "v"), ("text", "ab"), ("text", "cd"), ("end", "")]);
        let v = t.child(Tree::ROOT, "v").unwrap();
        assert_eq!(t.contents(v).count(), 1);
        assert_eq!(t.value(v).as_deref(), Some("abcd"));
    }

    /// A variant list that spends the whole budget must not drop the item's own fields
    /// after it: without them an issue lost its id, URL and location, and an import closed
    /// the real finding and stored a second one.
    #[test]
    fn the_items_own_fields_survive_a_spent_budget() {
        let mut b = TreeBuilder::new(Tree::default(), "item", [("id", "9")], &[], 4096, 10_000);
        b.start("variant-group", []);
        for _ in 0..20 {
            b.start("item", []);
            b.text(&"x".repeat(1000));
            b.end();
        }
        b.end();
        b.start("asoc-issue-id", []);
        b.text("b0479dc1-ec61-ee11-8457-14cb65725114");
        b.end();
        b.start("url", []);
        b.text("https://shop.example.com/login");
        b.end();
        assert!(b.end());
        let t = b.finish();
        assert!(t.truncated, "the variants were cut");
        assert_eq!(
            t.child_value(Tree::ROOT, "asoc-issue-id").as_deref(),
            Some("b0479dc1-ec61-ee11-8457-14cb65725114")
        );
        assert_eq!(
            t.child_value(Tree::ROOT, "url").as_deref(),
            Some("https://shop.example.com/login")
        );
    }

    /// The reserve is for a few fields, not a way around the budget.
    #[test]
    fn the_reserve_is_bounded() {
        let mut b = TreeBuilder::new(Tree::default(), "item", [], &[], 1 << 20, 1_000);
        for _ in 0..100 {
            b.start("field", []);
            b.text(&"y".repeat(10_000));
            b.end();
        }
        assert!(b.end());
        let t = b.finish();
        let kept: usize = t.elems(Tree::ROOT).map(|e| t.raw_text(e).len()).sum();
        assert!(kept <= 1_000 + FIELD_RESERVE, "{kept}");
        assert!(t.truncated);
    }

    #[test]
    fn char_boundary() {
        assert_eq!(floor_char_boundary("aé", 2), 1);
        assert_eq!(floor_char_boundary("aé", 3), 3);
        assert_eq!(floor_char_boundary("aé", 9), 3);
    }
}
