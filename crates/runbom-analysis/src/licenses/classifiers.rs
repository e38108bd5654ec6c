//! Trove `License ::` classifiers to SPDX. Every classifier of the `trove-classifiers` package
//! (2026.9.21, 84 current and 5 deprecated) has a row; those naming a licence family without a
//! version map to the most common member of the family and are marked [`Confidence::Inferred`].
//!
//! Traps: `BSD License` does not say which BSD (2- or 3-clause); `GNU General Public License
//! (GPL)` without a version means "any version" (`GPL-1.0-or-later`); `Public Domain` and
//! `Other/Proprietary License` have no SPDX id and map to a `LicenseRef-`; `OSI Approved` and
//! `DFSG approved` alone name no licence at all.

use super::Confidence;

use Confidence::{Inferred as I, Normalised as N};

/// `(classifier after "License :: ", SPDX expression or None, confidence)`.
pub(crate) const CLASSIFIERS: &[(&str, Option<&str>, Confidence)] = &[
    ("Aladdin Free Public License (AFPL)", Some("Aladdin"), N),
    (
        "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication",
        Some("CC0-1.0"),
        N,
    ),
    (
        "CeCILL-B Free Software License Agreement (CECILL-B)",
        Some("CECILL-B"),
        N,
    ),
    (
        "CeCILL-C Free Software License Agreement (CECILL-C)",
        Some("CECILL-C"),
        N,
    ),
    ("DFSG approved", None, I),
    ("Eiffel Forum License (EFL)", Some("EFL-2.0"), I),
    (
        "Free For Educational Use",
        Some("LicenseRef-Free-For-Educational-Use"),
        I,
    ),
    ("Free For Home Use", Some("LicenseRef-Free-For-Home-Use"), I),
    (
        "Free To Use But Restricted",
        Some("LicenseRef-Free-To-Use-But-Restricted"),
        I,
    ),
    (
        "Free for non-commercial use",
        Some("LicenseRef-Free-For-Non-Commercial-Use"),
        I,
    ),
    (
        "Freely Distributable",
        Some("LicenseRef-Freely-Distributable"),
        I,
    ),
    ("Freeware", Some("LicenseRef-Freeware"), I),
    (
        "GUST Font License 1.0",
        Some("LicenseRef-GUST-Font-License-1.0"),
        I,
    ),
    (
        "GUST Font License 2006-09-30",
        Some("LicenseRef-GUST-Font-License-2006-09-30"),
        I,
    ),
    ("Netscape Public License (NPL)", Some("NPL-1.1"), I),
    ("Nokia Open Source License (NOKOS)", Some("Nokia"), N),
    ("OSI Approved", None, I),
    (
        "OSI Approved :: Academic Free License (AFL)",
        Some("AFL-3.0"),
        I,
    ),
    (
        "OSI Approved :: Apache Software License",
        Some("Apache-2.0"),
        I,
    ),
    (
        "OSI Approved :: Apple Public Source License",
        Some("APSL-2.0"),
        I,
    ),
    ("OSI Approved :: Artistic License", Some("Artistic-2.0"), I),
    (
        "OSI Approved :: Attribution Assurance License",
        Some("AAL"),
        N,
    ),
    ("OSI Approved :: BSD License", Some("BSD-3-Clause"), I),
    (
        "OSI Approved :: Blue Oak Model License (BlueOak-1.0.0)",
        Some("BlueOak-1.0.0"),
        N,
    ),
    (
        "OSI Approved :: Boost Software License 1.0 (BSL-1.0)",
        Some("BSL-1.0"),
        N,
    ),
    (
        "OSI Approved :: CEA CNRS Inria Logiciel Libre License, version 2.1 (CeCILL-2.1)",
        Some("CECILL-2.1"),
        N,
    ),
    ("OSI Approved :: CMU License (MIT-CMU)", Some("MIT-CMU"), N),
    (
        "OSI Approved :: Common Development and Distribution License 1.0 (CDDL-1.0)",
        Some("CDDL-1.0"),
        N,
    ),
    ("OSI Approved :: Common Public License", Some("CPL-1.0"), N),
    (
        "OSI Approved :: Eclipse Public License 1.0 (EPL-1.0)",
        Some("EPL-1.0"),
        N,
    ),
    (
        "OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)",
        Some("EPL-2.0"),
        N,
    ),
    (
        "OSI Approved :: Educational Community License, Version 2.0 (ECL-2.0)",
        Some("ECL-2.0"),
        N,
    ),
    ("OSI Approved :: Eiffel Forum License", Some("EFL-2.0"), I),
    (
        "OSI Approved :: European Union Public Licence 1.0 (EUPL 1.0)",
        Some("EUPL-1.0"),
        N,
    ),
    (
        "OSI Approved :: European Union Public Licence 1.1 (EUPL 1.1)",
        Some("EUPL-1.1"),
        N,
    ),
    (
        "OSI Approved :: European Union Public Licence 1.2 (EUPL 1.2)",
        Some("EUPL-1.2"),
        N,
    ),
    (
        "OSI Approved :: GNU Affero General Public License v3",
        Some("AGPL-3.0-only"),
        N,
    ),
    (
        "OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)",
        Some("AGPL-3.0-or-later"),
        N,
    ),
    (
        "OSI Approved :: GNU Free Documentation License (FDL)",
        Some("GFDL-1.1-or-later"),
        I,
    ),
    (
        "OSI Approved :: GNU General Public License (GPL)",
        Some("GPL-1.0-or-later"),
        I,
    ),
    (
        "OSI Approved :: GNU General Public License v2 (GPLv2)",
        Some("GPL-2.0-only"),
        N,
    ),
    (
        "OSI Approved :: GNU General Public License v2 or later (GPLv2+)",
        Some("GPL-2.0-or-later"),
        N,
    ),
    (
        "OSI Approved :: GNU General Public License v3 (GPLv3)",
        Some("GPL-3.0-only"),
        N,
    ),
    (
        "OSI Approved :: GNU General Public License v3 or later (GPLv3+)",
        Some("GPL-3.0-or-later"),
        N,
    ),
    (
        "OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)",
        Some("LGPL-2.0-only"),
        N,
    ),
    (
        "OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)",
        Some("LGPL-2.0-or-later"),
        N,
    ),
    (
        "OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)",
        Some("LGPL-3.0-only"),
        N,
    ),
    (
        "OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)",
        Some("LGPL-3.0-or-later"),
        N,
    ),
    (
        "OSI Approved :: GNU Library or Lesser General Public License (LGPL)",
        Some("LGPL-2.0-or-later"),
        I,
    ),
    (
        "OSI Approved :: Historical Permission Notice and Disclaimer (HPND)",
        Some("HPND"),
        N,
    ),
    ("OSI Approved :: IBM Public License", Some("IPL-1.0"), N),
    ("OSI Approved :: ISC License (ISCL)", Some("ISC"), N),
    ("OSI Approved :: MIT License", Some("MIT"), N),
    (
        "OSI Approved :: MIT No Attribution License (MIT-0)",
        Some("MIT-0"),
        N,
    ),
    ("OSI Approved :: MirOS License (MirOS)", Some("MirOS"), N),
    ("OSI Approved :: Motosoto License", Some("Motosoto"), N),
    (
        "OSI Approved :: Mozilla Public License 1.0 (MPL)",
        Some("MPL-1.0"),
        N,
    ),
    (
        "OSI Approved :: Mozilla Public License 1.1 (MPL 1.1)",
        Some("MPL-1.1"),
        N,
    ),
    (
        "OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)",
        Some("MPL-2.0"),
        N,
    ),
    (
        "OSI Approved :: Mulan Permissive Software License v2 (MulanPSL-2.0)",
        Some("MulanPSL-2.0"),
        N,
    ),
    (
        "OSI Approved :: NASA Open Source Agreement v1.3 (NASA-1.3)",
        Some("NASA-1.3"),
        N,
    ),
    (
        "OSI Approved :: Nethack General Public License",
        Some("NGPL"),
        N,
    ),
    (
        "OSI Approved :: Nokia Open Source License",
        Some("Nokia"),
        N,
    ),
    (
        "OSI Approved :: Open Group Test Suite License",
        Some("OGTSL"),
        N,
    ),
    (
        "OSI Approved :: Open Software License 3.0 (OSL-3.0)",
        Some("OSL-3.0"),
        N,
    ),
    ("OSI Approved :: PostgreSQL License", Some("PostgreSQL"), N),
    (
        "OSI Approved :: Python License (CNRI Python License)",
        Some("CNRI-Python"),
        N,
    ),
    (
        "OSI Approved :: Python Software Foundation License",
        Some("PSF-2.0"),
        N,
    ),
    (
        "OSI Approved :: Qt Public License (QPL)",
        Some("QPL-1.0"),
        I,
    ),
    (
        "OSI Approved :: Ricoh Source Code Public License",
        Some("RSCPL"),
        N,
    ),
    (
        "OSI Approved :: SIL Open Font License 1.1 (OFL-1.1)",
        Some("OFL-1.1"),
        N,
    ),
    ("OSI Approved :: Sleepycat License", Some("Sleepycat"), N),
    ("OSI Approved :: Sun Public License", Some("SPL-1.0"), N),
    (
        "OSI Approved :: The Unlicense (Unlicense)",
        Some("Unlicense"),
        N,
    ),
    (
        "OSI Approved :: Universal Permissive License (UPL)",
        Some("UPL-1.0"),
        N,
    ),
    (
        "OSI Approved :: University of Illinois/NCSA Open Source License",
        Some("NCSA"),
        N,
    ),
    (
        "OSI Approved :: Vovida Software License 1.0",
        Some("VSL-1.0"),
        N,
    ),
    ("OSI Approved :: W3C License", Some("W3C"), N),
    ("OSI Approved :: Zero-Clause BSD (0BSD)", Some("0BSD"), N),
    ("OSI Approved :: Zope Public License", Some("ZPL-2.1"), I),
    ("OSI Approved :: zlib/libpng License", Some("Zlib"), N),
    (
        "Other/Proprietary License",
        Some("LicenseRef-Proprietary"),
        I,
    ),
    ("Public Domain", Some("LicenseRef-Public-Domain"), I),
    (
        "Repoze Public License",
        Some("LicenseRef-Repoze-Public-License"),
        I,
    ),
    // Deprecated classifiers, still found in old metadata.
    (
        "OSI Approved :: Intel Open Source License",
        Some("Intel"),
        N,
    ),
    (
        "OSI Approved :: Jabber Open Source License",
        Some("LicenseRef-Jabber-Open-Source-License"),
        I,
    ),
    (
        "OSI Approved :: MITRE Collaborative Virtual Workspace License (CVW)",
        Some("LicenseRef-MITRE-CVW"),
        I,
    ),
    (
        "OSI Approved :: Sun Industry Standards Source License (SISSL)",
        Some("SISSL"),
        N,
    ),
    ("OSI Approved :: X.Net License", Some("Xnet"), N),
];

/// The SPDX mapping of one full classifier (`License :: OSI Approved :: MIT License`).
/// `None` when the classifier is not a licence classifier or runbom does not know it;
/// `Some((None, _))` when it is known but names no licence (`License :: OSI Approved`).
pub(crate) fn lookup(classifier: &str) -> Option<(Option<&'static str>, Confidence)> {
    let rest = classifier.trim().strip_prefix("License ::")?.trim();
    CLASSIFIERS
        .iter()
        .find(|(name, _, _)| *name == rest)
        .map(|(_, spdx, confidence)| (*spdx, *confidence))
}
