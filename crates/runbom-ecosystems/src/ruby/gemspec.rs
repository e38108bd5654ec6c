//! Installed gemspecs (`specifications/*.gemspec`), read without running Ruby. They are Ruby code,
//! but what RubyGems installs is written by `Gem::Specification#to_ruby` in a fixed shape:
//! one `s.attribute = value` per line, values being string literals (`"rack".freeze`,
//! `%q<rack>`, `'rack'`) or arrays of them, some lines ending in `if s.respond_to? …`. This reads
//! those forms and the `# stub: name version platform paths` line above them; anything else
//! (hand-written gemspecs with code in them) is skipped line by line.
//!
//! Traps: Debian's gemspecs under `rubygems-integration` list only a few of their files (the code
//! is in the gem directory or elsewhere); default gems' `files` are relative to Ruby's own
//! library directory, sometimes without their `lib/` prefix (`date.rb`); a `.gemspec` may hold
//! bytes that are not UTF-8 (read lossily).

use std::fmt;

/// What one gemspec says, as far as an inventory needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gemspec {
    pub name: String,
    pub version: String,
    /// `ruby` unless the gem is built for one platform (`x86_64-linux`).
    pub platform: String,
    /// `s.licenses` (or `s.license`), as written.
    pub licenses: Vec<String>,
    pub summary: Option<String>,
    /// As listed, relative to the gem's directory.
    pub files: Vec<String>,
    /// `lib` unless it says otherwise.
    pub require_paths: Vec<String>,
    /// Runtime dependencies, `name (requirement, …)`, in order.
    pub dependencies: Vec<String>,
}

/// A line of a gemspec that could not be read; a fatal one means the gemspec names no gem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct GemspecError {
    /// 1-based.
    pub line: usize,
    pub kind: ErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// `s.name =` (or another attribute) with a value that is no string literal or array of them.
    BadValue { attribute: String },
    /// An array or string that never closes.
    Unterminated { attribute: String },
    /// No `s.name` or no `s.version`, and no `# stub:` line saying them.
    Missing { attribute: &'static str },
}

impl fmt::Display for GemspecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::BadValue { attribute } => {
                write!(f, "`{attribute}` is not a string or an array of strings")
            }
            ErrorKind::Unterminated { attribute } => write!(f, "`{attribute}` never ends"),
            ErrorKind::Missing { attribute } => {
                write!(f, "no `{attribute}`: not a gemspec RubyGems wrote")
            }
        }
    }
}

