//! DevFlow metadata kept as hidden HTML comments at the top of an issue body.
//!
//! ```text
//! <!-- devflow-id: item-42 -->
//! <!-- devflow-type: story -->
//! <!-- devflow-parent: octo-org/app#12 -->
//! <!-- devflow-synced: 2026-11-22T10:00:00Z -->
//! ```
//!
//! GitHub renders none of it. Reading removes every such line wherever a person's edit
//! moved it, so the metadata never leaks into the host's text; writing puts it back on
//! top. The item's records in other systems (`devflow-link: <label>|<url>`) are also
//! shown, as one "Related links" line between `<!-- devflow-related -->` markers, which
//! reading removes too.

use devflow_sync_core::model::{ItemId, ItemKind};

/// The metadata of one issue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BodyMetadata {
    /// The host item the issue belongs to.
    pub id: Option<ItemId>,
    /// Its level in the hierarchy.
    pub kind: Option<ItemKind>,
    /// The parent issue, as `owner/repo#number`.
    pub parent: Option<String>,
    /// When the engine last wrote it (RFC 3339).
    pub synced: Option<String>,
    /// The item's records in the other systems, as (label, URL): kept as metadata and
    /// shown to people as a "Related links" line under it.
    pub links: Vec<(String, String)>,
}

/// A value as written inside a metadata comment, reversibly: `%` becomes `%25`, a `-`
/// followed by another `%2D` (so the value never closes the comment), line breaks
/// `%0A` and `%0D`. Plain ids (`item-42`, UUIDs) are unchanged.
///
/// ```
/// use devflow_provider_github::metadata::{escape_value, unescape_value};
/// assert_eq!(escape_value("item-42"), "item-42");
/// assert_eq!(escape_value("a-->b"), "a%2D->b");
/// for v in ["--", "a%2Db", "x\n--\r%", "---"] {
///     assert_eq!(unescape_value(&escape_value(v)), v);
/// }
/// ```
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '%' => out.push_str("%25"),
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            '-' if chars.peek() == Some(&'-') => out.push_str("%2D"),
            c => out.push(c),
        }
    }
    out
}

