//! The command line, as clap structs: every command, flag and its help text lives here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "runbom", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The local advisory store.
    #[command(subcommand)]
    Db(DbCommand),
    /// Policy over licences, bans, versions, advisories and freshness (`runbom.toml`).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Create an ed25519 key pair for signing attestations.
    Keygen(KeygenArgs),
    /// Sign a runtime report as an in-toto Statement in a DSSE envelope; `attest verify` checks one.
    Attest(AttestArgs),
    /// Version plumbing for scripts: sort versions, test range membership.
    #[command(subcommand)]
    Versions(VersionsCommand),
    /// List every distribution installed for a Python interpreter (read from `*.dist-info` /
    /// `*.egg-info`; no package is imported), or with PATHs, what each Go binary was built from.
    Inventory(InventoryArgs),
    /// For each component, the newest release on its package index (PyPI, Go proxy, RubyGems),
    /// both release dates, and whether the installed release was yanked.
    Outdated(OutdatedArgs),
    /// Run a command with the runtime hook and report which installed packages it really loaded.
    Run(RunArgs),
    /// Enable the runtime hook permanently in a virtualenv (for services runbom does not start).
    #[command(subcommand)]
    Hook(HookCommand),
    /// Report what running processes loaded, read from outside without stopping or changing
    /// them: CPython's module table from its memory, a Go binary's build information, any
    /// process's mapped shared objects. Needs the processes' user or `CAP_SYS_PTRACE`.
    Attach(AttachArgs),
    /// Scan this host's processes every interval and report each Python or Go process (again
    /// when its memory maps change) to a runbom server, as `runbom attach` reads them.
    Agent(AgentArgs),
    /// Installed distributions that no runtime report loaded, with their size and why each is
    /// installed.
    Unused(UnusedArgs),
    /// Hold the expected inventory (SBOM or lockfile) against runtime reports and what is
    /// installed: unexpected, drift, missing, unknown code, tampered files. Exit 0 clean,
    /// 1 findings, 2 usage or input error.
    Verify(VerifyArgs),
    /// Known vulnerabilities in installed, loaded or expected components, from the local advisory
    /// store, loaded ones first. Exit 0 clean, 1 findings (at or over `--fail-on`), 2 usage or
    /// input error.
    Audit(AuditArgs),
    /// Write an SBOM of what ran (CycloneDX 1.6 JSON or XML, SPDX 2.3 JSON): every distribution
    /// the runtime reports saw loaded, with PURLs, hashes, licences and the runtime evidence.
    Sbom(SbomArgs),
    /// Write VEX (CycloneDX 1.6 or OpenVEX) for the advisories that match what the runtime reports
    /// saw: `not_affected` only where reports over the observation window show the vulnerable
    /// code never loaded; `affected` where it was.
    Vex(VexArgs),
    /// Run the runbom server: ingest API, query API, live dashboard, webhook alerts.
    Serve(ServeArgs),
    /// Administer a server's store: tokens, teams, dashboard users.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Upload an expected inventory (SBOM or lockfile) for an application release to a server.
    Push(PushArgs),
    /// The whole loop on this machine in one command: a server on a temporary SQLite store, a
    /// storefront with old releases from PyPI running under the hook in prod and staging, its
    /// vulnerabilities ranked by use, its drift, the live dashboard and an alert arriving. Serves
    /// until Ctrl-C, then removes everything it made.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Port of the dashboard on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// The Python that builds the demo's virtualenvs (default: `python3` on PATH).
    #[arg(long, value_name = "PATH", default_value = "python3")]
    pub python: PathBuf,
    /// Work in this directory (kept afterwards) instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Do not ask PyPI: run the storefront on what `--python` already has installed.
    #[arg(long)]
    pub offline: bool,
    /// Seconds after the dashboard is up before one more advisory is imported (its alert follows).
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    pub late_advisory_after: u64,
    /// Stop after the late advisory's alert instead of serving until Ctrl-C (for scripts).
    #[arg(long)]
    pub exit_after_alert: bool,
}

/// Where the store is: a file path, `sqlite://PATH` or `postgres://…`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The store (default `$XDG_DATA_HOME/runbom/runbom.db`).
    #[arg(
        long = "db",
        visible_alias = "database",
        env = "RUNBOM_DB",
        value_name = "LOC"
    )]
    pub db: Option<String>,
}