/// Reads `text`; `Ok` with the lines that were skipped (each still an error naming its line),
/// `Err` when it names no gem.
pub fn parse(text: &str) -> Result<(Gemspec, Vec<GemspecError>), GemspecError> {
    let mut spec = Gemspec {
        platform: "ruby".to_owned(),
        require_paths: vec!["lib".to_owned()],
        ..Gemspec::default()
    };
    let mut stub: Option<(String, String, String)> = None;
    let mut skipped = Vec::new();
    let mut block_var: Option<String> = None;
    let mut in_else = false;
    let lines: Vec<&str> = text.lines().collect();
    let mut index = 0;
    while index < lines.len() {
        let number = index + 1;
        let line = lines[index].trim();
        index += 1;
        if let Some(rest) = line.strip_prefix("# stub:") {
            let words: Vec<&str> = rest.split_whitespace().collect();
            if let [name, version, platform, ..] = words[..] {
                stub = Some((name.to_owned(), version.to_owned(), platform.to_owned()));
            }
            continue;
        }
        if block_var.is_none() {
            if let Some(var) = block_variable(line) {
                block_var = Some(var);
            }
            continue;
        }
        let var = block_var.as_deref().unwrap_or("s");
        // `if s.respond_to? :add_runtime_dependency then … else <every dependency again, for
        // RubyGems before 1.2> end`: the `else` branch says nothing new.
        match line {
            "else" => in_else = true,
            "end" => in_else = false,
            _ => {}
        }
        if in_else {
            continue;
        }
        if let Some(call) = dependency_call(line, var) {
            if let Some(dependency) = call
                && !spec.dependencies.contains(&dependency)
            {
                spec.dependencies.push(dependency);
            }
            continue;
        }
        let Some((attribute, value)) = assignment(line, var) else {
            continue;
        };
        if !is_wanted(attribute) {
            continue;
        }
        let mut value = value.to_owned();
        // An array written over several lines (hand-made gemspecs).
        if value.starts_with('[') && !closes(&value) {
            while index < lines.len() && !closes(&value) {
                value.push(' ');
                value.push_str(lines[index].trim());
                index += 1;
            }
            if !closes(&value) {
                skipped.push(GemspecError {
                    line: number,
                    kind: ErrorKind::Unterminated {
                        attribute: attribute.to_owned(),
                    },
                });
                continue;
            }
        }
        let Some(values) = literal_values(strip_condition(&value)) else {
            skipped.push(GemspecError {
                line: number,
                kind: ErrorKind::BadValue {
                    attribute: attribute.to_owned(),
                },
            });
            continue;
        };
        let single = || values.first().cloned().unwrap_or_default();
        match attribute {
            "name" => spec.name = single(),
            "version" => spec.version = single(),
            "platform" => spec.platform = single(),
            "licenses" | "license" => spec.licenses = values,
            "summary" => spec.summary = Some(single()),
            "files" => spec.files = values,
            "require_paths" => spec.require_paths = values,
            _ => {}
        }
    }
    if let Some((name, version, platform)) = stub {
        if spec.name.is_empty() {
            spec.name = name;
        }
        if spec.version.is_empty() {
            spec.version = version;
        }
        if spec.platform == "ruby" && platform != "ruby" {
            spec.platform = platform;
        }
    }
    for (attribute, empty) in [
        ("name", spec.name.is_empty()),
        ("version", spec.version.is_empty()),
    ] {
        if empty {
            return Err(GemspecError {
                line: 1,
                kind: ErrorKind::Missing { attribute },
            });
        }
    }
    Ok((spec, skipped))
}

const WANTED: [&str; 8] = [
    "name",
    "version",
    "platform",
    "licenses",
    "license",
    "summary",
    "files",
    "require_paths",
];

fn is_wanted(attribute: &str) -> bool {
    WANTED.contains(&attribute)
}

/// `s` of `Gem::Specification.new do |s|`.
fn block_variable(line: &str) -> Option<String> {
    let rest = line.strip_prefix("Gem::Specification.new")?;
    let start = rest.find('|')? + 1;
    let end = start + rest[start..].find('|')?;
    let var = rest[start..end].trim();
    (!var.is_empty() && var.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()))
        .then(|| var.to_owned())
}

/// `s.attribute = value` -> (`attribute`, `value`).
fn assignment<'a>(line: &'a str, var: &str) -> Option<(&'a str, &'a str)> {
    let rest = line.strip_prefix(var)?.strip_prefix('.')?;
    let end = rest
        .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(rest.len());
    let (attribute, after) = rest.split_at(end);
    let value = after.trim_start().strip_prefix('=')?;
    if value.starts_with('=') || value.starts_with('~') {
        return None;
    }
    Some((attribute, value.trim()))
}

/// A runtime dependency line, `s.add_runtime_dependency(%q<rack>.freeze, ["~> 2.2"])` (or
/// `add_dependency`): `Some(Some("rack (~> 2.2)"))`; `Some(None)` for a development dependency
/// or one that cannot be read; `None` for any other line.
fn dependency_call(line: &str, var: &str) -> Option<Option<String>> {
    let rest = line.strip_prefix(var)?.strip_prefix('.')?;
    let args = if let Some(args) = rest
        .strip_prefix("add_runtime_dependency")
        .or_else(|| rest.strip_prefix("add_dependency"))
    {
        args
    } else if rest.starts_with("add_development_dependency") {
        return Some(None);
    } else {
        return None;
    };
    let args = args.trim();
    let args = args
        .strip_prefix('(')
        .and_then(|a| a.strip_suffix(')'))
        .unwrap_or(args);
    let values = literal_values(&format!("[{args}]"))?;
    let (name, requirements) = values.split_first()?;
    Some(Some(if requirements.is_empty() {
        name.clone()
    } else {
        format!("{name} ({})", requirements.join(", "))
    }))
}

