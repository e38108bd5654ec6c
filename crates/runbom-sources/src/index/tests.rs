use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::testing::{IndexServer, Route};
use super::*;

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/index")
}

/// Every file under `testdata/index/<dir>` served at `/<prefix><relative path>`.
fn routes(dir: &str, prefix: &str, content_type: &str, routes: &mut HashMap<String, Route>) {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("testdata").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out)
            } else {
                out.push(path)
            }
        }
    }
    let root = testdata().join(dir);
    let mut files = Vec::new();
    walk(&root, &mut files);
    for file in files {
        let relative = file
            .strip_prefix(&root)
            .expect("under root")
            .to_string_lossy()
            .replace('\\', "/");
        routes.insert(
            format!("/{prefix}{relative}"),
            Route {
                content_type: content_type.to_owned(),
                body: std::fs::read(&file).expect("read"),
            },
        );
    }
}

/// PyPI pages at `/simple/<name>/`, the Go proxy at `/go/`, RubyGems at `/gems/`.
fn server() -> IndexServer {
    let mut all = HashMap::new();
    for name in ["pyyaml", "requests", "six", "pycrypto"] {
        let body =
            std::fs::read(testdata().join(format!("pypi/{name}.json"))).expect("pypi fixture");
        all.insert(
            format!("/simple/{name}/"),
            Route {
                content_type: "application/vnd.pypi.simple.v1+json".to_owned(),
                body,
            },
        );
    }
    routes("go", "go/", "application/json", &mut all);
    routes("rubygems", "gems/", "application/json", &mut all);
    all.insert(
        "/simple/broken/".to_owned(),
        Route {
            content_type: "application/json".to_owned(),
            body: b"{\"files\": [".to_vec(),
        },
    );
    IndexServer::start(all).expect("start the index server")
}

fn client(server: &IndexServer, cache: Option<&Path>) -> IndexClient {
    IndexClient::new(IndexSettings {
        pypi: format!("{}simple", server.url()),
        go_proxy: format!("{}go", server.url()),
        rubygems: format!("{}gems", server.url()),
        cache_dir: cache.map(Path::to_path_buf),
        max_body_bytes: MAX_BODY_BYTES,
    })
    .expect("client")
}

#[test]
fn pypi_releases_dates_and_yanks_from_a_real_page() {
    let text = std::fs::read_to_string(testdata().join("pypi/requests.json")).expect("fixture");
    let releases = pypi::parse(&text, "requests").expect("parses");
    let find = |v: &str| releases.iter().find(|r| r.version == v).expect(v);
    assert!(find("2.32.0").yanked);
    assert_eq!(
        find("2.32.0").yanked_reason.as_deref(),
        Some("Yanked due to conflicts with CVE-2024-35195 mitigation")
    );
    assert!(find("2.32.1").yanked);
    assert!(!find("2.32.3").yanked);
    assert_eq!(
        find("2.32.3").published.as_deref(),
        Some("2024-05-29T15:37:47.027275Z"),
        "the earliest file upload"
    );
    assert_eq!(releases.iter().filter(|r| r.yanked).count(), 2);
    let undated: Vec<&str> = releases
        .iter()
        .filter(|r| r.published.is_none())
        .map(|r| r.version.as_str())
        .collect();
    assert_eq!(
        undated,
        ["0.0.1", "0.12.01", "2.15.0"],
        "only the versions PyPI lists without files"
    );
}

#[test]
fn pypi_yank_needs_every_file_and_odd_file_names_are_attributed() {
    let text = std::fs::read_to_string(testdata().join("pypi/pyyaml.json")).expect("fixture");
    let releases = pypi::parse(&text, "pyyaml").expect("parses");
    let find = |v: &str| releases.iter().find(|r| r.version == v).expect(v);
    assert!(find("6.0.2rc1").yanked);
    assert!(!find("6.0.2").yanked);
    // `PyYAML-3.10.win32-py2.7.exe` and `PyYAML-3.10.tar.gz` both belong to 3.10.
    assert_eq!(
        find("3.10").published.as_deref(),
        Some("2011-07-01T22:59:26.759009Z")
    );
    let undated = releases.iter().filter(|r| r.published.is_none()).count();
    assert_eq!(undated, 9, "3.01 to 3.09 are listed without files");
}

#[test]
fn fetches_every_ecosystem_from_a_local_index() {
    let server = server();
    let client = client(&server, None);
    let requests = client
        .releases(Ecosystem::PyPi, "Requests")
        .expect("requests");
    assert_eq!(requests.name.as_str(), "requests");
    assert!(requests.release("2.32.0").is_some_and(|r| r.yanked));

    let toml = client
        .releases(Ecosystem::Go, "github.com/BurntSushi/toml")
        .expect("go module");
    let versions: Vec<&str> = toml.releases.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(versions, ["v1.2.1", "v1.3.0", "v1.3.2", "v1.4.0"]);
    assert_eq!(
        toml.release("v1.4.0").and_then(|r| r.published.as_deref()),
        Some("2024-06-05T08:01:17Z")
    );

    let rack = client.releases(Ecosystem::RubyGems, "rack").expect("gem");
    assert_eq!(rack.releases.len(), 4);
    assert_eq!(
        rack.release("3.1.8").and_then(|r| r.published.as_deref()),
        Some("2024-10-14T20:30:18.251Z")
    );
}

