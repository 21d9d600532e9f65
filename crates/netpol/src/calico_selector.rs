//! Calico label selector expressions (`role == 'db' && !has(debug)`), as documented in
//! the Calico reference ("Selectors"): `all()`, `global()`, `k == 'v'`, `k != 'v'`,
//! `has(k)`, `k in {'a','b'}`, `k not in {...}`, `k contains 's'`, `k starts with 's'`,
//! `k ends with 's'`, `!`, `&&`, `||` and parentheses. Precedence, highest first: the
//! match operators, parentheses, `!`, `&&`, `||`. An empty expression is `all()`.

use palisade_core::labels::Labels;
use serde::Serialize;

/// A parsed Calico selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum CalicoSelector {
    /// `all()`: every resource in scope.
    All,
    /// `global()`: non-namespaced resources (never a pod).
    Global,
    /// `k == 'v'`.
    Eq(String, String),
    /// `k != 'v'` (also true when the label is absent).
    Ne(String, String),
    /// `has(k)`.
    Has(String),
    /// `k in {...}`.
    In(String, Vec<String>),
    /// `k not in {...}` (also true when the label is absent).
    NotIn(String, Vec<String>),
    /// `k contains 's'`.
    Contains(String, String),
    /// `k starts with 's'`.
    StartsWith(String, String),
    /// `k ends with 's'`.
    EndsWith(String, String),
    /// `!e`.
    Not(Box<CalicoSelector>),
    /// `a && b`.
    And(Box<CalicoSelector>, Box<CalicoSelector>),
    /// `a || b`.
    Or(Box<CalicoSelector>, Box<CalicoSelector>),
}

