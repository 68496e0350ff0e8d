//! The CAVATICA `N_name` rule for name collisions on copy (sbg-api.md §3.7).
//!
//! A copied file whose name is taken in the destination folder gets the prefix `k_`, where `k`
//! is one more than the highest number already used for that name: `file.ext`, then
//! `1_file.ext`, `2_file.ext`, ... CAVATICA documents "an increment of 1" and says no more;
//! counting up from the highest means a number is never given twice (a deleted `2_a` is not
//! reborn as a different file), later copies carry higher numbers, and the store finds the
//! next number with one index probe per name, however many copies exist. The prefix is never
//! nested: a second collision on `file.ext` gives `2_file.ext`, not `1_1_file.ext`.

use std::collections::{HashMap, HashSet};

/// Longest number in a `k_name` prefix read as such: 18 digits always fit a signed 64-bit
/// integer. Longer ones all count as [`SATURATED`].
const MAX_NUMBER_DIGITS: usize = 18;

/// The number of every `k_name` whose `k` has more than 18 digits. The store keeps such names
/// one by one for [`allocate_names`], which then steps over them.
pub const SATURATED: u64 = i64::MAX as u64;

/// The names taken in a destination folder, as [`allocate_names`] needs them: the taken names
/// equal to a wanted name, and per wanted name `w` the highest `k` of a taken `k_w`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TakenNames {
    names: HashSet<String>,
    highest: HashMap<String, u64>,
}

impl TakenNames {
    /// Whether this exact name is taken.
    pub fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.highest.is_empty()
    }

    /// Records a taken name; a numbered one raises the highest number of its base.
    pub fn insert(&mut self, name: impl Into<String>) {
        let name = name.into();
        if let Some((k, base)) = numbered_parts(&name) {
            self.insert_highest(base, k);
        }
        self.names.insert(name);
    }

    /// Records that `<k>_<base>` is taken, without its name: all `allocate_names` needs of the
    /// numbered copies of `base`.
    pub fn insert_highest(&mut self, base: impl Into<String>, k: u64) {
        let highest = self.highest.entry(base.into()).or_default();
        *highest = (*highest).max(k);
    }

    /// The highest `k` of a taken `k_<base>`, 0 if none.
    pub fn highest(&self, base: &str) -> u64 {
        self.highest.get(base).copied().unwrap_or(0)
    }
}

impl<S: Into<String>> FromIterator<S> for TakenNames {
    fn from_iter<I: IntoIterator<Item = S>>(names: I) -> Self {
        let mut taken = TakenNames::default();
        taken.extend(names);
        taken
    }
}

impl<S: Into<String>> Extend<S> for TakenNames {
    fn extend<I: IntoIterator<Item = S>>(&mut self, names: I) {
        for name in names {
            self.insert(name);
        }
    }
}

/// `k_<base>` split into `(k, base)` when `k` is written the way [`allocate_names`] writes it:
/// decimal, no leading zero, at least 1; `k` longer than 18 digits is [`SATURATED`]. `01_a` is
/// not `1_a`, so it holds no number.
pub fn numbered_parts(name: &str) -> Option<(u64, &str)> {
    let base = name_stem(name);
    if base.len() == name.len() {
        return None;
    }
    let digits = &name[..name.len() - base.len() - 1];
    if digits.starts_with('0') {
        return None;
    }
    if digits.len() > MAX_NUMBER_DIGITS {
        return Some((SATURATED, base));
    }
    digits.parse().ok().map(|k| (k, base))
}

/// The `k` of a numbered name `k_<base>` as the store keeps it (`placements.name_number`).
pub fn name_number(name: &str) -> Option<i64> {
    numbered_parts(name).map(|(k, _)| i64::try_from(k).unwrap_or(i64::MAX))
}

