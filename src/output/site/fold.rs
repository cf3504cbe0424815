//! Templates with the values that every page of one kind shares folded in, once per build.
//!
//! A ticket page's chrome (`base.html`: the header, the navigation with its ten `section ==`
//! tests, the footer, every `{{ root | safe }}`) reads only `site`, `root` and `section`, which
//! are the same on every ticket page of a folder depth; Tera evaluated it again on each of
//! 100,000 pages. [`fold`] evaluates, in a copy of the templates, every expression and `if`
//! condition that reads nothing else, with Tera itself and the same values, and puts the text
//! it gives in the expression's place (the taken branch in the `if`'s place). What it cannot
//! prove constant (anything naming another variable, a loop variable, a macro, an include, a
//! name some template assigns with `set`) stays as it was, and so does whatever fails to
//! render here (it fails on the page as before). The page is then rendered from the copy with
//! its full context, unchanged: the output is the same bytes.

use std::collections::HashSet;
use tera::ast::{Expr, ExprVal, If, Node, WS};
use tera::{Context, Template, Tera};

/// The scratch template's name: `.html`, so that Tera escapes its output as the page's.
const SCRATCH: &str = "\u{1}fold.html";

/// A copy of `tera` in which `template` (and the templates it extends) has every part that
/// depends only on `consts` rendered in advance. Only for rendering `template` with a context
/// whose values for the keys of `consts` are the same as in `consts`.
pub fn fold(tera: &Tera, template: &str, consts: &Context) -> Tera {
    let mut out = tera.clone();
    let Ok(tpl) = tera.get_template(template) else {
        return out;
    };
    let mut bound = HashSet::new();
    for t in tera.templates.values() {
        bound_names(&t.ast, &mut bound);
    }
    let names: HashSet<String> = match consts.clone().into_json() {
        tera::Value::Object(map) => map.into_iter().map(|(k, _)| k).collect(),
        _ => HashSet::new(),
    };
    let mut folder = Folder {
        scratch: tera.clone(),
        consts,
        names: names.difference(&bound).cloned().collect(),
    };
    let chain: Vec<String> = std::iter::once(template.to_string())
        .chain(tpl.parents.iter().cloned())
        .collect();
    for name in chain {
        let Some(mut t) = out.templates.remove(&name) else {
            continue;
        };
        t.ast = folder.nodes(&t.ast);
        for b in t.blocks.values_mut() {
            b.body = folder.nodes(&b.body);
        }
        for defs in t.blocks_definitions.values_mut() {
            for (_, b) in defs.iter_mut() {
                b.body = folder.nodes(&b.body);
            }
        }
        out.templates.insert(name, t);
    }
    out
}

/// Every name a template binds in a frame of its own (`set`, loop variables, macro
/// arguments): such a name may hide the context's value of the same name, so it is never
/// folded.
fn bound_names(nodes: &[Node], out: &mut HashSet<String>) {
    for n in nodes {
        match n {
            Node::Set(_, s) => {
                out.insert(s.key.clone());
            }
            Node::Forloop(_, f, _) => {
                out.insert(f.value.clone());
                out.extend(f.key.clone());
                bound_names(&f.body, out);
                if let Some(b) = &f.empty_body {
                    bound_names(b, out);
                }
            }
            Node::MacroDefinition(_, m, _) => {
                out.extend(m.args.keys().cloned());
                bound_names(&m.body, out);
            }
            Node::Block(_, b, _) => bound_names(&b.body, out),
            Node::FilterSection(_, f, _) => bound_names(&f.body, out),
            Node::If(i, _) => {
                for (_, _, body) in &i.conditions {
                    bound_names(body, out);
                }
                if let Some((_, body)) = &i.otherwise {
                    bound_names(body, out);
                }
            }
            _ => {}
        }
    }
}

struct Folder<'a> {
    /// The templates, to render one expression or condition with.
    scratch: Tera,
    consts: &'a Context,
    /// The context keys whose values are fixed (and that no template rebinds).
    names: HashSet<String>,
}

