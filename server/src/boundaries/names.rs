//! Vietnamese-aware unit names: the normal forms and the match rules that pair boundary features with units.
use unicode_normalization::UnicodeNormalization;

/// The five tone marks, as combining characters after canonical decomposition.
const TONE_MARKS: [char; 5] = ['\u{0300}', '\u{0301}', '\u{0303}', '\u{0309}', '\u{0323}'];

/// Type words that may precede a unit's name, as ASCII tokens (after [`ascii_tokens`]).
const TYPE_PREFIXES: [&[&str]; 13] = [
    &["thanh", "pho"],
    &["thi", "xa"],
    &["thi", "tran"],
    &["huyen"],
    &["quan"],
    &["phuong"],
    &["xa"],
    &["tinh"],
    &["tp"],
    &["tx"],
    &["tt"],
    &["h"],
    &["q"],
];

/// Old files write "Đ" as the look-alike Icelandic eth (U+00D0) and "đ" as U+00F0.
fn fold_look_alikes(c: char) -> char {
    match c {
        '\u{00D0}' => 'Đ',
        '\u{00F0}' => 'đ',
        other => other,
    }
}

/// Splits into lowercase words, punctuation ("TP.", hyphens) counting as spaces.
fn words(name: &str) -> Vec<String> {
    name.chars()
        .map(fold_look_alikes)
        .nfd()
        .map(|c| {
            if c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c) {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .map(|w| w.to_lowercase())
        .collect()
}

/// A word with its tone mark moved to the end: "hòa" and "hoà" (old and new placement) agree.
fn tone_canonical_word(word: &str) -> String {
    let mut letters = String::with_capacity(word.len());
    let mut tones = String::new();
    for c in word.chars() {
        if TONE_MARKS.contains(&c) {
            tones.push(c);
        } else {
            letters.push(c);
        }
    }
    letters.push_str(&tones);
    letters
}

/// A word without any diacritic ("đ" read as "d").
fn ascii_word(word: &str) -> String {
    word.chars()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| if c == 'đ' { 'd' } else { c })
        .collect()
}

/// A name's comparable forms, with any type prefix ("Huyện", "TP.") removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameKey {
    /// Diacritics kept, tone marks in a canonical place.
    pub toned: String,
    /// No diacritics at all.
    pub ascii: String,
    /// Whether the name carried any diacritic (a name written without them is not a misspelling).
    pub has_diacritics: bool,
}

impl NameKey {
    pub fn new(name: &str) -> NameKey {
        let words = words(name);
        let ascii: Vec<String> = words.iter().map(|w| ascii_word(w)).collect();
        let skip = TYPE_PREFIXES
            .iter()
            .find(|p| ascii.len() > p.len() && ascii.iter().zip(p.iter()).all(|(a, b)| a == b))
            .map_or(0, |p| p.len());
        let has_diacritics = words.iter().zip(&ascii).any(|(w, a)| w != a);
        NameKey {
            toned: words[skip..]
                .iter()
                .map(|w| tone_canonical_word(w))
                .collect::<Vec<_>>()
                .join(" "),
            ascii: ascii[skip..].join(" "),
            has_diacritics,
        }
    }
}

/// How a feature's name was paired with a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchKind {
    /// The same string as the unit's name or name with type.
    Exact,
    /// The same after normalisation: look-alike letters, tone-mark placement, type prefixes,
    /// or a name written without diacritics.
    Normalised,
    /// A misspelling: different diacritics, or a letter or two off. Reported line by line.
    Fuzzy,
}

impl MatchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Normalised => "normalised",
            MatchKind::Fuzzy => "fuzzy",
        }
    }
}

/// A unit a feature may be matched to.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub code: String,
    pub name: String,
    pub name_with_type: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameMatch {
    Matched {
        code: String,
        kind: MatchKind,
    },
    /// Several units fit equally well: the caller must refuse and ask for a mapping.
    Ambiguous(Vec<String>),
    None,
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(previous + 1).min(row[j] + 1);
        }
    }
    row[b.len()]
}