/// Allocates destination names for a batch of files copied into one folder.
///
/// `wanted` are the names the files want, in order; `taken` says what the destination folder
/// holds. Returns one name per wanted name, in the same order:
///
/// - a wanted name that is free is kept;
/// - a taken one becomes `k_<name>`, with `k` one more than the highest number of a taken or
///   already allocated `k_<name>`;
/// - every name allocated earlier in the call counts as taken for the later ones, so the
///   results are distinct from each other and from what is taken.
///
/// For example, with `{a.txt, 1_a.txt, 3_a.txt}` taken, `[a.txt, a.txt, b]` gives
/// `[4_a.txt, 5_a.txt, b]`.
///
/// Only taken names that equal a wanted name or whose [`name_stem`] is a wanted name can
/// matter, and of the latter only the highest number, so the store fetches just those.
///
/// Lengths are not checked: a renamed name may be longer than a valid file name (255
/// characters). The caller decides what to do with it.
///
/// Cost: O(1) hash operations per wanted name (more only past [`SATURATED`]).
pub fn allocate_names<S: AsRef<str>>(wanted: &[S], taken: &TakenNames) -> Vec<String> {
    let mut allocated = TakenNames::default();
    let mut out = Vec::with_capacity(wanted.len());
    for w in wanted {
        let w = w.as_ref();
        let is_used = |name: &str| taken.contains(name) || allocated.contains(name);
        let name = if is_used(w) {
            // Past the highest number nothing is taken, except names whose numbers saturate,
            // which `taken` holds one by one.
            let mut k = taken.highest(w).max(allocated.highest(w)) + 1;
            loop {
                let candidate = format!("{k}_{w}");
                if !is_used(&candidate) {
                    break candidate;
                }
                k += 1;
            }
        } else {
            w.to_owned()
        };
        allocated.insert(name.clone());
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

    /// `allocate_names` over single taken names.
    fn allocate<S: AsRef<str>, T: Into<String>>(
        wanted: &[S],
        taken: impl IntoIterator<Item = T>,
    ) -> Vec<String> {
        allocate_names(wanted, &taken.into_iter().collect())
    }

    #[test]
    fn the_highest_number_is_all_that_counts() {
        let mut taken: TakenNames = ["a"].into_iter().collect();
        taken.insert_highest("a", 3);
        assert!(!taken.contains("3_a"));
        assert_eq!(allocate_names(&["a", "a"], &taken), ["4_a", "5_a"]);
    }

    #[test]
    fn saturated_numbers_are_stepped_over() {
        let huge = format!("{SATURATED}_a");
        let past = format!("{}_a", SATURATED + 1);
        let taken: TakenNames = ["a", "12345678901234567890_a", past.as_str()]
            .into_iter()
            .collect();
        assert_eq!(taken.highest("a"), SATURATED);
        assert!(!taken.contains(&huge));
        let got = allocate_names(&["a", "a"], &taken);
        assert_eq!(
            got,
            [
                format!("{}_a", SATURATED + 2),
                format!("{}_a", SATURATED + 3)
            ]
        );
    }

    #[test]
    fn numbered_parts_read_only_canonical_numbers() {
        assert_eq!(numbered_parts("12_a.txt"), Some((12, "a.txt")));
        assert_eq!(numbered_parts("1_2_a"), Some((1, "2_a")));
        assert_eq!(numbered_parts("0_a"), None);
        assert_eq!(numbered_parts("01_a"), None);
        assert_eq!(numbered_parts("a"), None);
        assert_eq!(
            numbered_parts("99999999999999999999999_a"),
            Some((SATURATED, "a"))
        );
        assert_eq!(name_number("99999999999999999999999_a"), Some(i64::MAX));
        assert_eq!(name_number("7_a"), Some(7));
    }

    #[test]
    fn example_from_the_docs() {
        assert_eq!(allocate(&["file.ext"], ["file.ext"]), ["1_file.ext"]);
        assert_eq!(
            allocate(&["a.txt", "a.txt", "b"], ["a.txt", "1_a.txt", "3_a.txt"]),
            ["4_a.txt", "5_a.txt", "b"]
        );
    }

    #[test]
    fn free_names_are_kept() {
        assert_eq!(allocate(&["a", "b"], NONE), ["a", "b"]);
        assert_eq!(allocate(&["a", "b"], ["c", "1_a"]), ["a", "b"]);
        assert!(allocate(&NONE, ["a"]).is_empty());
    }

    #[test]
    fn duplicates_within_the_batch() {
        assert_eq!(allocate(&["a", "a", "a"], NONE), ["a", "1_a", "2_a"]);
        // A wanted 1_a that is free is kept, and then the a that follows skips it.
        assert_eq!(allocate(&["a", "1_a", "a"], NONE), ["a", "1_a", "2_a"]);
        // An earlier rename takes 1_a, so a wanted 1_a that comes later is renamed.
        assert_eq!(allocate(&["a", "a", "1_a"], NONE), ["a", "1_a", "1_1_a"]);
    }

    #[test]
    fn gaps_are_not_filled() {
        // A number is never given twice: 1_a and 3_a may have been deleted copies.
        assert_eq!(
            allocate(&["a", "a", "a"], ["a", "2_a", "4_a"]),
            ["5_a", "6_a", "7_a"]
        );
    }

    #[test]
    fn prefixed_wanted_names_get_a_further_prefix() {
        assert_eq!(allocate(&["1_a"], ["1_a"]), ["1_1_a"]);
        assert_eq!(allocate(&["1_a"], ["1_a", "1_1_a"]), ["2_1_a"]);
    }

    #[test]
    fn works_with_owned_strings() {
        let wanted = vec![String::from("x")];
        let taken = vec![String::from("x")];
        assert_eq!(allocate(&wanted, &taken), ["1_x"]);
    }

    #[test]
    fn many_copies_of_one_name() {
        // 100,000 copies of one name over 100,000 taken k_names: linear, so this is quick.
        const N: usize = 100_000;
        let taken: Vec<String> = std::iter::once("x.bam".to_owned())
            .chain((1..=N).map(|k| format!("{k}_x.bam")))
            .collect();
        let wanted = vec!["x.bam"; N];
        let got = allocate(&wanted, &taken);
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

    /// One past the highest k of a `k_w` in `used`, by brute force.
    fn next_after_highest(w: &str, used: &HashSet<String>) -> String {
        let highest = used
            .iter()
            .filter_map(|name| numbered_parts(name))
            .filter(|(_, base)| *base == w)
            .map(|(k, _)| k)
            .max()
            .unwrap_or(0);
        format!("{}_{w}", highest + 1)
    }

    proptest! {
        #[test]
        fn allocation_properties(
            wanted in prop::collection::vec(name(), 0..30),
            taken in prop::collection::hash_set(name(), 0..30),
        ) {
            let got = allocate(&wanted, &taken);
            prop_assert_eq!(got.len(), wanted.len());

            let unique: HashSet<&String> = got.iter().collect();
            prop_assert_eq!(unique.len(), got.len(), "results not unique: {:?}", got);

            let mut used: HashSet<String> = taken.clone();
            for (i, (w, g)) in wanted.iter().zip(&got).enumerate() {
                prop_assert!(!taken.contains(g), "{} is taken", g);
                if used.contains(w) {
                    prop_assert_eq!(g, &next_after_highest(w, &used), "wanted[{}] = {}", i, w);
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
            let got = allocate(&wanted, &taken);
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

        /// The highest number of a base (with the numbered names that are wanted) allocates
        /// exactly as all the numbered names it stands for, whatever else is taken.
        #[test]
        fn the_highest_number_stands_for_its_names(
            wanted in prop::collection::vec(name(), 0..20),
            taken in prop::collection::hash_set(name(), 0..20),
            base in "[ab]{1,2}",
            highest in 1u64..6,
        ) {
            let numbered: Vec<String> = (1..=highest).map(|k| format!("{k}_{base}")).collect();
            // As the store gives it: the numbered names that are wanted, and the highest.
            let mut with_run: TakenNames = taken.iter().cloned().collect();
            with_run.insert_highest(base.clone(), highest);
            with_run.extend(numbered.iter().filter(|n| wanted.contains(n)).cloned());
            let one_by_one: TakenNames = taken.iter().chain(&numbered).cloned().collect();
            prop_assert_eq!(
                allocate_names(&wanted, &with_run),
                allocate_names(&wanted, &one_by_one)
            );
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
            prop_assert_eq!(allocate(&wanted, relevant), allocate(&wanted, &taken));
        }
    }
}
