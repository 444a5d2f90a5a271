//! ADF nodes as Markdown.

use super::MENTION_SCHEME;
use super::node::Node;

/// The Markdown of a document's blocks.
pub(super) fn blocks_md(blocks: &[Node<'_>]) -> String {
    blocks
        .iter()
        .map(block_md)
        .filter(|b| !b.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
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

fn block_md(node: &Node<'_>) -> String {
    match node.kind.as_ref() {
        "paragraph" => escape_start(&inline_md(&node.content)),
        "heading" => {
            let level = node.attrs.number.unwrap_or(1).clamp(1, 6);
            format!(
                "{} {}",
                "#".repeat(usize::try_from(level).unwrap_or(1)),
                inline_md(&node.content)
            )
        }
        "bulletList" | "orderedList" => {
            let ordered = node.kind == "orderedList";
            let start = node.attrs.number.unwrap_or(1);
            node.content
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let marker = if ordered {
                        format!("{}. ", start.saturating_add(i as u64))
                    } else {
                        "- ".to_owned()
                    };
                    let body = item
                        .content
                        .iter()
                        .map(block_md)
                        .collect::<Vec<_>>()
                        .join("\n");
                    indent(&body, &marker, &" ".repeat(marker.len()))
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
        "codeBlock" => {
            let lang = node.attrs.target.as_deref().unwrap_or("");
            let text: String = node
                .content
                .iter()
                .filter_map(|t| t.text.as_deref())
                .collect();
            format!("```{lang}\n{text}\n```")
        }
        "blockquote" => blocks_md(&node.content)
            .lines()
            .map(|l| {
                if l.is_empty() {
                    ">".to_owned()
                } else {
                    format!("> {l}")
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
        "rule" => "---".to_owned(),
        // Panels, tables, expands, media: their text, block by block.
        _ if !node.content.is_empty() => {
            if node.content.iter().any(|c| c.text.is_some()) {
                escape_start(&inline_md(&node.content))
            } else {
                blocks_md(&node.content)
            }
        }
        _ => node.text.as_deref().map(escape).unwrap_or_default(),
    }
}

/// Escapes what would start a list or a heading at the start of a paragraph.
fn escape_start(text: &str) -> String {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && matches!(text.as_bytes().get(digits), Some(b'.' | b')')) {
        return format!("{}\\{}", &text[..digits], &text[digits..]);
    }
    if text.starts_with("- ") || text.starts_with("+ ") || text == "-" || text == "+" {
        return format!("\\{text}");
    }
    text.to_owned()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    escape_into(&mut out, text);
    out
}

/// Backslashes before what Markdown would read as markup.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// The marks that wrap text (code is written inside them), outermost first.
fn wrapping<'n>(node: &'n Node<'_>) -> Vec<(&'static str, &'n str)> {
    let mut out = Vec::new();
    for (kind, open) in [
        ("link", ""),
        ("strong", "**"),
        ("em", "*"),
        ("strike", "~~"),
    ] {
        if let Some(m) = node.marks.iter().find(|m| m.kind == kind) {
            let target = if kind == "link" {
                m.attrs.target.as_deref().unwrap_or("")
            } else {
                open
            };
            out.push((kind, target));
        }
    }
    out
}

fn open_mark(out: &mut String, (kind, mark): (&str, &str)) {
    out.push_str(if kind == "link" { "[" } else { mark });
}

fn close_mark(out: &mut String, (kind, mark): (&str, &str)) {
    if kind == "link" {
        out.push_str("](");
        out.push_str(mark);
        out.push(')');
    } else {
        out.push_str(mark);
    }
}

/// Inline nodes as Markdown; marks stay open across adjacent runs, so
/// `**bold *and em* bold**` stays one strong.
fn inline_md(nodes: &[Node<'_>]) -> String {
    let mut out = String::new();
    let mut open: Vec<(&str, &str)> = Vec::new();
    for node in nodes {
        let want = if node.kind == "text" {
            wrapping(node)
        } else {
            Vec::new()
        };
        let common = open.iter().zip(&want).take_while(|(a, b)| a == b).count();
        while open.len() > common {
            if let Some(m) = open.pop() {
                close_mark(&mut out, m);
            }
        }
        for m in want.iter().skip(common) {
            open_mark(&mut out, *m);
            open.push(*m);
        }
        match node.kind.as_ref() {
            "text" => {
                let text = node.text.as_deref().unwrap_or("");
                if node.marks.iter().any(|m| m.kind == "code") {
                    out.push('`');
                    out.push_str(text);
                    out.push('`');
                } else {
                    escape_into(&mut out, text);
                }
            }
            "hardBreak" => out.push_str("\\\n"),
            "mention" => {
                let id = node.attrs.target.as_deref().unwrap_or("");
                let text = node.attrs.label.as_deref().unwrap_or("@");
                out.push_str(&format!("[{}]({MENTION_SCHEME}{id})", escape(text)));
            }
            "emoji" => out.push_str(node.attrs.label.as_deref().unwrap_or("")),
            "inlineCard" => {
                if let Some(url) = node.attrs.target.as_deref() {
                    out.push_str(&format!("<{url}>"));
                }
            }
            _ => out.push_str(&inline_md(&node.content)),
        }
    }
    while let Some(m) = open.pop() {
        close_mark(&mut out, m);
    }
    out
}
