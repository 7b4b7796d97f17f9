//! `ssot-gardener graph --concept NAME`: the picture of one concept. Who defines it, who
//! re-exports it, which copies and factories compete with it, and who imports it by which
//! path, each edge marked by its finding; read off the concept table and the findings of
//! `check`, so the picture and the report never disagree.
//!
//! One node per module that takes part. Its `role` is the strongest of what it does:
//! `canonical` (the module the canonical path names), `origin` (where the class is defined,
//! when that is another module), `duplicate`, `test-double`, `shim`, `factory`, `importer`.
//! Edges go from a module to the module it imports the concept from: `canonical` (an
//! accepted spelling), `indirect` (through a shim or the defining module), `duplicate` (an
//! import of a duplicate implementation), `string` (a dotted path in a string naming it),
//! and `re-export` from a shim to where it gets the class.
//!
//! Formats: `json` (the model below, stable field order), `dot` (Graphviz, one cluster per
//! package), `mermaid` (a flowchart GitHub renders), `html` (one self-contained file with the
//! JSON inline and its own layout code: no network, no library; see `picture.html`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use crate::concept::ConceptTable;
use crate::facts::LineIndex;
use crate::graph::Graph;
use crate::render::BurnDown;
use crate::rules::{Finding, Rule};
use crate::walk::Language;

/// The html page: `/*PICTURE*/` is replaced by the JSON.
const HTML: &str = include_str!("picture.html");

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Canonical,
    Origin,
    Duplicate,
    TestDouble,
    Shim,
    Factory,
    Importer,
    /// Takes part otherwise: a module an import goes through without being a shim of the
    /// table (a package `__init__` that only forwards), or one that holds a finding only.
    Module,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    Canonical,
    Indirect,
    Duplicate,
    String,
    ReExport,
}

impl EdgeKind {
    fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Canonical => "canonical",
            EdgeKind::Indirect => "indirect",
            EdgeKind::Duplicate => "duplicate",
            EdgeKind::String => "string",
            EdgeKind::ReExport => "re-export",
        }
    }
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Canonical => "canonical",
            Role::Origin => "origin",
            Role::Duplicate => "duplicate",
            Role::TestDouble => "test-double",
            Role::Shim => "shim",
            Role::Factory => "factory",
            Role::Importer => "importer",
            Role::Module => "module",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct NodeFinding {
    pub code: &'static str,
    pub line: u32,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct Node {
    /// The module's import path (`pkg.mod`, `krate::m`), or its file path when it has none.
    pub id: String,
    pub role: Role,
    /// Every role it has, strongest first.
    pub roles: Vec<Role>,
    pub path: String,
    /// Where its part in the concept is: the definition, the re-export or the first import.
    pub line: u32,
    /// The package it is drawn in: its parent module.
    pub package: String,
    /// The class names it defines or binds the concept under.
    pub names: Vec<String>,
    pub findings: Vec<NodeFinding>,
}

#[derive(Debug, Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    /// Import statements (or strings) it stands for.
    pub count: usize,
}

#[derive(Debug, Serialize)]
pub struct Picture {
    pub concept: String,
    pub canonical: String,
    pub burn_down: BurnDown,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

struct Builder<'g> {
    graph: &'g Graph,
    query: crate::python::resolve::Query<'g>,
    roles: BTreeMap<usize, BTreeSet<Role>>,
    names: BTreeMap<usize, BTreeSet<String>>,
    /// Where each module's part is, by role.
    sites: BTreeMap<(usize, Role), u32>,
    edges: BTreeMap<(usize, usize, EdgeKind), usize>,
}

impl Builder<'_> {
    fn add(&mut self, module: usize, role: Role, offset: u32) {
        self.roles.entry(module).or_default().insert(role);
        self.sites.entry((module, role)).or_insert(offset);
    }

    fn edge(&mut self, from: usize, to: usize, kind: EdgeKind) {
        if from != to {
            *self.edges.entry((from, to, kind)).or_insert(0) += 1;
        }
    }

    /// The module an import statement of `module` names.
    fn target(&self, module: usize, import: usize) -> Option<usize> {
        let facts = self.graph.facts(module);
        let name = self.query.import_target(module, &facts.imports[import])?;
        module_index(self.graph, &name)
    }
}

