//! A property-based run of the PyPI tool `schemathesis` against the public API over a
//! real socket: generated requests (valid and invalid) for every public operation of
//! the OpenAPI document must never get a 5xx, and every documented answer must match
//! its schema. `.ci/run` installs schemathesis; the run is bounded (a few examples per
//! operation) to keep it near a minute.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use broadsheet::config::RawApi;
use broadsheet_domain::ContentKind;

use crate::util::{TestApp, article};

fn schemathesis_available() -> bool {
    let ok = Command::new("schemathesis")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs schemathesis (pip install schemathesis, as .ci/run does)"
        );
        eprintln!("skipped: schemathesis is not installed (pip install schemathesis)");
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_schema_break() {
    if !schemathesis_available() {
        return;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let app = TestApp::builder()
        .base_url(&base)
        // The run sends hundreds of requests from one address.
        .api(RawApi {
            requests_per_minute_per_address: Some(1_000_000),
            ..RawApi::default()
        })
        .build()
        .await;
    let ada = app.user("Ada Lovelace").await;
    for n in 1..=3 {
        app.publish(
            &ada,
            &format!("Story {n}"),
            "Words about the harbour.",
            &["City Hall"],
        )
        .await;
    }
    let mut about = article(&ada, "About", "Who we are.", &[]);
    about.kind = ContentKind::Page;
    app.insert(about).await;
    let server = tokio::spawn(
        axum::serve(
            listener,
            app.router()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .into_future(),
    );
    // Schemathesis keeps a cache of what it found in its working directory.
    let scratch = tempfile::tempdir().unwrap();
    let output = tokio::time::timeout(
        Duration::from_secs(170),
        tokio::process::Command::new("schemathesis")
            .current_dir(scratch.path())
            .args(["run", &format!("{base}/api/v1/openapi.json")])
            .args(["--url", &base])
            // Public operations only; the live stream never ends by design.
            .args(["--exclude-tag", "manage"])
            .args(["--exclude-path", "/api/v1/articles/{id}/live"])
            .args([
                "--checks",
                "not_a_server_error,response_schema_conformance,content_type_conformance",
            ])
            .args(["--phases", "examples,coverage,fuzzing"])
            .args(["--max-examples", "25", "--seed", "7", "--workers", "1"])
            .args(["--request-timeout", "10", "--no-color"])
            .args(["--suppress-health-check", "all"])
            .output(),
    )
    .await
    .expect("schemathesis finished in time")
    .expect("schemathesis runs");
    server.abort();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