impl Folder<'_> {
    fn nodes(&mut self, nodes: &[Node]) -> Vec<Node> {
        let mut out = Vec::with_capacity(nodes.len());
        for n in nodes {
            self.node(n, &mut out);
        }
        out
    }

    fn node(&mut self, n: &Node, out: &mut Vec<Node>) {
        match n {
            Node::Text(s) => push_text(out, s),
            Node::VariableBlock(_, e) if self.constant(e) => match self.render(vec![n.clone()]) {
                Some(text) => push_text(out, &text),
                None => out.push(n.clone()),
            },
            Node::If(i, ws) => self.fold_if(i, *ws, out),
            Node::Forloop(l, f, r) => {
                let mut f = f.clone();
                f.body = self.nodes(&f.body);
                f.empty_body = f.empty_body.as_deref().map(|b| self.nodes(b));
                out.push(Node::Forloop(*l, f, *r));
            }
            Node::Block(l, b, r) => {
                let mut b = b.clone();
                b.body = self.nodes(&b.body);
                out.push(Node::Block(*l, b, *r));
            }
            other => out.push(other.clone()),
        }
    }

    /// Conditions are evaluated in order, as Tera does: constant false ones go, the first
    /// constant true one ends the chain (it becomes the `else`, or the whole `if` when no
    /// undecided condition comes before it).
    fn fold_if(&mut self, i: &If, ws: WS, out: &mut Vec<Node>) {
        let mut kept: Vec<(WS, Expr, Vec<Node>)> = Vec::new();
        let mut otherwise = i.otherwise.clone();
        for (cws, cond, body) in &i.conditions {
            let truth = if self.constant(cond) {
                self.truth(cond)
            } else {
                None
            };
            match truth {
                Some(false) => {}
                Some(true) => {
                    otherwise = Some((*cws, body.clone()));
                    break;
                }
                None => kept.push((*cws, cond.clone(), self.nodes(body))),
            }
        }
        let otherwise = otherwise.map(|(w, body)| (w, self.nodes(&body)));
        if kept.is_empty() {
            for n in otherwise.map(|(_, body)| body).unwrap_or_default() {
                match n {
                    Node::Text(s) => push_text(out, &s),
                    n => out.push(n),
                }
            }
        } else {
            out.push(Node::If(
                If {
                    conditions: kept,
                    otherwise,
                },
                ws,
            ));
        }
    }

    /// Whether `e` reads only the fixed values (and `t()`, whose labels are fixed too).
    fn constant(&self, e: &Expr) -> bool {
        self.value(&e.val)
            && e.filters
                .iter()
                .all(|f| f.args.values().all(|a| self.constant(a)))
    }

    fn value(&self, v: &ExprVal) -> bool {
        match v {
            ExprVal::String(_) | ExprVal::Int(_) | ExprVal::Float(_) | ExprVal::Bool(_) => true,
            ExprVal::Ident(name) => self.ident(name),
            ExprVal::Math(m) => self.constant(&m.lhs) && self.constant(&m.rhs),
            ExprVal::Logic(l) => self.constant(&l.lhs) && self.constant(&l.rhs),
            ExprVal::In(i) => self.constant(&i.lhs) && self.constant(&i.rhs),
            ExprVal::Test(t) => self.ident(&t.ident) && t.args.iter().all(|a| self.constant(a)),
            ExprVal::FunctionCall(f) => f.name == "t" && f.args.values().all(|a| self.constant(a)),
            ExprVal::Array(items) => items.iter().all(|a| self.constant(a)),
            ExprVal::StringConcat(c) => c.values.iter().all(|v| self.value(v)),
            ExprVal::MacroCall(_) => false,
        }
    }

    /// A dotted path from a fixed value (a subscript `a[b]` may name anything: not folded).
    fn ident(&self, name: &str) -> bool {
        !name.contains('[') && self.names.contains(name.split('.').next().unwrap_or(name))
    }

    fn truth(&mut self, cond: &Expr) -> Option<bool> {
        let probe = Node::If(
            If {
                conditions: vec![(WS::default(), cond.clone(), vec![Node::Text("1".into())])],
                otherwise: None,
            },
            WS::default(),
        );
        self.render(vec![probe]).map(|s| s == "1")
    }

    /// `nodes` rendered by Tera with the fixed values; `None` if that fails.
    fn render(&mut self, nodes: Vec<Node>) -> Option<String> {
        let mut t = Template::new(SCRATCH, None, "").ok()?;
        t.ast = nodes;
        self.scratch.templates.insert(SCRATCH.to_string(), t);
        self.scratch.render(SCRATCH, self.consts).ok()
    }
}

