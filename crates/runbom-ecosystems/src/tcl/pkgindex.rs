//! `pkgIndex.tcl` read without a Tcl interpreter: the `package ifneeded NAME VERSION SCRIPT`
//! commands it runs for the Tcl version at hand, as Tcl's `package unknown` would register them.
//!
//! Traps: an index is a Tcl script, not a table. Commands run on over several lines (a `\` at a
//! line's end, an open `[` or `{`); guards such as
//! `if {![package vsatisfies [package provide Tcl] 8.5]} {return}` stop the rest of the file for
//! an older Tcl; `lappend ::auto_path $dir` (tcllib's top index) makes Tcl search that directory's
//! subdirectories too; `set` gives names to values used later. Only those forms are evaluated;
//! any other command is skipped, and a condition that is not a Tcl version test is taken as true
//! for what it guards (so an entry is listed rather than missed) but never for a `return`.
//! Syntax Tcl itself would refuse (an unclosed brace, bracket or quote) is a problem naming its
//! line; what came before it is kept.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use runbom_model::inventory::Problem;
use runbom_versions::{TclRequirement, TclVersion};

/// One `package ifneeded` an index registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfNeeded {
    pub name: String,
    pub version: String,
    /// 1-based line of the command.
    pub line: usize,
    /// The files its script sources or loads, as far as `[file join $dir …]` and plain paths
    /// tell.
    pub files: Vec<PathBuf>,
}

/// What one index registers, and what it could not read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PkgIndex {
    pub entries: Vec<IfNeeded>,
    /// The index adds its own directory to `auto_path` (tcllib's top index does).
    pub extends_auto_path: bool,
    pub problems: Vec<Problem>,
}

/// Reads the index `path` (whose directory is `$dir`) as Tcl `tcl` would run it; every Tcl
/// version passes its guards when `tcl` is `None`.
pub fn parse(path: &Path, text: &str, tcl: Option<&TclVersion>) -> PkgIndex {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut index = PkgIndex::default();
    let mut reader = Reader {
        text: text.as_bytes(),
        at: 0,
        line: 1,
    };
    let commands = match reader.script(None) {
        Ok(commands) => commands,
        Err((commands, problem)) => {
            index.problems.push(Problem {
                path: path.to_owned(),
                line: Some(problem.line),
                message: problem.message,
            });
            commands
        }
    };
    let mut evaluator = Evaluator {
        path,
        dir,
        tcl,
        variables: HashMap::from([("dir".to_owned(), dir.to_string_lossy().into_owned())]),
        index: &mut index,
    };
    evaluator.run(&commands, 0);
    index
}

/// One word of a command as written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Word {
    /// `{…}`: the text between the braces, taken literally.
    Braced(String),
    /// `"…"` or a bare word: the text, with substitutions still in it.
    Substituted(String),
}

#[derive(Debug, Clone)]
struct Command {
    line: usize,
    words: Vec<Word>,
}

#[derive(Debug)]
struct SyntaxError {
    line: usize,
    message: String,
}

struct Reader<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
}