impl CalicoSelector {
    /// Parses a selector; the error names the byte offset and what was expected.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut p = Parser { s, pos: 0 };
        p.skip_ws();
        if p.at_end() {
            return Ok(CalicoSelector::All);
        }
        let e = p.or()?;
        p.skip_ws();
        if !p.at_end() {
            return Err(format!(
                "selector {s:?}: unexpected {:?} at offset {}",
                &s[p.pos..],
                p.pos
            ));
        }
        Ok(e)
    }

    /// Whether the selector matches a resource with these labels.
    pub fn matches(&self, labels: &Labels) -> bool {
        use CalicoSelector as S;
        match self {
            S::All => true,
            S::Global => false,
            S::Eq(k, v) => labels.get(k) == Some(v),
            S::Ne(k, v) => labels.get(k) != Some(v),
            S::Has(k) => labels.contains_key(k),
            S::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            S::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
            S::Contains(k, s) => labels.get(k).is_some_and(|v| v.contains(s.as_str())),
            S::StartsWith(k, s) => labels.get(k).is_some_and(|v| v.starts_with(s.as_str())),
            S::EndsWith(k, s) => labels.get(k).is_some_and(|v| v.ends_with(s.as_str())),
            S::Not(e) => !e.matches(labels),
            S::And(a, b) => a.matches(labels) && b.matches(labels),
            S::Or(a, b) => a.matches(labels) || b.matches(labels),
        }
    }

    /// True for `all()` (and the empty selector): matches whatever is in scope.
    pub fn is_all(&self) -> bool {
        matches!(self, CalicoSelector::All)
    }

    /// Every label key the expression reads.
    pub fn keys(&self) -> Vec<&str> {
        use CalicoSelector as S;
        match self {
            S::All | S::Global => Vec::new(),
            S::Eq(k, _)
            | S::Ne(k, _)
            | S::Has(k)
            | S::In(k, _)
            | S::NotIn(k, _)
            | S::Contains(k, _)
            | S::StartsWith(k, _)
            | S::EndsWith(k, _) => vec![k.as_str()],
            S::Not(e) => e.keys(),
            S::And(a, b) | S::Or(a, b) => {
                let mut k = a.keys();
                k.extend(b.keys());
                k
            }
        }
    }
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.s.len() - trimmed.len();
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!(
            "selector {:?}: expected {what} at offset {}",
            self.s, self.pos
        ))
    }

    fn eat(&mut self, tok: &str) -> bool {
        self.skip_ws();
        if self.rest().starts_with(tok) {
            self.pos += tok.len();
            true
        } else {
            false
        }
    }

    /// A keyword followed by a non-identifier character (so `in` does not eat `index`).
    fn eat_word(&mut self, w: &str) -> bool {
        self.skip_ws();
        let r = self.rest();
        if r.starts_with(w) && !r[w.len()..].starts_with(is_ident_char) {
            self.pos += w.len();
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<CalicoSelector, String> {
        let mut left = self.and()?;
        while self.eat("||") {
            let right = self.and()?;
            left = CalicoSelector::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<CalicoSelector, String> {
        let mut left = self.unary()?;
        while self.eat("&&") {
            let right = self.unary()?;
            left = CalicoSelector::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<CalicoSelector, String> {
        self.skip_ws();
        // `!=` never starts an expression, so a leading `!` is negation.
        if self.eat("!") {
            let e = self.unary()?;
            return Ok(CalicoSelector::Not(Box::new(e)));
        }
        if self.eat("(") {
            let e = self.or()?;
            if !self.eat(")") {
                return self.err("`)`");
            }
            return Ok(e);
        }
        self.term()
    }

    fn term(&mut self) -> Result<CalicoSelector, String> {
        self.skip_ws();
        for (f, v) in [
            ("all", CalicoSelector::All),
            ("global", CalicoSelector::Global),
        ] {
            let save = self.pos;
            if self.eat_word(f) {
                if self.eat("(") && self.eat(")") {
                    return Ok(v);
                }
                self.pos = save;
            }
        }
        let save = self.pos;
        if self.eat_word("has") && self.eat("(") {
            let k = self.ident()?;
            if !self.eat(")") {
                return self.err("`)`");
            }
            return Ok(CalicoSelector::Has(k));
        }
        self.pos = save;
        let k = self.ident()?;
        if self.eat("==") {
            return Ok(CalicoSelector::Eq(k, self.string()?));
        }
        if self.eat("!=") {
            return Ok(CalicoSelector::Ne(k, self.string()?));
        }
        if self.eat_word("in") {
            return Ok(CalicoSelector::In(k, self.set()?));
        }
        if self.eat_word("not") {
            if self.eat_word("in") {
                return Ok(CalicoSelector::NotIn(k, self.set()?));
            }
            return self.err("`in` after `not`");
        }
        if self.eat_word("contains") {
            return Ok(CalicoSelector::Contains(k, self.string()?));
        }
        if self.eat_word("starts") {
            if self.eat_word("with") {
                return Ok(CalicoSelector::StartsWith(k, self.string()?));
            }
            return self.err("`with` after `starts`");
        }
        if self.eat_word("ends") {
            if self.eat_word("with") {
                return Ok(CalicoSelector::EndsWith(k, self.string()?));
            }
            return self.err("`with` after `ends`");
        }
        self.err("an operator (==, !=, in, not in, contains, starts with, ends with)")
    }

    fn ident(&mut self) -> Result<String, String> {
        self.skip_ws();
        let len = self
            .rest()
            .find(|c: char| !is_ident_char(c))
            .unwrap_or(self.rest().len());
        if len == 0 {
            return self.err("a label key");
        }
        let k = self.rest()[..len].to_string();
        self.pos += len;
        Ok(k)
    }

    fn string(&mut self) -> Result<String, String> {
        self.skip_ws();
        let quote = match self.rest().chars().next() {
            Some(q @ ('\'' | '"')) => q,
            _ => return self.err("a quoted string"),
        };
        let body = &self.rest()[1..];
        let Some(end) = body.find(quote) else {
            return self.err("a closing quote");
        };
        let v = body[..end].to_string();
        self.pos += end + 2;
        Ok(v)
    }

    fn set(&mut self) -> Result<Vec<String>, String> {
        if !self.eat("{") {
            return self.err("`{`");
        }
        let mut out = Vec::new();
        if self.eat("}") {
            return Ok(out);
        }
        loop {
            out.push(self.string()?);
            if self.eat("}") {
                return Ok(out);
            }
            if !self.eat(",") {
                return self.err("`,` or `}`");
            }
        }
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn operators() {
        let l = labels(&[("role", "db"), ("env", "prod-eu"), ("x.io/tier", "1")]);
        for (sel, want) in [
            ("", true),
            ("all()", true),
            ("!all()", false),
            ("global()", false),
            ("role == 'db'", true),
            ("role == \"web\"", false),
            ("role != 'web'", true),
            ("missing != 'web'", true),
            ("has(role)", true),
            ("!has(role)", false),
            ("! has(missing)", true),
            ("role in {'db', 'cache'}", true),
            ("role in {}", false),
            ("role not in {'db'}", false),
            ("missing not in {'db'}", true),
            ("env contains 'od-'", true),
            ("env starts with 'prod'", true),
            ("env ends with 'eu'", true),
            ("x.io/tier == '1'", true),
            ("role == 'web' || env starts with 'prod' && has(role)", true),
            ("(role == 'web' || has(env)) && !has(role)", false),
            ("!has(missing) || role == 'x' && has(nope)", true),
        ] {
            let s = CalicoSelector::parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
            assert_eq!(s.matches(&l), want, "{sel}: {s:?}");
        }
    }

    #[test]
    fn precedence_and_binds_tighter_than_or() {
        // the documented example: (!has(a)) || ((a starts with 'prod') && (role in {...}))
        let s = CalicoSelector::parse(
            "! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}",
        )
        .unwrap();
        assert!(s.matches(&labels(&[])));
        assert!(s.matches(&labels(&[("my-label", "prod1"), ("role", "business")])));
        assert!(!s.matches(&labels(&[("my-label", "prod1"), ("role", "db")])));
        assert!(!s.matches(&labels(&[("my-label", "dev"), ("role", "frontend")])));
    }

    #[test]
    fn errors_name_the_offset() {
        for bad in [
            "role ==",
            "role = 'x'",
            "has(role",
            "role in {'a' 'b'}",
            "(role == 'a'",
            "role == 'a' extra",
            "role not 'a'",
            "role == 'unterminated",
            "&& x",
        ] {
            let e = CalicoSelector::parse(bad).unwrap_err();
            assert!(e.contains("offset"), "{bad}: {e}");
        }
    }
}
