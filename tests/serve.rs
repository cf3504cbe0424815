//! `mesa serve` over real HTTP on loopback: content types, the 404 page, path safety against
//! every way out of the output folder, and rebuild + reload after a change.

mod common;

use common::serve::{raw_request, sample_desk, Serve};
use std::path::Path;
use std::time::{Duration, Instant};

const MARKER: &str = "TOP-SECRET-7f3a91";

/// Where `mesa serve` writes the site (the `mesa build` default).
fn out_dir(desk: &Path) -> std::path::PathBuf {
    desk.join("_site")
}

fn find_file(dir: &Path, ext: &str) -> Option<String> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == ext))
        .map(|e| {
            e.path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .min()
}

#[test]
fn serves_the_site_with_content_types_and_404_page() {
    let (_tmp, desk) = sample_desk();
    let serve = Serve::start(&desk, &[]);
    assert!(
        serve.url.starts_with("http://127.0.0.1:"),
        "loopback by default: {}",
        serve.url
    );
    let out = out_dir(&desk);

    let home = serve.get("/");
    assert_eq!(home.status, 200);
    assert_eq!(
        home.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(home.header("x-content-type-options"), Some("nosniff"));
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    let text = home.text();
    assert!(
        text.contains("/__mesa/reload.js"),
        "the reload script is injected"
    );
    let tag = "<script src=\"/__mesa/reload.js\" defer></script>";
    assert_eq!(
        text.replace(tag, ""),
        index,
        "the page as built, plus the reload script"
    );

    for (ext, kind) in [
        ("css", "text/css; charset=utf-8"),
        ("js", "text/javascript; charset=utf-8"),
    ] {
        let file = find_file(&out, ext).unwrap_or_else(|| panic!("the site has a .{ext} file"));
        let response = serve.get(&format!("/{file}"));
        assert_eq!(response.status, 200, "{file}");
        assert_eq!(response.header("content-type"), Some(kind), "{file}");
        assert_eq!(
            response.body,
            std::fs::read(out.join(&file)).unwrap(),
            "{file} is served as is"
        );
    }
    // Every other kind of file a site may hold, placed in the output folder.
    for (name, kind) in [
        ("probe.json", "application/json"),
        ("probe.csv", "text/csv; charset=utf-8"),
        ("probe.svg", "image/svg+xml"),
        ("probe.png", "image/png"),
        ("probe.woff2", "font/woff2"),
        ("probe.txt", "text/plain; charset=utf-8"),
        ("probe.bin", "application/octet-stream"),
        ("sub dir/ñandú.HTML", "text/html; charset=utf-8"),
    ] {
        let path = out.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("probe {name}")).unwrap();
        let target = format!(
            "/{}",
            name.replace(' ', "%20")
                .replace('ñ', "%C3%B1")
                .replace('ú', "%C3%BA")
        );
        let response = serve.get(&target);
        assert_eq!(response.status, 200, "{target}");
        assert_eq!(response.header("content-type"), Some(kind), "{target}");
        assert!(
            response.text().starts_with(&format!("probe {name}")),
            "{target}"
        );
    }
    // Hidden files are not part of the site.
    assert_eq!(serve.get("/.mesa-site").status, 404);

    // A folder without its slash redirects; with it, its index.html.
    let folder = walkdir::WalkDir::new(&out)
        .min_depth(1)
        .into_iter()
        .filter_map(|e| e.ok())
        .find(|e| e.file_type().is_dir() && e.path().join("index.html").is_file())
        .map(|e| {
            e.path()
                .strip_prefix(&out)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .expect("the site has a folder with an index.html");
    let redirect = serve.get(&format!("/{folder}?x=1"));
    assert_eq!(redirect.status, 301);
    assert_eq!(
        redirect.header("location"),
        Some(format!("/{folder}/?x=1").as_str())
    );
    assert_eq!(serve.get(&format!("/{folder}/")).status, 200);

    let missing = serve.get("/no/such/page.html");
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let page404 = std::fs::read_to_string(out.join("404.html")).expect("the site has a 404 page");
    let body = missing.text().replacen("<base href=\"/\">", "", 1);
    let head = &page404[..page404.find("</body>").unwrap_or(page404.len())];
    assert!(body.starts_with(head), "the site's own 404 page");
    assert!(
        missing.text().contains("<base href=\"/\">"),
        "its links resolve from the root"
    );

    let head_req = raw_request(
        serve.port,
        b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(head_req.status, 200);
    assert!(head_req.body.is_empty());
    let post = raw_request(
        serve.port,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(post.status, 405);
}

#[test]
fn never_serves_a_file_outside_the_output_folder() {
    let (tmp, desk) = sample_desk();
    // Secrets next to the site: the desk itself and a folder beside it.
    let config = std::fs::read_to_string(desk.join("desk.yaml")).unwrap();
    std::fs::write(desk.join("desk.yaml"), format!("{config}\n# {MARKER}\n")).unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), MARKER).unwrap();
    let serve = Serve::start(&desk, &[]);
    let out = out_dir(&desk);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(outside.join("secret.txt"), out.join("leak.txt")).unwrap();
        std::os::unix::fs::symlink(&outside, out.join("leakdir")).unwrap();
        std::os::unix::fs::symlink("../desk.yaml", out.join("config.txt")).unwrap();
    }
    let secret = outside.join("secret.txt").to_string_lossy().into_owned();
    let abs_config = desk.join("desk.yaml").to_string_lossy().into_owned();
    let targets = [
        "/../desk.yaml".to_string(),
        "/../../outside/secret.txt".into(),
        "/kb/../../desk.yaml".into(),
        "/%2e%2e/desk.yaml".into(),
        "/%2E%2E/desk.yaml".into(),
        "/%2e%2e%2fdesk.yaml".into(),
        "/%2e%2e%2F%2e%2e%2Foutside%2Fsecret.txt".into(),
        "/.%2e/desk.yaml".into(),
        "/%252e%252e/desk.yaml".into(),
        "/%252e%252e%252fdesk.yaml".into(),
        "/%25252e%25252e/desk.yaml".into(),
        "/..%5cdesk.yaml".into(),
        "/..\\desk.yaml".into(),
        "/%5c..%5cdesk.yaml".into(),
        "/..%255cdesk.yaml".into(),
        "/%c0%ae%c0%ae/desk.yaml".into(),
        "/..%00/desk.yaml".into(),
        "/desk.yaml%00.html".into(),
        "/%00../desk.yaml".into(),
        secret.clone(),
        format!("/{secret}"),
        format!("/%2F{}", secret.trim_start_matches('/')),
        abs_config.clone(),
        format!("file://{secret}"),
        format!("http://127.0.0.1{secret}"),
        "http://127.0.0.1/../desk.yaml".into(),
        "/leak.txt".into(),
        "/leakdir/secret.txt".into(),
        "/leakdir/".into(),
        "/config.txt".into(),
        "/....//desk.yaml".into(),
        "/./../desk.yaml".into(),
    ];
    for target in &targets {
        let response = serve.get(target);
        assert_eq!(
            response.status,
            404,
            "{target} must be 404, got {} {}",
            response.status,
            response.text()
        );
        assert!(
            !response.text().contains(MARKER),
            "{target} leaked a secret"
        );
        assert!(
            !response.text().contains("time_zone"),
            "{target} leaked desk.yaml"
        );
    }
    // A raw NUL byte in the request line.
    let nul = raw_request(
        serve.port,
        b"GET /\0/../desk.yaml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(nul.status, 404);
    assert!(!nul.text().contains(MARKER));
    // Garbage never takes a worker down: raw UTF-8 and invalid bytes, a folder with a non-ASCII
    // name asked for without its slash, header injection in the query.
    std::fs::create_dir_all(out.join("año")).unwrap();
    std::fs::write(out.join("año/index.html"), "<p>año</p>").unwrap();
    for _ in 0..6 {
        let raw = raw_request(serve.port, "GET /año?x=\u{1}%0d%0aSet-Cookie:%20a=b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".as_bytes());
        if raw.status == 301 {
            assert_eq!(
                raw.header("location"),
                Some("/a%C3%B1o/?x=%01%0d%0aSet-Cookie:%20a=b")
            );
        }
        assert!(raw.header("set-cookie").is_none());
        let bad = raw_request(
            serve.port,
            b"GET /\xff\xfe/../desk.yaml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert!(!bad.text().contains(MARKER));
    }
    assert_eq!(
        serve.get("/a%C3%B1o/").text(),
        "<p>año</p><script src=\"/__mesa/reload.js\" defer></script>"
    );
    // The site itself is still served.
    assert_eq!(serve.get("/").status, 200);
}

#[test]
fn rebuilds_after_a_change_and_the_version_moves() {
    let (_tmp, desk) = sample_desk();
    let serve = Serve::start(&desk, &[]);
    let before = serve.get("/__mesa/version");
    assert_eq!(before.status, 200);
    assert_eq!(before.header("cache-control"), Some("no-cache"));
    let reload = serve.get("/__mesa/reload.js");
    assert_eq!(reload.status, 200);
    assert!(reload.text().contains("/__mesa/version"));

    let article = desk.join("kb/articles/roles.md");
    let text = std::fs::read_to_string(&article).unwrap();
    let word = "Palabranuevaparalarecarga";
    let started = Instant::now();
    std::fs::write(&article, format!("{text}\n{word}\n")).unwrap();
    let version = loop {
        let now = serve.get("/__mesa/version").text();
        if now != before.text() {
            break now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no rebuild 30 s after the change"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    println!("rebuilt after {:?}; version {version}", started.elapsed());
    let page = walkdir::WalkDir::new(out_dir(&desk))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "html"))
        .find(|e| {
            std::fs::read_to_string(e.path())
                .unwrap_or_default()
                .contains(word)
        })
        .expect("the rebuilt site has the new text");
    let rel = page
        .path()
        .strip_prefix(out_dir(&desk))
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(serve.get(&format!("/{rel}")).text().contains(word));

    // A change outside the sources (the output, the git folder) does not rebuild.
    std::fs::write(desk.join("notes.txt"), "x").unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(serve.get("/__mesa/version").text(), version);
}

#[test]
fn binds_where_told_and_reports_a_busy_port() {
    let (_tmp, desk) = sample_desk();
    let serve = Serve::start(&desk, &["--bind", "127.0.0.1"]);
    let busy = std::process::Command::new(env!("CARGO_BIN_EXE_mesa"))
        .arg("--desk")
        .arg(&desk)
        .args(["serve", "--port", &serve.port.to_string()])
        .env("MESA_LANG", "en")
        .output()
        .unwrap();
    assert!(!busy.status.success());
    let err = String::from_utf8_lossy(&busy.stderr);
    assert!(err.contains("could not listen on 127.0.0.1:"), "{err}");
    assert!(err.contains("--port"), "{err}");
}

#[test]
fn a_broken_change_keeps_the_last_good_site() {
    let (_tmp, desk) = sample_desk();
    let serve = Serve::start(&desk, &[]);
    let before = serve.get("/__mesa/version").text();
    let article = desk.join("kb/articles/roles.md");
    let good = std::fs::read_to_string(&article).unwrap();
    // A broken internal link stops the build: the previous site stays up, unchanged.
    std::fs::write(&article, format!("{good}\n[roto](no-existe.md)\n")).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        serve.get("/__mesa/version").text(),
        before,
        "no reload to a broken site"
    );
    let page = serve.get("/kb/articles/roles.html");
    assert_eq!(page.status, 200);
    assert!(!page.text().contains("roto"));
    // Fixed: the next change rebuilds.
    std::fs::write(&article, format!("{good}\nArreglado.\n")).unwrap();
    let started = Instant::now();
    while serve.get("/__mesa/version").text() == before {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no rebuild after the fix"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(serve
        .get("/kb/articles/roles.html")
        .text()
        .contains("Arreglado."));
}

#[test]
fn the_public_site_has_no_tickets() {
    let (_tmp, desk) = sample_desk();
    let serve = Serve::start(&desk, &["--public"]);
    assert_eq!(serve.get("/").status, 200);
    assert_eq!(serve.get("/tickets/index.html").status, 404);
    assert_eq!(serve.get("/reports/index.html").status, 404);
}