/// The value [`escape_value`] wrote.
pub fn unescape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 3);
        let decoded = match code {
            Some("25") => Some('%'),
            Some("2D" | "2d") => Some('-'),
            Some("0A" | "0a") => Some('\n'),
            Some("0D" | "0d") => Some('\r'),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[i + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The (label, URL) pairs shown for the item's records in other systems: the
/// provider and id, and the record's URL (the API id where it has none).
pub fn links_of(related: &[devflow_sync_core::model::ExternalRef]) -> Vec<(String, String)> {
    related
        .iter()
        .map(|r| {
            let label = format!("{} {}", r.provider, r.id);
            (label, r.url.clone().unwrap_or_default())
        })
        .collect()
}

/// Where the "Related links" line people see starts and ends.
const RELATED_START: &str = "<!-- devflow-related -->";
const RELATED_END: &str = "<!-- /devflow-related -->";

fn metadata_line(line: &str) -> Option<(&str, &str)> {
    let inner = line
        .trim()
        .strip_prefix("<!--")?
        .strip_suffix("-->")?
        .trim();
    let (key, value) = inner.split_once(':')?;
    let key = key.trim().strip_prefix("devflow-")?;
    Some((key, value.trim()))
}

impl BodyMetadata {
    /// Splits a body into its metadata and the person's text.
    ///
    /// ```
    /// use devflow_provider_github::metadata::BodyMetadata;
    /// let body = "<!-- devflow-id: item-7 -->\r\n<!-- devflow-type: story -->\r\nPay by card.\r\n";
    /// let (meta, text) = BodyMetadata::split(body);
    /// assert_eq!(meta.id.unwrap().as_str(), "item-7");
    /// assert_eq!(text, "Pay by card.\r\n");
    /// ```
    pub fn split(body: &str) -> (BodyMetadata, String) {
        if !body.contains("<!--") {
            // No metadata line anywhere: the text is the body from its first line that
            // is not blank (what the loop below keeps), copied once.
            let mut start = 0;
            for line in body.split_inclusive('\n') {
                if !line.trim().is_empty() {
                    break;
                }
                start += line.len();
            }
            return (BodyMetadata::default(), body[start..].to_owned());
        }
        Self::split_lines(body)
    }

    /// [`split`](Self::split) line by line.
    fn split_lines(body: &str) -> (BodyMetadata, String) {
        let mut meta = BodyMetadata::default();
        let mut text = String::with_capacity(body.len());
        let mut at_top = true;
        // The blank line written after the metadata block belongs to it.
        let mut after_meta = false;
        let mut in_related = false;
        for line in body.split_inclusive('\n') {
            let separator = after_meta && line.trim().is_empty();
            after_meta = false;
            if in_related || line.trim() == RELATED_START {
                in_related = line.trim() != RELATED_END;
                after_meta = true;
                continue;
            }
            match metadata_line(line) {
                Some((key, value)) => {
                    after_meta = true;
                    let value = unescape_value(value);
                    let value = value.as_str();
                    match key {
                        "id" if !value.is_empty() => meta.id = Some(ItemId::new(value)),
                        "type" => meta.kind = value.parse().ok(),
                        "parent" if !value.is_empty() => meta.parent = Some(value.to_owned()),
                        "synced" if !value.is_empty() => meta.synced = Some(value.to_owned()),
                        "link" => {
                            if let Some((label, url)) = value.split_once('|') {
                                meta.links.push((label.to_owned(), url.to_owned()));
                            }
                        }
                        _ => {}
                    }
                }
                None if separator || (at_top && line.trim().is_empty()) => {}
                None => {
                    at_top = false;
                    text.push_str(line);
                }
            }
        }
        (meta, text)
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self == &BodyMetadata::default()
    }

    /// The body to send: the metadata lines, then the person's text.
    pub fn join(&self, text: &str) -> String {
        let mut out = String::new();
        let mut line = |key: &str, value: &str| {
            out.push_str("<!-- devflow-");
            out.push_str(key);
            out.push_str(": ");
            // A value never closes the comment early nor breaks the line.
            out.push_str(&escape_value(value));
            out.push_str(" -->\n");
        };
        if let Some(id) = &self.id {
            line("id", id.as_str());
        }
        if let Some(kind) = self.kind {
            line("type", kind.as_str());
        }
        if let Some(parent) = &self.parent {
            line("parent", parent);
        }
        if let Some(synced) = &self.synced {
            line("synced", synced);
        }
        for (label, url) in &self.links {
            line("link", &format!("{label}|{url}"));
        }
        if !self.links.is_empty() {
            let shown: Vec<String> = self
                .links
                .iter()
                .map(|(label, url)| {
                    format!(
                        "[{}]({})",
                        label.replace(['[', ']'], ""),
                        url.replace([' ', ')', '('], "")
                    )
                })
                .collect();
            out.push_str(RELATED_START);
            out.push('\n');
            out.push_str(&format!("**Related links:** {}\n", shown.join(" · ")));
            out.push_str(RELATED_END);
            out.push('\n');
        }
        if !out.is_empty() && !text.is_empty() {
            out.push('\n');
        }
        out.push_str(text);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

        /// The shortcut for bodies without metadata keeps exactly what the line loop keeps.
        #[test]
        fn the_shortcut_keeps_what_the_loop_keeps(body in "([ \t]{0,2}(\r?\n)){0,3}[ -~\r\n\t]{0,200}") {
            prop_assume!(!body.contains("<!--"));
            let (fast_meta, fast) = BodyMetadata::split(&body);
            let (slow_meta, slow) = BodyMetadata::split_lines(&body);
            prop_assert_eq!(fast, slow);
            prop_assert!(fast_meta.is_empty() && slow_meta.is_empty());
        }
    }

    #[test]
    fn round_trip_and_survives_edits() {
        let meta = BodyMetadata {
            id: Some(ItemId::new("item-42")),
            kind: Some(ItemKind::Story),
            parent: Some("octo-org/app#12".into()),
            synced: Some("2026-11-22T10:00:00Z".into()),
            links: vec![(
                "Jira KAN-5".into(),
                "https://acme.atlassian.net/browse/KAN-5".into(),
            )],
        };
        let body = meta.join("## Goal\nPay in one tap.\n");
        assert!(
            body.contains(
                "**Related links:** [Jira KAN-5](https://acme.atlassian.net/browse/KAN-5)"
            )
        );
        assert!(body.starts_with("<!-- devflow-id: item-42 -->\n<!-- devflow-type: story -->\n"));
        let (back, text) = BodyMetadata::split(&body);
        assert_eq!(back, meta);
        assert_eq!(text, "## Goal\nPay in one tap.\n");
        // A person typed above the metadata and in between: it is still found and
        // removed, and their text stays whole.
        let edited = format!("Note first\n{body}Added below\n");
        let (back, text) = BodyMetadata::split(&edited);
        assert_eq!(back, meta);
        assert_eq!(text, "Note first\n## Goal\nPay in one tap.\nAdded below\n");
        assert!(!text.contains("devflow"));
        // Ordinary comments are the person's.
        let (meta, text) = BodyMetadata::split("<!-- a note -->\nText");
        assert!(meta.is_empty());
        assert_eq!(text, "<!-- a note -->\nText");
        // Nothing to write: the text alone.
        assert_eq!(BodyMetadata::default().join("x"), "x");
        // A value cannot close the comment.
        let tricky = BodyMetadata {
            id: Some(ItemId::new("a-->b")),
            ..Default::default()
        };
        assert!(!tricky.join("").contains("a-->b"));
    }
}
