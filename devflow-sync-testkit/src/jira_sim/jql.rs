//! The subset of JQL the simulator answers: clauses on `project`, `key`/`issuekey`,
//! `id`, `issuetype`, `status`, `statusCategory`, `labels`, `parent`, `summary`,
//! `assignee` (`currentUser()` is the simulator's account), `updated`, `created` and
//! `cf[NNNNN]`, joined by `AND`/`OR`/`NOT` with parentheses, and
//! `ORDER BY` up to seven fields. A query without any restriction is refused, as Jira
//! refuses unbounded queries on `/search/jql`.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use serde_json::Value;

/// A parsed query.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Query {
    pub(crate) filter: Option<Expr>,
    pub(crate) order: Vec<(String, bool)>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Clause {
        field: String,
        op: String,
        values: Vec<String>,
    },
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Op(String),
    Open,
    Close,
    Comma,
}

fn tokens(jql: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = jql.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            '"' | '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("a quoted string is not closed".into()),
                        Some('\\') => {
                            if let Some(n) = chars.get(i + 1) {
                                s.push(*n);
                            }
                            i += 2;
                        }
                        Some(q) if *q == c => {
                            i += 1;
                            break;
                        }
                        Some(other) => {
                            s.push(*other);
                            i += 1;
                        }
                    }
                }
                out.push(Token::Quoted(s));
            }
            '=' | '!' | '<' | '>' | '~' => {
                let mut op = c.to_string();
                if let Some(n @ ('=' | '~')) = chars.get(i + 1) {
                    op.push(*n);
                    i += 1;
                }
                out.push(Token::Op(op));
                i += 1;
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !"(),=!<>~\"'".contains(chars[i])
                {
                    // `cf[10010]` keeps its brackets.
                    i += 1;
                }
                let mut word: String = chars[start..i].iter().collect();
                // A function without arguments (`currentUser()`) is one word.
                if chars.get(i) == Some(&'(') && chars.get(i + 1) == Some(&')') {
                    word.push_str("()");
                    i += 2;
                }
                out.push(Token::Word(word));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek_word("or") {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.peek_word("and") {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.peek_word("not") {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.tokens.get(self.at) == Some(&Token::Open) {
            self.at += 1;
            let inner = self.or()?;
            if self.next() != Some(Token::Close) {
                return Err("a parenthesis is not closed".into());
            }
            return Ok(inner);
        }
        self.clause()
    }

    fn value(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::Word(w) | Token::Quoted(w)) => Ok(w),
            other => Err(format!("expected a value, found {other:?}")),
        }
    }

    fn clause(&mut self) -> Result<Expr, String> {
        let field = match self.next() {
            Some(Token::Word(w) | Token::Quoted(w)) => w.to_ascii_lowercase(),
            other => return Err(format!("expected a field, found {other:?}")),
        };
        let op = match self.next() {
            Some(Token::Op(op)) => op,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("in") => "in".into(),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("is") => {
                let negated = self.peek_word("not");
                if negated {
                    self.at += 1;
                }
                let v = self.value()?;
                if !v.eq_ignore_ascii_case("empty") && !v.eq_ignore_ascii_case("null") {
                    return Err(format!("'is' takes EMPTY, not {v}"));
                }
                let op = if negated { "is not empty" } else { "is empty" };
                return Ok(Expr::Clause {
                    field,
                    op: op.into(),
                    values: Vec::new(),
                });
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("not") => match self.next() {
                Some(Token::Word(i)) if i.eq_ignore_ascii_case("in") => "not in".into(),
                other => return Err(format!("expected IN after NOT, found {other:?}")),
            },
            other => {
                return Err(format!(
                    "expected an operator after {field}, found {other:?}"
                ));
            }
        };
        let values = if op == "in" || op == "not in" {
            if self.next() != Some(Token::Open) {
                return Err(format!("expected ( after {op}"));
            }
            let mut values = Vec::new();
            loop {
                values.push(self.value()?);
                match self.next() {
                    Some(Token::Comma) => {}
                    Some(Token::Close) => break,
                    other => return Err(format!("expected , or ) in a list, found {other:?}")),
                }
            }
            values
        } else {
            vec![self.value()?]
        };
        Ok(Expr::Clause { field, op, values })
    }
}

/// Parses `jql`; `Err` with Jira's kind of message.
pub(crate) fn parse(jql: &str) -> Result<Query, String> {
    let lower = jql.to_ascii_lowercase();
    let (filter_part, order_part) = match lower.find("order by") {
        Some(at) => (&jql[..at], Some(&jql[at + "order by".len()..])),
        None => (jql, None),
    };
    let toks = tokens(filter_part)?;
    let filter = if toks.is_empty() {
        None
    } else {
        let mut p = Parser {
            tokens: toks,
            at: 0,
        };
        let e = p.or()?;
        if p.at < p.tokens.len() {
            return Err(format!("unexpected {:?}", p.tokens[p.at]));
        }
        Some(e)
    };
    let mut order = Vec::new();
    if let Some(o) = order_part {
        for part in o.split(',') {
            let mut words = part.split_whitespace();
            let Some(field) = words.next() else { continue };
            let asc = !words.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
            order.push((field.to_ascii_lowercase(), asc));
        }
        if order.len() > 7 {
            return Err("ORDER BY takes at most 7 fields".into());
        }
    }
    Ok(Query { filter, order })
}

/// JQL's date forms (`yyyy-MM-dd HH:mm`, `yyyy/MM/dd HH:mm`, `yyyy-MM-dd`) in the
/// user's time zone, as epoch milliseconds.
pub(crate) fn jql_time(value: &str, zone: FixedOffset) -> Option<i64> {
    let v = value.trim().replace('/', "-");
    let naive = NaiveDateTime::parse_from_str(&v, "%Y-%m-%d %H:%M")
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    let t: DateTime<FixedOffset> = zone.from_local_datetime(&naive).single()?;
    Some(t.timestamp_millis())
}

/// What a clause reads of an issue.
pub(crate) trait Subject {
    /// The values of `field` as text (empty for none).
    fn values(&self, field: &str) -> Vec<String>;
    /// A time field in epoch milliseconds.
    fn time(&self, field: &str) -> Option<i64>;
}

/// Whether `issue` matches `expr`.
pub(crate) fn matches(expr: &Expr, issue: &dyn Subject, zone: FixedOffset) -> Result<bool, String> {
    Ok(match expr {
        Expr::And(a, b) => matches(a, issue, zone)? && matches(b, issue, zone)?,
        Expr::Or(a, b) => matches(a, issue, zone)? || matches(b, issue, zone)?,
        Expr::Not(a) => !matches(a, issue, zone)?,
        Expr::Clause { field, op, values } => {
            if matches!(field.as_str(), "updated" | "created") {
                let Some(have) = issue.time(field) else {
                    return Ok(false);
                };
                let want = values
                    .first()
                    .and_then(|v| jql_time(v, zone))
                    .ok_or_else(|| {
                        format!(
                            "Date value '{}' for field '{field}' is invalid",
                            values.join(",")
                        )
                    })?;
                return Ok(match op.as_str() {
                    ">=" => have >= want,
                    ">" => have > want,
                    "<=" => have <= want,
                    "<" => have < want,
                    "=" => have == want,
                    other => {
                        return Err(format!("operator '{other}' is not supported for {field}"));
                    }
                });
            }
            let have = issue.values(field);
            let values: Vec<String> = values
                .iter()
                .map(|v| {
                    if v.eq_ignore_ascii_case("currentUser()") {
                        super::ACCOUNT_ID.to_owned()
                    } else {
                        v.clone()
                    }
                })
                .collect();
            let eq = |a: &String, b: &String| a.eq_ignore_ascii_case(b);
            match op.as_str() {
                "=" | "in" => have.iter().any(|h| values.iter().any(|v| eq(h, v))),
                "!=" | "not in" => !have.iter().any(|h| values.iter().any(|v| eq(h, v))),
                "~" => {
                    let needle = values.first().map(|v| v.to_lowercase()).unwrap_or_default();
                    have.iter().any(|h| h.to_lowercase().contains(&needle))
                }
                "!~" => {
                    let needle = values.first().map(|v| v.to_lowercase()).unwrap_or_default();
                    !have.iter().any(|h| h.to_lowercase().contains(&needle))
                }
                "is empty" => have.is_empty(),
                "is not empty" => !have.is_empty(),
                other => return Err(format!("operator '{other}' is not supported for {field}")),
            }
        }
    })
}

/// Whether the query restricts anything (Jira refuses unbounded `search/jql` queries).
pub(crate) fn bounded(query: &Query) -> bool {
    query.filter.is_some()
}

/// A text's value for ordering: numbers compare as numbers.
pub(crate) fn sort_key(v: &Value) -> (i64, String) {
    match v {
        Value::Number(n) => (n.as_i64().unwrap_or(0), String::new()),
        Value::String(s) => (0, s.clone()),
        other => (0, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_delta_query_with_a_fragment() {
        let q = parse(r#"project = KAN AND (labels = sync OR status != "Done") AND updated >= "2026-04-28 15:33" ORDER BY updated ASC, key DESC"#).unwrap();
        assert!(q.filter.is_some());
        assert_eq!(
            q.order,
            vec![("updated".into(), true), ("key".into(), false)]
        );
        assert!(parse("order by key").map(|q| !bounded(&q)).unwrap());
        assert!(parse("project = ").is_err());
        assert!(parse("key in (A-1, A-2").is_err());
    }

    #[test]
    fn times_are_read_in_the_user_zone() {
        let zone = FixedOffset::east_opt(2 * 3600).unwrap();
        let ms = jql_time("2026-04-28 15:33", zone).unwrap();
        assert_eq!(ms, 1_777_383_180_000);
        assert_eq!(jql_time("2026/04/28 15:33", zone), Some(ms));
        assert!(jql_time("yesterday", zone).is_none());
    }
}
