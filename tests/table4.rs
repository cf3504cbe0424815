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
