//! Tera's variable lookups as the site's templates use them, pinned after vendor/tera's patch
//! (vendor/tera/PATCHES.md): a path segment without `~` is looked up as it is instead of
//! through two `replace` calls. Every expected value here is what Tera 1.20.1 as published
//! gives (its `dotted_pointer` doc and code: segments split on `.` and `[...]`, quoted
//! segments kept whole, then `~1` -> `/` and `~0` -> `~` in that order, arrays indexed by a
//! plain decimal without a sign or a leading zero), worked out by hand; the same file passes
//! against the unpatched crate. The later patches (plain paths split by bytes, conditions and
//! comparisons without escaping) are pinned the same way: the expected truth of each
//! condition was worked out from Tera's rules and checked against the published crate.

use serde_json::{json, Value};
use tera::{dotted_pointer, Context, Tera};

fn data() -> Value {
    json!({
        "tk": {
            "id": "SGM-1",
            "x/y": "slash",
            "x~y": "tilde",
            "x~1y": "literal tilde-one",
            "x.y": "dot",
            "~1": "tilde then one",
            "/0": "slash then zero",
            "empty": "",
            "amp": "a&b",
            "lt": "<",
            "año": {"x": 1},
            "events": [
                {"kind": "opened", "details": [["a", "b"], ["c", "d"]]},
                {"kind": "closed", "details": []}
            ],
            "nested": {"deeper": {"leaf": 7}}
        }
    })
}

#[test]
fn plain_segments() {
    let v = data();
    assert_eq!(dotted_pointer(&v, ""), Some(&v));
    assert_eq!(dotted_pointer(&v, "tk.id"), Some(&json!("SGM-1")));
    assert_eq!(dotted_pointer(&v, "tk.nested.deeper.leaf"), Some(&json!(7)));
    assert_eq!(dotted_pointer(&v, "tk.empty"), Some(&json!("")));
}

#[test]
fn missing_keys_and_paths_through_scalars() {
    let v = data();
    assert_eq!(dotted_pointer(&v, "nothing"), None);
    assert_eq!(dotted_pointer(&v, "tk.nothing"), None);
    assert_eq!(dotted_pointer(&v, "tk.nothing.further"), None);
    assert_eq!(dotted_pointer(&v, "tk.id.further"), None);
    assert_eq!(dotted_pointer(&v, "tk.nested.deeper.leaf.0"), None);
}

#[test]
fn keys_with_slash_tilde_and_dot() {
    let v = data();
    // `a["x/y"]` in a template reaches the lookup as `a."x~1y"`.
    assert_eq!(dotted_pointer(&v, "tk.\"x~1y\""), Some(&json!("slash")));
    // A `/` written as it is needs no unescaping.
    assert_eq!(dotted_pointer(&v, "tk.\"x/y\""), Some(&json!("slash")));
    assert_eq!(dotted_pointer(&v, "tk.x/y"), Some(&json!("slash")));
    // `~0` is a `~`; a `~` followed by anything else stays.
    assert_eq!(dotted_pointer(&v, "tk.\"x~0y\""), Some(&json!("tilde")));
    assert_eq!(dotted_pointer(&v, "tk.\"x~y\""), Some(&json!("tilde")));
    assert_eq!(dotted_pointer(&v, "tk.x~y"), Some(&json!("tilde")));
    // A key with a literal `~1` is written `~01` (RFC 6901's escape); `~1` means `/`.
    assert_eq!(
        dotted_pointer(&v, "tk.\"x~01y\""),
        Some(&json!("literal tilde-one"))
    );
    // `~1` is unescaped before `~0`: `~01` is `~1` (not `~` then `1` then `/`), `~10` is `/0`.
    assert_eq!(
        dotted_pointer(&v, "tk.\"~01\""),
        Some(&json!("tilde then one"))
    );
    assert_eq!(dotted_pointer(&v, "tk.~01"), Some(&json!("tilde then one")));
    assert_eq!(
        dotted_pointer(&v, "tk.~10"),
        Some(&json!("slash then zero"))
    );
    // A quoted segment keeps its dot; unquoted, the dot splits it.
    assert_eq!(dotted_pointer(&v, "tk.\"x.y\""), Some(&json!("dot")));
    assert_eq!(dotted_pointer(&v, "tk.'x.y'"), Some(&json!("dot")));
    assert_eq!(dotted_pointer(&v, "tk[\"x.y\"]"), Some(&json!("dot")));
    assert_eq!(dotted_pointer(&v, "tk.x.y"), None);
}

