//! Storage trees as Markdown (CommonMark with GitHub's tables and strikethrough).
//! Confluence's own elements the Markdown side does not read are written as
//! `<confluence-raw data="..."/>` (the source in an attribute), which
//! [`super::from_md`] turns back into the same source.

use super::parse::Node;

/// The tag that carries storage source through Markdown.
pub(crate) const RAW_TAG: &str = "confluence-raw";

/// A raw piece of storage as its Markdown carrier.
pub(crate) fn raw_md(source: &str) -> String {
    let escaped = source
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;");
    format!("<{RAW_TAG} data=\"{escaped}\"/>")
}

const BLOCKS: [&str; 14] = [
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "table",
    "hr",
    "ac:structured-macro",
];

fn is_block(node: &Node) -> bool {
    match node {
        Node::Element { name, .. } => BLOCKS.contains(&name.as_str()) || name == "div",
        Node::Raw(source) => {
            let s = source.trim_start();
            s.starts_with("<ac:layout")
                || s.starts_with("<ac:structured-macro")
                || s.starts_with("<ac:task-list")
                || s.starts_with("<ac:adf-extension")
        }
        Node::Text(_) => false,
    }
}

/// Markdown for a document's nodes.
pub(crate) fn to_md(nodes: &[Node]) -> String {
    blocks(nodes).join("\n\n")
}

/// The blocks of a sequence: runs of inline nodes become paragraphs.
fn blocks(nodes: &[Node]) -> Vec<String> {
    let mut out = Vec::new();
    let mut inline: Vec<&Node> = Vec::new();
    let flush = |inline: &mut Vec<&Node>, out: &mut Vec<String>| {
        let text: String = inline.iter().map(|n| inline_md(n)).collect();
        let text = text.trim();
        if !text.is_empty() {
            out.push(escape_start(text));
        }
        inline.clear();
    };
    for node in nodes {
        if is_block(node) {
            flush(&mut inline, &mut out);
            let b = block_md(node);
            if !b.trim().is_empty() {
                out.push(b);
            }
        } else {
            inline.push(node);
        }
    }
    flush(&mut inline, &mut out);
    out
}