/// A module by its import path.
fn module_index(graph: &Graph, name: &str) -> Option<usize> {
    if let Some(&module) = graph.by_name.get(name) {
        return Some(module);
    }
    graph
        .rust
        .by_path
        .get(name)
        .map(|&module| graph.rust.modules[module].file)
}

/// The import path of a module (its file path when it has none).
fn module_id(graph: &Graph, module: usize) -> String {
    let file = graph.modules[module].file;
    if graph.files[file].language == Language::Rust
        && let Some(rust) = graph.rust.file_module(file)
    {
        return graph.rust.modules[rust].path.clone();
    }
    graph.modules[module]
        .name
        .clone()
        .unwrap_or_else(|| graph.files[file].path.clone())
}

/// Builds the picture of the concept of `table`; `findings` are `check`'s (any concept).
pub fn build(
    graph: &Graph,
    table: &ConceptTable,
    burn_down: BurnDown,
    findings: &[Finding],
) -> Picture {
    let mut b = Builder {
        graph,
        query: graph.query(),
        roles: BTreeMap::new(),
        names: BTreeMap::new(),
        sites: BTreeMap::new(),
        edges: BTreeMap::new(),
    };
    let canonical = table.canonical_module;
    // Where the canonical module binds the name: its definition or its import.
    let facts = graph.facts(canonical);
    let bound = facts
        .definitions
        .iter()
        .find(|def| {
            def.context.scope == crate::facts::Scope::Module && def.name == table.canonical_name
        })
        .map(|def| def.name_span.start)
        .or_else(|| {
            facts
                .imports
                .iter()
                .find(|import| {
                    import.names.iter().any(|name| {
                        name.alias.as_deref().unwrap_or(&name.name) == table.canonical_name
                    })
                })
                .map(|import| import.span.start)
        })
        .unwrap_or(0);
    b.add(canonical, Role::Canonical, bound);
    b.names
        .entry(canonical)
        .or_default()
        .insert(table.canonical_name.clone());
    let origin = table.origin_site.map(|(module, definition)| {
        let def = &graph.facts(module).definitions[definition];
        let role = if module == canonical {
            Role::Canonical
        } else {
            Role::Origin
        };
        b.add(module, role, def.name_span.start);
        b.sites.insert((module, role), def.name_span.start);
        b.names.entry(module).or_default().insert(def.name.clone());
        if module != canonical {
            b.edge(canonical, module, EdgeKind::ReExport);
        }
        module
    });
    for shim in &table.shims {
        let offset = match shim.site {
            crate::concept::ShimSite::Import(import) => {
                graph.facts(shim.module).imports[import].span.start
            }
            crate::concept::ShimSite::Definition(definition) => {
                graph.facts(shim.module).definitions[definition].span.start
            }
        };
        b.add(shim.module, Role::Shim, offset);
        b.names
            .entry(shim.module)
            .or_default()
            .extend(shim.names.iter().cloned());
        let source = match shim.site {
            crate::concept::ShimSite::Import(import) => b.target(shim.module, import),
            crate::concept::ShimSite::Definition(_) => None,
        };
        let to = source.or(origin).unwrap_or(canonical);
        b.edge(shim.module, to, EdgeKind::ReExport);
    }
    let mut duplicates: HashMap<(String, String), usize> = HashMap::new();
    for implementation in &table.implementations {
        let def = &graph.facts(implementation.module).definitions[implementation.definition];
        let role = if implementation.in_test {
            Role::TestDouble
        } else {
            Role::Duplicate
        };
        b.add(implementation.module, role, def.name_span.start);
        b.names
            .entry(implementation.module)
            .or_default()
            .insert(def.name.clone());
        duplicates.insert(
            (module_id(graph, implementation.module), def.name.clone()),
            implementation.module,
        );
    }
    for &(module, definition) in &table.factories {
        let def = &graph.facts(module).definitions[definition];
        b.add(module, Role::Factory, def.name_span.start);
    }
    for site in &table.importers {
        let import = &graph.facts(site.module).imports[site.import];
        b.add(site.module, Role::Importer, import.span.start);
        let kind = if site.accepted {
            EdgeKind::Canonical
        } else {
            EdgeKind::Indirect
        };
        let to = b.target(site.module, site.import).unwrap_or(canonical);
        b.edge(site.module, to, kind);
    }
    for site in &table.attribute_sites {
        let import = &graph.facts(site.module).imports[site.import];
        b.add(site.module, Role::Importer, import.span.start);
        let kind = if site.canonical {
            EdgeKind::Canonical
        } else {
            EdgeKind::Indirect
        };
        let to = module_index(graph, &site.through).unwrap_or(canonical);
        b.edge(site.module, to, kind);
    }
    // Imports of a duplicate implementation.
    if !duplicates.is_empty() {
        for (module, info) in graph.modules.iter().enumerate() {
            for (i, import) in graph.facts(module).imports.iter().enumerate() {
                for (j, _) in import.names.iter().enumerate() {
                    let Some(resolution) = info.resolutions.get(i).and_then(|r| r.get(j)) else {
                        continue;
                    };
                    for origin in resolution.origins() {
                        let Some(symbol) = &origin.symbol else {
                            continue;
                        };
                        if let Some(&target) =
                            duplicates.get(&(origin.module.clone(), symbol.clone()))
                            && target != module
                        {
                            b.add(module, Role::Importer, import.span.start);
                            b.edge(module, target, EdgeKind::Duplicate);
                        }
                    }
                }
            }
        }
    }
    // Strings that name the concept (SSOT007), and every finding of this concept by file.
    let mut by_file: BTreeMap<usize, Vec<&Finding>> = BTreeMap::new();
    for finding in findings {
        let Some(file) = finding.file else {
            continue;
        };
        if finding.concept != Some(table.concept) {
            continue;
        }
        by_file.entry(file).or_default().push(finding);
        if finding.rule == Rule::StringReference {
            // A Rust path is read from its module (`crate::compat::Old`); the resolver kept
            // where its prefix leads.
            let rust = graph
                .rust
                .string_target(file, finding.span)
                .flatten()
                .and_then(|path| module_index(graph, &path));
            let to = rust
                .or_else(|| string_target(graph, &finding.symbol))
                .unwrap_or(canonical);
            b.add(file, Role::Importer, finding.span.start);
            b.edge(file, to, EdgeKind::String);
        }
    }
    for &file in by_file.keys() {
        b.roles.entry(file).or_default();
    }
    // Modules a kept edge points at that have no role of their own.
    let targets: Vec<usize> = b.edges.keys().map(|&(_, to, _)| to).collect();
    for to in targets {
        b.roles.entry(to).or_default();
    }
    let mut lines: HashMap<usize, LineIndex> = HashMap::new();
    let mut line = |module: usize, offset: u32| {
        let file = graph.modules[module].file;
        lines
            .entry(file)
            .or_insert_with(|| LineIndex::new(&graph.files[file].read()))
            .line(offset)
    };
    let mut nodes = Vec::new();
    for (&module, roles) in &b.roles {
        let roles: Vec<Role> = if roles.is_empty() {
            vec![Role::Module]
        } else {
            roles.iter().copied().collect()
        };
        let role = roles[0];
        let offset = b.sites.get(&(module, role)).copied().unwrap_or(0);
        let id = module_id(graph, module);
        let file = graph.modules[module].file;
        let mut node_findings: Vec<NodeFinding> = by_file
            .get(&file)
            .map(|list| {
                list.iter()
                    .map(|finding| NodeFinding {
                        code: finding.rule.code(),
                        line: line(module, finding.span.start),
                        message: finding.message.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        node_findings.sort_by_key(|finding| finding.line);
        let package = if graph.modules[module].is_package {
            id.clone()
        } else {
            package_of(&id)
        };
        nodes.push(Node {
            package,
            path: graph.files[file].path.clone(),
            line: line(module, offset),
            names: b
                .names
                .get(&module)
                .map(|names| names.iter().cloned().collect())
                .unwrap_or_default(),
            findings: node_findings,
            role,
            roles,
            id,
        });
    }
    nodes.sort_by(|a, b| (a.role, &a.package, &a.id).cmp(&(b.role, &b.package, &b.id)));
    let mut edges: Vec<Edge> = b
        .edges
        .iter()
        .map(|(&(from, to, kind), &count)| Edge {
            from: module_id(graph, from),
            to: module_id(graph, to),
            kind,
            count,
        })
        .collect();
    edges.sort_by(|a, b| (a.kind, &a.from, &a.to).cmp(&(b.kind, &b.from, &b.to)));
    Picture {
        concept: burn_down.name.clone(),
        canonical: burn_down.canonical.clone(),
        burn_down,
        nodes,
        edges,
    }
}

/// The module a dotted path in a string names: its longest prefix that is a module.
fn string_target(graph: &Graph, value: &str) -> Option<usize> {
    let separator = if value.contains("::") { "::" } else { "." };
    let mut prefix = value;
    loop {
        if let Some(module) = module_index(graph, prefix) {
            return Some(module);
        }
        prefix = prefix.rsplit_once(separator)?.0;
    }
}

/// `pkg.sub` of `pkg.sub.mod`; a top-level module is its own package.
fn package_of(id: &str) -> String {
    id.rsplit_once("::")
        .or_else(|| id.rsplit_once('.'))
        .map_or_else(|| id.to_string(), |(package, _)| package.to_string())
}

fn burn_down_line(picture: &Picture) -> String {
    let b = &picture.burn_down;
    let percent = (b.canonical_importers * 100)
        .checked_div(b.importers)
        .unwrap_or(100);
    format!(
        "{}: {}/{} importers on the canonical path ({percent}%); left: {} shims, {} duplicates, {} factories",
        b.name, b.canonical_importers, b.importers, b.shims, b.duplicates, b.factories
    )
}

fn edge_color(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Canonical => "#2e7d32",
        EdgeKind::Indirect => "#ef6c00",
        EdgeKind::Duplicate => "#c62828",
        EdgeKind::String => "#6a1b9a",
        EdgeKind::ReExport => "#546e7a",
    }
}

fn role_color(role: Role) -> &'static str {
    match role {
        Role::Canonical => "#c8e6c9",
        Role::Origin => "#dcedc8",
        Role::Duplicate => "#ffcdd2",
        Role::TestDouble => "#f8bbd0",
        Role::Shim => "#ffe0b2",
        Role::Factory => "#fff9c4",
        Role::Importer => "#e3f2fd",
        Role::Module => "#eeeeee",
    }
}

/// The nodes by package, packages in order.
fn by_package(picture: &Picture) -> BTreeMap<&str, Vec<&Node>> {
    let mut packages: BTreeMap<&str, Vec<&Node>> = BTreeMap::new();
    for node in &picture.nodes {
        packages.entry(&node.package).or_default().push(node);
    }
    packages
}

/// The distinct finding codes of a node, sorted.
fn codes(node: &Node) -> Vec<&'static str> {
    let codes: BTreeSet<&'static str> = node.findings.iter().map(|f| f.code).collect();
    codes.into_iter().collect()
}

/// Graphviz: one cluster per package, nodes filled by role, edges coloured by kind.
pub fn dot(picture: &Picture) -> String {
    let quote = |text: &str| text.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::new();
    let _ = writeln!(out, "digraph concept {{");
    let _ = writeln!(
        out,
        "  graph [rankdir=LR, fontname=\"Helvetica\", labelloc=t, label=\"{}\"];",
        quote(&burn_down_line(picture))
    );
    let _ = writeln!(
        out,
        "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];"
    );
    let _ = writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=9];");
    for (index, (package, nodes)) in by_package(picture).iter().enumerate() {
        let _ = writeln!(out, "  subgraph cluster_{index} {{");
        let _ = writeln!(
            out,
            "    label=\"{}\"; style=dashed; color=\"#9e9e9e\";",
            quote(package)
        );
        for node in nodes {
            let mut label = format!("{}\\n{}", quote(&node.id), node.role.as_str());
            if !node.findings.is_empty() {
                label.push_str(&format!("\\n{}", codes(node).join(" ")));
            }
            let _ = writeln!(
                out,
                "    \"{}\" [label=\"{label}\", fillcolor=\"{}\", tooltip=\"{}:{}\"];",
                quote(&node.id),
                role_color(node.role),
                quote(&node.path),
                node.line
            );
        }
        let _ = writeln!(out, "  }}");
    }
    for edge in &picture.edges {
        let label = if edge.count > 1 {
            format!("{} ×{}", edge.kind.as_str(), edge.count)
        } else {
            edge.kind.as_str().to_string()
        };
        let style = if edge.kind == EdgeKind::String {
            ", style=dashed"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  \"{}\" -> \"{}\" [label=\"{label}\", color=\"{}\", fontcolor=\"{}\"{style}];",
            quote(&edge.from),
            quote(&edge.to),
            edge_color(edge.kind),
            edge_color(edge.kind)
        );
    }
    let _ = writeln!(out, "}}");
    out
}

