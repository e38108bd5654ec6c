//! The storefront instances `runbom demo` runs: one `runbom run` per environment, reporting to
//! the demo's server. Each storefront stays up until its standard input closes, so the
//! instances end with the demo however the demo ends, even when it is killed.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use super::assets::APP;
use super::environments::Environment;

/// Seconds between the reports of a running instance (its heartbeat).
const REPORT_EVERY: &str = "2";

struct Service {
    name: &'static str,
    child: Child,
    /// Closing it tells the storefront to exit.
    stdin: Option<ChildStdin>,
}

pub struct Services {
    services: Vec<Service>,
    logs: PathBuf,
}

impl Services {
    pub fn start(
        environments: &[Environment],
        storefront: &Path,
        dir: &Path,
        server: &str,
        token: &str,
    ) -> anyhow::Result<Services> {
        let runbom = std::env::current_exe().context("cannot find runbom's own executable")?;
        let logs = dir.join("logs");
        std::fs::create_dir_all(&logs)
            .with_context(|| format!("cannot create `{}`", logs.display()))?;
        let mut services = Services {
            services: Vec::new(),
            logs,
        };
        for env in environments {
            let service = services.spawn(&runbom, env, storefront, dir, server, token)?;
            services.services.push(service);
        }
        Ok(services)
    }

    fn spawn(
        &self,
        runbom: &Path,
        env: &Environment,
        storefront: &Path,
        dir: &Path,
        server: &str,
        token: &str,
    ) -> anyhow::Result<Service> {
        let log = |stream: &str| -> anyhow::Result<File> {
            let path = self.logs.join(format!("{}.{stream}", env.name));
            File::create(&path).with_context(|| format!("cannot create `{}`", path.display()))
        };
        let mut child = Command::new(runbom)
            .args(["run", "--app", APP, "--environment", env.name])
            .args(["--server", server, "--interval", REPORT_EVERY])
            .arg("--spool")
            .arg(dir.join(format!("spool-{}", env.name)))
            .arg("--python")
            .arg(&env.python)
            .arg("--")
            .arg(&env.python)
            .arg(storefront)
            .env("RUNBOM_TOKEN", token)
            .env("RUNBOM_FLUSH_SECONDS", "1")
            .env_remove("RUNBOM_SESSION_DIR")
            .env_remove("RUNBOM_DISABLE")
            .stdin(Stdio::piped())
            .stdout(log("stdout")?)
            .stderr(log("stderr")?)
            .spawn()
            .with_context(|| format!("cannot start the {} storefront", env.name))?;
        let stdin = child.stdin.take();
        Ok(Service {
            name: env.name,
            child,
            stdin,
        })
    }

    /// An error naming the instance and its log when one has already exited.
    pub fn check(&mut self) -> anyhow::Result<()> {
        for service in &mut self.services {
            if let Some(status) = service.child.try_wait()? {
                anyhow::bail!(
                    "the {} storefront exited early ({status}); see {}",
                    service.name,
                    self.logs.join(format!("{}.stderr", service.name)).display()
                );
            }
        }
        Ok(())
    }

    pub fn logs(&self) -> &Path {
        &self.logs
    }

    /// Closes each storefront's input (it exits, its last report goes out) and waits a while;
    /// kills what is still running after that.
    pub fn stop(&mut self) {
        for service in &mut self.services {
            service.stdin.take();
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        for service in &mut self.services {
            while std::time::Instant::now() < deadline {
                match service.child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
            if !matches!(service.child.try_wait(), Ok(Some(_))) {
                let _ = service.child.kill();
                let _ = service.child.wait();
            }
        }
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        self.stop();
    }
}