#[test]
fn nested_arrays() {
    let v = data();
    assert_eq!(
        dotted_pointer(&v, "tk.events.0.kind"),
        Some(&json!("opened"))
    );
    assert_eq!(
        dotted_pointer(&v, "tk.events.1.kind"),
        Some(&json!("closed"))
    );
    assert_eq!(
        dotted_pointer(&v, "tk.events.0.details.1.0"),
        Some(&json!("c"))
    );
    // Unquoted brackets are not the lookup's: a template's `e[0]` reaches it as `e.0` (its `]`
    // would start the next segment).
    assert_eq!(
        dotted_pointer(&v, "tk.events.0.details.1.1"),
        Some(&json!("d"))
    );
    assert_eq!(dotted_pointer(&v, "tk.events[0].details[1][1]"), None);
    assert_eq!(dotted_pointer(&v, "tk.events.2"), None);
    assert_eq!(dotted_pointer(&v, "tk.events.1.details.0"), None);
    // serde_json's index rules: no sign, no leading zero, not a name.
    assert_eq!(dotted_pointer(&v, "tk.events.00.kind"), None);
    assert_eq!(dotted_pointer(&v, "tk.events.+0.kind"), None);
    assert_eq!(dotted_pointer(&v, "tk.events.kind"), None);
}

fn render(template: &str) -> Result<String, String> {
    let mut tera = Tera::default();
    tera.add_raw_template("t.html", template).unwrap();
    let ctx = Context::from_value(data()).unwrap();
    tera.render("t.html", &ctx).map_err(|e| {
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            src = s.source();
        }
        msg
    })
}

#[test]
fn templates_look_up_the_same_values() {
    assert_eq!(render("{{ tk.id }}").unwrap(), "SGM-1");
    assert_eq!(render("{{ tk.nested.deeper.leaf }}").unwrap(), "7");
    assert_eq!(render("{{ tk[\"x/y\"] }}").unwrap(), "slash");
    assert_eq!(render("{{ tk['x~y'] }}").unwrap(), "tilde");
    assert_eq!(render("{{ tk[\"x~0y\"] }}").unwrap(), "tilde");
    assert_eq!(render("{{ tk[\"x.y\"] }}").unwrap(), "dot");
    assert_eq!(render("{{ tk.events.1.kind }}").unwrap(), "closed");
    assert_eq!(render("{{ tk.events[0].details[1][0] }}").unwrap(), "c");
    // Loop variables are looked up through the loop's frame.
    assert_eq!(
        render("{% for e in tk.events %}{{ e.kind }}:{% for d in e.details %}{{ d.1 }}{% endfor %};{% endfor %}")
            .unwrap(),
        "opened:bd;closed:;"
    );
    // A key chosen by another variable's value.
    assert_eq!(
        render("{% for e in tk.events %}{{ tk[e.kind] | default(value=\"-\") }}{% endfor %}")
            .unwrap(),
        "--"
    );
}

#[test]
fn templates_report_missing_keys() {
    let e = render("{{ tk.nothing }}").unwrap_err();
    assert!(
        e.contains("Variable `tk.nothing` not found in context while rendering 't.html'"),
        "{e}"
    );
    let e = render("{{ tk.events.5.kind }}").unwrap_err();
    assert!(e.contains("Variable `tk.events.5.kind` not found"), "{e}");
    let e = render("{% for e in tk.events %}{{ e.nothing }}{% endfor %}").unwrap_err();
    assert!(e.contains("Variable `e.nothing` not found"), "{e}");
    // `default` and `is defined` see a missing key as missing, not as an error.
    assert_eq!(
        render("{{ tk.nothing | default(value=\"none\") }}").unwrap(),
        "none"
    );
    assert_eq!(
        render("{% if tk.nothing is defined %}yes{% else %}no{% endif %}").unwrap(),
        "no"
    );
}

