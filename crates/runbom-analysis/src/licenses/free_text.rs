//! The free-text `License` field to SPDX: a table of the spellings found on PyPI ("BSD",
//! "Apache 2.0", "MIT License", "GPLv3+" …), simple combinations of them ("MIT or Apache 2.0"),
//! and whole licence texts pasted into the field, recognised by the sentences that identify them.
//!
//! Traps: "BSD" alone does not say which BSD (taken as BSD-3-Clause, inferred); "GPL" alone means
//! any version (`GPL-1.0-or-later`); the `spdx` crate's own imprecise names are prefix matches
//! and map "gnu gpl v2" to GPL-3.0, so they are not used.

use super::Confidence;

use Confidence::{Inferred as I, Normalised as N};

/// `(spelling, SPDX expression, confidence)`. Spellings are compared after [`key`]: lower case,
/// single spaces, no surrounding quotes or final full stop, and without a leading "the" or a
/// trailing "license"/"licence".
pub(crate) const ALIASES: &[(&str, &str, Confidence)] = &[
    ("mit", "MIT", N),
    ("expat", "MIT", N),
    ("mit/expat", "MIT", N),
    ("mit (expat)", "MIT", N),
    ("mit-style", "MIT", I),
    ("mit no attribution", "MIT-0", N),
    ("mit-0", "MIT-0", N),
    ("bsd", "BSD-3-Clause", I),
    ("bsd-style", "BSD-3-Clause", I),
    ("bsd-like", "BSD-3-Clause", I),
    ("new bsd", "BSD-3-Clause", N),
    ("modified bsd", "BSD-3-Clause", N),
    ("revised bsd", "BSD-3-Clause", N),
    ("3-clause bsd", "BSD-3-Clause", N),
    ("bsd 3-clause", "BSD-3-Clause", N),
    ("bsd-3", "BSD-3-Clause", N),
    ("bsd3", "BSD-3-Clause", N),
    ("bsd 3 clause", "BSD-3-Clause", N),
    ("three-clause bsd", "BSD-3-Clause", N),
    ("bsd-3-clause", "BSD-3-Clause", N),
    ("simplified bsd", "BSD-2-Clause", N),
    ("freebsd", "BSD-2-Clause", N),
    ("2-clause bsd", "BSD-2-Clause", N),
    ("bsd 2-clause", "BSD-2-Clause", N),
    ("bsd-2", "BSD-2-Clause", N),
    ("bsd2", "BSD-2-Clause", N),
    ("bsd-2-clause", "BSD-2-Clause", N),
    ("0bsd", "0BSD", N),
    ("zero-clause bsd", "0BSD", N),
    ("apache", "Apache-2.0", I),
    ("apache 2", "Apache-2.0", N),
    ("apache 2.0", "Apache-2.0", N),
    ("apache2", "Apache-2.0", N),
    ("apache-2", "Apache-2.0", N),
    ("apache-2.0", "Apache-2.0", N),
    ("apache v2", "Apache-2.0", N),
    ("apache v2.0", "Apache-2.0", N),
    ("apache version 2.0", "Apache-2.0", N),
    ("apache, version 2.0", "Apache-2.0", N),
    ("apache software", "Apache-2.0", I),
    ("apache software 2.0", "Apache-2.0", N),
    ("apache software license 2.0", "Apache-2.0", N),
    ("apache license 2.0", "Apache-2.0", N),
    ("apache license, version 2.0", "Apache-2.0", N),
    ("apache license version 2.0", "Apache-2.0", N),
    ("asl 2.0", "Apache-2.0", N),
    ("asl2", "Apache-2.0", N),
    ("al2", "Apache-2.0", N),
    ("isc", "ISC", N),
    ("iscl", "ISC", N),
    ("isc (iscl)", "ISC", N),
    ("psf", "PSF-2.0", N),
    ("psfl", "PSF-2.0", N),
    ("psf-2.0", "PSF-2.0", N),
    ("psf 2.0", "PSF-2.0", N),
    ("python software foundation", "PSF-2.0", N),
    ("python software foundation license version 2", "PSF-2.0", N),
    ("python", "PSF-2.0", I),
    ("zpl", "ZPL-2.1", I),
    ("zpl 2.1", "ZPL-2.1", N),
    ("zope public", "ZPL-2.1", I),
    ("mpl", "MPL-2.0", I),
    ("mpl2", "MPL-2.0", N),
    ("mpl 2", "MPL-2.0", N),
    ("mpl 2.0", "MPL-2.0", N),
    ("mpl-2", "MPL-2.0", N),
    ("mpl v2", "MPL-2.0", N),
    ("mpl 1.1", "MPL-1.1", N),
    ("mozilla public license 2.0", "MPL-2.0", N),
    ("mozilla public license, v. 2.0", "MPL-2.0", N),
    ("mozilla public license version 2.0", "MPL-2.0", N),
    ("gpl", "GPL-1.0-or-later", I),
    ("gnu gpl", "GPL-1.0-or-later", I),
    ("gnu general public", "GPL-1.0-or-later", I),
    ("gplv2", "GPL-2.0-only", N),
    ("gpl v2", "GPL-2.0-only", N),
    ("gpl2", "GPL-2.0-only", N),
    ("gpl-2", "GPL-2.0-only", N),
    ("gpl 2", "GPL-2.0-only", N),
    ("gpl-2.0", "GPL-2.0-only", N),
    ("gnu gplv2", "GPL-2.0-only", N),
    ("gnu gpl v2", "GPL-2.0-only", N),
    ("gnu general public license v2", "GPL-2.0-only", N),
    ("gnu general public license version 2", "GPL-2.0-only", N),
    ("gplv2+", "GPL-2.0-or-later", N),
    ("gpl v2+", "GPL-2.0-or-later", N),
    ("gpl-2+", "GPL-2.0-or-later", N),
    ("gpl-2.0+", "GPL-2.0-or-later", N),
    ("gplv2 or later", "GPL-2.0-or-later", N),
    ("gplv2-or-later", "GPL-2.0-or-later", N),
    ("gpl v2 or later", "GPL-2.0-or-later", N),
    ("gplv3", "GPL-3.0-only", N),
    ("gpl v3", "GPL-3.0-only", N),
    ("gpl3", "GPL-3.0-only", N),
    ("gpl-3", "GPL-3.0-only", N),
    ("gpl 3", "GPL-3.0-only", N),
    ("gpl-3.0", "GPL-3.0-only", N),
    ("gnu gplv3", "GPL-3.0-only", N),
    ("gnu gpl v3", "GPL-3.0-only", N),
    ("gnu gpl 3", "GPL-3.0-only", N),
    ("gnu general public license v3", "GPL-3.0-only", N),
    ("gnu general public license version 3", "GPL-3.0-only", N),
    ("gplv3+", "GPL-3.0-or-later", N),
    ("gpl v3+", "GPL-3.0-or-later", N),
    ("gpl-3+", "GPL-3.0-or-later", N),
    ("gpl-3.0+", "GPL-3.0-or-later", N),
    ("gplv3 or later", "GPL-3.0-or-later", N),
    ("gplv3-or-later", "GPL-3.0-or-later", N),
    ("gpl v3 or later", "GPL-3.0-or-later", N),
    ("lgpl", "LGPL-2.0-or-later", I),
    ("gnu lgpl", "LGPL-2.0-or-later", I),
    ("gnu lesser general public", "LGPL-2.0-or-later", I),
    ("lgplv2", "LGPL-2.0-only", N),
    ("lgpl v2", "LGPL-2.0-only", N),
    ("lgplv2+", "LGPL-2.0-or-later", N),
    ("lgpl-2.1", "LGPL-2.1-only", N),
    ("lgplv2.1", "LGPL-2.1-only", N),
    ("lgpl v2.1", "LGPL-2.1-only", N),
    ("lgpl 2.1", "LGPL-2.1-only", N),
    ("lgplv2.1+", "LGPL-2.1-or-later", N),
    ("lgpl-2.1+", "LGPL-2.1-or-later", N),
    ("lgplv3", "LGPL-3.0-only", N),
    ("lgpl v3", "LGPL-3.0-only", N),
    ("lgpl-3", "LGPL-3.0-only", N),
    ("lgpl 3", "LGPL-3.0-only", N),
    ("lgpl-3.0", "LGPL-3.0-only", N),
    ("lgpl 3.0", "LGPL-3.0-only", N),
    ("gnu lgpl 3.0", "LGPL-3.0-only", N),
    ("gnu lgpl v3", "LGPL-3.0-only", N),
    ("gnu lgplv3", "LGPL-3.0-only", N),
    ("lgplv3+", "LGPL-3.0-or-later", N),
    ("lgpl-3+", "LGPL-3.0-or-later", N),
    ("lgpl-3.0+", "LGPL-3.0-or-later", N),
    ("agpl", "AGPL-3.0-only", I),
    ("agplv3", "AGPL-3.0-only", N),
    ("agpl v3", "AGPL-3.0-only", N),
    ("agpl-3", "AGPL-3.0-only", N),
    ("agpl-3.0", "AGPL-3.0-only", N),
    ("gnu agplv3", "AGPL-3.0-only", N),
    ("agplv3+", "AGPL-3.0-or-later", N),
    ("agpl-3.0+", "AGPL-3.0-or-later", N),
    ("epl", "EPL-2.0", I),
    ("epl-1.0", "EPL-1.0", N),
    ("epl 2.0", "EPL-2.0", N),
    ("eclipse public license 2.0", "EPL-2.0", N),
    ("eupl 1.2", "EUPL-1.2", N),
    ("eupl-1.2", "EUPL-1.2", N),
    ("cddl", "CDDL-1.0", I),
    ("boost", "BSL-1.0", I),
    ("boost software license 1.0", "BSL-1.0", N),
    ("bsl-1.0", "BSL-1.0", N),
    ("zlib", "Zlib", N),
    ("zlib/libpng", "Zlib", N),
    ("unlicense", "Unlicense", N),
    ("wtfpl", "WTFPL", N),
    ("cc0", "CC0-1.0", N),
    ("cc0 1.0", "CC0-1.0", N),
    ("cc0 1.0 universal", "CC0-1.0", N),
    ("cc-by-4.0", "CC-BY-4.0", N),
    ("cc by 4.0", "CC-BY-4.0", N),
    ("hpnd", "HPND", N),
    ("postgresql", "PostgreSQL", N),
    ("public domain", "LicenseRef-Public-Domain", I),
    ("public-domain", "LicenseRef-Public-Domain", I),
    ("proprietary", "LicenseRef-Proprietary", I),
    ("commercial", "LicenseRef-Proprietary", I),
    ("all rights reserved", "LicenseRef-Proprietary", I),
    ("other/proprietary", "LicenseRef-Proprietary", I),
];