#[derive(Debug, Args)]
pub struct SbomArgs {
    /// Runtime reports written by `runbom run` (repeatable): many runs, many instances.
    #[arg(long = "runtime", value_name = "REPORT", required = true, num_args = 1..)]
    pub runtime: Vec<PathBuf>,
    /// Read licences and archive hashes from this interpreter's installed distributions (default:
    /// the site directories the reports name, when they still exist here).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = SbomFormat::CyclonedxJson)]
    pub format: SbomFormat,
    /// Write the document here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// SBOM formats `runbom sbom` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SbomFormat {
    /// CycloneDX 1.6 JSON.
    CyclonedxJson,
    /// CycloneDX 1.6 XML.
    CyclonedxXml,
    /// SPDX 2.3 JSON.
    SpdxJson,
}

impl SbomFormat {
    /// The writer's stable name in `runbom_sources::write`.
    pub fn writer(self) -> &'static str {
        match self {
            Self::CyclonedxJson => "cyclonedx/json",
            Self::CyclonedxXml => "cyclonedx/xml",
            Self::SpdxJson => "spdx/json",
        }
    }
}

#[derive(Debug, Args)]
pub struct VexArgs {
    /// Runtime reports of the product (repeatable): many runs, many instances, many days.
    #[arg(
        long = "runtime",
        value_name = "REPORT",
        required_unless_present = "server",
        num_args = 1..
    )]
    pub runtime: Vec<PathBuf>,
    /// The shortest span the reports must cover before `not_affected` is claimed: a whole number
    /// and a unit, `s`, `m`, `h`, `d` or `w` (e.g. `7d`).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, required_unless_present = "server")]
    pub min_observation: Option<time::Duration>,
    /// The product's SBOM or lockfile: its pinned components get statements too (a version
    /// installed in no report is `component_not_present`).
    #[arg(long, value_name = "FILE")]
    pub expected: Option<PathBuf>,
    /// Fetch the VEX document of `--application` from this server instead (its live instances'
    /// evidence and every finding's triage analysis), with a token that reads the application.
    #[arg(
        long,
        value_name = "URL",
        requires = "application",
        conflicts_with_all = ["runtime", "min_observation", "expected"]
    )]
    pub server: Option<String>,
    /// The application whose VEX document `--server` serves.
    #[arg(long, alias = "app", value_name = "APP", requires = "server")]
    pub application: Option<String>,
    /// The token for `--server` (a token or a team token with the `read` scope).
    #[arg(
        long,
        env = "RUNBOM_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, value_enum, default_value_t = VexFormat::Cyclonedx)]
    pub format: VexFormat,
    /// Write the document here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// VEX formats `runbom vex` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VexFormat {
    /// CycloneDX 1.6 JSON with `vulnerabilities`.
    Cyclonedx,
    /// OpenVEX 0.2.0.
    Openvex,
}

impl VexFormat {
    /// The writer's stable name in `runbom_sources::write::vex`.
    pub fn writer(self) -> &'static str {
        match self {
            Self::Cyclonedx => "cyclonedx/vex",
            Self::Openvex => "openvex",
        }
    }
}

/// `90s`, `15m`, `24h`, `7d`, `2w`: a whole number and a unit.
fn parse_duration(text: &str) -> Result<time::Duration, String> {
    let invalid = || {
        format!("`{text}` is not a duration: a whole number and a unit (s, m, h, d, w), e.g. `7d`")
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().map_err(|_| invalid())?;
    let unit: i64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(invalid()),
    };
    number
        .checked_mul(unit)
        .map(time::Duration::seconds)
        .ok_or_else(invalid)
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Seconds without a report after which an instance is marked gone.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub gone_after: u64,
    /// Days a report id is kept, to answer a resend of it with "duplicate"; then forgotten.
    #[arg(long, default_value_t = 7, value_name = "DAYS")]
    pub keep_report_ids: u64,
    /// Days an instance marked gone is kept (with its components) after it was last seen.
    #[arg(long, default_value_t = 30, value_name = "DAYS")]
    pub keep_gone_instances: u64,
    /// Days of trend snapshots (one a minute) kept for the dashboard's charts.
    #[arg(long, default_value_t = 90, value_name = "DAYS")]
    pub keep_trends: u64,
    /// Days a delivered or failed webhook delivery stays in the delivery log.
    #[arg(long, default_value_t = 30, value_name = "DAYS")]
    pub keep_deliveries: u64,
    /// Largest accepted request body in bytes, before and after gzip decompression.
    #[arg(long, default_value_t = 8 * 1024 * 1024, value_name = "BYTES")]
    pub max_body: usize,
    /// Send alerts (runbom's JSON) to this URL; repeatable.
    #[arg(long, value_name = "URL")]
    pub webhook: Vec<String>,
    /// Send alerts in Slack's format (`{"text": …}`) to this URL; repeatable.
    #[arg(long, value_name = "URL")]
    pub slack_webhook: Vec<String>,
    /// Run `runbom db update` against the store at start and every SECONDS (0: never).
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    pub feed_interval: u64,
    #[command(flatten)]
    pub feed: FeedArgs,
    /// Ask the package indexes for the releases of running components at start and every
    /// SECONDS, opening `outdated` and `yanked` findings (0: never). The thresholds are
    /// `[freshness]`'s in the `--config` runbom.toml.
    #[arg(
        long,
        default_value_t = 3600,
        env = "RUNBOM_UPDATES_INTERVAL",
        value_name = "SECONDS"
    )]
    pub updates_interval: u64,
    #[command(flatten)]
    pub index: IndexArgs,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Server tokens: app tokens report for one application, team tokens act on a team's
    /// applications with the scopes they were given, admin tokens administer.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Teams, which own applications.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Dashboard users.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Create a team.
    Create(TeamCreateArgs),
    /// Make a team the owner of an application (its members and tokens then see it).
    Assign(TeamAssignArgs),
    /// List teams with their applications and members.
    List(TokenListArgs),
}

