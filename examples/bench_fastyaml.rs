//! Times the front matter parse of every ticket of a desk (in memory, one core), and counts
//! the tickets the fast YAML path declines: `cargo run --release --example bench_fastyaml DESK`.
/// This thread's CPU time in seconds (the machine is shared: wall time says little).
fn cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

fn main() {
    let root = std::path::PathBuf::from(std::env::args().nth(1).expect("desk folder"));
    let rounds: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let texts: Vec<(std::path::PathBuf, String)> = walkdir::WalkDir::new(root.join("tickets"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().to_path_buf(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    let yamls: Vec<&str> = texts
        .iter()
        .map(|(p, t)| mesa::model::front_matter::split(p, t).unwrap().yaml)
        .collect();
    let declined = yamls
        .iter()
        .filter(|y| {
            mesa::model::fastyaml::from_str::<mesa::model::ticket::TicketFront>(y).is_none()
        })
        .count();
    println!(
        "{} tickets, {declined} declined by the fast path",
        yamls.len()
    );
    for _ in 0..rounds {
        let t = cpu();
        let mut n = 0;
        for y in &yamls {
            let f: Option<mesa::model::ticket::TicketFront> = mesa::model::fastyaml::from_str(y);
            n += f.map_or(0, |f| f.events.len());
        }
        println!("fast path: {:.3} s ({n} events)", cpu() - t);
    }
    let t = cpu();
    for y in yamls.iter().take(10000) {
        let _: mesa::model::ticket::TicketFront = serde_yaml::from_str(y).unwrap();
    }
    println!("serde_yaml, 10,000 tickets: {:.3} s", cpu() - t);
}
