//! Table 4 as written (issue 9, point 6): an incident's checks are recorded in the manual's
//! order, and escalation and `mesa show` state that order. The expected order is the manual's
//! table (/work/shared/seed/manual-mesa-de-servicio.txt, Tabla 4, Acceso, "No carga la página"):
//! first "Verificar conexiones físicas del equipo", then "Verificar configuración de
//! direccionamiento IP del equipo", "Verificar URL de acceso configurada", "Verificar
//! disponibilidad de servidor" and, in extramural care only (not this customer), "Verificar
//! conexión VPN del usuario". The test desk speaks English (`--lang en`); the actions are the
//! manual's Spanish text.

mod common;

use common::git::TestDesk;

const T0: &str = "2026-11-03T08:00:00-05:00";
const T1: &str = "2026-11-03T08:10:00-05:00";

fn no_page(d: &TestDesk) -> String {
    d.new_ticket(
        T0,
        &[
            "--type",
            "incident",
            "--incident",
            "no-carga-pagina",
            "--priority",
            "media",
        ],
    )
}

#[test]
fn a_check_before_its_predecessors_is_refused_naming_them_in_order() {
    let d = TestDesk::new();
    let id = no_page(&d);
    let err = d.refused(T1, &["verify", &id, "url-acceso", "--result", "done"]);
    let want = "before 3. url-acceso (Verificar URL de acceso configurada) record \
                1. conexiones-fisicas (Verificar conexiones físicas del equipo); \
                2. direccionamiento-ip (Verificar configuración de direccionamiento IP del equipo)";
    assert!(err.contains(want), "{err}");
    // In order, each is accepted; a result may be recorded again (a check redone).
    for c in ["conexiones-fisicas", "direccionamiento-ip", "url-acceso"] {
        d.ok(T1, &["verify", &id, c, "--result", "done"]);
    }
    d.ok(
        T1,
        &["verify", &id, "conexiones-fisicas", "--result", "failed"],
    );
}

#[test]
fn escalation_and_show_state_the_order_required() {
    let d = TestDesk::new();
    let id = no_page(&d);
    d.ok(
        T1,
        &["verify", &id, "conexiones-fisicas", "--result", "done"],
    );
    let err = d.refused(
        T1,
        &[
            "escalate",
            &id,
            "--to",
            "2",
            "--reason",
            "No se resolvió en nivel 1",
        ],
    );
    assert!(
        err.contains(
            "in Table 4's order: 2. direccionamiento-ip (Verificar configuración de \
             direccionamiento IP del equipo); 3. url-acceso (Verificar URL de acceso \
             configurada); 4. disponibilidad-servidor (Verificar disponibilidad de servidor)"
        ),
        "{err}"
    );
    let show = String::from_utf8(d.run(T1, &["show", &id]).stdout).unwrap();
    assert!(
        show.contains(
            "in this order (Table 4): 2. direccionamiento-ip (Verificar configuración de \
             direccionamiento IP del equipo); 3. url-acceso (Verificar URL de acceso \
             configurada); 4. disponibilidad-servidor (Verificar disponibilidad de servidor)"
        ),
        "{show}"
    );
}