#[test]
fn cache_revalidates_with_the_etag() {
    let server = server();
    let cache = tempfile::tempdir().expect("tempdir");
    let first = client(&server, Some(cache.path()))
        .releases(Ecosystem::PyPi, "six")
        .expect("first");
    let second = client(&server, Some(cache.path()))
        .releases(Ecosystem::PyPi, "six")
        .expect("second");
    assert_eq!(first, second);
    let statuses: Vec<u16> = server.requests().iter().map(|(_, s)| *s).collect();
    assert_eq!(statuses, [200, 304]);
}

#[test]
fn missing_projects_and_broken_pages_are_named() {
    let server = server();
    let cache = tempfile::tempdir().expect("tempdir");
    let client = client(&server, Some(cache.path()));
    let missing = client
        .releases(Ecosystem::PyPi, "no-such-project")
        .expect_err("404");
    assert!(matches!(missing, IndexError::NotFound { .. }), "{missing}");
    let broken = client
        .releases(Ecosystem::PyPi, "broken")
        .expect_err("malformed");
    assert!(broken.to_string().contains("/simple/broken/"), "{broken}");
    assert_eq!(
        std::fs::read_dir(cache.path())
            .map(|d| d.count())
            .unwrap_or(0),
        0,
        "a broken page is not cached"
    );
}

#[test]
fn server_down_is_a_clear_error_and_leaves_no_cache_file() {
    let url = {
        let server = server();
        server.url()
    };
    let cache = tempfile::tempdir().expect("tempdir");
    let client = IndexClient::new(IndexSettings {
        pypi: format!("{url}simple/"),
        cache_dir: Some(cache.path().to_path_buf()),
        ..IndexSettings::default()
    })
    .expect("client");
    let error = client
        .releases(Ecosystem::PyPi, "requests")
        .expect_err("down");
    assert!(matches!(error, IndexError::Unreachable { .. }), "{error}");
    assert!(
        error.to_string().starts_with(&format!(
            "cannot reach the package index at `{url}simple/requests/`"
        )),
        "{error}"
    );
    assert_eq!(
        std::fs::read_dir(cache.path())
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
}

#[test]
fn many_projects_with_bounded_concurrency_keep_their_order() {
    let server = server();
    let client = client(&server, None);
    let projects: Vec<(Ecosystem, String)> = ["six", "requests", "nope", "pyyaml", "pycrypto"]
        .iter()
        .map(|n| (Ecosystem::PyPi, (*n).to_owned()))
        .collect();
    let done = AtomicUsize::new(0);
    let results = releases_of_all(&client, &projects, 3, &|| {
        done.fetch_add(1, Ordering::Relaxed);
    });
    assert_eq!(done.load(Ordering::Relaxed), 5);
    let names: Vec<String> = results
        .iter()
        .map(|r| {
            r.as_ref()
                .map_or("error".to_owned(), |p| p.name.to_string())
        })
        .collect();
    assert_eq!(names, ["six", "requests", "error", "pyyaml", "pycrypto"]);
}

#[test]
fn go_module_paths_are_case_encoded() {
    assert_eq!(
        golang::escape("github.com/BurntSushi/toml"),
        "github.com/!burnt!sushi/toml"
    );
}

#[test]
fn cache_files_are_written_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = cache::Cache::new(dir.path().join("nested"));
    cache
        .write(
            "http://x/a",
            &Validators {
                etag: Some("\"e\"".to_owned()),
                last_modified: Some("Mon, 07 Dec 2026 07:00:00 GMT".to_owned()),
            },
            "body",
        )
        .expect("write");
    let entry = cache.read("http://x/a").expect("read back");
    assert_eq!(
        (
            entry.etag.as_deref(),
            entry.last_modified.as_deref(),
            entry.body.as_str()
        ),
        (Some("\"e\""), Some("Mon, 07 Dec 2026 07:00:00 GMT"), "body")
    );
    let names: Vec<String> = std::fs::read_dir(dir.path().join("nested"))
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1);
    assert!(!names[0].ends_with(".tmp"));
}

#[test]
fn a_body_past_the_limit_is_refused_and_not_cached() {
    let server = server();
    let cache = tempfile::tempdir().expect("tempdir");
    let client = IndexClient::new(IndexSettings {
        pypi: format!("{}simple/", server.url()),
        cache_dir: Some(cache.path().to_path_buf()),
        max_body_bytes: 1024,
        ..IndexSettings::default()
    })
    .expect("client");
    let error = client
        .releases(Ecosystem::PyPi, "requests")
        .expect_err("requests' page is larger than 1 KiB");
    assert!(
        matches!(error, IndexError::TooLarge { limit: 1024, .. }),
        "{error}"
    );
    assert_eq!(
        std::fs::read_dir(cache.path())
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
}
