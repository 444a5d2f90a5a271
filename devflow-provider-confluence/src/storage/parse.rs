//! Storage format (Confluence's XHTML with `ac:` and `ri:` elements) as a small tree,
//! read with quick-xml. Elements of Confluence's own (`ac:*`, `ri:*`) that the Markdown
//! side does not understand keep their exact source, so they are written back as they
//! were.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// A node of a storage document.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    /// An element with its attributes and children.
    Element {
        name: String,
        attrs: Vec<(String, String)>,
        children: Vec<Node>,
    },
    /// Text, unescaped.
    Text(String),
    /// Source kept as it was (a macro the Markdown side does not read).
    Raw(String),
}

impl Node {
    /// An attribute of an element.
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        match self {
            Node::Element { attrs, .. } => attrs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }
}

/// The elements of Confluence's own that are read, not kept raw.
fn understood(name: &str, attrs: &[(String, String)]) -> bool {
    match name {
        "ac:structured-macro" => attrs.iter().any(|(k, v)| k == "ac:name" && v == "code"),
        "ac:parameter" | "ac:plain-text-body" => true,
        other => !(other.starts_with("ac:") || other.starts_with("ri:")),
    }
}

/// HTML's named entities that appear in storage, beyond XML's five.
fn entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "nbsp" => "\u{a0}",
        "mdash" => "\u{2014}",
        "ndash" => "\u{2013}",
        "hellip" => "\u{2026}",
        "rsquo" => "\u{2019}",
        "lsquo" => "\u{2018}",
        "rdquo" => "\u{201d}",
        "ldquo" => "\u{201c}",
        "copy" => "\u{a9}",
        "reg" => "\u{ae}",
        "trade" => "\u{2122}",
        "bull" => "\u{2022}",
        "middot" => "\u{b7}",
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => return None,
    })
}

/// Text with its character references resolved (an unknown one is kept as written).
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        match after.find(';').filter(|end| *end <= 10) {
            Some(end) => {
                let name = &after[..end];
                let decoded = if let Some(num) = name.strip_prefix('#') {
                    let code = match num.strip_prefix('x').or_else(|| num.strip_prefix('X')) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => num.parse::<u32>().ok(),
                    };
                    code.and_then(char::from_u32).map(String::from)
                } else {
                    entity(name).map(str::to_owned)
                };
                match decoded {
                    Some(d) => out.push_str(&d),
                    None => {
                        out.push('&');
                        out.push_str(name);
                        out.push(';');
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn attrs(e: &BytesStart<'_>) -> Vec<(String, String)> {
    e.attributes()
        .flatten()
        .map(|a| {
            (
                String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                unescape(&String::from_utf8_lossy(&a.value)),
            )
        })
        .collect()
}

/// An element being read: its name, attributes and children so far.
type Open = (String, Vec<(String, String)>, Vec<Node>);

/// Parses a storage fragment. Malformed markup ends the tree where it breaks; the
/// unread rest is kept raw, so nothing a person wrote is dropped.
pub(crate) fn parse(storage: &str) -> Vec<Node> {
    let mut reader = Reader::from_str(storage);
    reader.config_mut().check_end_names = false;
    reader.config_mut().allow_unmatched_ends = true;
    // (name, attrs, children) of the open elements; the root's children at the bottom.
    let mut stack: Vec<Open> = vec![(String::new(), Vec::new(), Vec::new())];
    let push = |stack: &mut Vec<Open>, node: Node| {
        if let Some(top) = stack.last_mut() {
            top.2.push(node);
        }
    };
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let a = attrs(&e);
                if understood(&name, &a) {
                    stack.push((name, a, Vec::new()));
                } else {
                    // Keep the whole element as written.
                    let end = e.to_end().into_owned();
                    match reader.read_to_end(end.name()) {
                        Ok(_) => {
                            let after = usize::try_from(reader.buffer_position()).unwrap_or(before);
                            let raw = storage.get(before..after).unwrap_or_default();
                            push(&mut stack, Node::Raw(raw.to_owned()));
                        }
                        Err(_) => {
                            push(
                                &mut stack,
                                Node::Raw(storage.get(before..).unwrap_or_default().to_owned()),
                            );
                            break;
                        }
                    }
                }
            }
            Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let a = attrs(&e);
                if understood(&name, &a) {
                    push(
                        &mut stack,
                        Node::Element {
                            name,
                            attrs: a,
                            children: Vec::new(),
                        },
                    );
                } else {
                    let after = usize::try_from(reader.buffer_position()).unwrap_or(before);
                    push(
                        &mut stack,
                        Node::Raw(storage.get(before..after).unwrap_or_default().to_owned()),
                    );
                }
            }
            Ok(Event::End(_)) => {
                if stack.len() > 1 {
                    if let Some((name, attrs, children)) = stack.pop() {
                        push(
                            &mut stack,
                            Node::Element {
                                name,
                                attrs,
                                children,
                            },
                        );
                    }
                }
            }
            Ok(Event::Text(t)) => {
                let text = unescape(&String::from_utf8_lossy(t.as_ref()));
                if !text.is_empty() {
                    push(&mut stack, Node::Text(text));
                }
            }
            Ok(Event::GeneralRef(r)) => {
                let name = String::from_utf8_lossy(r.as_ref()).into_owned();
                push(&mut stack, Node::Text(unescape(&format!("&{name};"))));
            }
            Ok(Event::CData(t)) => {
                push(
                    &mut stack,
                    Node::Text(String::from_utf8_lossy(t.as_ref()).into_owned()),
                );
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(_) => {
                push(
                    &mut stack,
                    Node::Raw(storage.get(before..).unwrap_or_default().to_owned()),
                );
                break;
            }
        }
    }
    while stack.len() > 1 {
        if let Some((name, attrs, children)) = stack.pop() {
            push(
                &mut stack,
                Node::Element {
                    name,
                    attrs,
                    children,
                },
            );
        }
    }
    stack.pop().map(|(_, _, c)| c).unwrap_or_default()
}
