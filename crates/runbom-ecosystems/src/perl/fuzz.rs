//! The Perl metadata parsers fed hostile text: arbitrary strings, and real-looking `.packlist`,
//! `perllocal.pod`, `META.json`, module source and dpkg `status` text with lines cut, doubled or
//! changed. Any answer is fine but a panic or a hang.

use std::path::Path;

use proptest::prelude::*;

use super::metadata::*;

const PACKLIST: &str = "/usr/local/share/perl/5.36.0/Try/Tiny.pm\n/usr/local/bin/x type=file\n\
    /usr/local/bin/y from=/usr/local/bin/x type=link\n";
const PERLLOCAL: &str = "=head2 Sun Dec  6 10:00:00 2026: C<Module> L<Try::Tiny|Try::Tiny>\n\n\
    =over 4\n\n=item *\n\nC<installed into: /usr/local/share/perl/5.36.0>\n\nC<VERSION: 0.31>\n\n=back\n";
const META: &str =
    r#"{"name": "Try-Tiny", "version": "0.31", "license": ["mit"], "dist": "Try-Tiny-0.31"}"#;
const MODULE: &str =
    "package Foo;\n=pod\n$VERSION = 1;\n=cut\nour $VERSION = version->declare('v1.2.3');\n";
const STATUS: &str = "Package: libwww-perl\nStatus: install ok installed\nVersion: 6.68-1\n\n";

fn every_parser(text: &str) {
    let path = Path::new("x");
    let _ = parse_packlist(path, text);
    let _ = parse_perllocal(path, text);
    let _ = parse_meta_json(text.as_bytes());
    let _ = module_version(text);
    let _ = parse_dpkg_status(path, text);
    let _ = debian_upstream_version(text);
    let _ = upstream_name(text);
    let _ = is_module_name(text);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        every_parser(&text);
    }

    #[test]
    fn damaged_real_files_never_panic(
        which in 0usize..5,
        changes in proptest::collection::vec((any::<prop::sample::Index>(), "[=:<>|'\"(){}\\n -~]{0,4}"), 1..6),
    ) {
        let mut text = [PACKLIST, PERLLOCAL, META, MODULE, STATUS][which].to_owned();
        for (at, insert) in changes {
            let mut at = at.index(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.insert_str(at, &insert);
        }
        every_parser(&text);
    }
}