/// The lookup key of a spelling: see [`ALIASES`].
pub(crate) fn key(text: &str) -> String {
    let lower = text.trim().to_lowercase();
    let mut key = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    key = key
        .trim_matches(|c| matches!(c, '"' | '\'' | '`'))
        .trim_end_matches('.')
        .to_owned();
    if let Some(rest) = key.strip_prefix("the ") {
        key = rest.to_owned();
    }
    for suffix in [" license", " licence", " licensed"] {
        if let Some(rest) = key.strip_suffix(suffix) {
            key = rest.to_owned();
        }
    }
    key
}

/// One spelling from the table.
/// A trailing abbreviation in parentheses ("The MIT License (MIT)") is dropped when the whole
/// spelling is not in the table.
pub(crate) fn alias(text: &str) -> Option<(&'static str, Confidence)> {
    let find = |key: &str| {
        ALIASES
            .iter()
            .find(|(spelling, _, _)| *spelling == key)
            .map(|(_, spdx, confidence)| (*spdx, *confidence))
    };
    let key = key(text);
    find(&key).or_else(|| {
        let open = key.rfind(" (").filter(|_| key.ends_with(')'))?;
        find(&self::key(&key[..open]))
    })
}

/// A whole licence text: `(identifying sentences that must all appear, SPDX id)`, most specific
/// first. Matching is on lower-case text with runs of white space made single spaces.
pub(crate) const TEXTS: &[(&[&str], &str)] = &[
    (
        &["gnu affero general public license", "version 3"],
        "AGPL-3.0-only",
    ),
    (
        &["gnu lesser general public license", "version 3"],
        "LGPL-3.0-only",
    ),
    (
        &["gnu lesser general public license", "version 2.1"],
        "LGPL-2.1-only",
    ),
    (
        &["gnu library general public license", "version 2"],
        "LGPL-2.0-only",
    ),
    (&["gnu general public license", "version 3"], "GPL-3.0-only"),
    (&["gnu general public license", "version 2"], "GPL-2.0-only"),
    (&["apache license", "version 2.0"], "Apache-2.0"),
    (&["mozilla public license", "2.0"], "MPL-2.0"),
    (&["python software foundation license version 2"], "PSF-2.0"),
    (
        &["this is free and unencumbered software released into the public domain"],
        "Unlicense",
    ),
    (
        &[
            "permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted",
            "the software is provided \"as is\" and the author disclaims",
        ],
        "ISC",
    ),
    (
        &[
            "permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted",
        ],
        "0BSD",
    ),
    (
        &[
            "permission is hereby granted, free of charge, to any person obtaining a copy",
            "the above copyright notice and this permission notice shall be included",
        ],
        "MIT",
    ),
    (
        &["permission is hereby granted, free of charge, to any person obtaining a copy"],
        "MIT-0",
    ),
    (
        &[
            "redistribution and use in source and binary forms",
            "all advertising materials mentioning features",
        ],
        "BSD-4-Clause",
    ),
    (
        &[
            "redistribution and use in source and binary forms",
            "neither the name",
        ],
        "BSD-3-Clause",
    ),
    (
        &[
            "redistribution and use in source and binary forms",
            "may not be used to endorse or promote products",
        ],
        "BSD-3-Clause",
    ),
    (
        &["redistribution and use in source and binary forms"],
        "BSD-2-Clause",
    ),
    (
        &[
            "this software is provided 'as-is', without any express or implied warranty",
            "altered source versions must be plainly marked",
        ],
        "Zlib",
    ),
];