type Partial = (Vec<Command>, SyntaxError);

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        if b == b'\n' {
            self.line += 1;
        }
        Some(b)
    }

    fn error(&self, line: usize, message: &str) -> SyntaxError {
        SyntaxError {
            line,
            message: message.to_owned(),
        }
    }

    /// Commands up to the end, or up to the `]` that closes a command substitution.
    fn script(&mut self, close: Option<u8>) -> Result<Vec<Command>, Partial> {
        let mut commands = Vec::new();
        loop {
            // Between commands: blanks, separators, comments.
            loop {
                match self.peek() {
                    Some(b' ' | b'\t' | b'\r' | b'\n' | b';') => {
                        self.bump();
                    }
                    Some(b'\\') if self.text.get(self.at + 1) == Some(&b'\n') => {
                        self.bump();
                        self.bump();
                    }
                    Some(b'#') => self.comment(),
                    _ => break,
                }
            }
            match self.peek() {
                None if close.is_none() => return Ok(commands),
                None => {
                    let line = self.line;
                    return Err((commands, self.error(line, "missing close-bracket")));
                }
                Some(b) if Some(b) == close => {
                    self.bump();
                    return Ok(commands);
                }
                Some(_) => {}
            }
            let line = self.line;
            match self.command(close) {
                Ok(words) => commands.push(Command { line, words }),
                Err(error) => return Err((commands, error)),
            }
        }
    }

    fn comment(&mut self) {
        while let Some(b) = self.bump() {
            match b {
                b'\\' => {
                    self.bump();
                }
                b'\n' => break,
                _ => {}
            }
        }
    }

    /// The words of one command, up to its newline, `;` or the closing `]`.
    fn command(&mut self, close: Option<u8>) -> Result<Vec<Word>, SyntaxError> {
        let mut words = Vec::new();
        loop {
            loop {
                match self.peek() {
                    Some(b' ' | b'\t' | b'\r') => {
                        self.bump();
                    }
                    Some(b'\\') if self.text.get(self.at + 1) == Some(&b'\n') => {
                        self.bump();
                        self.bump();
                    }
                    _ => break,
                }
            }
            match self.peek() {
                None | Some(b'\n' | b';') => return Ok(words),
                Some(b) if Some(b) == close => return Ok(words),
                Some(_) => words.push(self.word(close)?),
            }
        }
    }

    fn word(&mut self, close: Option<u8>) -> Result<Word, SyntaxError> {
        if self.text[self.at..].starts_with(b"{*}")
            && self
                .text
                .get(self.at + 3)
                .is_some_and(|b| !b.is_ascii_whitespace())
        {
            self.at += 3;
        }
        let start_line = self.line;
        let word = match self.peek() {
            Some(b'{') => {
                self.bump();
                let start = self.at;
                let mut depth = 1;
                loop {
                    match self.bump() {
                        None => return Err(self.error(start_line, "missing close-brace")),
                        Some(b'\\') => {
                            self.bump();
                        }
                        Some(b'{') => depth += 1,
                        Some(b'}') => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        Some(_) => {}
                    }
                }
                Word::Braced(String::from_utf8_lossy(&self.text[start..self.at - 1]).into_owned())
            }
            Some(b'"') => {
                self.bump();
                let start = self.at;
                loop {
                    match self.peek() {
                        None => return Err(self.error(start_line, "missing \"")),
                        Some(b'\\') => {
                            self.bump();
                            self.bump();
                        }
                        Some(b'[') => {
                            self.bump();
                            self.script(Some(b']')).map_err(|(_, e)| e)?;
                        }
                        Some(b'"') => {
                            self.bump();
                            break;
                        }
                        Some(_) => {
                            self.bump();
                        }
                    }
                }
                Word::Substituted(
                    String::from_utf8_lossy(&self.text[start..self.at - 1]).into_owned(),
                )
            }
            _ => {
                let start = self.at;
                loop {
                    match self.peek() {
                        None | Some(b' ' | b'\t' | b'\r' | b'\n' | b';') => break,
                        Some(b) if Some(b) == close => break,
                        Some(b'\\') => {
                            if self.text.get(self.at + 1) == Some(&b'\n') {
                                break;
                            }
                            self.bump();
                            self.bump();
                        }
                        Some(b'[') => {
                            self.bump();
                            self.script(Some(b']')).map_err(|(_, e)| e)?;
                        }
                        Some(_) => {
                            self.bump();
                        }
                    }
                }
                return Ok(Word::Substituted(
                    String::from_utf8_lossy(&self.text[start..self.at]).into_owned(),
                ));
            }
        };
        match self.peek() {
            None | Some(b' ' | b'\t' | b'\r' | b'\n' | b';') => Ok(word),
            Some(b'\\') if self.text.get(self.at + 1) == Some(&b'\n') => Ok(word),
            Some(b) if Some(b) == close => Ok(word),
            Some(_) => Err(self.error(
                self.line,
                match word {
                    Word::Braced(_) => "extra characters after close-brace",
                    Word::Substituted(_) => "extra characters after close-quote",
                },
            )),
        }
    }
}

/// Reads the words of a braced body (an `if` branch) as a script of its own.
fn body_commands(body: &str, first_line: usize) -> Result<Vec<Command>, Partial> {
    let mut reader = Reader {
        text: body.as_bytes(),
        at: 0,
        line: first_line,
    };
    reader.script(None)
}

/// Whether the branch runs, when runbom can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    Yes,
    No,
    Unknown,
}

struct Evaluator<'a> {
    path: &'a Path,
    dir: &'a Path,
    tcl: Option<&'a TclVersion>,
    variables: HashMap<String, String>,
    index: &'a mut PkgIndex,
}

