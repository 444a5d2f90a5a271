//! Atlassian Document Format <-> the host's Markdown.
//!
//! Round-trips: paragraphs, headings, bullet and ordered lists (nested), code blocks
//! with their language, block quotes, rules, hard breaks, and text marked strong,
//! emphasis, code, strike or link; mentions travel as links to `jira-mention:<accountId>`
//! so they come back as mentions. Nodes Markdown cannot hold (panels, tables, media)
//! are read as their text; the provider writes a description only when the host
//! changed it, so such ADF is never rewritten behind a person's back.
//!
//! ```
//! use devflow_provider_jira::adf::{from_markdown, to_markdown};
//! let adf = from_markdown("## Plan\n\nShip **it** with [docs](https://x.test).\n\n- one\n- two");
//! assert_eq!(adf["type"], "doc");
//! assert_eq!(to_markdown(&adf), "## Plan\n\nShip **it** with [docs](https://x.test).\n\n- one\n- two");
//! ```

mod node;
mod to_md;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub use node::{Attrs, Node};

/// The link scheme mentions travel in.
pub const MENTION_SCHEME: &str = "jira-mention:";

/// Markdown of an ADF document (or of any node); anything that is not ADF reads as
/// empty text.
pub fn to_markdown(adf: &Value) -> String {
    match Node::deserialize(adf) {
        Ok(node) => node_markdown(&node),
        Err(_) => String::new(),
    }
}

/// Markdown of a node read from a body.
pub fn node_markdown(doc: &Node<'_>) -> String {
    to_md::blocks_md(&doc.content).trim_end().to_owned()
}

/// An ADF document of Markdown.
pub fn from_markdown(markdown: &str) -> Value {
    let mut stack: Vec<Map<String, Value>> = vec![node("doc")];
    let mut marks: Vec<Value> = Vec::new();
    let push = |stack: &mut Vec<Map<String, Value>>, child: Value| {
        if let Some(top) = stack.last_mut() {
            if let Some(Value::Array(c)) = top.get_mut("content") {
                c.push(child);
            }
        }
    };
    let parser = Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH);
    for event in parser {
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph => stack.push(node("paragraph")),
                Tag::Heading { level, .. } => {
                    let mut n = node("heading");
                    n.insert("attrs".into(), json!({"level": heading_level(level)}));
                    stack.push(n);
                }
                Tag::List(start) => {
                    let mut n = node(if start.is_some() {
                        "orderedList"
                    } else {
                        "bulletList"
                    });
                    if let Some(s) = start {
                        n.insert("attrs".into(), json!({"order": s}));
                    }
                    stack.push(n);
                }
                Tag::Item => stack.push(node("listItem")),
                Tag::CodeBlock(k) => {
                    let mut n = node("codeBlock");
                    if let CodeBlockKind::Fenced(lang) = k {
                        if !lang.is_empty() {
                            n.insert("attrs".into(), json!({"language": lang.to_string()}));
                        }
                    }
                    stack.push(n);
                }
                Tag::BlockQuote(_) => stack.push(node("blockquote")),
                Tag::Strong => marks.push(json!({"type": "strong"})),
                Tag::Emphasis => marks.push(json!({"type": "em"})),
                Tag::Strikethrough => marks.push(json!({"type": "strike"})),
                Tag::Link { dest_url, .. } => {
                    marks.push(json!({"type": "link", "attrs": {"href": dest_url.to_string()}}));
                }
                _ => {}
            },
            Event::End(end) => match end {
                TagEnd::Strong | TagEnd::Emphasis | TagEnd::Strikethrough | TagEnd::Link => {
                    marks.pop();
                }
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::List(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_) => {
                    if let Some(mut done) = stack.pop() {
                        if kind_of(&done) == "codeBlock" {
                            trim_code(&mut done);
                        }
                        if kind_of(&done) == "listItem" {
                            wrap_loose_text(&mut done);
                        }
                        push(&mut stack, Value::Object(done));
                    }
                }
                _ => {}
            },
            Event::Text(t) => {
                if in_code_block(&stack) {
                    push(&mut stack, json!({"type": "text", "text": t.to_string()}));
                } else {
                    push_text(&mut stack, &t, &marks);
                }
            }
            Event::Code(t) => {
                let mut m = marks.clone();
                m.push(json!({"type": "code"}));
                push_text(&mut stack, &t, &m);
            }
            Event::HardBreak => push(&mut stack, json!({"type": "hardBreak"})),
            Event::SoftBreak => push_text(&mut stack, "\n", &marks),
            Event::Rule => push(&mut stack, json!({"type": "rule"})),
            Event::Html(t) | Event::InlineHtml(t) => push_text(&mut stack, &t, &marks),
            _ => {}
        }
    }
    let mut doc = stack.into_iter().next().unwrap_or_else(|| node("doc"));
    doc.insert("version".into(), json!(1));
    Value::Object(doc)
}