fn indent(text: &str, first: &str, rest: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{}{l}", if i == 0 { first } else { rest })
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn children(node: &Node) -> &[Node] {
    match node {
        Node::Element { children, .. } => children,
        _ => &[],
    }
}

fn name(node: &Node) -> &str {
    match node {
        Node::Element { name, .. } => name,
        _ => "",
    }
}

fn text_of(nodes: &[Node]) -> String {
    nodes
        .iter()
        .map(|n| match n {
            Node::Text(t) => t.clone(),
            Node::Element { children, .. } => text_of(children),
            Node::Raw(_) => String::new(),
        })
        .collect()
}

fn block_md(node: &Node) -> String {
    match node {
        Node::Raw(source) => raw_md(source),
        Node::Text(t) => escape_start(&escape(t)),
        Node::Element { name, children, .. } => match name.as_str() {
            "p" | "div" => {
                if children.iter().any(is_block) {
                    blocks(children).join("\n\n")
                } else {
                    escape_start(inline_all(children).trim())
                }
            }
            h if h.len() == 2
                && h.starts_with('h')
                && h[1..].chars().all(|c| c.is_ascii_digit()) =>
            {
                let level = h[1..].parse::<usize>().unwrap_or(1).clamp(1, 6);
                format!("{} {}", "#".repeat(level), inline_all(children).trim())
            }
            "ul" | "ol" => {
                let ordered = name == "ol";
                children
                    .iter()
                    .filter(|c| self::name(c) == "li")
                    .enumerate()
                    .map(|(i, item)| {
                        let marker = if ordered {
                            format!("{}. ", i + 1)
                        } else {
                            "- ".to_owned()
                        };
                        let body = blocks(self::children(item)).join("\n");
                        indent(&body, &marker, &" ".repeat(marker.len()))
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            "blockquote" => indent(&blocks(children).join("\n\n"), "> ", "> ")
                .lines()
                .map(|l| if l.is_empty() { ">" } else { l })
                .collect::<Vec<_>>()
                .join("\n"),
            "pre" => fence("", &text_of(children)),
            "hr" => "---".to_owned(),
            "table" => table_md(node),
            "ac:structured-macro" => {
                let language = children
                    .iter()
                    .find(|c| {
                        self::name(c) == "ac:parameter" && c.attr("ac:name") == Some("language")
                    })
                    .map(|c| text_of(self::children(c)))
                    .unwrap_or_default();
                let body = children
                    .iter()
                    .find(|c| self::name(c) == "ac:plain-text-body")
                    .map(|c| text_of(self::children(c)))
                    .unwrap_or_default();
                fence(language.trim(), &body)
            }
            _ => escape_start(inline_all(children).trim()),
        },
    }
}

fn fence(language: &str, body: &str) -> String {
    let mut ticks = "```".to_owned();
    while body.contains(&ticks) {
        ticks.push('`');
    }
    format!(
        "{ticks}{language}\n{}\n{ticks}",
        body.trim_end_matches('\n')
    )
}

fn rows(node: &Node) -> Vec<&Node> {
    let mut out = Vec::new();
    for c in children(node) {
        match name(c) {
            "tr" => out.push(c),
            "thead" | "tbody" | "tfoot" => out.extend(rows(c)),
            _ => {}
        }
    }
    out
}

fn table_md(node: &Node) -> String {
    let rows = rows(node);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            children(r)
                .iter()
                .filter(|c| matches!(name(c), "th" | "td"))
                .map(|c| {
                    inline_all(children(c))
                        .trim()
                        .replace('|', "\\|")
                        .replace('\n', " ")
                })
                .collect()
        })
        .collect();
    let width = cells.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let line = |row: &[String]| {
        let mut padded: Vec<String> = row.to_vec();
        padded.resize(width, String::new());
        format!("| {} |", padded.join(" | "))
    };
    let mut out = Vec::new();
    let header = cells.first().cloned().unwrap_or_default();
    out.push(line(&header));
    out.push(format!("|{}", " --- |".repeat(width)));
    for row in cells.iter().skip(1) {
        out.push(line(row));
    }
    out.join("\n")
}

fn inline_all(nodes: &[Node]) -> String {
    let text: String = nodes.iter().map(inline_md).collect();
    // Whitespace before a hard break would be read as part of the break.
    if text.contains("  \n") {
        let parts: Vec<&str> = text.split("  \n").collect();
        let last = parts.len() - 1;
        parts
            .iter()
            .enumerate()
            .map(|(i, p)| if i < last { p.trim_end() } else { p })
            .collect::<Vec<_>>()
            .join("  \n")
    } else {
        text
    }
}

fn wrap(mark: &str, inner: &str) -> String {
    let trimmed = inner.trim();
    if trimmed.is_empty() {
        return inner.to_owned();
    }
    format!("{mark}{trimmed}{mark}")
}

fn inline_md(node: &Node) -> String {
    match node {
        Node::Text(t) => escape(t),
        Node::Raw(source) => raw_md(source),
        Node::Element { name, children, .. } => match name.as_str() {
            "strong" | "b" => wrap("**", &inline_all(children)),
            "em" | "i" => wrap("*", &inline_all(children)),
            "s" | "del" | "strike" => wrap("~~", &inline_all(children)),
            "code" => {
                let text = text_of(children);
                // A fence longer than any run of backticks inside, padded where
                // CommonMark would otherwise eat or join a backtick or a space.
                let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
                let fence = "`".repeat(longest + 1);
                let pad = text.starts_with('`')
                    || text.ends_with('`')
                    || (text.starts_with(' ') && text.ends_with(' ') && !text.trim().is_empty());
                if pad {
                    format!("{fence} {text} {fence}")
                } else {
                    format!("{fence}{text}{fence}")
                }
            }
            "a" => {
                let href = node.attr("href").unwrap_or_default();
                format!("[{}]({})", inline_all(children), href.replace(' ', "%20"))
            }
            "br" => "  \n".to_owned(),
            _ if is_block(node) => block_md(node),
            _ => inline_all(children),
        },
    }
}

/// Markdown's special characters in text, escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '|' | '~'
        ) {
            out.push('\\');
        }
        out.push(if c == '\u{a0}' { ' ' } else { c });
    }
    out
}

/// A line that would read as a heading, list item, quote or rule, escaped.
fn escape_start(text: &str) -> String {
    let t = text.trim_start();
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && t[digits..].starts_with(". ") {
        return format!("{}\\{}", &t[..digits], &t[digits..]);
    }
    let risky = t.starts_with('#')
        || t.starts_with("- ")
        || t.starts_with("+ ")
        || t.starts_with('=')
        || t.starts_with("---");
    if risky {
        format!("\\{t}")
    } else {
        text.to_owned()
    }
}
