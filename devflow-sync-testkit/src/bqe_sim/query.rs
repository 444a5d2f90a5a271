//! BQE's list parameters: `page=<n>,<size>`, `fields=a,b`, `where=<expr>` and
//! `orderBy=<field> [asc|desc]`. The `where` subset: comparisons `field op value` with
//! `eq`, `ne`, `gt`, `ge`, `lt`, `le`, joined by `and`; values `null`, `true`, `false`,
//! numbers and quoted strings (`'...'`; ISO dates compare as text, as BQE writes them).

use serde_json::Value;

/// One comparison.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Cond {
    field: String,
    op: String,
    value: Value,
}

/// A parsed query.
#[derive(Clone, Debug, Default)]
pub(super) struct Query {
    pub(super) page: Option<(usize, usize)>,
    pub(super) fields: Option<Vec<String>>,
    pub(super) conds: Vec<Cond>,
    pub(super) order: Option<(String, bool)>,
}

fn words(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' || c == '"' {
            chars.next();
            let mut s = String::from("\u{0}");
            let mut closed = false;
            while let Some(x) = chars.next() {
                if x == c {
                    // A doubled quote is a quote.
                    if chars.peek() == Some(&c) {
                        chars.next();
                        s.push(c);
                        continue;
                    }
                    closed = true;
                    break;
                }
                s.push(x);
            }
            if !closed {
                return Err("an unclosed quote".into());
            }
            out.push(s);
        } else {
            let mut s = String::new();
            while let Some(&x) = chars.peek() {
                if x.is_whitespace() {
                    break;
                }
                s.push(x);
                chars.next();
            }
            out.push(s);
        }
    }
    Ok(out)
}

fn value(word: &str) -> Value {
    if let Some(text) = word.strip_prefix('\u{0}') {
        return Value::String(text.to_owned());
    }
    match word.to_ascii_lowercase().as_str() {
        "null" => Value::Null,
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => word
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(word.to_owned()), Value::Number),
    }
}

/// Reads the parameters; an error says what is wrong, as BQE's 400 would.
pub(super) fn parse(params: &[(String, String)]) -> Result<Query, String> {
    let mut q = Query::default();
    for (k, v) in params {
        match k.to_ascii_lowercase().as_str() {
            "page" => {
                let (n, size) = v
                    .split_once(',')
                    .ok_or_else(|| format!("page must be <number>,<size>, not {v:?}"))?;
                let n = n
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("bad page number {n:?}"))?;
                let size = size
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("bad page size {size:?}"))?;
                if size == 0 || size > 1000 {
                    return Err("the page size must be 1 to 1000".into());
                }
                q.page = Some((n, size));
            }
            "fields" if v.trim() != "*" => {
                q.fields = Some(
                    v.split(',')
                        .map(|f| f.trim().to_owned())
                        .filter(|f| !f.is_empty())
                        .collect(),
                );
            }
            "where" => {
                let w = words(v)?;
                let mut i = 0;
                while i < w.len() {
                    if w[i].eq_ignore_ascii_case("and") {
                        i += 1;
                        continue;
                    }
                    let (field, op, val) = match (w.get(i), w.get(i + 1), w.get(i + 2)) {
                        (Some(f), Some(o), Some(v)) => (f, o.to_ascii_lowercase(), v),
                        _ => return Err(format!("an incomplete condition in {v:?}")),
                    };
                    if !["eq", "ne", "gt", "ge", "lt", "le"].contains(&op.as_str()) {
                        return Err(format!("unknown operator {op:?}"));
                    }
                    q.conds.push(Cond {
                        field: field.clone(),
                        op,
                        value: value(val),
                    });
                    i += 3;
                }
            }
            "orderby" => {
                let mut parts = v.split_whitespace();
                let field = parts.next().unwrap_or("").to_owned();
                let asc = !parts.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
                q.order = Some((field, asc));
            }
            _ => {}
        }
    }
    Ok(q)
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.to_lowercase().cmp(&y.to_lowercase())),
        _ => None,
    }
}

/// The field of an entity, by name in any case.
fn field<'a>(entity: &'a Value, name: &str) -> &'a Value {
    entity
        .as_object()
        .and_then(|o| {
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
        .unwrap_or(&Value::Null)
}

impl Query {
    /// Whether an entity passes every condition.
    pub(super) fn matches(&self, entity: &Value) -> bool {
        self.conds.iter().all(|c| {
            let have = field(entity, &c.field);
            match c.op.as_str() {
                "eq" => {
                    have == &c.value || compare(have, &c.value) == Some(std::cmp::Ordering::Equal)
                }
                "ne" => {
                    !(have == &c.value
                        || compare(have, &c.value) == Some(std::cmp::Ordering::Equal))
                }
                op => compare(have, &c.value).is_some_and(|o| match op {
                    "gt" => o.is_gt(),
                    "ge" => o.is_ge(),
                    "lt" => o.is_lt(),
                    _ => o.is_le(),
                }),
            }
        })
    }

    /// Sorts by `orderBy` (by `id` without one).
    pub(super) fn sort(&self, entities: &mut [Value]) {
        let (key, asc) = self.order.clone().unwrap_or_else(|| ("id".into(), true));
        entities.sort_by(|a, b| {
            let o = compare(field(a, &key), field(b, &key)).unwrap_or(std::cmp::Ordering::Equal);
            let o = o.then_with(|| {
                compare(field(a, "id"), field(b, "id")).unwrap_or(std::cmp::Ordering::Equal)
            });
            if asc { o } else { o.reverse() }
        });
    }

    /// The projection of an entity (`id` always kept).
    pub(super) fn project(&self, entity: &Value) -> Value {
        let Some(fields) = &self.fields else {
            return entity.clone();
        };
        let mut out = serde_json::Map::new();
        if let Some(obj) = entity.as_object() {
            for (k, v) in obj {
                if k == "id" || fields.iter().any(|f| f.eq_ignore_ascii_case(k)) {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        Value::Object(out)
    }
}
