//! A real SMTP server on loopback for the newsletter tests: `fixtures/smtp_sink.py`
//! (PyPI's `aiosmtpd`), which parses every message it accepts with Python's email
//! package and writes what it found as JSON. In CI the module must be installed; on a
//! developer's machine without it the tests say so and skip.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use broadsheet::config::RawEmail;
use serde::Deserialize;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/smtp_sink.py")
}

/// Whether python3 with aiosmtpd is here; in CI it must be.
pub fn available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs python3 with aiosmtpd (pip install aiosmtpd)"
        );
        eprintln!("skipped: python3 with aiosmtpd is not installed (pip install aiosmtpd)");
    }
    ok
}

/// One message as the sink parsed it.
#[derive(Debug, Clone, Deserialize)]
pub struct Received {
    pub rcpt: Vec<String>,
    pub to: String,
    pub subject: String,
    pub list_unsubscribe: Option<String>,
    pub list_unsubscribe_post: Option<String>,
    pub content_type: String,
    pub text: Option<String>,
    pub html: Option<String>,
}

/// A running sink; stopped when dropped.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl SmtpSink {
    /// Starts a sink writing into `dir`, on `port` (0: any free one), refusing every
    /// recipient after `refuse_after` for now (451).
    pub fn start(dir: &Path, port: u16, refuse_after: Option<u32>) -> SmtpSink {
        let mut command = Command::new("python3");
        command
            .arg(script())
            .arg("--dir")
            .arg(dir)
            .args(["--port", &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(n) = refuse_after {
            command.args(["--refuse-after", &n.to_string()]);
        }
        let mut child = command.spawn().expect("start the SMTP sink");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the sink says where it listens");
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the sink did not start: {line:?}"));
        SmtpSink {
            child,
            port,
            dir: dir.to_owned(),
        }
    }

    /// The `[email]` config that sends through this sink.
    pub fn email_config(&self) -> RawEmail {
        RawEmail {
            from: Some("The Harbour Gazette <desk@news.example.com>".into()),
            smtp_host: Some("127.0.0.1".into()),
            smtp_port: Some(self.port),
            smtp_tls: Some("none".into()),
            ..RawEmail::default()
        }
    }

    /// Every message received so far.
    pub fn received(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .map(|e| e.expect("entry").path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .map(|p| {
                serde_json::from_slice(&std::fs::read(p).expect("read message"))
                    .expect("a message record")
            })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
