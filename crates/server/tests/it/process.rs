//! Real `broadsheet` processes for tests that need more than one: a server and the CLI
//! on one data directory, or several nodes on one PostgreSQL database.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_broadsheet");

/// The public address every test node is given, so pages are comparable byte for byte.
pub const BASE_URL: &str = "http://site.test";

/// One site: a data directory and, optionally, a database URL.
#[derive(Clone)]
pub struct Site {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    /// A config file every command of this site reads.
    pub config: Option<PathBuf>,
}

impl Site {
    pub fn sqlite(data_dir: &Path) -> Site {
        Site {
            data_dir: data_dir.to_owned(),
            database_url: None,
            config: None,
        }
    }

    pub fn with_database(data_dir: &Path, url: &str) -> Site {
        Site {
            data_dir: data_dir.to_owned(),
            database_url: Some(url.to_owned()),
            config: None,
        }
    }

    /// The same site with a config file written from `toml`.
    pub fn with_config_text(mut self, toml: &str) -> Site {
        std::fs::create_dir_all(&self.data_dir).expect("data dir");
        let path = self.data_dir.join("broadsheet.toml");
        std::fs::write(&path, toml).expect("write the config file");
        self.config = Some(path);
        self
    }

    fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        command.arg("--data-dir").arg(&self.data_dir);
        match &self.config {
            Some(path) => command.env("BROADSHEET_CONFIG", path),
            None => command.env_remove("BROADSHEET_CONFIG"),
        };
        command.env("BROADSHEET_PASSWORD", "correct horse battery");
        match &self.database_url {
            Some(url) => command.env("BROADSHEET_DATABASE_URL", url),
            None => command.env_remove("BROADSHEET_DATABASE_URL"),
        };
        command
    }

    /// Runs one CLI command to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .output()
            .expect("the broadsheet binary runs")
    }

    /// Runs one CLI command that must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "broadsheet {args:?} failed: {}",
            stderr(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts `broadsheet serve` on a free port without waiting for it.
    pub fn spawn(&self) -> Starting {
        let mut child = self
            .command()
            .args(["serve", "--listen", "127.0.0.1:0", "--base-url", BASE_URL])
            .env("BROADSHEET_LOG", "info")
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        // The server logs its bound address once it accepts connections: wait for that
        // line instead of sleeping. Everything it logs is kept for failure messages.
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().expect("stderr is piped");
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let addr = line
                    .split("listening on ")
                    .nth(1)
                    .map(|a| a.trim_end_matches(')').to_owned());
                let _ = tx.send((line, addr));
            }
        });
        Starting {
            child: Some(child),
            lines: rx,
        }
    }

    /// Starts `broadsheet serve` and waits until it accepts connections.
    pub fn serve(&self) -> Server {
        self.spawn().ready()
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A server process that has not reported its address yet.
pub struct Starting {
    /// Taken by `ready`, which hands it to the `Server`; killed on drop otherwise.
    child: Option<Child>,
    lines: mpsc::Receiver<(String, Option<String>)>,
}

impl Starting {
    pub fn ready(mut self) -> Server {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut log = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((_, Some(addr))) => {
                    return Server {
                        child: self.child.take().expect("ready runs once"),
                        base: format!("http://{addr}"),
                        startup_log: log,
                        client: reqwest::Client::builder()
                            .redirect(reqwest::redirect::Policy::none())
                            .build()
                            .expect("client"),
                    };
                }
                Ok((line, None)) => {
                    log.push_str(&line);
                    log.push('\n');
                }
                Err(_) => {
                    let status = self
                        .child
                        .as_mut()
                        .and_then(|c| c.try_wait().ok().flatten());
                    panic!("server did not start (exit: {status:?}); it said:\n{log}");
                }
            }
        }
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A running `broadsheet serve`, killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    /// What the server logged before it was ready.
    pub startup_log: String,
    client: reqwest::Client,
}

/// A response as a test looks at it.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Server {
    pub async fn get(&self, path: &str) -> Page {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        Page {
            status: res.status().as_u16(),
            location: res
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(str::to_owned),
            body: res.text().await.expect("body"),
        }
    }

    /// Polls `path` until `check` holds, for at most `within`; returns how long it took.
    pub async fn wait_for(
        &self,
        path: &str,
        within: Duration,
        check: impl Fn(&Page) -> bool,
    ) -> Duration {
        let start = Instant::now();
        loop {
            let page = self.get(path).await;
            if check(&page) {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < within,
                "{}{path} did not change within {within:?}; last answer {}:\n{}",
                self.base,
                page.status,
                page.body
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Server {
    /// Asks the server to stop as an operator's SIGTERM does (a graceful shutdown) and
    /// waits for it to exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let signalled = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(signalled.success(), "the server was already gone");
        self.child.wait().expect("the server exits")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
