//! Every recorded Confluence payload parses into the provider's wire types.

use devflow_provider_confluence::wire::{ListWire, PageWire, PropertyWire, SearchResultWire};
use devflow_sync_testkit::recorded::{fixtures_dir, responses};

#[test]
fn every_confluence_fixture_parses() {
    let mut read = 0;
    for entry in std::fs::read_dir(fixtures_dir().join("confluence")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        for (method, path, body) in responses("confluence", &name) {
            let at = format!("{name} {method} {path}");
            match (method.as_str(), path.as_str()) {
                ("get", "/wiki/api/v2/pages") => {
                    let list: ListWire<PageWire> = serde_json::from_value(body).expect(&at);
                    assert!(!list.results.is_empty(), "{at}");
                    assert!(
                        list.results
                            .iter()
                            .all(|p| !p.id.is_empty() && p.version.number >= 1)
                    );
                }
                ("get" | "post" | "put", p)
                    if p.starts_with("/wiki/api/v2/pages") && !p.contains("properties") =>
                {
                    let page: PageWire = serde_json::from_value(body).expect(&at);
                    assert!(page.id.bytes().all(|b| b.is_ascii_digit()), "{at}");
                    assert!(page.body.storage.is_some(), "{at}: the storage body");
                }
                ("post", p) if p.contains("/properties") => {
                    let property: PropertyWire = serde_json::from_value(body).expect(&at);
                    assert_eq!(property.version.number, 1, "{at}");
                }
                ("get", "/wiki/rest/api/search") => {
                    let found: ListWire<SearchResultWire> =
                        serde_json::from_value(body).expect(&at);
                    assert!(found.links.next.is_some(), "{at}: the next link");
                    assert!(found.results.iter().all(|r| r.content.is_some()));
                }
                ("get", "/oauth/token/accessible-resources") => {
                    let sites: Vec<devflow_atlassian::AccessibleResource> =
                        serde_json::from_value(body).expect(&at);
                    assert_eq!(sites.len(), 2, "{at}");
                }
                _ => continue,
            }
            read += 1;
        }
    }
    assert!(read >= 7, "{read} recorded answers read");
}