/// A Mermaid flowchart: subgraphs per package, a class per role, labelled edges.
pub fn mermaid(picture: &Picture) -> String {
    let ids: HashMap<&str, String> = picture
        .nodes
        .iter()
        .enumerate()
        .map(|(index, node)| (node.id.as_str(), format!("n{index}")))
        .collect();
    let text = |value: &str| value.replace('"', "#quot;");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "---\ntitle: \"{}\"\n---",
        text(&burn_down_line(picture))
    );
    let _ = writeln!(out, "flowchart LR");
    for (index, (package, nodes)) in by_package(picture).iter().enumerate() {
        let _ = writeln!(out, "  subgraph p{index}[\"{}\"]", text(package));
        for node in nodes {
            let codes = codes(node);
            let extra = if codes.is_empty() {
                String::new()
            } else {
                format!("<br/>{}", codes.join(" "))
            };
            let _ = writeln!(
                out,
                "    {}[\"{}<br/><i>{}</i>{extra}\"]:::{}",
                ids[node.id.as_str()],
                text(&node.id),
                node.role.as_str(),
                node.role.as_str().replace('-', "_")
            );
        }
        let _ = writeln!(out, "  end");
    }
    let mut index = 0;
    for edge in &picture.edges {
        let (Some(from), Some(to)) = (ids.get(edge.from.as_str()), ids.get(edge.to.as_str()))
        else {
            continue;
        };
        let label = if edge.count > 1 {
            format!("{} ×{}", edge.kind.as_str(), edge.count)
        } else {
            edge.kind.as_str().to_string()
        };
        let arrow = if edge.kind == EdgeKind::String {
            "-.->"
        } else {
            "-->"
        };
        let _ = writeln!(out, "  {from} {arrow}|{label}| {to}");
        let _ = writeln!(out, "  linkStyle {index} stroke:{}", edge_color(edge.kind));
        index += 1;
    }
    for role in [
        Role::Canonical,
        Role::Origin,
        Role::Duplicate,
        Role::TestDouble,
        Role::Shim,
        Role::Factory,
        Role::Importer,
        Role::Module,
    ] {
        let _ = writeln!(
            out,
            "  classDef {} fill:{},stroke:#555",
            role.as_str().replace('-', "_"),
            role_color(role)
        );
    }
    out
}

/// The self-contained html page.
pub fn html(picture: &Picture) -> String {
    let json = serde_json::to_string(picture).unwrap_or_else(|_| "{}".to_string());
    // Inside a <script>: `</` must not close it.
    let json = json.replace("</", "<\\/");
    HTML.replace("/*PICTURE*/null", &json)
}