#[test]
fn plain_paths_split_on_every_dot_and_skip_empty_segments() {
    // The patched lookup splits a path of plain ASCII segments itself; Tera's splitter skips
    // empty segments, so doubled, leading and trailing dots change nothing.
    let v = data();
    assert_eq!(dotted_pointer(&v, "tk..id"), Some(&json!("SGM-1")));
    assert_eq!(dotted_pointer(&v, ".tk.id"), Some(&json!("SGM-1")));
    assert_eq!(dotted_pointer(&v, "tk.id."), Some(&json!("SGM-1")));
    assert_eq!(
        dotted_pointer(&v, "tk.nested...deeper.leaf"),
        Some(&json!(7))
    );
    assert_eq!(dotted_pointer(&v, "."), Some(&v));
    assert_eq!(dotted_pointer(&v, ".."), Some(&v));
    // A segment that fails before a quote fails the whole lookup, as it did.
    assert_eq!(dotted_pointer(&v, "nothing.\"x.y\""), None);
    assert_eq!(dotted_pointer(&v, "tk.nothing.\"x.y\""), None);
    assert_eq!(
        dotted_pointer(&v, "tk.events.0[\"kind\"]"),
        Some(&json!("opened"))
    );
}

#[test]
fn non_ascii_paths_keep_teras_own_splitting() {
    // Tera's splitter counts characters but slices bytes: a last unquoted segment with `ñ`
    // is found, a `ñ` before a later dot or closing quote cuts the segment a byte short
    // (`añ` for `año`), so the lookup misses. The patched lookup leaves every non-ASCII path
    // to that splitter.
    let v = data();
    assert_eq!(dotted_pointer(&v, "tk.año"), Some(&json!({"x": 1})));
    assert_eq!(dotted_pointer(&v, "tk.año.x"), None);
    assert_eq!(dotted_pointer(&v, "tk.\"año\""), None);
}

#[test]
fn conditions_and_comparisons_see_the_same_strings() {
    // Printed values are escaped (Tera's default for `.html` templates).
    assert_eq!(render("{{ tk.amp }}{{ tk.lt }}").unwrap(), "a&amp;b&lt;");
    assert_eq!(render("{{ tk.amp | safe }}").unwrap(), "a&b");
    // A condition is the value's truth: an empty string is false, any other true.
    let cond = "{% if tk.amp %}1{% else %}0{% endif %}{% if tk.empty %}1{% else %}0{% endif %}\
                {% if not tk.empty %}1{% else %}0{% endif %}{% if not tk.lt %}1{% else %}0{% endif %}\
                {% if tk.nothing %}1{% else %}0{% endif %}{% if not tk.nothing %}1{% else %}0{% endif %}";
    assert_eq!(render(cond).unwrap(), "101001");
    // Both sides escaped, or neither: equal exactly when the strings are.
    let eq = "{% if tk.amp == \"a&b\" %}1{% else %}0{% endif %}\
              {% if \"<\" == tk.lt %}1{% else %}0{% endif %}\
              {% if tk.lt != \"<\" %}1{% else %}0{% endif %}\
              {% if tk.amp == tk.lt %}1{% else %}0{% endif %}\
              {% if tk.amp == \"a&amp;b\" %}1{% else %}0{% endif %}";
    assert_eq!(render(eq).unwrap(), "11000");
    // One side marked safe: the other side alone is escaped, as before (a literal too), so
    // a raw `a&b` equals neither `"a&b"` (escaped `a&amp;b`) nor `"a&amp;b"` (escaped
    // `a&amp;amp;b`); a value without special characters is equal either way.
    let safe = "{% if tk.amp | safe == \"a&b\" %}1{% else %}0{% endif %}\
                {% if tk.amp | safe == \"a&amp;b\" %}1{% else %}0{% endif %}\
                {% if \"a&amp;b\" == tk.amp | safe %}1{% else %}0{% endif %}\
                {% if tk.id | safe == \"SGM-1\" %}1{% else %}0{% endif %}";
    assert_eq!(render(safe).unwrap(), "0001");
    // A number never equals a string.
    assert_eq!(
        render("{% if tk.nested.deeper.leaf == \"7\" %}1{% else %}0{% endif %}{% if tk.nested.deeper.leaf == 7 %}1{% else %}0{% endif %}").unwrap(),
        "01"
    );
}
