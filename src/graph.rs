//! A picture of the rules: which attributes, lists, schedules and webhooks start each
//! rule, and which attributes and lists each rule writes — so a rule that writes what
//! another watches is one arrow away from it. Rules that can start each other in a
//! loop, and the arrows between them, are drawn in red.
//!
//! `rulec graph` prints it as Graphviz DOT or as a Mermaid flowchart.

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::{self, Action, ExprKind, Program, Step, Trigger};

/// A node: a rule, or something rules watch or write.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Node {
    /// A rule, by id.
    Rule(String),
    /// `deals.stage`.
    Attribute(String, String),
    /// A record event of an object (`deals created`, `companies updated`).
    Event(String, &'static str),
    /// A list, by name.
    List(String),
    /// A rule's schedule (`every day at 09:00`), by rule id.
    Schedule(String),
    /// A declared webhook.
    Webhook(String),
    /// A command people run (`Enrich now`).
    Command(String),
}

impl Node {
    fn label(&self) -> String {
        match self {
            Node::Rule(id) => id.clone(),
            Node::Attribute(object, attr) => format!("{object}.{attr}"),
            Node::Event(object, what) => format!("{object} {what}"),
            Node::List(name) => format!("list \"{name}\""),
            Node::Schedule(_) => "schedule".to_string(),
            Node::Webhook(name) => format!("webhook {name}"),
            Node::Command(name) => format!("command \"{name}\""),
        }
    }
}

/// The graph: nodes in a stable order, arrows between them, and which are in a loop.
#[derive(Debug, Default)]
pub struct Graph {
    /// Every node.
    pub nodes: Vec<Node>,
    /// `(from, to)` as indexes of `nodes`, sorted.
    pub edges: Vec<(usize, usize)>,
    /// Nodes on a loop of rules starting each other.
    pub looping: BTreeSet<usize>,
}

/// The graph of a program's rules.
pub fn build(program: &Program) -> Graph {
    let mut edges: BTreeSet<(Node, Node)> = BTreeSet::new();
    for rule in &program.rules {
        let me = Node::Rule(rule.id.clone());
        for source in sources(rule) {
            edges.insert((source, me.clone()));
        }
        let mut written = Vec::new();
        writes(&rule.steps, &mut written);
        for target in written {
            edges.insert((me.clone(), target));
        }
    }
    // A written attribute is an update of its record: `when … updated` rules follow it.
    let updated: Vec<Node> = edges
        .iter()
        .filter_map(|(_, b)| match b {
            Node::Event(object, "updated") => Some(object.clone()),
            _ => None,
        })
        .chain(edges.iter().filter_map(|(a, _)| match a {
            Node::Event(object, "updated") => Some(object.clone()),
            _ => None,
        }))
        .map(|object| Node::Event(object, "updated"))
        .collect();
    let attributes: Vec<Node> = edges
        .iter()
        .filter(|(_, b)| matches!(b, Node::Attribute(..)))
        .map(|(_, b)| b.clone())
        .collect();
    for event in updated {
        let Node::Event(object, _) = &event else {
            continue;
        };
        for attribute in &attributes {
            if matches!(attribute, Node::Attribute(o, _) if o == object) {
                edges.insert((attribute.clone(), event.clone()));
            }
        }
    }
    let mut nodes: BTreeSet<Node> = BTreeSet::new();
    for (a, b) in &edges {
        nodes.insert(a.clone());
        nodes.insert(b.clone());
    }
    // Rules with no arrow at all (a `rule … failed` watcher) still appear.
    for rule in &program.rules {
        nodes.insert(Node::Rule(rule.id.clone()));
    }
    let nodes: Vec<Node> = nodes.into_iter().collect();
    let index: BTreeMap<&Node, usize> = nodes.iter().enumerate().map(|(i, n)| (n, i)).collect();
    let edges: Vec<(usize, usize)> = edges.iter().map(|(a, b)| (index[a], index[b])).collect();
    // Every cycle passes through a rule: attributes and events only lead to rules.
    let looping = in_loops(nodes.len(), &edges)
        .into_iter()
        .flatten()
        .collect();
    Graph {
        nodes,
        edges,
        looping,
    }
}

