//! A page's body: the storage format around the host's text. The host's text lives
//! between two anchor macros (`devflow-start`, `devflow-end`), as storage converted
//! from and to Markdown; everything people write outside them is kept as it is on every
//! update. A page whose anchors were removed is read whole, and written back as the
//! template around the host's text.

mod from_md;
mod parse;
mod to_md;

use devflow_sync_core::model::ItemKind;

/// The anchor macro that opens the host's section.
const START: &str = "devflow-start";
/// The anchor macro that closes it.
const END: &str = "devflow-end";

fn anchor(name: &str) -> String {
    format!(
        "<p><ac:structured-macro ac:name=\"anchor\" ac:schema-version=\"1\"><ac:parameter ac:name=\"\">{name}</ac:parameter></ac:structured-macro></p>"
    )
}

/// Where an anchor macro named `name` sits in `body`: its start and end byte offsets,
/// widened to a `<p>` that holds only it.
fn find_anchor(body: &str, name: &str) -> Option<(usize, usize)> {
    let param = body.find(&format!(">{name}</ac:parameter>"))?;
    let start = body[..param].rfind("<ac:structured-macro")?;
    let close = "</ac:structured-macro>";
    let end = param + body[param..].find(close)? + close.len();
    let (mut s, mut e) = (start, end);
    let before = body[..s].trim_end();
    let after = body[e..].trim_start();
    if before.ends_with("<p>") && after.starts_with("</p>") {
        s = before.len() - 3;
        e = body.len() - after.len() + 4;
    }
    Some((s, e))
}

/// The host's section of a page body: the storage between the anchors, or the whole
/// body when they are missing.
pub fn section(body: &str) -> &str {
    match (find_anchor(body, START), find_anchor(body, END)) {
        (Some((_, a)), Some((b, _))) if a <= b => &body[a..b],
        _ => body,
    }
}

/// The body with the host's section replaced by `inner` (storage); without anchors,
/// the template of `kind` around it.
pub fn replace_section(
    body: &str,
    inner: &str,
    kind: Option<ItemKind>,
    templates: &Templates,
) -> String {
    match (find_anchor(body, START), find_anchor(body, END)) {
        (Some((_, a)), Some((b, _))) if a <= b => {
            format!("{}{inner}{}", &body[..a], &body[b..])
        }
        _ => templates.render(kind, inner),
    }
}

/// Storage format for the host's Markdown.
pub fn storage_of(markdown: &str) -> String {
    from_md::from_md(markdown)
}

/// The host's Markdown for a storage fragment (Confluence's own elements it cannot
/// express carried as `<confluence-raw data="..."/>`).
pub fn markdown_of(storage: &str) -> String {
    to_md::to_md(&parse::parse(storage))
}

/// Page templates per item kind, in storage format, each with `{{devflow}}` where the
/// host's section goes (the anchors are added around it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Templates {
    /// For PRD pages.
    pub prd: String,
    /// For Epic pages.
    pub epic: String,
    /// For Story pages.
    pub story: String,
    /// For anything else.
    pub other: String,
}

/// Where the host's section goes in a template.
pub const PLACEHOLDER: &str = "{{devflow}}";

impl Default for Templates {
    fn default() -> Self {
        let note = |what: &str| {
            format!(
                "<p><em>{what} synced with DevFlow: the text between the DevFlow anchors is kept in step with DevFlow; everything else on this page is yours.</em></p>{PLACEHOLDER}"
            )
        };
        Self {
            prd: format!(
                "{}<h2>Decisions</h2><p /><h2>Open questions</h2><p />",
                note("Product requirements")
            ),
            epic: format!("{}<h2>Notes</h2><p />", note("An epic")),
            story: note("A story"),
            other: note("A work item"),
        }
    }
}

impl Templates {
    /// The page body of a new page of `kind` holding `inner` (storage).
    pub fn render(&self, kind: Option<ItemKind>, inner: &str) -> String {
        let template = match kind {
            Some(ItemKind::Prd) => &self.prd,
            Some(ItemKind::Epic) => &self.epic,
            Some(ItemKind::Story) => &self.story,
            _ => &self.other,
        };
        let section = format!("{}{inner}{}", anchor(START), anchor(END));
        if template.contains(PLACEHOLDER) {
            template.replacen(PLACEHOLDER, &section, 1)
        } else {
            format!("{template}{section}")
        }
    }
}

#[cfg(test)]
mod tests;