#[derive(Debug, Args)]
pub struct TeamCreateArgs {
    pub name: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct TeamAssignArgs {
    pub team: String,
    pub app: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a dashboard user; the password is read from stdin (first line).
    Create(UserCreateArgs),
}

#[derive(Debug, Args)]
pub struct UserCreateArgs {
    pub name: String,
    /// A team the user belongs to; repeatable.
    #[arg(long)]
    pub team: Vec<String>,
    /// The user sees every application and may administer.
    #[arg(long)]
    pub admin: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown once; only its hash is stored).
    Create(TokenCreateArgs),
    /// Revoke a token by id.
    Revoke(TokenRevokeArgs),
    /// List tokens (ids, applications, dates; never secrets).
    List(TokenListArgs),
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// The application the token acts on (default scopes: report,upload).
    #[arg(long, required_unless_present_any = ["admin", "team"], conflicts_with = "admin")]
    pub app: Option<String>,
    /// The team whose applications the token acts on (default scope: read); with `--app`, the
    /// team is made the application's owner and the token stays bound to the application.
    #[arg(long, conflicts_with = "admin")]
    pub team: Option<String>,
    /// What the token may do, comma-separated: read, report, upload, triage, admin.
    #[arg(long, value_name = "LIST")]
    pub scopes: Option<String>,
    /// Create an admin token instead (every application; tokens, teams, users, webhooks).
    #[arg(long)]
    pub admin: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    /// The token id (from `create` or `list`).
    pub id: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct TokenListArgs {
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// The expected inventory: CycloneDX, SPDX, requirements.txt or a lockfile.
    #[arg(long, value_name = "FILE")]
    pub expected: PathBuf,
    /// The application.
    #[arg(long)]
    pub app: String,
    /// The release the inventory describes.
    #[arg(long)]
    pub release: String,
    /// The server's base URL.
    #[arg(long, env = "RUNBOM_SERVER", value_name = "URL")]
    pub server: String,
    /// A token of the application (or an admin token).
    #[arg(
        long,
        env = "RUNBOM_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: String,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The application name recorded in the report (default: `RUNBOM_APP`).
    #[arg(long, env = "RUNBOM_APP")]
    pub app: Option<String>,
    /// The environment recorded in the report, e.g. `prod` (default: `RUNBOM_ENVIRONMENT`).
    #[arg(long, env = "RUNBOM_ENVIRONMENT")]
    pub environment: Option<String>,
    /// Write the runtime report (JSON, `runbom.runtime-report/v2`) here.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Map every process against this interpreter's installed distributions, whatever each ran
    /// in (default: each process's own environment, from the `sys.prefix` and `sys.path` its
    /// hook observed).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// While the command runs, make a new report every this many seconds (0: only at exit).
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub interval: u64,
    #[command(flatten)]
    pub sender: SenderArgs,
    #[command(flatten)]
    pub enforce: EnforceArgs,
    /// The command to run, after `--`.
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// The processes to read (exit 2 when one cannot be: gone, another user's, a kernel thread).
    #[arg(value_name = "PID", required_unless_present = "all")]
    pub pids: Vec<u32>,
    /// Every process of a language runbom reads that this user may read (others are skipped).
    #[arg(long, conflicts_with = "pids")]
    pub all: bool,
    /// The application name recorded in the reports (default: `RUNBOM_APP`).
    #[arg(long, env = "RUNBOM_APP")]
    pub app: Option<String>,
    /// The environment recorded in the reports, e.g. `prod` (default: `RUNBOM_ENVIRONMENT`).
    #[arg(long, env = "RUNBOM_ENVIRONMENT")]
    pub environment: Option<String>,
    /// Write the runtime report here (JSON, `runbom.runtime-report/v2`); with several processes
    /// this is a directory, holding `<pid>.json` for each.
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// The project configuration, for `[redact]` (default: `./runbom.toml` when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub sender: SenderArgs,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Scan every this long (`10s`, `1m`, or seconds).
    #[arg(long, default_value = "30s", value_parser = parse_interval)]
    pub interval: std::time::Duration,
    /// The application name recorded in the reports (default: `RUNBOM_APP`, else each
    /// process's executable name).
    #[arg(long, env = "RUNBOM_APP")]
    pub app: Option<String>,
    /// The environment recorded in the reports (default: `RUNBOM_ENVIRONMENT`).
    #[arg(long, env = "RUNBOM_ENVIRONMENT")]
    pub environment: Option<String>,
    /// Stop after this many scans (0: run until stopped).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub scans: u64,
    /// Report only processes whose executable or `argv[0]` is under one of these directories
    /// (repeatable; default: every process).
    #[arg(long, value_name = "DIR")]
    pub only: Vec<PathBuf>,
    /// The project configuration, for `[redact]` (default: `./runbom.toml` when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub sender: SenderArgs,
}

fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like `10s` or `1m`"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("`{text}`: the unit must be `ms`, `s`, `m` or `h`")),
    };
    if !(0.05..=86_400.0).contains(&seconds) {
        return Err(format!("`{text}` is not between 50ms and 24h"));
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

/// Enforcement at import time (docs/enforce.md): the expected inventory, and what of
/// `runbom.toml` applies.
#[derive(Debug, Args)]
pub struct EnforceArgs {
    /// Refuse imports of what this expected inventory (any format runbom reads: a lockfile,
    /// `pip freeze` output, an SBOM) does not list, at the listed versions, of banned
    /// distributions and of files whose content differs from RECORD.
    #[arg(long, value_name = "EXPECTED")]
    pub enforce: Option<PathBuf>,
    /// `enforce` refuses, `monitor` only reports what would be refused (default: `[enforce]
    /// mode` of runbom.toml, else `enforce`).
    #[arg(long, value_enum, requires = "enforce")]
    pub mode: Option<EnforceModeArg>,
    /// The project configuration: `[redact]`, and with `--enforce` `[enforce]` and `[bans]`
    /// (default: `./runbom.toml` when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnforceModeArg {
    Monitor,
    Enforce,
}

/// Where runtime reports are sent besides any file: a runbom server, through a spool on disk.
#[derive(Debug, Args)]
pub struct SenderArgs {
    /// Send each report to this runbom server (`POST /api/v1/reports`) from a background thread;
    /// reports wait in the spool while it cannot be reached.
    #[arg(long, env = "RUNBOM_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// An app token of the application (`runbom admin token create --app NAME`).
    #[arg(
        long,
        env = "RUNBOM_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// The spool root (default `$XDG_STATE_HOME/runbom/spool`); each server and token has its
    /// own directory in it.
    #[arg(long, env = "RUNBOM_SPOOL", value_name = "DIR")]
    pub spool: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Enable the hook in a virtualenv: `_runbom_hook.py` and a `.pth` file in its site-packages;
    /// with `--tcl DIR`, a wrapper of the Tcl shell that runs scripts under `runbom run`.
    Install(HookInstallArgs),
    /// Remove exactly what `runbom hook install` wrote.
    Uninstall(HookUninstallArgs),
    /// Build a report from a hook session directory (started by the installed hook itself).
    Flush(HookFlushArgs),
}

#[derive(Debug, Args)]
pub struct HookInstallArgs {
    /// The virtualenv (the directory holding `bin/python` and `pyvenv.cfg`).
    #[arg(long, required_unless_present_any = ["ruby", "perl", "tcl"], conflicts_with_all = ["ruby", "perl", "tcl"])]
    pub venv: Option<PathBuf>,
    /// Install the Ruby hook into DIR instead: writes `DIR/runbom_hook.rb` (and its enforcing
    /// half, `DIR/runbom_enforce.rb`) and `DIR/runbom.env` (`RUBYOPT`, `RUNBOM_SESSION_DIR`; with
    /// `--enforce`, the table `DIR/enforce.tsv` and its variables) and prints the lines that load
    /// it from a systemd unit.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["tcl", "perl"])]
    pub ruby: Option<PathBuf>,
    /// Install the Perl hook into DIR instead: writes `DIR/Runbom/Hook.pm` and `DIR/runbom.env`
    /// (`PERL5LIB`, `PERL5OPT`, `RUNBOM_SESSION_DIR`; with `--enforce`, the table
    /// `DIR/enforce.tsv` and its variables) and prints the lines that load it from a systemd unit.
    #[arg(long, value_name = "DIR", conflicts_with = "tcl")]
    pub perl: Option<PathBuf>,
    /// Instead, write a wrapper of the Tcl shell into this directory (`DIR/tclsh8.6` …) that
    /// runs every script under `runbom run`: start a service's scripts with it.
    #[arg(long, value_name = "DIR", conflicts_with = "venv")]
    pub tcl: Option<PathBuf>,
    /// The Tcl shell the `--tcl` wrapper runs (found on `PATH` now, kept as an absolute path).
    #[arg(long, value_name = "TCLSH", default_value = "tclsh")]
    pub tclsh: PathBuf,
    /// The application name recorded in reports (`RUNBOM_APP` overrides it at run time).
    #[arg(long)]
    pub app: Option<String>,
    /// The environment recorded in reports (`RUNBOM_ENVIRONMENT` overrides it at run time).
    #[arg(long)]
    pub environment: Option<String>,
    /// Where reports are written (`RUNBOM_REPORT_DIR` overrides it at run time).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Also send reports to this runbom server (`RUNBOM_SERVER` overrides it at run time).
    #[arg(long, value_name = "URL", requires = "token")]
    pub server: Option<String>,
    /// The server's app token, kept in the hook's settings file (`RUNBOM_TOKEN` overrides it).
    #[arg(long, value_name = "TOKEN", requires = "server")]
    pub token: Option<String>,
    /// The spool root for reports the server has not taken yet (`RUNBOM_SPOOL` overrides it).
    #[arg(long, value_name = "DIR")]
    pub spool: Option<PathBuf>,
    #[command(flatten)]
    pub enforce: EnforceArgs,
}

#[derive(Debug, Args)]
pub struct HookUninstallArgs {
    /// The virtualenv the hook was installed into.
    #[arg(long)]
    pub venv: PathBuf,
}

#[derive(Debug, Args)]
pub struct HookFlushArgs {
    /// The session directory the hook writes its observations into.
    #[arg(long, value_name = "DIR")]
    pub session: PathBuf,
    /// Where the report is written (`<session id>.json`).
    #[arg(long, value_name = "DIR")]
    pub report_dir: PathBuf,
    #[arg(long)]
    pub app: Option<String>,
    #[arg(long)]
    pub environment: Option<String>,
    /// The session's first process has exited: mark the report complete.
    #[arg(long)]
    pub complete: bool,
    /// The project configuration, for `[redact]` (default: `./runbom.toml` when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub sender: SenderArgs,
}

#[derive(Debug, Args)]
pub struct UnusedArgs {
    /// Runtime reports (JSON) to merge: many runs, many instances.
    #[arg(long = "runtime", value_name = "REPORT", required = true, num_args = 1..)]
    pub reports: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = UnusedFormat::Table)]
    pub format: UnusedFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UnusedFormat {
    Table,
    Json,
    /// A pruned, pinned requirements file: what was loaded anywhere plus what that needs by
    /// `Requires-Dist`, each removed distribution as a comment saying why.
    Requirements,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Check that OSV JSON advisory files parse; name each malformed one with its line and column.
    Check {
        /// OSV JSON files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Import advisories into the store: OSV JSON files, PyPA advisory-database YAML,
    /// ruby-advisory-db YAML, directory trees of them and zip archives (OSV's bulk exports).
    /// Re-import is idempotent; newer `modified` wins. Malformed records are named and skipped.
    Import(DbImportArgs),
    /// Download the configured advisory sources (default: OSV's bulk exports for PyPI, Go and
    /// RubyGems) with conditional requests, and import what changed.
    Update(DbUpdateArgs),
    /// The store's advisory sources: counts per ecosystem, last import and its age.
    Status(DbStatusArgs),
}

#[derive(Debug, Args)]
pub struct DbImportArgs {
    /// Files, directories or zip archives of advisories; the format of each file is detected.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The source name the records are kept under (default: each path's file name without
    /// extension).
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct DbUpdateArgs {
    #[command(flatten)]
    pub feed: FeedArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Which advisory sources `runbom db update` and the server's feed poller download.
#[derive(Debug, Args)]
pub struct FeedArgs {
    /// Where OSV's bulk exports are: `<URL>/<Ecosystem>/all.zip` is downloaded (default: the
    /// `[advisories] osv-url` of `runbom.toml`, else osv.dev's bucket).
    #[arg(long, alias = "feed-url", env = "RUNBOM_OSV_URL", value_name = "URL")]
    pub osv_url: Option<String>,
    /// An OSV ecosystem to download (repeatable; default: PyPI, Go, RubyGems).
    #[arg(long = "ecosystem", value_name = "ECOSYSTEM")]
    pub ecosystems: Vec<String>,
    /// The project configuration (default: `./runbom.toml` when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DbStatusArgs {
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check that a `runbom.toml` is valid; every problem is shown with its line and column.
    Lint(PolicyLintArgs),
    /// Hold components (installed, loaded at run time, or expected) to the policy: exit 0 clean,
    /// 1 on violations (errors; warnings alone pass), 2 on bad input.
    Check(PolicyCheckArgs),
}

#[derive(Debug, Args)]
pub struct PolicyCheckArgs {
    /// The policy file.
    #[arg(long, default_value = "runbom.toml")]
    pub config: PathBuf,
    /// Check what is installed for this interpreter. Without `--runtime` or `--expected`,
    /// `python3` is read.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// An extra site directory to read with `--python` (repeatable).
    #[arg(long = "path", value_name = "DIR")]
    pub paths: Vec<PathBuf>,
    /// Runtime reports written by `runbom run` (repeatable): findings say whether the component
    /// was loaded.
    #[arg(long = "runtime", value_name = "REPORT")]
    pub runtime: Vec<PathBuf>,
    /// Expected inventories (repeatable): SBOMs and lockfiles of any format `runbom verify
    /// --expected` reads.
    #[arg(long = "expected", value_name = "SBOM_OR_LOCKFILE")]
    pub expected: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = FindingsFormat::Table)]
    pub format: FindingsFormat,
    /// Do not ask the package index: the `[freshness]` rules are skipped.
    #[arg(long)]
    pub offline: bool,
    /// The PEP 691 simple index the `[freshness]` rules ask about PyPI packages.
    #[arg(long, value_name = "URL", env = "RUNBOM_INDEX_URL", default_value = runbom_sources::index::PYPI_SIMPLE)]
    pub index_url: String,
}

#[derive(Debug, Args)]
pub struct OutdatedArgs {
    /// The interpreter whose installed distributions to look up. Without `--runtime` or
    /// `--expected`, `python3` is read.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// An extra site directory to read with `--python` (repeatable).
    #[arg(long = "path", value_name = "DIR")]
    pub paths: Vec<PathBuf>,
    /// Runtime reports written by `runbom run` (repeatable).
    #[arg(long = "runtime", value_name = "REPORT")]
    pub runtime: Vec<PathBuf>,
    /// Expected inventories (repeatable): SBOMs and lockfiles.
    #[arg(long = "expected", value_name = "SBOM_OR_LOCKFILE")]
    pub expected: Vec<PathBuf>,
    #[command(flatten)]
    pub index: IndexArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// The package indexes `runbom outdated` and the server's update tracking ask.
#[derive(Debug, Args)]
pub struct IndexArgs {
    /// The PEP 691 simple index for PyPI packages.
    #[arg(long, value_name = "URL", env = "RUNBOM_INDEX_URL", default_value = runbom_sources::index::PYPI_SIMPLE)]
    pub index_url: String,
    /// The Go module proxy for Go modules.
    #[arg(long, value_name = "URL", env = "RUNBOM_GO_PROXY", default_value = runbom_sources::index::GO_PROXY)]
    pub go_proxy: String,
    /// The RubyGems server for gems.
    #[arg(long, value_name = "URL", env = "RUNBOM_RUBYGEMS_URL", default_value = runbom_sources::index::RUBYGEMS)]
    pub rubygems_url: String,
}

impl IndexArgs {
    /// These indexes, with the default cache and body limit.
    pub fn settings(&self) -> runbom_sources::index::IndexSettings {
        runbom_sources::index::IndexSettings {
            pypi: self.index_url.clone(),
            go_proxy: self.go_proxy.clone(),
            rubygems: self.rubygems_url.clone(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct PolicyLintArgs {
    /// The policy file.
    #[arg(long, default_value = "runbom.toml")]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the private key (PKCS#8 PEM, mode 0600); the public key goes to `KEY.pub`.
    #[arg(long, value_name = "KEY")]
    pub out: PathBuf,
    /// Overwrite existing key files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AttestArgs {
    #[command(subcommand)]
    pub command: Option<AttestCommand>,
    /// The runtime report to attest (JSON); its sha256 is the statement's subject.
    #[arg(long, value_name = "REPORT", required = true)]
    pub runtime: Option<PathBuf>,
    /// The private key from `runbom keygen`.
    #[arg(long, value_name = "KEY", required = true)]
    pub key: Option<PathBuf>,
    /// What the statement's predicate holds.
    #[arg(long, value_enum, default_value_t = Predicate::Report)]
    pub predicate: Predicate,
    /// Write the envelope here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Predicate {
    /// The runtime report itself.
    Report,
    /// The SBOM of what ran (CycloneDX 1.6 JSON, as `runbom sbom` writes it).
    Sbom,
}

#[derive(Debug, Subcommand)]
pub enum AttestCommand {
    /// Check an envelope's signature with a public key: exit 0 valid, 1 invalid, 2 error.
    Verify(AttestVerifyArgs),
}

#[derive(Debug, Args)]
pub struct AttestVerifyArgs {
    /// The public key (`KEY.pub` from `runbom keygen`).
    #[arg(long, value_name = "PUB")]
    pub key: PathBuf,
    /// The DSSE envelope.
    pub file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum VersionsCommand {
    /// Read versions (one per line) on stdin and print them sorted, oldest first.
    Sort(VersionsSortArgs),
    /// Exit 0 if VERSION is in the range, 1 if not, 2 on bad input; print why.
    Contains(VersionsContainsArgs),
}

#[derive(Debug, Args)]
pub struct VersionsSortArgs {
    /// Ecosystem whose ordering rules apply (PyPI, Go, npm, crates.io, RubyGems, CPAN, Tcl).
    #[arg(long, short)]
    pub ecosystem: String,
    /// `text`: one version per line; `json`: a JSON array of strings.
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlumbingFormat,
}

/// Output of the plumbing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlumbingFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct VersionsContainsArgs {
    /// Ecosystem whose version rules apply (PyPI, Go, npm, crates.io, RubyGems, CPAN, Tcl).
    #[arg(long, short)]
    pub ecosystem: String,
    /// An OSV range as JSON (`{"type":"ECOSYSTEM","events":[...]}`), a JSON array of them, or
    /// an OSV `affected` object with `ranges`/`versions`; or, for PyPI, a PEP 440 specifier set
    /// such as `>=1.0,<2`; or, for RubyGems, a requirement such as `~> 1.2, >= 1.2.3`; or, for
    /// Tcl, `package vsatisfies` requirements such as `8.5 9-` (any one is enough).
    #[arg(long, short)]
    pub range: String,
    /// The version to test.
    #[arg(value_name = "VERSION")]
    pub candidate: String,
    /// `text`: the reasons, one per line; `json`: an object with `contained`, `reasons` and,
    /// for OSV ranges, the `verdict` (matches and skipped ranges).
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlumbingFormat,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Go executables (ELF, Mach-O, PE) or directories of them, walked: their build information,
    /// as `go version -m` prints it (table) or as `runbom.go-inventory/v1` (JSON).
    #[arg(value_name = "PATH", conflicts_with_all = ["python", "paths"])]
    pub binaries: Vec<PathBuf>,
    /// The Perl distributions installed for PERL (default `perl`): `.packlist`, cpanm's
    /// `.meta`, `perllocal.pod` under its `@INC`, and Debian's package database.
    #[arg(long, value_name = "PERL", num_args = 0..=1, default_missing_value = "perl",
          conflicts_with_all = ["python", "paths", "binaries"])]
    pub perl: Option<PathBuf>,
    /// Inventory the gems of this Ruby's `Gem.path` instead (default `ruby`): default gems and
    /// Debian's `rubygems-integration` directories included (JSON: `runbom.ruby-inventory/v1`).
    #[arg(long, value_name = "RUBY", num_args = 0..=1, default_missing_value = "ruby",
          conflicts_with_all = ["binaries", "python", "paths"])]
    pub ruby: Option<PathBuf>,
    /// The Python interpreter to inventory.
    #[arg(long, default_value = "python3")]
    pub python: PathBuf,
    /// Inventory the Tcl packages this Tcl shell finds instead (`pkgIndex.tcl` along
    /// `auto_path`, `.tm` modules along `tcl::tm::path`); `tclsh` when no value is given.
    #[arg(
        long,
        value_name = "TCLSH",
        num_args = 0..=1,
        default_missing_value = "tclsh",
        conflicts_with_all = ["binaries", "python", "paths"]
    )]
    pub tclsh: Option<PathBuf>,
    /// An extra site directory to read (repeatable), after the interpreter's `sys.path`.
    #[arg(long = "path", value_name = "DIR")]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The expected inventory: an SBOM (CycloneDX JSON/XML, SPDX 2.3 JSON) or a lockfile of a
    /// language runbom reads (requirements.txt, uv.lock, poetry.lock, Pipfile.lock, pylock.toml,
    /// go.mod, Gemfile.lock, cpanfile.snapshot, …) or a Go binary, told apart by content whatever
    /// the file's name; docs/reference/verify.md lists every format.
    #[arg(long, value_name = "FILE")]
    pub expected: PathBuf,
    /// Read the expected inventory as this format instead of telling it by content (e.g.
    /// cyclonedx/json, spdx/json, python/requirements, go/go-mod, ruby/gemfile-lock; an unknown name lists them).
    #[arg(long, value_name = "FORMAT")]
    pub expected_format: Option<String>,
    /// Runtime reports written by `runbom run` (repeatable).
    #[arg(long = "runtime", value_name = "REPORT")]
    pub runtime: Vec<PathBuf>,
    /// Also read what is installed for this interpreter, and hash its files against RECORD.
    /// Without `--runtime`, `python3` is read.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// A directory of first-party code: modules loaded from it are not `unknown-code`
    /// (repeatable; the directory of the program's `__main__` always is).
    #[arg(long = "first-party", value_name = "DIR")]
    pub first_party: Vec<PathBuf>,
    /// A distribution never reported as unexpected, drifted or missing (repeatable).
    #[arg(long = "ignore", value_name = "NAME")]
    pub ignore: Vec<String>,
    /// Report unlisted installer tooling (pip, setuptools, wheel, distribute) as `unexpected`;
    /// by default it is a `tooling` note, as `pip freeze` leaves it out (also
    /// `[verify] tooling = "strict"` in runbom.toml).
    #[arg(long)]
    pub strict_tooling: bool,
    /// The project configuration (default: `./runbom.toml` when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = FindingsFormat::Table)]
    pub format: FindingsFormat,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Audit what is installed for this interpreter (its `sys.path`, plus any `--path`).
    /// Without `--python`, `--path`, `--runtime` or `--expected`, `python3` is read.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// A site directory to read (repeatable); alone, it is read without asking an interpreter.
    #[arg(long = "path", value_name = "DIR")]
    pub paths: Vec<PathBuf>,
    /// Runtime reports written by `runbom run` (repeatable): findings say whether the component,
    /// and the code the advisory names, was loaded.
    #[arg(long = "runtime", value_name = "REPORT", num_args = 1..)]
    pub runtime: Vec<PathBuf>,
    /// Expected inventories (repeatable): SBOMs and lockfiles of any format `runbom verify
    /// --expected` reads; only exact pins can be audited.
    #[arg(long = "expected", value_name = "SBOM_OR_LOCKFILE")]
    pub expected: Vec<PathBuf>,
    /// Binaries whose file is what runs (Go; repeatable): every module is audited, and each
    /// finding says whether the vulnerable symbols are linked in.
    #[arg(long = "binary", value_name = "FILE")]
    pub binaries: Vec<PathBuf>,
    /// Exit 1 only for findings at or above this severity (none, low, medium, high, critical);
    /// a finding of unknown severity counts. Without it, any finding exits 1.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,
    /// The project configuration: `[advisories]` severity threshold and ignores (default:
    /// `./runbom.toml` when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = FindingsFormat::Table)]
    pub format: FindingsFormat,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Output of commands that report findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FindingsFormat {
    /// Aligned columns for a terminal.
    Table,
    /// Versioned JSON (`runbom.verify/v1`, `runbom.policy-check/v1`, `runbom.audit/v1`).
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
}