/// What starts a rule.
fn sources(rule: &ir::Rule) -> Vec<Node> {
    let object = rule.object.clone().unwrap_or_default();
    match &rule.trigger {
        Trigger::Changed { attr, .. } => {
            vec![Node::Attribute(attr.object.clone(), attr.attr.clone())]
        }
        Trigger::Matches { filter } => {
            let mut out = Vec::new();
            crate::ir::visit::expr(filter, &mut |e| {
                if let ExprKind::Read { path, .. } = &e.kind {
                    if let Some(field) = path.first() {
                        if let Some(of) = &field.attribute_of {
                            out.push(Node::Attribute(of.clone(), field.name.clone()));
                        }
                    }
                }
            });
            out.sort();
            out.dedup();
            out
        }
        Trigger::Created => vec![Node::Event(object, "created")],
        Trigger::Updated => vec![Node::Event(object, "updated")],
        Trigger::Deleted => vec![Node::Event(object, "deleted")],
        Trigger::Merged => vec![Node::Event(object, "merged")],
        Trigger::AddedToList { list }
        | Trigger::RemovedFromList { list }
        | Trigger::EntryChanged { list, .. } => {
            vec![Node::List(list.clone())]
        }
        Trigger::Webhook { name } => vec![Node::Webhook(name.clone())],
        Trigger::Command { name } => vec![Node::Command(name.clone())],
        Trigger::Schedule(_) => vec![Node::Schedule(rule.id.clone())],
        Trigger::RuleFailed { rule, .. } => vec![Node::Rule(rule.clone())],
        Trigger::NoteCreated
        | Trigger::CommentAdded
        | Trigger::TaskCreated
        | Trigger::TaskCompleted
        | Trigger::CallRecorded => Vec::new(),
    }
}

/// What a rule's steps write, nested steps included.
fn writes(steps: &[Step], out: &mut Vec<Node>) {
    for step in crate::ir::visit::all_steps(steps) {
        match &step.action {
            Action::Set { attr, .. } | Action::Clear { attr, .. } => {
                out.push(Node::Attribute(attr.object.clone(), attr.attr.clone()));
            }
            Action::Create {
                object: o, fields, ..
            }
            | Action::Upsert {
                object: o, fields, ..
            } => {
                out.push(Node::Event(o.clone(), "created"));
                out.extend(
                    fields
                        .iter()
                        .map(|(f, _)| Node::Attribute(o.clone(), f.clone())),
                );
            }
            Action::AddToList { list, .. } | Action::RemoveFromList { list, .. } => {
                out.push(Node::List(list.clone()));
            }
            _ => {}
        }
    }
}

/// The strongly connected components with a cycle in them, as node indexes. A rule
/// that writes what it watches is a component of two nodes: the rule and the
/// attribute.
fn in_loops(count: usize, edges: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (a, b) in edges {
        next[*a].push(*b);
    }
    strongly_connected(&next)
        .into_iter()
        .filter(|component| component.len() > 1)
        .collect()
}

/// Tarjan's strongly connected components of a graph given as successor lists,
/// iteratively (no recursion on big graphs). Shared with the `rule-cycle` lint.
pub fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut next = 0;
    for root in 0..n {
        if index.get(root) != Some(&usize::MAX) {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&mut (v, ref mut child)) = work.last_mut() {
            if *child == 0 && index[v] == usize::MAX {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            let neighbours = edges.get(v).map_or(&[][..], Vec::as_slice);
            if let Some(&w) = neighbours.get(*child) {
                *child += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

impl Graph {
    fn red(&self, (a, b): (usize, usize)) -> bool {
        self.looping.contains(&a) && self.looping.contains(&b)
    }

    /// Graphviz DOT.
    pub fn dot(&self) -> String {
        let mut out =
            String::from("digraph rules {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
        for (i, node) in self.nodes.iter().enumerate() {
            let shape = match node {
                Node::Rule(_) => "box, style=rounded",
                Node::Attribute(..) | Node::Event(..) => "ellipse",
                Node::List(_) => "folder",
                Node::Schedule(_) | Node::Webhook(_) | Node::Command(_) => "cds",
            };
            let color = if self.looping.contains(&i) {
                ", color=red"
            } else {
                ""
            };
            out.push_str(&format!(
                "  n{i} [label=\"{}\", shape={shape}{color}];\n",
                node.label().replace('\\', "\\\\").replace('"', "\\\"")
            ));
        }
        for &(a, b) in &self.edges {
            let color = if self.red((a, b)) { " [color=red]" } else { "" };
            out.push_str(&format!("  n{a} -> n{b}{color};\n"));
        }
        out.push_str("}\n");
        out
    }

    /// A Mermaid flowchart (GitHub renders it in Markdown).
    pub fn mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for (i, node) in self.nodes.iter().enumerate() {
            let label = node.label().replace('"', "#quot;");
            let shape = match node {
                Node::Rule(_) => format!("n{i}(\"{label}\")"),
                Node::Attribute(..) | Node::Event(..) => format!("n{i}([\"{label}\"])"),
                Node::List(_) => format!("n{i}[[\"{label}\"]]"),
                Node::Schedule(_) | Node::Webhook(_) | Node::Command(_) => {
                    format!("n{i}>\"{label}\"]")
                }
            };
            out.push_str(&format!("  {shape}\n"));
        }
        let mut red = Vec::new();
        for (n, &(a, b)) in self.edges.iter().enumerate() {
            out.push_str(&format!("  n{a} --> n{b}\n"));
            if self.red((a, b)) {
                red.push(n.to_string());
            }
        }
        if !red.is_empty() {
            out.push_str(&format!("  linkStyle {} stroke:red\n", red.join(",")));
        }
        out
    }
}
