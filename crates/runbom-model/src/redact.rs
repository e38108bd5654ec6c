//! Secrets out of command lines: what a report's `command` and each process's `argv` lose before a
//! report is written or sent, and again on the server's ingest (a hook of an older runbom, or
//! another sender, may send argv as the program got it). Values that look like secrets become
//! `***`: `--password=…`, `--token …` and other options with secret-like names, `-pSECRET` of tools
//! known to take passwords that way (mysql and friends), credentials in URLs
//! (`scheme://user:pass@host`), `KEY=…` pairs with secret-like names and `Authorization:` header
//! values; a [`Redactor`] adds a project's own names and patterns (`[redact]` of `runbom.toml`).
//!
//! Trap: an option taking its value in the next argument (`--token abc`) redacts that next
//! argument, whatever it looks like.

use crate::RuntimeReport;

/// What replaces a secret.
pub const REDACTED: &str = "***";

/// Names whose values are secrets (matched case-insensitively as a part of the name).
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api-key",
    "api_key",
    "auth",
    "credential",
    "private-key",
    "private_key",
    "access-key",
    "access_key",
];

/// Tools that take a password as `-pSECRET`.
const DASH_P_TOOLS: &[&str] = &[
    "mysql",
    "mysqldump",
    "mysqladmin",
    "mariadb",
    "mariadb-dump",
];

/// A project's additions to the built-in rules, and the rules applied to reports.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// More secret-like names (lowercase), matched as a part of an option or variable name.
    names: Vec<String>,
    /// Text that is a secret wherever it appears in an argument.
    patterns: Vec<regex::Regex>,
}

/// A `[redact]` pattern that is not a regular expression.
#[derive(Debug, thiserror::Error)]
#[error("`{pattern}` is not a regular expression: {reason}")]
pub struct BadPattern {
    pub pattern: String,
    pub reason: String,
}

