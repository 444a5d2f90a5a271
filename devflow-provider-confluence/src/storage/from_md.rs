//! Markdown (CommonMark with GitHub's tables and strikethrough) as storage format:
//! XHTML with code blocks as Confluence's `code` macro, and `<confluence-raw .../>`
//! carriers turned back into the storage source they hold.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::to_md::RAW_TAG;

/// Text escaped for XHTML.
pub(crate) fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The storage source a `<confluence-raw data="..."/>` carrier holds, if `html` is one.
fn raw_source(html: &str) -> Option<String> {
    let t = html.trim();
    let rest = t.strip_prefix(&format!("<{RAW_TAG} data=\""))?;
    let end = rest.rfind('"')?;
    let data = &rest[..end];
    Some(
        data.replace("&#10;", "\n")
            .replace("&#13;", "\r")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

fn level(l: HeadingLevel) -> u8 {
    match l {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// Storage format for Markdown.
pub(crate) fn from_md(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut out = String::with_capacity(markdown.len() + markdown.len() / 2);
    // Inside a code block: its language and text.
    let mut code: Option<(String, String)> = None;
    let mut in_table_head = false;
    for event in Parser::new_ext(markdown, options) {
        if let Some((_, text)) = code.as_mut() {
            match event {
                Event::Text(t) => {
                    text.push_str(&t);
                    continue;
                }
                Event::End(TagEnd::CodeBlock) => {}
                _ => continue,
            }
        }
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph => out.push_str("<p>"),
                Tag::Heading { level: l, .. } => out.push_str(&format!("<h{}>", level(l))),
                Tag::BlockQuote(_) => out.push_str("<blockquote>"),
                Tag::CodeBlock(kind) => {
                    let language = match kind {
                        CodeBlockKind::Fenced(info) => {
                            info.split_whitespace().next().unwrap_or("").to_owned()
                        }
                        CodeBlockKind::Indented => String::new(),
                    };
                    code = Some((language, String::new()));
                }
                Tag::List(Some(_)) => out.push_str("<ol>"),
                Tag::List(None) => out.push_str("<ul>"),
                Tag::Item => out.push_str("<li>"),
                Tag::Table(_) => out.push_str("<table><tbody>"),
                Tag::TableHead => {
                    in_table_head = true;
                    out.push_str("<tr>");
                }
                Tag::TableRow => out.push_str("<tr>"),
                Tag::TableCell => out.push_str(if in_table_head { "<th>" } else { "<td>" }),
                Tag::Emphasis => out.push_str("<em>"),
                Tag::Strong => out.push_str("<strong>"),
                Tag::Strikethrough => out.push_str("<s>"),
                Tag::Link { dest_url, .. } => {
                    out.push_str(&format!("<a href=\"{}\">", xml_escape(&dest_url)));
                }
                Tag::Image { dest_url, .. } => {
                    out.push_str(&format!(
                        "<ac:image><ri:url ri:value=\"{}\" /></ac:image>",
                        xml_escape(&dest_url)
                    ));
                }
                _ => {}
            },
            Event::End(end) => match end {
                TagEnd::Paragraph => out.push_str("</p>"),
                TagEnd::Heading(l) => out.push_str(&format!("</h{}>", level(l))),
                TagEnd::BlockQuote(_) => out.push_str("</blockquote>"),
                TagEnd::CodeBlock => {
                    if let Some((language, text)) = code.take() {
                        out.push_str(
                            "<ac:structured-macro ac:name=\"code\" ac:schema-version=\"1\">",
                        );
                        if !language.is_empty() {
                            out.push_str(&format!(
                                "<ac:parameter ac:name=\"language\">{}</ac:parameter>",
                                xml_escape(&language)
                            ));
                        }
                        let body = text
                            .trim_end_matches('\n')
                            .replace("]]>", "]]]]><![CDATA[>");
                        out.push_str(&format!(
                            "<ac:plain-text-body><![CDATA[{body}]]></ac:plain-text-body></ac:structured-macro>"
                        ));
                    }
                }
                TagEnd::List(true) => out.push_str("</ol>"),
                TagEnd::List(false) => out.push_str("</ul>"),
                TagEnd::Item => out.push_str("</li>"),
                TagEnd::Table => out.push_str("</tbody></table>"),
                TagEnd::TableHead => {
                    in_table_head = false;
                    out.push_str("</tr>");
                }
                TagEnd::TableRow => out.push_str("</tr>"),
                TagEnd::TableCell => out.push_str(if in_table_head { "</th>" } else { "</td>" }),
                TagEnd::Emphasis => out.push_str("</em>"),
                TagEnd::Strong => out.push_str("</strong>"),
                TagEnd::Strikethrough => out.push_str("</s>"),
                TagEnd::Link => out.push_str("</a>"),
                _ => {}
            },
            Event::Text(t) => out.push_str(&xml_escape(&t)),
            Event::Code(t) => out.push_str(&format!("<code>{}</code>", xml_escape(&t))),
            Event::Html(h) | Event::InlineHtml(h) => match raw_source(&h) {
                Some(source) => out.push_str(&source),
                None => out.push_str(&xml_escape(&h)),
            },
            Event::SoftBreak => out.push('\n'),
            Event::HardBreak => out.push_str("<br />"),
            Event::Rule => out.push_str("<hr />"),
            _ => {}
        }
    }
    out
}