/// Recognises a pasted licence text. The `or later` clause of the GNU licences turns `-only`
/// into `-or-later`.
pub(crate) fn full_text(text: &str) -> Option<&'static str> {
    let normalised = text
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let (_, id) = TEXTS
        .iter()
        .find(|(phrases, _)| phrases.iter().all(|p| normalised.contains(p)))?;
    let or_later = normalised.contains("or (at your option) any later version");
    Some(match (*id, or_later) {
        ("GPL-3.0-only", true) => "GPL-3.0-or-later",
        ("GPL-2.0-only", true) => "GPL-2.0-or-later",
        ("LGPL-3.0-only", true) => "LGPL-3.0-or-later",
        ("LGPL-2.1-only", true) => "LGPL-2.1-or-later",
        ("LGPL-2.0-only", true) => "LGPL-2.0-or-later",
        ("AGPL-3.0-only", true) => "AGPL-3.0-or-later",
        (id, _) => id,
    })
}

/// A short combination of spellings joined by "or", "and", "/" or "," (`MIT or Apache 2.0`),
/// each side found in the table. Returns the SPDX expression and the weakest confidence.
pub(crate) fn combination(text: &str) -> Option<(String, Confidence)> {
    let lower = key(text);
    for (separator, operator) in [(" or ", "OR"), (" and ", "AND"), ("/", "OR"), (", ", "AND")] {
        if !lower.contains(separator) {
            continue;
        }
        let mut parts = Vec::new();
        let mut confidence = Confidence::Normalised;
        for side in lower.split(separator) {
            let (spdx, c) = alias(side)?;
            confidence = confidence.min(c);
            parts.push(spdx);
        }
        return Some((parts.join(&format!(" {operator} ")), confidence));
    }
    None
}