/// Whether the brackets of `value` balance outside string literals.
fn closes(value: &str) -> bool {
    let mut depth = 0i32;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '"' | '\'' => {
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == c {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    depth <= 0
}

/// `value if s.respond_to? :x=` -> `value`.
fn strip_condition(value: &str) -> &str {
    match value.rfind(" if ") {
        Some(at) if !inside_string(value, at) => value[..at].trim_end(),
        _ => value,
    }
}

fn inside_string(value: &str, at: usize) -> bool {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        if i >= at {
            break;
        }
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None => {}
        }
    }
    quote.is_some()
}

/// A string literal or a (possibly nested) array of them, each optionally `.freeze`d; also
/// `Gem::Version.new("1.0")`, `Gem::Requirement.new(…)` and `Gem::Platform.new(…)`.
fn literal_values(value: &str) -> Option<Vec<String>> {
    let mut reader = Reader {
        rest: value.trim(),
        values: Vec::new(),
    };
    reader.value()?;
    reader.skip_space();
    reader.rest.is_empty().then_some(reader.values)
}

struct Reader<'a> {
    rest: &'a str,
    values: Vec<String>,
}

impl Reader<'_> {
    fn skip_space(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn eat(&mut self, prefix: &str) -> bool {
        match self.rest.strip_prefix(prefix) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn value(&mut self) -> Option<()> {
        self.skip_space();
        for constructor in [
            "Gem::Version.new(",
            "Gem::Requirement.new(",
            "Gem::Platform.new(",
        ] {
            if self.eat(constructor) {
                self.list_until(')')?;
                return self.freeze();
            }
        }
        if self.eat("[") {
            self.list_until(']')?;
            return self.freeze();
        }
        let text = self.string()?;
        self.values.push(text);
        self.freeze()
    }

    fn list_until(&mut self, close: char) -> Option<()> {
        self.skip_space();
        if self.rest.starts_with(close) {
            self.rest = &self.rest[1..];
            return Some(());
        }
        loop {
            self.value()?;
            self.skip_space();
            if self.eat(",") {
                self.skip_space();
                if self.rest.starts_with(close) {
                    self.rest = &self.rest[1..];
                    return Some(());
                }
                continue;
            }
            if self.rest.starts_with(close) {
                self.rest = &self.rest[1..];
                return Some(());
            }
            return None;
        }
    }

    fn freeze(&mut self) -> Option<()> {
        self.eat(".freeze");
        Some(())
    }

    fn string(&mut self) -> Option<String> {
        let mut chars = self.rest.char_indices();
        let (_, first) = chars.next()?;
        let (close, body_start, escapes) = match first {
            '"' => ('"', 1, true),
            '\'' => ('\'', 1, false),
            '%' => {
                let mut kind = self.rest[1..].chars();
                let (open, skip, escapes) = match kind.next()? {
                    'q' => (kind.next()?, 3, false),
                    'Q' => (kind.next()?, 3, true),
                    c if !c.is_alphanumeric() => (c, 2, true),
                    _ => return None,
                };
                let close = match open {
                    '<' => '>',
                    '{' => '}',
                    '(' => ')',
                    '[' => ']',
                    c if c.is_ascii_punctuation() => c,
                    _ => return None,
                };
                (close, skip, escapes)
            }
            _ => return None,
        };
        let body = self.rest.get(body_start..)?;
        let mut out = String::new();
        let mut iter = body.char_indices();
        while let Some((i, c)) = iter.next() {
            if c == close {
                self.rest = &body[i + c.len_utf8()..];
                return Some(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let (_, next) = iter.next()?;
            match next {
                'n' if escapes => out.push('\n'),
                't' if escapes => out.push('\t'),
                'r' if escapes => out.push('\r'),
                'e' if escapes => out.push('\u{1b}'),
                '0' if escapes => out.push('\0'),
                'u' if escapes => {
                    let rest = &body[i + 2..];
                    let (digits, used) = match rest.strip_prefix('{') {
                        Some(braced) => {
                            let end = braced.find('}')?;
                            (&braced[..end], end + 2)
                        }
                        None => (rest.get(..4)?, 4),
                    };
                    let code = u32::from_str_radix(digits, 16).ok()?;
                    out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    for _ in 0..used {
                        iter.next();
                    }
                }
                c if c == close || c == '\\' => out.push(c),
                c if escapes => out.push(c),
                c => {
                    out.push('\\');
                    out.push(c);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RACK: &str = include_str!("testdata/rack-2.2.22.gemspec");

    #[test]
    fn reads_what_rubygems_wrote() {
        let (spec, skipped) = parse(RACK).unwrap();
        assert_eq!(skipped, []);
        assert_eq!(spec.name, "rack");
        assert_eq!(spec.version, "2.2.22");
        assert_eq!(spec.platform, "ruby");
        assert_eq!(spec.licenses, ["MIT"]);
        assert_eq!(spec.files, ["bin/rackup"]);
        assert_eq!(spec.require_paths, ["lib"]);
        assert_eq!(
            spec.summary.as_deref(),
            Some("A modular Ruby webserver interface.")
        );
        assert_eq!(spec.dependencies, Vec::<String>::new());
    }

    #[test]
    fn reads_other_literal_forms_and_runtime_dependencies() {
        let text = "# stub: nokogiri 1.15.0 x86_64-linux lib\n\
            Gem::Specification.new do |spec|\n\
            spec.name = %q{nokogiri}\n\
            spec.version = Gem::Version.new('1.15.0')\n\
            spec.license = 'MIT'\n\
            spec.files = [\n  \"lib/a.rb\",\n  'lib/b \\'q\\'.rb'\n]\n\
            spec.summary = \"caf\\u00e9 \\\"x\\\" if y\".freeze\n\
            spec.add_runtime_dependency(%q<racc>.freeze, [\"~> 1.4\"])\n\
            spec.add_development_dependency(%q<rake>.freeze, [\">= 0\"])\n\
            end\n";
        let (spec, skipped) = parse(text).unwrap();
        assert_eq!(skipped, []);
        assert_eq!(spec.name, "nokogiri");
        assert_eq!(spec.version, "1.15.0");
        assert_eq!(spec.platform, "x86_64-linux");
        assert_eq!(spec.licenses, ["MIT"]);
        assert_eq!(spec.files, ["lib/a.rb", "lib/b 'q'.rb"]);
        assert_eq!(spec.summary.as_deref(), Some("café \"x\" if y"));
        assert_eq!(spec.dependencies, ["racc (~> 1.4)"]);
    }

    #[test]
    fn a_bad_line_is_named_and_the_rest_read() {
        let broken = include_str!("testdata/broken.gemspec");
        let (spec, skipped) = parse(broken).unwrap();
        assert_eq!(spec.name, "broken");
        assert_eq!(spec.version, "0.1.0");
        let said: Vec<String> = skipped.iter().map(|e| format!("{}: {e}", e.line)).collect();
        assert_eq!(
            said,
            [
                "6: `licenses` is not a string or an array of strings",
                "7: `files` never ends"
            ]
        );
    }

    #[test]
    fn no_name_is_an_error() {
        let err = parse("Gem::Specification.new do |s|\n  s.version = \"1\"\nend\n").unwrap_err();
        assert_eq!(err.to_string(), "no `name`: not a gemspec RubyGems wrote");
    }
}