/// "(Véase Acceso)" on "Verificar conectividad" (Tabla 4, Funcionalidad, "No guarda
/// información"): the Acceso connectivity checks ("No carga la página": conexiones físicas,
/// direccionamiento IP, URL de acceso, disponibilidad de servidor; VPN only in extramural care)
/// are required before it, then "Verificar procedimiento del usuario", all at level 1.
#[test]
fn see_acceso_requires_the_acceso_checks_before_connectivity() {
    let d = TestDesk::new();
    let id = d.new_ticket(
        T0,
        &[
            "--type",
            "incident",
            "--incident",
            "no-guarda-informacion",
            "--priority",
            "media",
        ],
    );
    let err = d.refused(T1, &["verify", &id, "conectividad", "--result", "done"]);
    let want = "before 5. conectividad (Verificar conectividad) record \
                1. conexiones-fisicas (Verificar conexiones físicas del equipo); \
                2. direccionamiento-ip (Verificar configuración de direccionamiento IP del equipo); \
                3. url-acceso (Verificar URL de acceso configurada); \
                4. disponibilidad-servidor (Verificar disponibilidad de servidor)";
    assert!(err.contains(want), "{err}");
    let escalate = [
        "escalate",
        &id,
        "--to",
        "2",
        "--reason",
        "No se resolvió en nivel 1",
    ];
    let err = d.refused(T1, &escalate);
    assert!(
        err.contains(
            "in Table 4's order: 1. conexiones-fisicas (Verificar conexiones físicas del \
             equipo); 2. direccionamiento-ip (Verificar configuración de direccionamiento IP \
             del equipo); 3. url-acceso (Verificar URL de acceso configurada); \
             4. disponibilidad-servidor (Verificar disponibilidad de servidor); \
             5. conectividad (Verificar conectividad); \
             6. procedimiento-usuario (Verificar procedimiento del usuario)"
        ),
        "{err}"
    );
    let missing: Vec<String> = d.show(&id)["missing_checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        missing,
        [
            "conexiones-fisicas",
            "direccionamiento-ip",
            "url-acceso",
            "disponibilidad-servidor",
            "conectividad",
            "procedimiento-usuario"
        ]
    );
    // Recording connectivity alone is not enough: escalation waits for the Acceso checks.
    for c in [
        "conexiones-fisicas",
        "direccionamiento-ip",
        "url-acceso",
        "disponibilidad-servidor",
    ] {
        d.ok(T1, &["verify", &id, c, "--result", "done"]);
    }
    let show = String::from_utf8(d.run(T1, &["show", &id]).stdout).unwrap();
    assert!(
        show.contains(
            "in this order (Table 4): 5. conectividad (Verificar conectividad); \
             6. procedimiento-usuario (Verificar procedimiento del usuario)"
        ),
        "{show}"
    );
    d.ok(T1, &["verify", &id, "conectividad", "--result", "done"]);
    d.ok(
        T1,
        &["verify", &id, "procedimiento-usuario", "--result", "failed"],
    );
    d.ok(T1, &escalate);
}

/// The site's playbook page lists, under "Verificar conectividad", the Acceso checks it points
/// to (the manual's five, the VPN one marked extramural) and links to that incident's page.
#[test]
fn the_playbook_page_lists_the_acceso_checks_of_connectivity() {
    let d = TestDesk::new();
    let site = d.root.parent().unwrap().join("site");
    d.ok(T1, &["build", "--out", site.to_str().unwrap()]);
    let page =
        std::fs::read_to_string(site.join("playbook/funcionalidad/no-guarda-informacion.html"))
            .unwrap();
    assert!(
        page.contains("playbook/acceso/no-carga-pagina.html"),
        "{page}"
    );
    let list = &page[page.find("class=\"see-checks\"").expect("see-checks list")..];
    let list = &list[..list.find("</ol>").unwrap()];
    let items: Vec<&str> = list
        .split("<li>")
        .skip(1)
        .map(|i| i.split('<').next().unwrap())
        .collect();
    assert_eq!(
        items,
        [
            "Verificar conexiones físicas del equipo.",
            "Verificar configuración de direccionamiento IP del equipo",
            "Verificar URL de acceso configurada.",
            "Verificar disponibilidad de servidor.",
            "Verificar conexión VPN del usuario.",
        ]
    );
    assert!(list.contains("nota-extramural"), "{list}");
}

/// A failed check owned by the customer's side says who acts next: "Verificar conexiones físicas
/// del equipo" is "Soporte Técnico del cliente"'s (Tabla 4, Acceso, "No carga la página");
/// a failed check of the service desk ("Verificar disponibilidad de servidor", "Mesa de
/// Servicio SGM") names no one else.
#[test]
fn a_failed_customer_check_says_who_acts_next() {
    let d = TestDesk::new();
    let id = no_page(&d);
    d.ok(
        T1,
        &["verify", &id, "conexiones-fisicas", "--result", "failed"],
    );
    let show = String::from_utf8(d.run(T1, &["show", &id]).stdout).unwrap();
    assert!(
        show.contains(
            "Soporte Técnico del cliente must act next: these checks it owns failed: \
             1. conexiones-fisicas (Verificar conexiones físicas del equipo)"
        ),
        "{show}"
    );
    d.ok(
        T1,
        &["verify", &id, "conexiones-fisicas", "--result", "done"],
    );
    for c in ["direccionamiento-ip", "url-acceso"] {
        d.ok(T1, &["verify", &id, c, "--result", "done"]);
    }
    d.ok(
        T1,
        &[
            "verify",
            &id,
            "disponibilidad-servidor",
            "--result",
            "failed",
        ],
    );
    let show = String::from_utf8(d.run(T1, &["show", &id]).stdout).unwrap();
    assert!(!show.contains("must act next"), "{show}");
}
