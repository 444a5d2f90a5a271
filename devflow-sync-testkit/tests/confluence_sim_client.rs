//! The Confluence simulator as a plain HTTP client (any Confluence SDK) sees it, in the
//! shapes of the recorded payloads (`../shared/fixtures/confluence`).

use std::time::Duration;

use devflow_sync_testkit::confluence_sim::{CLOUD_ID, ConfluenceSimulator};
use devflow_sync_testkit::recorded::{keys, response, same_shape};
use serde_json::{Value, json};

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value, Option<String>) {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth("sdk@acme.test", Some("tok"));
        if let Some(b) = body {
            r = r.json(b);
        }
        let r = r.send().await.unwrap();
        let link = r
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_owned());
        (
            r.status().as_u16(),
            r.json().await.unwrap_or(Value::Null),
            link,
        )
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        let (s, v, _) = self.send(reqwest::Method::GET, path, None).await;
        (s, v)
    }
    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let (s, v, _) = self.send(reqwest::Method::POST, path, Some(body)).await;
        (s, v)
    }
    async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        let (s, v, _) = self.send(reqwest::Method::PUT, path, Some(body)).await;
        (s, v)
    }
}

async fn setup() -> (ConfluenceSimulator, Client, String) {
    let sim = ConfluenceSimulator::start().await.unwrap();
    sim.add_api_token("sdk@acme.test", "tok");
    let space = sim.add_space("DEV", "DevFlow - Acme");
    let client = Client {
        http: reqwest::Client::new(),
        base: sim.url(),
    };
    (sim, client, space)
}