impl Redactor {
    /// The built-in rules plus `names` (secret-like option and variable names) and `patterns`
    /// (regular expressions whose every match is a secret).
    pub fn new(names: &[String], patterns: &[String]) -> Result<Self, BadPattern> {
        let patterns = patterns
            .iter()
            .map(|pattern| {
                regex::Regex::new(pattern).map_err(|e| BadPattern {
                    pattern: pattern.clone(),
                    // The last line of regex's caret display says what is wrong.
                    reason: e
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or_default()
                        .trim_start_matches("error: ")
                        .to_owned(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            names: names.iter().map(|n| n.to_ascii_lowercase()).collect(),
            patterns,
        })
    }

    /// Redacts the report's command and every process's argv, in place.
    pub fn redact_report(&self, report: &mut RuntimeReport) {
        self.redact_argv(&mut report.command);
        for process in &mut report.processes {
            self.redact_argv(&mut process.argv);
        }
    }

    fn secret_name(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        SECRET_WORDS.iter().any(|word| name.contains(word))
            || self.names.iter().any(|word| name.contains(word.as_str()))
    }

    fn redact_patterns(&self, arg: &mut String) {
        for pattern in &self.patterns {
            if pattern.is_match(arg) {
                *arg = pattern.replace_all(arg, REDACTED).into_owned();
            }
        }
    }
}

/// `scheme://user:pass@host…` with the password replaced; `None` when there is none.
fn redact_url(arg: &str) -> Option<String> {
    let scheme_end = arg.find("://")? + 3;
    let rest = &arg[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    let colon = rest[..at].find(':')?;
    Some(format!(
        "{}{}{REDACTED}{}",
        &arg[..scheme_end],
        &rest[..=colon],
        &rest[at..]
    ))
}

impl Redactor {
    /// Redacts secrets in one command line, in place.
    pub fn redact_argv(&self, argv: &mut [String]) {
        let tool = argv
            .first()
            .map(|a| a.rsplit('/').next().unwrap_or(a).to_owned())
            .unwrap_or_default();
        let dash_p = DASH_P_TOOLS.contains(&tool.as_str());
        let mut next_is_secret = false;
        for arg in argv.iter_mut() {
            if next_is_secret {
                next_is_secret = false;
                *arg = REDACTED.to_owned();
                continue;
            }
            self.redact_patterns(arg);
            if let Some(redacted) = redact_url(arg) {
                *arg = redacted;
            }
            let lower = arg.to_ascii_lowercase();
            if lower.starts_with("authorization:") {
                *arg = format!("{}: {REDACTED}", &arg[..13]);
                continue;
            }
            if let Some(option) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) {
                match option.split_once('=') {
                    Some((name, _)) if self.secret_name(name) => {
                        *arg = format!(
                            "{}={REDACTED}",
                            &arg[..arg.len() - option.len() + name.len()]
                        );
                    }
                    None if self.secret_name(option) => next_is_secret = true,
                    None if dash_p
                        && arg.starts_with("-p")
                        && arg.len() > 2
                        && !arg.starts_with("--") =>
                    {
                        *arg = format!("-p{REDACTED}");
                    }
                    _ => {}
                }
                continue;
            }
            if let Some((name, _)) = arg.split_once('=')
                && !name.is_empty()
                && !name.contains('/')
                && self.secret_name(name)
            {
                *arg = format!("{name}={REDACTED}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn redacted(argv: &[&str]) -> Vec<String> {
        let mut argv: Vec<String> = argv.iter().map(|a| (*a).to_owned()).collect();
        Redactor::default().redact_argv(&mut argv);
        argv
    }

    #[test]
    fn hostile_argv_loses_its_secrets() {
        assert_eq!(
            redacted(&[
                "python",
                "app.py",
                "--password=hunter2",
                "--token",
                "tok-123",
                "--db-password",
                "pw",
                "DATABASE_URL=postgres://app:s3cret@db/x",
                "API_KEY=abc",
                "Authorization: Bearer xyz",
                "--verbose",
                "name=value",
            ]),
            [
                "python",
                "app.py",
                "--password=***",
                "--token",
                "***",
                "--db-password",
                "***",
                "DATABASE_URL=postgres://app:***@db/x",
                "API_KEY=***",
                "Authorization: ***",
                "--verbose",
                "name=value",
            ]
        );
        assert_eq!(
            redacted(&["/usr/bin/mysql", "-uroot", "-phunter2", "shop"]),
            ["/usr/bin/mysql", "-uroot", "-p***", "shop"]
        );
        assert_eq!(
            redacted(&["python", "-p2"]),
            ["python", "-p2"],
            "-p of other tools"
        );
        assert_eq!(
            redacted(&["curl", "https://u:p@example.com/a@b"]),
            ["curl", "https://u:***@example.com/a@b"]
        );
        assert_eq!(
            redacted(&["git", "https://example.com/x"]),
            ["git", "https://example.com/x"]
        );
    }

    #[test]
    fn a_project_adds_its_own_names_and_patterns() {
        let redactor = Redactor::new(&["DSN".to_owned()], &[r"sk_live_[0-9a-zA-Z]+".to_owned()])
            .expect("valid");
        let mut argv: Vec<String> = [
            "app",
            "--orders-dsn",
            "x://a",
            "charge",
            "key=sk_live_abc123;x",
            "SHOP_DSN=x",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
        redactor.redact_argv(&mut argv);
        assert_eq!(
            argv,
            [
                "app",
                "--orders-dsn",
                "***",
                "charge",
                "key=***;x",
                "SHOP_DSN=***"
            ]
        );
        let error = Redactor::new(&[], &["(unclosed".to_owned()]).expect_err("invalid");
        assert!(
            error
                .to_string()
                .starts_with("`(unclosed` is not a regular expression"),
            "{error}"
        );
    }

    proptest! {
        /// Any argv: never a panic, the same number of arguments, and a planted secret after
        /// `--password=` never survives.
        #[test]
        fn any_argv_is_redacted_safely(
            mut argv in proptest::collection::vec(".{0,24}", 0..8),
            secret in "[a-zA-Z0-9]{8,16}",
        ) {
            argv.push(format!("--password={secret}"));
            let n = argv.len();
            Redactor::default().redact_argv(&mut argv);
            prop_assert_eq!(argv.len(), n);
            prop_assert_eq!(argv.last().map(String::as_str), Some("--password=***"));
        }
    }
}
