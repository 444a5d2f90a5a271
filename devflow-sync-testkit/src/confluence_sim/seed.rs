//! A space full of DevFlow pages at once, for benchmarks and large tests: PRDs under
//! the homepage, epics under them, stories under those, each with a realistic body
//! (the DevFlow section between its anchors, a heading, a list, a table) and the
//! `devflow` property DevFlow writes.

use super::*;

fn body(i: usize) -> String {
    format!(
        "<p><em>Synced with DevFlow.</em></p><p><ac:structured-macro ac:name=\"anchor\" ac:schema-version=\"1\"><ac:parameter ac:name=\"\">devflow-start</ac:parameter></ac:structured-macro></p>\
         <h2>Goal {i}</h2><p>People pay for an order in one step &amp; see a receipt. This is the description of record {i}, long enough to look like a real one: <strong>what</strong>, <em>why</em> and <code>how</code>.</p>\
         <ul><li>Cards and wallets</li><li>Receipts by mail</li><li>Refunds within 30 days</li></ul>\
         <table><tbody><tr><th>Field</th><th>Type</th></tr><tr><td>amount</td><td>number</td></tr><tr><td>currency</td><td>text</td></tr></tbody></table>\
         <p><ac:structured-macro ac:name=\"anchor\" ac:schema-version=\"1\"><ac:parameter ac:name=\"\">devflow-end</ac:parameter></ac:structured-macro></p><h2>Notes</h2><p>Written by a person.</p>"
    )
}

/// Adds `n` pages to the space `key` (one PRD per 100, one epic per 10 after it, stories
/// otherwise), each modified a millisecond after the one before.
pub(super) fn pages(s: &mut State, key: &str, n: usize) {
    let Some((space, homepage)) = s
        .spaces
        .values()
        .find(|x| x.key == key)
        .map(|x| (x.id, x.homepage))
    else {
        return;
    };
    let start = s.now_ms();
    let (mut prd, mut epic) = (homepage, homepage);
    for i in 0..n {
        let id = s.next_id();
        let (kind, parent) = if i % 100 == 0 {
            prd = id;
            ("prd", homepage)
        } else if i % 10 == 1 {
            epic = id;
            ("epic", prd)
        } else {
            ("story", epic)
        };
        let at = start.saturating_add(i64::try_from(i).unwrap_or(0));
        let pid = s.next_id();
        let mut properties = BTreeMap::new();
        properties.insert(
            "devflow".to_owned(),
            Property {
                id: pid,
                value: json!({"type": kind, "id": format!("seed-{i}"), "syncedAt": stamp(at)}),
                version: 1,
                updated_ms: at,
            },
        );
        s.pages.insert(
            id,
            Page {
                id,
                space,
                title: format!("{kind} {i}"),
                parent: Some(parent),
                status: "current".into(),
                body: body(i),
                version: 1,
                version_message: String::new(),
                created_ms: at,
                modified_ms: at,
                position: id % 10_000,
                history: Vec::new(),
                properties,
            },
        );
        s.reindex(id);
    }
}
