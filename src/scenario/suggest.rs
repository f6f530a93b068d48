//! "Did you mean ...?": the nearest known word by edit distance.

/// Levenshtein distance over characters, ASCII case-sensitive.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// How far a word may be from a known one and still be taken for a typo of it: one edit for
/// words of up to four characters (`BYE`, `ACK`, `INFO`), two for longer ones.
pub fn typo_limit(word: &str) -> usize {
    if word.chars().count() <= 4 {
        1
    } else {
        2
    }
}

/// The candidate closest to `word` (case-insensitively equal counts as distance 0), if it is
/// within [`typo_limit`]. Ties go to the earlier candidate.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= typo_limit(word))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `"; did you mean `x`?"`, or nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match nearest(word, candidates) {
        Some(c) => format!("; did you mean `{c}`?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("INVIT", "INVITE"), 1);
        assert_eq!(edit_distance("INIVTE", "INVITE"), 2);
        assert_eq!(edit_distance("", "BYE"), 3);
        assert_eq!(edit_distance("BYE", "BYE"), 0);
    }

    #[test]
    fn nearest_respects_the_limit_for_short_words() {
        let known = ["INVITE", "BYE", "ACK"];
        assert_eq!(nearest("INVIT", known), Some("INVITE"));
        assert_eq!(nearest("invite", known), Some("INVITE"));
        assert_eq!(nearest("BYX", known), Some("BYE"));
        assert_eq!(nearest("BXX", known), None);
        assert_eq!(nearest("FOO", known), None);
    }
}