#[tokio::test]
async fn pages_are_created_read_updated_and_trashed_in_confluences_shapes() {
    let (sim, c, space) = setup().await;
    let (status, spaces) = c.get("/wiki/api/v2/spaces?keys=DEV").await;
    assert_eq!(status, 200);
    assert_eq!(spaces["results"][0]["id"], json!(space));
    let homepage = spaces["results"][0]["homepageId"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, page) = c
        .post(
            "/wiki/api/v2/pages",
            &json!({"spaceId": space, "status": "current", "title": "Checkout PRD", "body": {"representation": "storage", "value": "<p>Hello</p>"}}),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let theirs = response("confluence", "rest-v2-create-page.nango-recording.json");
    let missing: Vec<_> = keys(&theirs).difference(&keys(&page)).cloned().collect();
    assert!(
        missing.is_empty(),
        "keys the real page has and ours lacks: {missing:?}"
    );
    same_shape(&page, &theirs, "");
    assert_eq!(
        page["parentId"],
        json!(homepage),
        "under the homepage by default"
    );
    let id = page["id"].as_str().unwrap().to_owned();

    // Titles are unique in a space.
    let (status, dup) = c
        .post(
            "/wiki/api/v2/pages",
            &json!({"spaceId": space, "title": "checkout prd"}),
        )
        .await;
    assert_eq!(status, 400, "{dup}");
    assert!(
        dup["errors"][0]["title"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );

    // Updates carry the current version + 1; a stale one is a 409 naming the current.
    let update = |n: u64, title: &str| json!({"id": id, "status": "current", "title": title, "body": {"representation": "storage", "value": "<p>Two</p>"}, "version": {"number": n}});
    let (status, updated) = c
        .put(&format!("/wiki/api/v2/pages/{id}"), &update(2, "Checkout"))
        .await;
    assert_eq!(status, 200, "{updated}");
    same_shape(
        &updated,
        &response(
            "confluence",
            "rest-v2-get-and-update-page.nango-recording.json",
        ),
        "",
    );
    assert_eq!(updated["version"]["number"], 2);
    let (status, stale) = c
        .put(&format!("/wiki/api/v2/pages/{id}"), &update(2, "Again"))
        .await;
    assert_eq!(status, 409);
    assert!(
        stale["errors"][0]["title"]
            .as_str()
            .unwrap()
            .contains("Current version is: 2")
    );
    let (status, got) = c
        .get(&format!(
            "/wiki/api/v2/pages/{id}?body-format=storage&include-properties=true"
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(got["body"]["storage"]["value"], "<p>Two</p>");
    assert_eq!(got["title"], "Checkout");

    // Properties, versioned.
    let (status, prop) = c
        .post(
            &format!("/wiki/api/v2/pages/{id}/properties"),
            &json!({"key": "devflow", "value": {"type": "prd", "id": "item-1"}}),
        )
        .await;
    assert_eq!(status, 200, "{prop}");
    same_shape(
        &prop,
        &response(
            "confluence",
            "rest-v2-create-page-property.nango-recording.json",
        ),
        "",
    );
    let pid = prop["id"].as_str().unwrap();
    let (status, _) = c
        .put(
            &format!("/wiki/api/v2/pages/{id}/properties/{pid}"),
            &json!({"key": "devflow", "value": {"type": "prd"}, "version": {"number": 1}}),
        )
        .await;
    assert_eq!(status, 409, "a property update carries the version + 1 too");
    let (status, _) = c
        .put(&format!("/wiki/api/v2/pages/{id}/properties/{pid}"), &json!({"key": "devflow", "value": {"type": "prd", "id": "item-1", "jiraEpicKey": "KAN-1"}, "version": {"number": 2}}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        sim.property(&id, "devflow").unwrap()["jiraEpicKey"],
        "KAN-1"
    );

    // Children and ancestors.
    let (_, child) = c
        .post(
            "/wiki/api/v2/pages",
            &json!({"spaceId": space, "title": "Payments epic", "parentId": id}),
        )
        .await;
    let child_id = child["id"].as_str().unwrap().to_owned();
    let (_, kids) = c
        .get(&format!("/wiki/api/v2/pages/{id}/direct-children"))
        .await;
    assert_eq!(kids["results"][0]["id"], json!(child_id));
    let (_, up) = c
        .get(&format!("/wiki/api/v2/pages/{child_id}/ancestors"))
        .await;
    let chain: Vec<&str> = up["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(chain, vec![homepage.as_str(), id.as_str()], "root first");

    // Trash, then purge.
    let (status, _, _) = c
        .send(
            reqwest::Method::DELETE,
            &format!("/wiki/api/v2/pages/{child_id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        c.get(&format!("/wiki/api/v2/pages/{child_id}")).await.0,
        404
    );
    let (status, trashed) = c
        .get(&format!("/wiki/api/v2/pages/{child_id}?status=trashed"))
        .await;
    assert_eq!((status, trashed["status"].as_str()), (200, Some("trashed")));
    let (_, listed) = c
        .get(&format!(
            "/wiki/api/v2/pages?space-id={space}&status=trashed"
        ))
        .await;
    assert_eq!(listed["results"].as_array().unwrap().len(), 1);
    let (status, _, _) = c
        .send(
            reqwest::Method::DELETE,
            &format!("/wiki/api/v2/pages/{child_id}?purge=true"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert!(sim.page(&child_id).is_none());

    // v1 content CRUD is gone.
    assert_eq!(c.get(&format!("/wiki/rest/api/content/{id}")).await.0, 410);
}

#[tokio::test]
async fn lists_page_by_cursor_and_search_lags_writes() {
    let (sim, c, space) = setup().await;
    for i in 0..7 {
        c.post(
            "/wiki/api/v2/pages",
            &json!({"spaceId": space, "title": format!("Page {i}")}),
        )
        .await;
    }
    // Cursor paging: `_links.next` and the `Link` header, followed verbatim.
    let mut path = format!("/wiki/api/v2/pages?space-id={space}&limit=3");
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let (status, body, link) = c.send(reqwest::Method::GET, &path, None).await;
        assert_eq!(status, 200);
        seen += body["results"].as_array().unwrap().len();
        pages += 1;
        match body["_links"]["next"].as_str() {
            Some(next) => {
                assert!(link.unwrap().contains("rel=\"next\""));
                path = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!((seen, pages), (8, 3), "the homepage and seven pages");

    // v1 CQL search, in the recorded shape, paged by `_links.next`.
    let (status, found) = c
        .get("/wiki/rest/api/search?cql=type%20%3D%20page%20AND%20space%20%3D%20%22DEV%22%20ORDER%20BY%20lastmodified%20ASC&limit=5")
        .await;
    assert_eq!(status, 200, "{found}");
    same_shape(
        &found,
        &response("confluence", "rest-v1-search-cql.nango-recording.json"),
        "",
    );
    assert_eq!(found["totalSize"], 8);
    assert!(
        found["_links"]["next"]
            .as_str()
            .unwrap()
            .starts_with("/rest/api/search?")
    );

    // With a lag, a new page is not found at once.
    sim.set_search_lag(Duration::from_millis(300));
    c.post(
        "/wiki/api/v2/pages",
        &json!({"spaceId": space, "title": "Fresh"}),
    )
    .await;
    let cql = "/wiki/rest/api/search?cql=title%20%3D%20%22Fresh%22";
    assert_eq!(c.get(cql).await.1["totalSize"], 0);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(c.get(cql).await.1["totalSize"], 1);

    let (status, bad) = c.get("/wiki/rest/api/search?cql=type%20%3D%3D%3D").await;
    assert_eq!(status, 400, "{bad}");
}

#[tokio::test]
async fn bearer_tokens_work_on_the_gateway_with_their_scopes() {
    let (sim, _, _) = setup().await;
    sim.accept_bearer("reader", &["read:page:confluence", "read:space:confluence"]);
    let http = reqwest::Client::new();
    let get = |url: String, token: &'static str| {
        let http = http.clone();
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        get(
            format!("{}/wiki/api/v2/spaces", sim.gateway_url()),
            "reader"
        )
        .await,
        200
    );
    assert!(sim.gateway_url().ends_with(CLOUD_ID));
    assert_eq!(
        get(format!("{}/wiki/api/v2/spaces", sim.url()), "reader").await,
        401,
        "not on the site"
    );
    assert_eq!(
        get(
            format!("{}/wiki/rest/api/search?cql=type%3Dpage", sim.gateway_url()),
            "reader"
        )
        .await,
        401,
        "search needs its scope"
    );
    let r = http
        .post(format!("{}/wiki/api/v2/pages", sim.gateway_url()))
        .bearer_auth("reader")
        .json(&json!({"spaceId": "1", "title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        401,
        "writing needs write:page:confluence"
    );
}

#[tokio::test]
async fn a_pages_versions_and_labels_are_listed() {
    let (_sim, c, space) = setup().await;
    let (_, page) = c
        .post(
            "/wiki/api/v2/pages",
            &json!({"spaceId": space, "status": "current", "title": "Versioned", "body": {"representation": "storage", "value": "<p>1</p>"}}),
        )
        .await;
    let id = page["id"].as_str().unwrap().to_owned();
    for (n, message) in [(2, "second"), (3, "third")] {
        let (status, _) = c
            .put(
                &format!("/wiki/api/v2/pages/{id}"),
                &json!({"id": id, "status": "current", "title": "Versioned",
                        "body": {"representation": "storage", "value": format!("<p>{n}</p>")},
                        "version": {"number": n, "message": message}}),
            )
            .await;
        assert_eq!(status, 200);
    }
    let (status, versions) = c.get(&format!("/wiki/api/v2/pages/{id}/versions")).await;
    assert_eq!(status, 200, "{versions}");
    let numbers: Vec<u64> = versions["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1], "newest first");
    assert_eq!(versions["results"][0]["message"], "third");
    assert_eq!(versions["results"][1]["message"], "second");
    let (status, labels) = c.get(&format!("/wiki/api/v2/pages/{id}/labels")).await;
    assert_eq!(
        (status, labels["results"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    assert_eq!(c.get("/wiki/api/v2/pages/99999999/versions").await.0, 404);
}