fn decide(codes: Vec<&str>, kind: MatchKind) -> Option<NameMatch> {
    match codes.as_slice() {
        [] => None,
        [one] => Some(NameMatch::Matched {
            code: one.to_string(),
            kind,
        }),
        many => Some(NameMatch::Ambiguous(
            many.iter().map(|c| c.to_string()).collect(),
        )),
    }
}

/// Pairs a feature's name with one of `candidates`, trying the strictest rule first.
pub fn match_name(feature_name: &str, candidates: &[Candidate]) -> NameMatch {
    let raw = feature_name.trim();
    let exact = candidates
        .iter()
        .filter(|c| c.name == raw || c.name_with_type == raw)
        .map(|c| c.code.as_str())
        .collect();
    if let Some(m) = decide(exact, MatchKind::Exact) {
        return m;
    }
    let key = NameKey::new(raw);
    if key.ascii.is_empty() {
        return NameMatch::None;
    }
    let keys: Vec<(&Candidate, NameKey)> = candidates
        .iter()
        .map(|c| (c, NameKey::new(&c.name)))
        .collect();
    let toned = keys
        .iter()
        .filter(|(_, k)| k.toned == key.toned)
        .map(|(c, _)| c.code.as_str())
        .collect();
    if let Some(m) = decide(toned, MatchKind::Normalised) {
        return m;
    }
    let ascii = keys
        .iter()
        .filter(|(_, k)| k.ascii == key.ascii)
        .map(|(c, _)| c.code.as_str())
        .collect();
    // Without any diacritic the name is a plain transliteration; with different ones, a misspelling.
    let kind = if key.has_diacritics {
        MatchKind::Fuzzy
    } else {
        MatchKind::Normalised
    };
    if let Some(m) = decide(ascii, kind) {
        return m;
    }
    // Conservative: one letter off for short names, two for long ones, and a single best.
    let limit = if key.ascii.chars().count() <= 8 { 1 } else { 2 };
    let scored: Vec<(usize, &str)> = keys
        .iter()
        .map(|(c, k)| (edit_distance(&key.ascii, &k.ascii), c.code.as_str()))
        .filter(|(d, _)| *d <= limit)
        .collect();
    let Some(best) = scored.iter().map(|(d, _)| *d).min() else {
        return NameMatch::None;
    };
    decide(
        scored
            .into_iter()
            .filter(|(d, _)| *d == best)
            .map(|(_, c)| c)
            .collect(),
        MatchKind::Fuzzy,
    )
    .unwrap_or(NameMatch::None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(names: &[(&str, &str, &str)]) -> Vec<Candidate> {
        names
            .iter()
            .map(|(code, name, with_type)| Candidate {
                code: code.to_string(),
                name: name.to_string(),
                name_with_type: with_type.to_string(),
            })
            .collect()
    }

    fn long_an() -> Vec<Candidate> {
        units(&[
            ("794", "Tân An", "Thành phố Tân An"),
            ("795", "Kiến Tường", "Thị xã Kiến Tường"),
            ("796", "Tân Hưng", "Huyện Tân Hưng"),
            ("797", "Vĩnh Hưng", "Huyện Vĩnh Hưng"),
            ("798", "Mộc Hóa", "Huyện Mộc Hóa"),
            ("799", "Tân Thạnh", "Huyện Tân Thạnh"),
            ("800", "Thạnh Hóa", "Huyện Thạnh Hóa"),
            ("802", "Đức Hòa", "Huyện Đức Hòa"),
            ("806", "Cần Đước", "Huyện Cần Đước"),
        ])
    }

    fn matched(name: &str, within: &[Candidate]) -> (String, MatchKind) {
        match match_name(name, within) {
            NameMatch::Matched { code, kind } => (code, kind),
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn tone_mark_placement_and_look_alike_letters_are_normalised() {
        assert_eq!(NameKey::new("Hòa").toned, NameKey::new("Hoà").toned);
        assert_eq!(NameKey::new("\u{00D0}ức Hòa"), NameKey::new("Đức Hoà"));
        // Precomposed and decomposed input agree.
        assert_eq!(NameKey::new("Mo\u{0323}\u{0302}c"), NameKey::new("Mộc"));
        assert_eq!(
            matched("\u{00D0}ức Hòa", &long_an()),
            ("802".into(), MatchKind::Normalised)
        );
        assert_eq!(
            matched("Đức Hoà", &long_an()),
            ("802".into(), MatchKind::Normalised)
        );
    }

    #[test]
    fn type_prefixes_and_abbreviations_are_ignored() {
        assert_eq!(NameKey::new("Thành phố Tân An").ascii, "tan an");
        assert_eq!(NameKey::new("TP. Tân An").ascii, "tan an");
        assert_eq!(NameKey::new("TP.Tân An").ascii, "tan an");
        assert_eq!(NameKey::new("Thị xã Kiến Tường").ascii, "kien tuong");
        assert_eq!(
            NameKey::new("Huyện Mộc Hóa").toned,
            NameKey::new("Mộc Hoá").toned
        );
        // A name that is only a type word keeps it ("Phường 1" keeps "1").
        assert_eq!(NameKey::new("Phường 1").ascii, "1");
        assert_eq!(NameKey::new("Xã").ascii, "xa");
        assert_eq!(
            matched("Thị xã Tân An", &long_an()),
            ("794".into(), MatchKind::Normalised)
        );
        assert_eq!(
            matched("Huyện Tân Hưng", &long_an()),
            ("796".into(), MatchKind::Exact)
        );
    }

    #[test]
    fn names_without_diacritics_are_normalised_matches() {
        assert_eq!(
            matched("Vinh Hung", &long_an()),
            ("797".into(), MatchKind::Normalised)
        );
        assert_eq!(
            matched("DUC HOA", &long_an()),
            ("802".into(), MatchKind::Normalised)
        );
    }

    #[test]
    fn misspellings_are_fuzzy_matches() {
        // Wrong or missing diacritics, as in the real Long An and Lào Cai files.
        assert_eq!(
            matched("Tân Hung", &long_an()),
            ("796".into(), MatchKind::Fuzzy)
        );
        assert_eq!(
            matched("Cần \u{00D0}uớc", &long_an()),
            ("806".into(), MatchKind::Fuzzy)
        );
        assert_eq!(
            matched("Thanh Hóa", &long_an()),
            ("800".into(), MatchKind::Fuzzy)
        );
        let quang_nam = units(&[
            ("511", "Phước Sơn", "Huyện Phước Sơn"),
            ("512", "Hiệp Đức", "Huyện Hiệp Đức"),
        ]);
        assert_eq!(
            matched("Phuớc Son", &quang_nam),
            ("511".into(), MatchKind::Fuzzy)
        );
        // A letter off.
        assert_eq!(
            matched("Phuoc Sonn", &quang_nam),
            ("511".into(), MatchKind::Fuzzy)
        );
        assert_eq!(
            matched("Hiep Duk", &quang_nam),
            ("512".into(), MatchKind::Fuzzy)
        );
    }

    #[test]
    fn fuzzy_matching_is_conservative_and_ambiguity_is_reported() {
        assert_eq!(match_name("Long Hậu", &long_an()), NameMatch::None);
        assert_eq!(match_name("", &long_an()), NameMatch::None);
        let twins = units(&[
            ("1", "Châu Thành", "Huyện Châu Thành"),
            ("2", "Châu Thành", "Thị trấn Châu Thành"),
        ]);
        assert_eq!(
            match_name("Chau Thanh", &twins),
            NameMatch::Ambiguous(vec!["1".into(), "2".into()])
        );
        // Two candidates one letter away: refused, not guessed.
        let close = units(&[
            ("1", "Tân Phú", "Xã Tân Phú"),
            ("2", "Tân Thu", "Xã Tân Thu"),
        ]);
        assert_eq!(
            match_name("Tan Khu", &close),
            NameMatch::Ambiguous(vec!["1".into(), "2".into()])
        );
    }

    #[test]
    fn edit_distance_counts_single_letter_edits() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("son", "sonn"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("duc", "duk"), 1);
    }
}
