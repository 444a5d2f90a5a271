//! The Jira simulator as a plain HTTP client (any Jira SDK) sees it: the calls common
//! clients make, answered in the shapes of the recorded payloads
//! (`../shared/fixtures/jira`).

use devflow_sync_testkit::jira_sim::JiraSimulator;
use devflow_sync_testkit::recorded::{keys, same_shape};
use serde_json::{Value, json};

fn recorded(name: &str) -> Value {
    devflow_sync_testkit::recorded::response("jira", name)
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .basic_auth("sdk@acme.test", Some("tok"))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .basic_auth("sdk@acme.test", Some("tok"))
            .json(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn an_sdk_finds_the_recorded_shapes() {
    let sim = JiraSimulator::start().await.unwrap();
    sim.add_project("KAN", "My Kanban Project", true);
    sim.add_api_token("sdk@acme.test", "tok", true, None);
    let c = Client {
        http: reqwest::Client::new(),
        base: sim.url(),
    };

    for path in [
        "/rest/api/3/serverInfo",
        "/rest/api/3/myself",
        "/rest/api/3/project",
        "/rest/api/3/project/KAN",
        "/rest/api/3/issuetype",
        "/rest/api/3/priority",
        "/rest/api/3/status",
    ] {
        assert_eq!(c.get(path).await.0, 200, "{path}");
    }
    let (_, meta) = c.get("/rest/api/3/issue/createmeta/KAN/issuetypes").await;
    let task = meta["issueTypes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Task")
        .unwrap()["id"]
        .clone();

    // Create as the recorded request did: the answer has the recorded keys.
    let (status, created) = c.post("/rest/api/3/issue", &json!({"fields": {"project": {"key": "KAN"}, "issuetype": {"id": task}, "summary": "Test issue created via an SDK"}})).await;
    assert_eq!(status, 201);
    assert_eq!(
        keys(&created),
        keys(&recorded("rest-v3-create-issue.nango-recording.json"))
    );
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, _) = c.post(&format!("/rest/api/3/issue/{id}/comment"), &json!({"body": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hi"}]}]}})).await;
    assert_eq!(status, 201);

    // GET issue: the recorded top-level keys, the recorded types for every field both have.
    let (_, issue) = c.get(&format!("/rest/api/3/issue/{id}")).await;
    let theirs = recorded("rest-v3-get-issue.nango-recording.json");
    assert_eq!(keys(&issue), keys(&theirs));
    same_shape(&issue, &theirs, "");
    for field in [
        "summary",
        "issuetype",
        "project",
        "status",
        "priority",
        "labels",
        "created",
        "updated",
        "reporter",
        "creator",
    ] {
        assert!(issue["fields"].get(field).is_some(), "{field}");
    }

    // Search as the recorded call did.
    let jql = "updated >= \"1970-01-01\" ORDER BY updated ASC";
    let fields = "summary,description,status,issuetype,priority,project,reporter,assignee,creator,created,updated,labels";
    let (status, page) = c
        .get(&format!(
            "/rest/api/3/search/jql?jql={}&fields={fields}",
            jql.replace(' ', "%20").replace('"', "%22")
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    let theirs = recorded("rest-v3-search-jql.nango-recording.json");
    assert_eq!(
        keys(&page),
        keys(&theirs),
        "no nextPageToken key on the last page"
    );
    same_shape(&page["issues"][0], &theirs["issues"][0], "/issues/0");
    assert_eq!(
        keys(&page["issues"][0]["fields"]),
        fields.split(',').map(str::to_owned).collect()
    );
    let (_, count) = c
        .post(
            "/rest/api/3/search/approximate-count",
            &json!({"jql": "project = KAN"}),
        )
        .await;
    assert_eq!(count["count"], 1);
    let (_, bulk) = c
        .post(
            "/rest/api/3/issue/bulkfetch",
            &json!({"issueIdsOrKeys": [id, "KAN-99"], "fields": ["summary"]}),
        )
        .await;
    assert_eq!(
        (
            bulk["issues"].as_array().unwrap().len(),
            bulk["issueErrors"].as_array().unwrap().len()
        ),
        (1, 1)
    );

    // Transitions and the changelog in the recorded shapes.
    let (_, transitions) = c.get(&format!("/rest/api/3/issue/{id}/transitions")).await;
    let theirs = recorded("rest-v3-list-transitions.nango-recording.json");
    assert_eq!(
        keys(&transitions["transitions"][0]),
        keys(&theirs["transitions"][0])
    );
    let to = transitions["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["to"]["name"] == "In Progress")
        .unwrap()["id"]
        .clone();
    let r = c
        .http
        .post(format!("{}/rest/api/3/issue/{id}/transitions", sim.url()))
        .basic_auth("sdk@acme.test", Some("tok"))
        .json(&json!({"transition": {"id": to}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let (_, changelog) = c.get(&format!("/rest/api/3/issue/{id}/changelog")).await;
    let theirs = recorded("rest-v3-get-issue-changelog.nango-recording.json");
    assert_eq!(keys(&changelog), keys(&theirs));
    assert_eq!(changelog["values"][0]["items"][0]["field"], "status");
}

#[tokio::test]
async fn a_saved_site_comes_back_with_its_worklogs() {
    let first = JiraSimulator::start().await.unwrap();
    first.add_project("KAN", "My Kanban Project", true);
    first.add_api_token("sdk@acme.test", "tok", true, None);
    let c = Client {
        http: reqwest::Client::new(),
        base: first.url(),
    };
    let (status, issue) = c
        .post(
            "/rest/api/3/issue",
            &json!({"fields": {"project": {"key": "KAN"}, "summary": "Timed", "issuetype": {"name": "Task"}}}),
        )
        .await;
    assert_eq!(status, 201, "{issue}");
    let key = issue["key"].as_str().unwrap().to_owned();
    let (status, worklog) = c
        .post(
            &format!("/rest/api/3/issue/{key}/worklog"),
            &json!({"timeSpentSeconds": 5400, "started": "2026-12-01T09:00:00.000+0100",
                    "properties": [{"key": "devflow", "value": {"item": "rec-1"}}]}),
        )
        .await;
    assert_eq!(status, 201, "{worklog}");
    let id = worklog["id"].as_str().unwrap().to_owned();
    let path = std::env::temp_dir().join(format!("jira-site-{}.json", std::process::id()));
    first.save(&path).unwrap();

    let second = JiraSimulator::start().await.unwrap();
    second.add_api_token("sdk@acme.test", "tok", true, None);
    assert!(second.load(&path).unwrap());
    let _ = std::fs::remove_file(&path);
    let c = Client {
        http: reqwest::Client::new(),
        base: second.url(),
    };
    let (status, page) = c.get(&format!("/rest/api/3/issue/{key}/worklog")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["worklogs"][0]["id"], id.as_str());
    assert_eq!(page["worklogs"][0]["timeSpentSeconds"], 5400);
    assert!(
        page["worklogs"][0]["self"]
            .as_str()
            .is_some_and(|s| s.starts_with(&second.url())),
        "the URLs point at the new simulator: {page}"
    );
    let (status, listed) = c
        .post(
            "/rest/api/3/worklog/list?expand=properties",
            &json!({"ids": [id.parse::<u64>().unwrap()]}),
        )
        .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed[0]["properties"][0]["value"]["item"], "rec-1");
    // A new worklog takes the next id, not one already used.
    let (_, next) = c
        .post(
            &format!("/rest/api/3/issue/{key}/worklog"),
            &json!({"timeSpentSeconds": 600, "started": "2026-12-01T11:00:00.000+0100"}),
        )
        .await;
    assert_ne!(next["id"], worklog["id"]);
}

/// The calls a v2 SDK (python-jira, for one) makes: text where v3 takes documents,
/// `/rest/api/latest`, numeric transition ids, bulk create, the assignee endpoint.
#[tokio::test]
async fn a_v2_client_speaks_text_and_its_own_endpoints() {
    let sim = JiraSimulator::start().await.unwrap();
    sim.add_project("KAN", "My Kanban Project", true);
    sim.add_api_token("sdk@acme.test", "tok", true, None);
    let c = Client {
        http: reqwest::Client::new(),
        base: sim.url(),
    };
    let (status, created) = c
        .post(
            "/rest/api/2/issue",
            &json!({"fields": {"project": {"key": "KAN"}, "summary": "From a v2 client",
                "description": "First para\n\nSecond *para*", "issuetype": {"name": "Task"}}}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    let (_, v2) = c.get(&format!("/rest/api/2/issue/{key}")).await;
    assert_eq!(v2["fields"]["description"], "First para\n\nSecond *para*");
    let (_, v3) = c.get(&format!("/rest/api/3/issue/{key}")).await;
    assert_eq!(
        v3["fields"]["description"]["type"], "doc",
        "v3 keeps documents"
    );
    assert_eq!(
        v3["fields"]["description"]["content"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (_, latest) = c.get(&format!("/rest/api/latest/issue/{key}")).await;
    assert_eq!(latest["fields"]["description"], v2["fields"]["description"]);
    // v3 still refuses text.
    let (status, _) = c
        .post(
            "/rest/api/3/issue",
            &json!({"fields": {"project": {"key": "KAN"}, "summary": "x", "description": "text",
                "issuetype": {"name": "Task"}}}),
        )
        .await;
    assert_eq!(status, 400);

    // A transition by a numeric id.
    let (_, transitions) = c.get(&format!("/rest/api/2/issue/{key}/transitions")).await;
    let id: u64 = transitions["transitions"][1]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (status, _) = c
        .post(
            &format!("/rest/api/2/issue/{key}/transitions"),
            &json!({"transition": {"id": id}}),
        )
        .await;
    assert_eq!(status, 204);

    // Comments and worklogs as text.
    let (status, comment) = c
        .post(
            &format!("/rest/api/2/issue/{key}/comment"),
            &json!({"body": "hello"}),
        )
        .await;
    assert_eq!(
        (status, &comment["body"]),
        (201, &json!("hello")),
        "{comment}"
    );
    let (status, worklog) = c
        .post(
            &format!("/rest/api/2/issue/{key}/worklog"),
            &json!({"timeSpentSeconds": 1800, "comment": "pairing"}),
        )
        .await;
    assert_eq!(
        (status, &worklog["comment"]),
        (201, &json!("pairing")),
        "{worklog}"
    );

    // Bulk create: one made, one refused with its index.
    let (status, bulk) = c
        .post(
            "/rest/api/2/issue/bulk",
            &json!({"issueUpdates": [
                {"fields": {"project": {"key": "KAN"}, "summary": "bulk", "issuetype": {"name": "Task"}}},
                {"fields": {"project": {"key": "NOPE"}, "summary": "bulk", "issuetype": {"name": "Task"}}}]}),
        )
        .await;
    assert_eq!(status, 201, "{bulk}");
    assert_eq!(bulk["issues"].as_array().unwrap().len(), 1);
    assert_eq!(bulk["errors"][0]["failedElementNumber"], 1);

    // The assignee endpoint.
    let r = reqwest::Client::new()
        .put(format!("{}/rest/api/2/issue/{key}/assignee", sim.url()))
        .basic_auth("sdk@acme.test", Some("tok"))
        .json(&json!({"accountId": "acc-7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let (_, issue) = c.get(&format!("/rest/api/2/issue/{key}")).await;
    assert_eq!(issue["fields"]["assignee"]["accountId"], "acc-7");
}

/// What SDKs read before they write: link types (and a link of an unknown type
/// refused), watchers, edit metadata, a project's components and versions.
#[tokio::test]
async fn the_metadata_sdks_read_first_is_there() {
    let sim = JiraSimulator::start().await.unwrap();
    sim.add_project("KAN", "My Kanban Project", true);
    sim.add_api_token("sdk@acme.test", "tok", true, None);
    let c = Client {
        http: reqwest::Client::new(),
        base: sim.url(),
    };
    let mut keys = Vec::new();
    for summary in ["One", "Two"] {
        let (_, issue) = c
            .post(
                "/rest/api/3/issue",
                &json!({"fields": {"project": {"key": "KAN"}, "summary": summary, "issuetype": {"name": "Task"}}}),
            )
            .await;
        keys.push(issue["key"].as_str().unwrap().to_owned());
    }
    let (status, types) = c.get("/rest/api/3/issueLinkType").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = types["issueLinkTypes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        names.contains(&"Blocks") && names.contains(&"Relates"),
        "{types}"
    );
    let link = |kind: &str| json!({"type": {"name": kind}, "inwardIssue": {"key": keys[0]}, "outwardIssue": {"key": keys[1]}});
    assert_eq!(
        c.post("/rest/api/3/issueLink", &link("Blocks")).await.0,
        201
    );
    assert_eq!(
        c.post("/rest/api/3/issueLink", &link("Haunts")).await.0,
        404
    );
    // Each side holds the other; the admin webhook says so in the recorded shape.
    let (_, a) = c.get(&format!("/rest/api/3/issue/{}", keys[0])).await;
    let (_, b) = c.get(&format!("/rest/api/3/issue/{}", keys[1])).await;
    assert_eq!(
        a["fields"]["issuelinks"][0]["outwardIssue"]["key"],
        keys[1].as_str()
    );
    assert_eq!(a["fields"]["issuelinks"][0]["type"]["outward"], "blocks");
    assert_eq!(
        b["fields"]["issuelinks"][0]["inwardIssue"]["key"],
        keys[0].as_str()
    );
    let hooks = sim.take_webhooks();
    let delivery: Value = hooks
        .iter()
        .map(|(_, body)| serde_json::from_slice::<Value>(body).unwrap())
        .find(|d| d["webhookEvent"] == "issuelink_created")
        .expect("the link's delivery");
    let recorded: Value = serde_json::from_slice(
        &std::fs::read(
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/fixtures/jira/webhook-issuelink_created.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for key in recorded["issueLink"].as_object().unwrap().keys() {
        assert!(
            delivery["issueLink"].get(key).is_some(),
            "`{key}` in {delivery}"
        );
    }
    let id = a["fields"]["issuelinks"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, one) = c.get(&format!("/rest/api/3/issueLink/{id}")).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["inwardIssue"]["key"], keys[0].as_str());
    assert_eq!(one["outwardIssue"]["key"], keys[1].as_str());
    let r = reqwest::Client::new()
        .delete(format!("{}/rest/api/3/issueLink/{id}", sim.url()))
        .basic_auth("sdk@acme.test", Some("tok"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let (_, a) = c.get(&format!("/rest/api/3/issue/{}", keys[0])).await;
    assert_eq!(a["fields"]["issuelinks"], json!([]));
    assert_eq!(c.get(&format!("/rest/api/3/issueLink/{id}")).await.0, 404);
    let (status, watchers) = c
        .get(&format!("/rest/api/3/issue/{}/watchers", keys[0]))
        .await;
    assert_eq!((status, &watchers["watchCount"]), (200, &json!(0)));
    let (status, meta) = c
        .get(&format!("/rest/api/3/issue/{}/editmeta", keys[0]))
        .await;
    assert_eq!(status, 200);
    assert_eq!(meta["fields"]["summary"]["required"], true);
    assert_eq!(meta["fields"]["labels"]["operations"][0], "add");
    assert_eq!(c.get("/rest/api/3/issue/KAN-999/editmeta").await.0, 404);
    assert_eq!(
        c.get("/rest/api/3/project/KAN/components").await,
        (200, json!([]))
    );
    assert_eq!(c.get("/rest/api/3/project/NOPE/versions").await.0, 404);
}

/// Remote links: added, listed, the same `globalId` updating rather than adding, read
/// and deleted by id; a link without a URL refused.
#[tokio::test]
async fn remote_links_point_an_issue_at_a_record_elsewhere() {
    let sim = JiraSimulator::start().await.unwrap();
    sim.add_project("KAN", "My Kanban Project", true);
    sim.add_api_token("sdk@acme.test", "tok", true, None);
    let c = Client {
        http: reqwest::Client::new(),
        base: sim.url(),
    };
    let (_, issue) = c
        .post(
            "/rest/api/3/issue",
            &json!({"fields": {"project": {"key": "KAN"}, "summary": "Linked", "issuetype": {"name": "Task"}}}),
        )
        .await;
    let key = issue["key"].as_str().unwrap().to_owned();
    let path = format!("/rest/api/3/issue/{key}/remotelink");
    let link = |title: &str| {
        json!({"globalId": "host:item-7", "application": {"name": "Host"},
               "object": {"url": "https://host.example/items/7", "title": title}})
    };
    let (status, created) = c.post(&path, &link("Item 7")).await;
    assert_eq!(status, 201, "{created}");
    let (status, again) = c.post(&path, &link("Item 7, renamed")).await;
    assert_eq!(
        (status, &again["id"]),
        (200, &created["id"]),
        "updated, not added"
    );
    let (_, list) = c.get(&path).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["object"]["title"], "Item 7, renamed");
    let id = created["id"].as_u64().unwrap();
    assert_eq!(c.get(&format!("{path}/{id}")).await.0, 200);
    let (status, _) = c.post(&path, &json!({"object": {"title": "no url"}})).await;
    assert_eq!(status, 400);
    let r = reqwest::Client::new()
        .delete(format!("{}{path}/{id}", sim.url()))
        .basic_auth("sdk@acme.test", Some("tok"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(c.get(&path).await.1, json!([]));
}