fn node(kind: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), json!(kind));
    m.insert("content".into(), json!([]));
    m
}

fn kind_of(m: &Map<String, Value>) -> &str {
    m.get("type").and_then(Value::as_str).unwrap_or("")
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

fn in_code_block(stack: &[Map<String, Value>]) -> bool {
    stack.last().is_some_and(|m| kind_of(m) == "codeBlock")
}

/// A code block's text without the newline Markdown ends it with.
fn trim_code(block: &mut Map<String, Value>) {
    if let Some(Value::Array(content)) = block.get_mut("content") {
        let text: String = content
            .iter()
            .filter_map(|t| t.get("text").and_then(Value::as_str))
            .collect();
        let text = text.strip_suffix('\n').unwrap_or(&text).to_owned();
        *content = if text.is_empty() {
            Vec::new()
        } else {
            vec![json!({"type": "text", "text": text})]
        };
    }
}

/// A tight list item's text is a paragraph in ADF.
fn wrap_loose_text(item: &mut Map<String, Value>) {
    if let Some(Value::Array(content)) = item.get_mut("content") {
        let inline = |v: &Value| {
            matches!(
                v.get("type").and_then(Value::as_str),
                Some("text" | "hardBreak" | "mention" | "emoji" | "inlineCard")
            )
        };
        if content.iter().any(inline) {
            let mut out = Vec::new();
            let mut para: Vec<Value> = Vec::new();
            for c in content.drain(..) {
                if inline(&c) {
                    para.push(c);
                } else {
                    if !para.is_empty() {
                        out.push(
                            json!({"type": "paragraph", "content": std::mem::take(&mut para)}),
                        );
                    }
                    out.push(c);
                }
            }
            if !para.is_empty() {
                out.push(json!({"type": "paragraph", "content": para}));
            }
            *content = out;
        }
    }
}

fn push_text(stack: &mut [Map<String, Value>], text: &str, marks: &[Value]) {
    let Some(top) = stack.last_mut() else { return };
    let Some(Value::Array(content)) = top.get_mut("content") else {
        return;
    };
    let mention = marks
        .iter()
        .find(|m| m.get("type").and_then(Value::as_str) == Some("link"))
        .and_then(|l| l.pointer("/attrs/href"))
        .and_then(Value::as_str)
        .and_then(|h| h.strip_prefix(MENTION_SCHEME));
    if let Some(id) = mention {
        content.push(json!({"type": "mention", "attrs": {"id": id, "text": text}}));
        return;
    }
    // Adjacent text with the same marks is one node, as Jira writes it.
    if let Some(last) = content.last_mut() {
        let same = last.get("type").and_then(Value::as_str) == Some("text")
            && last
                .get("marks")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
                == marks;
        if same {
            if let Some(Value::String(s)) = last.get_mut("text") {
                s.push_str(text);
                return;
            }
        }
    }
    let mut t = json!({"type": "text", "text": text});
    if !marks.is_empty() {
        t["marks"] = Value::Array(marks.to_vec());
    }
    content.push(t);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(md: &str) {
        let adf = from_markdown(md);
        assert_eq!(to_markdown(&adf), md, "{adf:#}");
        assert_eq!(from_markdown(&to_markdown(&adf)), adf);
    }

    #[test]
    fn the_supported_nodes_round_trip() {
        round_trip(
            "# Title\n\nPlain, **strong**, *em*, ~~gone~~, `code` and [a link](https://a.test/x).",
        );
        round_trip("1. first\n2. second\n   - nested\n   - more");
        round_trip("```rust\nfn main() {}\n```\n\n> quoted\n>\n> twice\n\n---");
        round_trip("Ask [@Ana](jira-mention:712020:abc) today\\\nnext line");
        round_trip("3\\. is not a list; stars \\* and \\_underscores\\_ stay text");
        round_trip("\\- not a bullet either");
    }

    #[test]
    fn recorded_descriptions_read_as_text() {
        let adf = json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "This is a test issue created for testing the delete-comment action"}]}]});
        assert_eq!(
            to_markdown(&adf),
            "This is a test issue created for testing the delete-comment action"
        );
        let panel = json!({"type": "doc", "version": 1, "content": [{"type": "panel", "attrs": {"panelType": "info"}, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Heads up"}]}]}]});
        assert_eq!(to_markdown(&panel), "Heads up");
        assert_eq!(to_markdown(&json!("not adf")), "");
    }
}