/// The deepest `if` nesting followed (an index nests two or three at most).
const MAX_DEPTH: usize = 16;

impl Evaluator<'_> {
    /// Runs `commands`; false when a `return` ended the file.
    fn run(&mut self, commands: &[Command], depth: usize) -> bool {
        for command in commands {
            if !self.command(command, depth) {
                return false;
            }
        }
        true
    }

    fn command(&mut self, command: &Command, depth: usize) -> bool {
        let literal: Vec<Option<String>> = command.words.iter().map(|w| self.literal(w)).collect();
        let word = |i: usize| literal.get(i).cloned().flatten();
        match word(0).as_deref() {
            Some("return") => return false,
            Some("package") if word(1).as_deref() == Some("ifneeded") => {
                self.if_needed(command, &literal);
            }
            Some("lappend")
                if matches!(word(1).as_deref(), Some("auto_path" | "::auto_path"))
                    && command.words.get(2) == Some(&Word::Substituted("$dir".to_owned())) =>
            {
                self.index.extends_auto_path = true;
            }
            Some("set") if command.words.len() == 3 => {
                if let (Some(name), Some(value)) = (word(1), word(2)) {
                    self.variables.insert(name, value);
                } else if let Some(name) = word(1) {
                    self.variables.remove(&name);
                }
            }
            Some("if") if depth < MAX_DEPTH => return self.if_command(command, depth),
            _ => {}
        }
        true
    }

    /// `if COND ?then? BODY ?elseif COND ?then? BODY …? ?else? ?BODY?`; false when a branch
    /// that surely runs ran a `return`. A branch whose condition runbom cannot tell is read for
    /// its entries, and its `return` is not followed.
    fn if_command(&mut self, command: &Command, depth: usize) -> bool {
        let words = &command.words;
        let mut i = 1;
        let mut all_false = true;
        while let Some(condition) = words.get(i) {
            let truth = self.truth(condition);
            i += 1;
            if self.literal_is(words.get(i), "then") {
                i += 1;
            }
            let Some(body) = words.get(i) else {
                return true;
            };
            i += 1;
            match truth {
                Truth::Yes => return self.run_body(body, command.line, depth),
                Truth::Unknown => {
                    all_false = false;
                    self.run_body(body, command.line, depth);
                }
                Truth::No => {}
            }
            if self.literal_is(words.get(i), "elseif") {
                i += 1;
                continue;
            }
            if self.literal_is(words.get(i), "else") {
                i += 1;
            }
            if let Some(body) = words.get(i) {
                let returned = !self.run_body(body, command.line, depth);
                return !(returned && all_false);
            }
            return true;
        }
        true
    }

    /// Runs a branch; false when it ran a `return` (only followed when the branch surely runs:
    /// the caller decides).
    fn run_body(&mut self, body: &Word, line: usize, depth: usize) -> bool {
        let Word::Braced(text) = body else {
            // `if {…} return`: a bare command word.
            let command = Command {
                line,
                words: vec![body.clone()],
            };
            return self.command(&command, depth + 1);
        };
        let commands = match body_commands(text, line) {
            Ok(commands) => commands,
            Err((commands, problem)) => {
                self.index.problems.push(Problem {
                    path: self.path.to_owned(),
                    line: Some(problem.line),
                    message: problem.message,
                });
                commands
            }
        };
        self.run(&commands, depth + 1)
    }

    fn literal_is(&self, word: Option<&Word>, text: &str) -> bool {
        word.and_then(|w| self.literal(w)).as_deref() == Some(text)
    }

    /// `[package vsatisfies [package provide Tcl] V…]`, negated or not, of the Tcl at hand.
    fn truth(&self, condition: &Word) -> Truth {
        let text = match condition {
            Word::Braced(text) | Word::Substituted(text) => text.trim(),
        };
        let (negated, test) = match text.strip_prefix('!') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, text),
        };
        let Some(inner) = test
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .map(str::trim)
        else {
            return Truth::Unknown;
        };
        let Some(rest) = inner.strip_prefix("package vsatisfies") else {
            return Truth::Unknown;
        };
        let rest = rest.trim_start();
        let Some(requirements) = [
            "[package provide Tcl]",
            "[package require Tcl]",
            "[info tclversion]",
        ]
        .iter()
        .find_map(|of| rest.strip_prefix(of)) else {
            return Truth::Unknown;
        };
        let Some(tcl) = self.tcl else {
            return if negated { Truth::No } else { Truth::Yes };
        };
        let parsed: Result<Vec<TclRequirement>, _> = requirements
            .split_whitespace()
            .map(TclRequirement::parse)
            .collect();
        match parsed {
            Ok(requirements) if !requirements.is_empty() => {
                let satisfied = runbom_versions::tcl::vsatisfies(tcl, &requirements);
                if satisfied != negated {
                    Truth::Yes
                } else {
                    Truth::No
                }
            }
            _ => Truth::Unknown,
        }
    }

    fn if_needed(&mut self, command: &Command, literal: &[Option<String>]) {
        let problem = |message: String| Problem {
            path: self.path.to_owned(),
            line: Some(command.line),
            message,
        };
        if command.words.len() != 5 {
            let problem = problem(format!(
                "`package ifneeded` takes a name, a version and a script, not {} words",
                command.words.len().saturating_sub(2)
            ));
            self.index.problems.push(problem);
            return;
        }
        let (Some(name), Some(version)) = (literal[2].clone(), literal[3].clone()) else {
            // A name or version computed at run time: not one runbom can list.
            return;
        };
        if let Err(err) = TclVersion::parse(&version) {
            let problem = problem(format!("package `{name}`: {err}"));
            self.index.problems.push(problem);
            return;
        }
        let script = match &command.words[4] {
            Word::Braced(text) | Word::Substituted(text) => text.as_str(),
        };
        let files = self.script_files(script);
        self.index.entries.push(IfNeeded {
            name,
            version,
            line: command.line,
            files,
        });
    }

    /// The value of a word when it holds no command substitution: braced text as it is, else
    /// with its known `$variables` and backslashes replaced.
    fn literal(&self, word: &Word) -> Option<String> {
        match word {
            Word::Braced(text) => Some(text.clone()),
            Word::Substituted(text) => self.substitute(text),
        }
    }

    fn substitute(&self, text: &str) -> Option<String> {
        if text.contains('[') {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => out.push('\\'),
                },
                '$' => {
                    let mut name = String::new();
                    if chars.peek() == Some(&'{') {
                        chars.next();
                        for c in chars.by_ref() {
                            if c == '}' {
                                break;
                            }
                            name.push(c);
                        }
                    } else {
                        while let Some(&c) = chars.peek() {
                            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                                name.push(c);
                                chars.next();
                            } else {
                                break;
                            }
                        }
                    }
                    let name = name.trim_start_matches("::");
                    out.push_str(self.variables.get(name)?);
                }
                c => out.push(c),
            }
        }
        Some(out)
    }

    /// `[file join $dir a b]` and absolute paths after `source`/`load` in an ifneeded script.
    fn script_files(&self, script: &str) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let mut rest = script;
        while let Some(at) = rest.find("file join") {
            let after = &rest[at + "file join".len()..];
            let end = after.find(']').unwrap_or(after.len());
            let parts: Option<Vec<String>> = after[..end]
                .split_whitespace()
                .map(|part| self.substitute(part.trim_matches(|c| c == '{' || c == '}')))
                .collect();
            if let Some(parts) = parts.filter(|p| !p.is_empty()) {
                let mut path = PathBuf::new();
                for part in parts {
                    path.push(part);
                }
                if path.is_relative() {
                    path = self.dir.join(path);
                }
                files.push(path);
            }
            rest = &after[end..];
        }
        if files.is_empty() {
            for (verb, path) in script
                .split_whitespace()
                .zip(script.split_whitespace().skip(1))
            {
                if matches!(verb.trim_start_matches('['), "source" | "load")
                    && path.starts_with('/')
                {
                    files.push(PathBuf::from(path.trim_end_matches(']')));
                }
            }
        }
        files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, tcl: &str) -> PkgIndex {
        parse(
            Path::new("/lib/pkg/pkgIndex.tcl"),
            text,
            Some(&TclVersion::parse(tcl).unwrap()),
        )
    }

    fn names(index: &PkgIndex) -> Vec<String> {
        index
            .entries
            .iter()
            .map(|e| format!("{} {}", e.name, e.version))
            .collect()
    }

    #[test]
    fn reads_tcllibs_guarded_entries_for_the_tcl_at_hand() {
        let json = "# Tcl package index file, version 1.1\n\n\
            if {![package vsatisfies [package provide Tcl] 8.4]} {return}\n\
            package ifneeded json 1.3.4 [list source [file join $dir json.tcl]]\n\n\
            if {![package vsatisfies [package provide Tcl] 8.5]} {return}\n\
            package ifneeded json::write 1.0.4 [list source [file join $dir json_write.tcl]]\n";
        let index = read(json, "8.6.13");
        assert_eq!(names(&index), ["json 1.3.4", "json::write 1.0.4"]);
        assert_eq!(index.entries[0].line, 4);
        assert_eq!(index.entries[0].files, [PathBuf::from("/lib/pkg/json.tcl")]);
        assert!(index.problems.is_empty());
        assert_eq!(names(&read(json, "8.4.20")), ["json 1.3.4"]);
    }

    #[test]
    fn follows_continuations_open_brackets_and_bare_returns() {
        let text = "if {![package vsatisfies [package provide Tcl] 8.6]} return\n\
            package ifneeded coroutine       1.3   [\n    list source [file join $dir coroutine.tcl]]\n\
            package ifneeded page::transform::mecpu 0.1 \\\n    [list source [file join $dir plugins/t.tcl]]\n";
        let index = read(text, "8.6.13");
        assert_eq!(
            names(&index),
            ["coroutine 1.3", "page::transform::mecpu 0.1"]
        );
        assert_eq!(index.entries[1].line, 4);
        assert_eq!(
            index.entries[1].files,
            [PathBuf::from("/lib/pkg/plugins/t.tcl")]
        );
        assert!(read(text, "8.5.19").entries.is_empty());
    }

    #[test]
    fn braced_blocks_variables_and_the_auto_path() {
        let text = "if {[lsearch -exact $::auto_path $dir] == -1} {\n    lappend ::auto_path $dir\n}\n\
            set version 1.7.22\n\
            if {[package vsatisfies [package provide Tcl] 8.5]} {\n  package ifneeded tls $version \"source [file join $dir tls.tcl]\"\n}\n\
            if {[package vsatisfies [package provide Tcl] 8.4]} {return}\n\
            package ifneeded old 1.0 {source old.tcl}\n";
        let index = read(text, "8.6.13");
        assert!(index.extends_auto_path);
        assert_eq!(names(&index), ["tls 1.7.22"]);
        let tk = "if {![package vsatisfies [package provide Tcl] 8.6.0]} return\n\
            package ifneeded Tk 8.6.13 [list load [file normalize [file join /usr/lib/x86_64-linux-gnu libtk8.6.so]]]\n";
        let index = read(tk, "8.6.13");
        assert_eq!(
            index.entries[0].files,
            [PathBuf::from("/usr/lib/x86_64-linux-gnu/libtk8.6.so")]
        );
    }

    #[test]
    fn a_broken_index_names_the_line_and_keeps_what_came_before() {
        let text = "package ifneeded a 1.0 [list source [file join $dir a.tcl]]\n\
            package ifneeded b 2.0 {source b.tcl\n\
            package ifneeded c 3.0 {source c.tcl}\n";
        let index = read(text, "8.6.13");
        assert_eq!(names(&index), ["a 1.0"]);
        assert_eq!(index.problems.len(), 1);
        assert_eq!(index.problems[0].line, Some(2));
        assert!(
            index.problems[0]
                .to_string()
                .contains("pkgIndex.tcl:2: missing close-brace")
        );
        let bad = read(
            "package ifneeded x 1.0.x {source x.tcl}\npackage ifneeded y\n",
            "8.6",
        );
        assert!(bad.entries.is_empty());
        assert_eq!(bad.problems.len(), 2);
        assert!(
            bad.problems[0].message.contains("package `x`"),
            "{:?}",
            bad.problems
        );
        assert_eq!(bad.problems[1].line, Some(2));
    }

    #[test]
    fn an_unknown_condition_lists_entries_but_never_returns() {
        let text = "if {$tcl_platform(os) eq \"Windows\"} {return} else {\n  package ifneeded w 1 {}\n}\n\
            if {[info exists ::env(X)]} {\n  package ifneeded x 1 {load x.so}\n}\n\
            package ifneeded y 2 {load y.so}\n";
        assert_eq!(names(&read(text, "8.6")), ["w 1", "x 1", "y 2"]);
    }
}
