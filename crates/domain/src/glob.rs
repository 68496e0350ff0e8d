//! Name globs as DNAnexus searches take them (`{"name": {"glob": "*.bam"}}`): `*` matches any
//! run of characters, `?` exactly one, everything else itself, case-sensitively.

/// A parsed glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob(Vec<Token>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// `*`
    AnyRun,
    /// `?`
    AnyOne,
    Literal(char),
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        Glob(
            pattern
                .chars()
                .map(|c| match c {
                    '*' => Token::AnyRun,
                    '?' => Token::AnyOne,
                    c => Token::Literal(c),
                })
                .collect(),
        )
    }

    pub fn tokens(&self) -> &[Token] {
        &self.0
    }

    /// Whether the whole of `name` matches. Linear in the name for each `*` backtrack point,
    /// the classic two-cursor algorithm: no recursion, no exponential blow-up.
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        let pattern = &self.0;
        let (mut p, mut n) = (0, 0);
        // The last `*` seen and the name position it was tried at.
        let mut backtrack: Option<(usize, usize)> = None;
        while n < name.len() {
            match pattern.get(p) {
                Some(Token::AnyRun) => {
                    backtrack = Some((p, n));
                    p += 1;
                }
                Some(Token::AnyOne) => {
                    p += 1;
                    n += 1;
                }
                Some(Token::Literal(c)) if *c == name[n] => {
                    p += 1;
                    n += 1;
                }
                _ => match backtrack {
                    Some((star, tried)) => {
                        p = star + 1;
                        n = tried + 1;
                        backtrack = Some((star, tried + 1));
                    }
                    None => return false,
                },
            }
        }
        pattern[p..].iter().all(|t| *t == Token::AnyRun)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_question_marks() {
        let cases = [
            ("*.bam", "x.bam", true),
            ("*.bam", ".bam", true),
            ("*.bam", "x.bam.bai", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*", "", true),
            ("", "", true),
            ("", "a", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("ABC", "abc", false),
            ("名?", "名前", true),
            ("**a", "bba", true),
            ("100%_x", "100%_x", true),
            ("100%_x", "100ab", false),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                Glob::new(pattern).matches(name),
                expected,
                "{pattern} ~ {name}"
            );
        }
    }

    #[test]
    fn tokens() {
        assert_eq!(
            Glob::new("a*?").tokens(),
            [Token::Literal('a'), Token::AnyRun, Token::AnyOne]
        );
    }
}