fn push_text(out: &mut Vec<Node>, s: &str) {
    match out.last_mut() {
        Some(Node::Text(t)) => t.push_str(s),
        _ => out.push(Node::Text(s.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::i18n::Catalog;

    fn tera(templates: &[(&str, &str)]) -> Tera {
        let mut t = Tera::default();
        t.autoescape_on(vec![".html"]);
        t.add_raw_templates(templates.to_vec()).unwrap();
        t
    }

    fn context(pairs: &[(&str, tera::Value)]) -> Context {
        let mut c = Context::new();
        for (k, v) in pairs {
            c.insert(*k, v);
        }
        c
    }

    /// Counts the nodes of a kind, bodies included.
    fn count(nodes: &[Node], what: &dyn Fn(&Node) -> bool) -> usize {
        nodes
            .iter()
            .map(|n| {
                let inner: usize = match n {
                    Node::If(i, _) => {
                        i.conditions
                            .iter()
                            .map(|(_, _, b)| count(b, what))
                            .sum::<usize>()
                            + i.otherwise.as_ref().map_or(0, |(_, b)| count(b, what))
                    }
                    Node::Forloop(_, f, _) => count(&f.body, what),
                    Node::Block(_, b, _) => count(&b.body, what),
                    _ => 0,
                };
                inner + usize::from(what(n))
            })
            .sum()
    }

    /// The page rendered from the folded templates is the page rendered from the plain
    /// ones, for every section and depth of the default theme's chrome, public and internal.
    #[test]
    fn default_chrome_renders_the_same_folded() {
        let cat: &'static Catalog = Box::leak(Box::new(Catalog::load("es", None)));
        let dir = tempfile::tempdir().unwrap();
        let mut plain = crate::output::site::theme::load(dir.path(), cat).unwrap();
        plain
            .add_raw_template(
                "page.html",
                "{% extends \"base.html\" %}{% block main %}<p>{{ title }} {{ x.y }}</p>{% endblock main %}",
            )
            .unwrap();
        let sections = ["home", "search", "kb", "tickets", "reports", "news", "help"];
        for internal in [false, true] {
            for live_reload in [false, true] {
                let site = serde_json::json!({"name": "SGM", "full_name": "S & G <M>",
                    "website": null, "manual": if internal { "Manual v2" } else { "" },
                    "lang": "es", "internal": internal, "live_reload": live_reload});
                for section in sections {
                    for root in ["", "../", "../../"] {
                        let consts = context(&[
                            ("site", site.clone()),
                            ("section", section.into()),
                            ("root", root.into()),
                        ]);
                        let folded = fold(&plain, "page.html", &consts);
                        let base = folded.get_template("base.html").unwrap();
                        let ifs = |n: &Node| matches!(n, Node::If(..));
                        let vars = |n: &Node| matches!(n, Node::VariableBlock(..));
                        // Every condition decided; of the expressions, only `{{ title }}`
                        // is left (not on the home page).
                        assert_eq!(count(&base.ast, &ifs), 0, "{section} {root}");
                        let title = usize::from(section != "home");
                        assert_eq!(count(&base.ast, &vars), title, "{section} {root}");
                        let mut page = consts.clone();
                        page.insert("title", "Caso <1>");
                        page.insert("page_url", "x/y.html");
                        page.insert("x", &serde_json::json!({"y": "a & b"}));
                        assert_eq!(
                            folded.render("page.html", &page).unwrap(),
                            plain.render("page.html", &page).unwrap(),
                            "{section} {root} internal={internal}"
                        );
                    }
                }
            }
        }
    }

    /// What a template rebinds, what names other values, what fails to evaluate: not folded,
    /// and the page is the same.
    #[test]
    fn only_what_reads_the_fixed_values_is_folded() {
        let plain = tera(&[
            (
                "base.html",
                "<{{ root }}>{% block a %}{% endblock a %}\
                 {% if other %}O{% elif section == \"s\" %}S{% else %}E{% endif %}\
                 {% if section == \"z\" %}Z{% elif other %}O{% endif %}\
                 {% for k in list %}{{ k }}{{ site.n | upper }}{% if site.n == \"n\" %}{% break %}{% endif %}{% endfor %}\
                 {% if site.missing.deeper %}M{% endif %}[{{ site.n ~ root }}]",
            ),
            (
                "child.html",
                "{% extends \"base.html\" %}{% block a %}{% set section = \"z\" %}{{ section }}{{ other }}{% endblock a %}",
            ),
        ]);
        let consts = context(&[
            ("site", serde_json::json!({"n": "n"})),
            ("root", "../".into()),
            ("section", "s".into()),
        ]);
        let folded = fold(&plain, "child.html", &consts);
        let base = &folded.get_template("base.html").unwrap().ast;
        // `section` is set by a template: its conditions stay; `root` and `site` fold.
        assert!(
            matches!(&base[0], Node::Text(t) if t == "<..&#x2F;>"),
            "{base:?}"
        );
        let vars = |n: &Node| matches!(n, Node::VariableBlock(..));
        assert_eq!(
            count(base, &vars),
            1,
            "only the loop's {{{{ k }}}} is left: {base:?}"
        );
        for other in [true, false] {
            let mut page = consts.clone();
            page.insert("other", &other);
            page.insert("list", &["a", "b"]);
            assert_eq!(
                folded.render("child.html", &page).unwrap(),
                plain.render("child.html", &page).unwrap()
            );
        }
    }

    /// A chain decided by a fixed value becomes the text of its branch.
    #[test]
    fn fixed_conditions_pick_their_branch() {
        let plain = tera(&[(
            "p.html",
            "{% if other %}O{% elif section == \"s\" %}S{% else %}E{% endif %}|{% if section == \"t\" %}T{% elif section == \"s\" %}<{{ root }}>{% endif %}",
        )]);
        let consts = context(&[("root", "&".into()), ("section", "s".into())]);
        let folded = fold(&plain, "p.html", &consts);
        let ast = &folded.get_template("p.html").unwrap().ast;
        // The first chain keeps its undecided head, with "S" as its `else`.
        assert_eq!(ast.len(), 2, "{ast:?}");
        assert!(
            matches!(&ast[1], Node::Text(t) if t == "|<&amp;>"),
            "{ast:?}"
        );
        for other in [true, false] {
            let mut page = consts.clone();
            page.insert("other", &other);
            assert_eq!(
                folded.render("p.html", &page).unwrap(),
                plain.render("p.html", &page).unwrap()
            );
        }
    }
}
