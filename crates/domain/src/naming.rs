//! The CAVATICA `N_name` rule for name collisions on copy (sbg-api.md §3.7).
//!
//! A copied file whose name is taken in the destination folder gets the prefix `k_`, with the
//! smallest `k >= 1` that makes it free: `file.ext`, then `1_file.ext`, `2_file.ext`, ... The
//! prefix is never nested: a second collision on `file.ext` gives `2_file.ext`, not
//! `1_1_file.ext`.

use std::collections::{HashMap, HashSet};

/// Allocates destination names for a batch of files copied into one folder.
///
/// `wanted` are the names the files want, in order; `taken` are the names already in the
/// destination folder. Returns one name per wanted name, in the same order:
///
/// - a wanted name that is free is kept;
/// - a taken one becomes `k_<name>` with the smallest `k >= 1` such that `k_<name>` is free;
/// - every name allocated earlier in the call counts as taken for the later ones, so the
///   results are distinct from each other and from `taken`.
///
/// For example, with `taken = {a.txt, 1_a.txt}`, `[a.txt, a.txt, b]` gives
/// `[2_a.txt, 3_a.txt, b]`.
///
/// Only `taken` names that equal a wanted name or whose [`name_stem`] is a wanted name can
/// matter, so the caller may pass just those (one indexed query, see [`name_stem`]).
///
/// Lengths are not checked: a renamed name may be longer than a valid file name (255
/// characters). The caller decides what to do with it.
///
/// Cost: O(n + m) hash operations for n wanted and m taken names. Each base name has a cursor,
/// the next `k` to try, that only moves forward; every `k_<name>` skipped is a taken or
/// allocated name belonging to exactly one base, so the skips total at most n + m.
pub fn allocate_names<S, T>(wanted: &[S], taken: impl IntoIterator<Item = T>) -> Vec<String>
where
    S: AsRef<str>,
    T: AsRef<str>,
{
    let mut used: HashSet<String> = taken.into_iter().map(|t| t.as_ref().to_owned()).collect();
    // The next k to try per base name. Every k below the cursor is known to be used, and used
    // names are never freed, so the cursor stays valid for the whole call.
    let mut next_k: HashMap<&str, u64> = HashMap::new();
    let mut out = Vec::with_capacity(wanted.len());
    for w in wanted {
        let w = w.as_ref();
        if !used.contains(w) {
            used.insert(w.to_owned());
            out.push(w.to_owned());
            continue;
        }
        let k = next_k.entry(w).or_insert(1);
        let name = loop {
            let candidate = format!("{k}_{w}");
            *k += 1;
            if !used.contains(&candidate) {
                break candidate;
            }
        };
        used.insert(name.clone());
        out.push(name);
    }
    out
}

