use super::*;

fn round_trip(md: &str) -> String {
    markdown_of(&storage_of(md))
}

#[test]
fn markdown_round_trips_through_storage() {
    let md = "# Checkout\n\nPay by **card** or *wallet*, see [the spec](https://example.com/spec?a=1&b=2).\n\n## Steps\n\n- Choose a card\n- Confirm\n  - twice\n\n1. One\n2. Two\n\n```rust\nfn main() { println!(\"<hi> & ]]>\"); }\n```\n\n| Field | Type |\n| --- | --- |\n| amount | number |\n| note | text |\n\n> Quoted\n\n~~old~~ and `code`\n\n---";
    let once = round_trip(md);
    assert_eq!(once, md, "storage:\n{}", storage_of(md));
    assert_eq!(round_trip(&once), once, "stable");
}

#[test]
fn special_characters_survive() {
    for md in [
        "2024\\. A year, not a list",
        "\\# not a heading",
        "a \\* b \\_ c \\[d\\] \\<e\\>",
        "Fish & chips \"quoted\"",
    ] {
        assert_eq!(round_trip(md), md, "storage: {}", storage_of(md));
    }
}

#[test]
fn macros_the_host_does_not_read_are_kept_as_they_were() {
    let storage = "<p>Before <ac:link><ri:page ri:content-title=\"Other page\" /></ac:link> after</p><ac:structured-macro ac:name=\"info\" ac:schema-version=\"1\"><ac:rich-text-body><p>Note &amp; more</p></ac:rich-text-body></ac:structured-macro><p>End</p>";
    let md = markdown_of(storage);
    assert!(md.contains("confluence-raw"), "{md}");
    let back = storage_of(&md);
    assert!(
        back.contains("<ac:link><ri:page ri:content-title=\"Other page\" /></ac:link>"),
        "{back}"
    );
    assert!(back.contains("<ac:structured-macro ac:name=\"info\" ac:schema-version=\"1\"><ac:rich-text-body><p>Note &amp; more</p></ac:rich-text-body></ac:structured-macro>"), "{back}");
    assert_eq!(markdown_of(&back), md, "stable");
}

#[test]
fn the_recorded_page_body_keeps_every_macro() {
    let page = devflow_sync_testkit::recorded::response(
        "confluence",
        "rest-v2-get-page-with-includes.nango-recording.json",
    );
    let storage = page["body"]["storage"]["value"].as_str().unwrap();
    let back = storage_of(&markdown_of(storage));
    for needle in [
        "ac:name=\"recently-updated\"",
        "ac:name=\"blog-posts\"",
        "<ac:placeholder>",
    ] {
        assert_eq!(
            storage.matches(needle).count(),
            back.matches(needle).count(),
            "{needle} in\n{back}"
        );
    }
}

#[test]
fn the_section_is_replaced_and_the_rest_kept() {
    let t = Templates::default();
    let page = t.render(Some(ItemKind::Prd), &storage_of("Host text"));
    assert_eq!(markdown_of(section(&page)), "Host text");
    // A person adds text around the section.
    let edited = format!("<p>Mine, before</p>{page}<p>Mine, after</p>");
    let updated = replace_section(
        &edited,
        &storage_of("New host text"),
        Some(ItemKind::Prd),
        &t,
    );
    assert!(updated.starts_with("<p>Mine, before</p>"));
    assert!(updated.ends_with("<p>Mine, after</p>"));
    assert!(updated.contains("<h2>Decisions</h2>"));
    assert_eq!(markdown_of(section(&updated)), "New host text");
    // Without anchors the whole page is the section, and a write restores the template.
    assert_eq!(section("<p>Bare</p>"), "<p>Bare</p>");
    let restored = replace_section("<p>Bare</p>", "<p>X</p>", Some(ItemKind::Epic), &t);
    assert!(restored.contains(START) && restored.contains(END));
}

#[test]
fn malformed_storage_loses_nothing() {
    let storage = "<p>Open <strong>bold</p><p>next";
    let md = markdown_of(storage);
    assert!(
        md.contains("Open") && md.contains("bold") && md.contains("next"),
        "{md}"
    );
}