/// The name without one leading `<digits>_` prefix: `12_a.txt` -> `a.txt`, `1_2_a` -> `2_a`.
/// A name with no such prefix (or nothing after it, as in `1_`) is its own stem.
///
/// The store keeps this stem in an indexed column. The names that can collide with a batch of
/// wanted names `W` in [`allocate_names`] are `w` and `k_w` for `w` in `W`, and
/// `name_stem(k_w) == w` for every `k`, so they are exactly the names with
/// `name IN W OR stem IN W`: one indexed query, however many renames the batch needs.
pub fn name_stem(name: &str) -> &str {
    let digits = name.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return name;
    }
    match name[digits..].strip_prefix('_') {
        Some(rest) if !rest.is_empty() => rest,
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::{FileName, MAX_FILE_NAME_CHARS};
    use proptest::prelude::*;

    const NONE: [&str; 0] = [];

    #[test]
    fn example_from_the_docs() {
        assert_eq!(allocate_names(&["file.ext"], ["file.ext"]), ["1_file.ext"]);
        assert_eq!(
            allocate_names(&["a.txt", "a.txt", "b"], ["a.txt", "1_a.txt"]),
            ["2_a.txt", "3_a.txt", "b"]
        );
    }

    #[test]
    fn free_names_are_kept() {
        assert_eq!(allocate_names(&["a", "b"], NONE), ["a", "b"]);
        assert_eq!(allocate_names(&["a", "b"], ["c", "1_a"]), ["a", "b"]);
        assert!(allocate_names(&NONE, ["a"]).is_empty());
    }

    #[test]
    fn duplicates_within_the_batch() {
        assert_eq!(allocate_names(&["a", "a", "a"], NONE), ["a", "1_a", "2_a"]);
        // A wanted 1_a that is free is kept, and then the a that follows skips it.
        assert_eq!(
            allocate_names(&["a", "1_a", "a"], NONE),
            ["a", "1_a", "2_a"]
        );
        // An earlier rename takes 1_a, so a wanted 1_a that comes later is renamed.
        assert_eq!(
            allocate_names(&["a", "a", "1_a"], NONE),
            ["a", "1_a", "1_1_a"]
        );
    }

    #[test]
    fn gaps_are_filled() {
        assert_eq!(
            allocate_names(&["a", "a", "a"], ["a", "2_a", "4_a"]),
            ["1_a", "3_a", "5_a"]
        );
    }

    #[test]
    fn prefixed_wanted_names_get_a_further_prefix() {
        assert_eq!(allocate_names(&["1_a"], ["1_a"]), ["1_1_a"]);
        assert_eq!(allocate_names(&["1_a"], ["1_a", "1_1_a"]), ["2_1_a"]);
    }

    #[test]
    fn works_with_owned_strings() {
        let wanted = vec![String::from("x")];
        let taken = vec![String::from("x")];
        assert_eq!(allocate_names(&wanted, &taken), ["1_x"]);
    }

    #[test]
    fn many_copies_of_one_name() {
        // 100,000 copies of one name over 100,000 taken k_names: linear, so this is quick.
        const N: usize = 100_000;
        let taken: Vec<String> = std::iter::once("x.bam".to_owned())
            .chain((1..=N).map(|k| format!("{k}_x.bam")))
            .collect();
        let wanted = vec!["x.bam"; N];
        let got = allocate_names(&wanted, &taken);
        assert_eq!(got.len(), N);
        assert_eq!(got[0], format!("{}_x.bam", N + 1));
        assert_eq!(got[N - 1], format!("{}_x.bam", 2 * N));
    }

    #[test]
    fn stem() {
        assert_eq!(name_stem("a.txt"), "a.txt");
        assert_eq!(name_stem("1_a.txt"), "a.txt");
        assert_eq!(name_stem("123_a.txt"), "a.txt");
        assert_eq!(name_stem("1_2_a"), "2_a");
        assert_eq!(name_stem("1__a"), "_a");
        assert_eq!(name_stem("1_"), "1_");
        assert_eq!(name_stem("12"), "12");
        assert_eq!(name_stem("_a"), "_a");
        assert_eq!(name_stem("a1_b"), "a1_b");
        assert_eq!(name_stem("1a_b"), "1a_b");
        assert_eq!(name_stem("٣_a"), "٣_a"); // not an ASCII digit
        assert_eq!(name_stem(""), "");
    }

    /// Names from a small alphabet, so that batches collide with each other, with the taken
    /// names and with prefixed forms of each other.
    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ab]{1,2}",
            "[1-3]_[ab]{1,2}",
            "[1-3]_[1-3]_[ab]",
            "[0-9_]{1,3}",
        ]
    }

    /// Valid file names that collide: short ones from a small alphabet, and a few long ones
    /// a prefix short of the limit (253 to 255 characters).
    fn file_name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ab]{1,2}",
            "[1-3]_[ab]",
            prop::sample::select(vec!["x".repeat(253), "y.bam".repeat(51), "1_".repeat(127)]),
        ]
    }

    /// The smallest k >= 1 with `k_w` outside `used`, by brute force.
    fn smallest_free(w: &str, used: &HashSet<String>) -> String {
        (1..)
            .map(|k| format!("{k}_{w}"))
            .find(|c| !used.contains(c))
            .unwrap()
    }

    proptest! {
        #[test]
        fn allocation_properties(
            wanted in prop::collection::vec(name(), 0..30),
            taken in prop::collection::hash_set(name(), 0..30),
        ) {
            let got = allocate_names(&wanted, &taken);
            prop_assert_eq!(got.len(), wanted.len());

            let unique: HashSet<&String> = got.iter().collect();
            prop_assert_eq!(unique.len(), got.len(), "results not unique: {:?}", got);

            let mut used: HashSet<String> = taken.clone();
            for (i, (w, g)) in wanted.iter().zip(&got).enumerate() {
                prop_assert!(!taken.contains(g), "{} is taken", g);
                if used.contains(w) {
                    prop_assert_eq!(g, &smallest_free(w, &used), "wanted[{}] = {}", i, w);
                } else {
                    prop_assert_eq!(g, w, "free name {} was renamed", w);
                }
                used.insert(g.clone());
            }
        }

        /// Arbitrary valid file names, near the 255-character limit too: each result is a
        /// valid `FileName`, or it is over the limit only because of its `k_` prefix (the
        /// caller's to report), and it never collides.
        #[test]
        fn results_are_valid_file_names_or_too_long_by_their_prefix(
            wanted in prop::collection::vec(file_name(), 1..12),
            taken in prop::collection::hash_set(file_name(), 0..12),
        ) {
            let got = allocate_names(&wanted, &taken);
            let mut seen = HashSet::new();
            for (w, g) in wanted.iter().zip(&got) {
                prop_assert!(!taken.contains(g) && seen.insert(g.clone()), "{} collides", g);
                match FileName::parse(g.as_str()) {
                    Ok(_) => {}
                    Err(_) => {
                        prop_assert!(g.chars().count() > MAX_FILE_NAME_CHARS, "{:?} refused", g);
                        prop_assert_eq!(name_stem(g), w.as_str());
                    }
                }
            }
        }

        #[test]
        fn stem_undoes_one_prefix(w in "\\PC{1,12}", k in any::<u64>()) {
            let prefixed = format!("{k}_{w}");
            prop_assert_eq!(name_stem(&prefixed), w.as_str());
        }

        /// Only taken names with `name IN W OR stem IN W` affect the result, which is what
        /// lets the store fetch just those.
        #[test]
        fn only_names_and_stems_in_the_batch_matter(
            wanted in prop::collection::vec(name(), 0..20),
            taken in prop::collection::hash_set(name(), 0..40),
        ) {
            let w: HashSet<&str> = wanted.iter().map(String::as_str).collect();
            let relevant = taken
                .iter()
                .filter(|t| w.contains(t.as_str()) || w.contains(name_stem(t)));
            prop_assert_eq!(allocate_names(&wanted, relevant), allocate_names(&wanted, &taken));
        }
    }
}
