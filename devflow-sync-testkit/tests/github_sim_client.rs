//! The GitHub simulator driven as a third-party client would drive GitHub: a plain
//! HTTP client, no devflow-sync code, a typical session, GitHub's shapes asserted
//! against the recorded payloads.

use std::collections::BTreeSet;
use std::path::PathBuf;

use devflow_sync_testkit::github_sim::GitHubSimulator;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const REPO: &str = "octo-org/app";
const TOKEN: &str = "ghp_thirdparty";

struct Session {
    http: Client,
    base: String,
}

impl Session {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value, String) {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let mut request = self
            .http
            .request(method, url)
            .header("Authorization", format!("token {TOKEN}"))
            .header("Accept", "application/vnd.github+json")
            .header("User-Agent", "third-party-client");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let link = response
            .headers()
            .get("link")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, value, link)
    }
}

fn rel(link: &str, rel: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params.contains(&format!("rel=\"{rel}\"")).then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

/// The keys of the object at `pointer` in a recorded webhook payload.
fn recorded_keys(file: &str, pointer: &str) -> BTreeSet<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/github")
        .join(file);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v.pointer(pointer)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_third_party_client_session_works_and_sees_githubs_shapes() {
    let sim = GitHubSimulator::start().await.unwrap();
    sim.add_repo(REPO);
    sim.accept_token(TOKEN);
    sim.seed_issues(REPO, 7);
    let s = Session {
        http: Client::new(),
        base: sim.url(),
    };

    // The repository and the authenticated user.
    let (status, repo, _) = s.call(Method::GET, &format!("/repos/{REPO}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(repo["full_name"], REPO);
    assert_eq!(repo["owner"]["login"], "octo-org");
    assert!(repo["id"].as_u64().is_some() && repo["has_issues"] == true);
    let (status, user, _) = s.call(Method::GET, "/user", None).await;
    assert_eq!(
        (status, user["login"].as_str()),
        (StatusCode::OK, Some("octocat"))
    );

    // Every issue, newest first, by page numbers; `next` and `last` links.
    let mut seen = Vec::new();
    let mut url = format!("/repos/{REPO}/issues?state=all&direction=desc&per_page=3&page=1");
    let mut pages = 0;
    loop {
        let (status, page, link) = s.call(Method::GET, &url, None).await;
        assert_eq!(status, StatusCode::OK);
        pages += 1;
        assert!(pages <= 3, "pages never end: {link}");
        seen.extend(
            page.as_array()
                .unwrap()
                .iter()
                .map(|i| i["number"].as_u64().unwrap()),
        );
        if pages == 1 {
            assert!(rel(&link, "last").unwrap().contains("page=3"), "{link}");
        }
        match rel(&link, "next") {
            Some(next) => url = next,
            None => break,
        }
    }
    assert_eq!(seen.len(), 7, "{seen:?}");
    assert_eq!(
        seen.iter().collect::<BTreeSet<_>>().len(),
        7,
        "no issue twice: {seen:?}"
    );

    // An issue has every field of the recorded payload.
    let (_, issue, _) = s
        .call(Method::GET, &format!("/repos/{REPO}/issues/1"), None)
        .await;
    let keys: BTreeSet<String> = issue.as_object().unwrap().keys().cloned().collect();
    let missing: Vec<_> = recorded_keys("webhook-issues-opened.json", "/issue")
        .difference(&keys)
        .cloned()
        .collect();
    assert!(missing.is_empty(), "issue lacks {missing:?}");
    assert_eq!(issue["user"]["login"], "octocat");

    // Labels on an issue: add, list, remove, remove again; a label by name. The seeded
    // issue #1 carries `bug` and `documentation` already.
    let labels_url = format!("/repos/{REPO}/issues/1/labels");
    let names = |labels: &Value| -> Vec<String> {
        labels
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, labels, _) = s
        .call(Method::POST, &labels_url, Some(json!({"labels": ["ui"]})))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(names(&labels), ["bug", "documentation", "ui"]);
    let ui = labels
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "ui")
        .unwrap();
    assert!(ui["id"].as_u64().is_some() && ui["url"].as_str().unwrap().ends_with("/labels/ui"));
    let (_, listed, _) = s.call(Method::GET, &labels_url, None).await;
    assert_eq!(names(&listed), ["bug", "documentation", "ui"]);
    let (status, label, _) = s
        .call(Method::GET, &format!("/repos/{REPO}/labels/bug"), None)
        .await;
    assert_eq!(
        (
            status,
            label["name"].as_str(),
            label["description"].as_str()
        ),
        (StatusCode::OK, Some("bug"), Some("Something isn't working"))
    );
    let (status, left, _) = s
        .call(Method::DELETE, &format!("{labels_url}/ui"), None)
        .await;
    assert_eq!(
        (status, names(&left)),
        (
            StatusCode::OK,
            vec!["bug".to_owned(), "documentation".to_owned()]
        )
    );
    let (status, _, _) = s
        .call(Method::DELETE, &format!("{labels_url}/ui"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Sub-issues: add #2 under #1, list them, read #2's parent.
    let (_, child, _) = s
        .call(Method::GET, &format!("/repos/{REPO}/issues/2"), None)
        .await;
    let (status, _, _) = s
        .call(
            Method::POST,
            &format!("/repos/{REPO}/issues/1/sub_issues"),
            Some(json!({"sub_issue_id": child["id"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, subs, _) = s
        .call(
            Method::GET,
            &format!("/repos/{REPO}/issues/1/sub_issues"),
            None,
        )
        .await;
    assert_eq!(
        subs.as_array()
            .unwrap()
            .iter()
            .map(|i| &i["number"])
            .collect::<Vec<_>>(),
        [&json!(2)]
    );
    let (status, parent, _) = s
        .call(Method::GET, &format!("/repos/{REPO}/issues/2/parent"), None)
        .await;
    assert_eq!(
        (status, parent["number"].as_u64()),
        (StatusCode::OK, Some(1))
    );

    // The rate limit, which reading does not spend.
    let (_, before, _) = s.call(Method::GET, "/rate_limit", None).await;
    let (_, after, _) = s.call(Method::GET, "/rate_limit", None).await;
    assert_eq!(before["resources"]["core"]["limit"], 5000);
    assert_eq!(
        before["resources"]["core"]["remaining"],
        after["resources"]["core"]["remaining"]
    );

    // A milestone has every field of the recorded one, and counts its issues.
    let (status, milestone, _) = s
        .call(
            Method::POST,
            &format!("/repos/{REPO}/milestones"),
            Some(json!({"title": "v1"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    s.call(
        Method::PATCH,
        &format!("/repos/{REPO}/issues/3"),
        Some(json!({"milestone": milestone["number"]})),
    )
    .await;
    let (_, listed, _) = s
        .call(
            Method::GET,
            &format!("/repos/{REPO}/milestones?state=all"),
            None,
        )
        .await;
    let v1 = &listed[0];
    assert_eq!(
        (v1["open_issues"].as_u64(), v1["closed_issues"].as_u64()),
        (Some(1), Some(0))
    );
    let keys: BTreeSet<String> = v1.as_object().unwrap().keys().cloned().collect();
    let missing: Vec<_> = recorded_keys("webhook-issues-milestoned.json", "/issue/milestone")
        .difference(&keys)
        .cloned()
        .collect();
    assert!(missing.is_empty(), "milestone lacks {missing:?}");

    // A create without a title is GitHub's 422.
    let (status, err, _) = s
        .call(
            Method::POST,
            &format!("/repos/{REPO}/issues"),
            Some(json!({"body": "no title"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["errors"][0]["code"], "missing_field");
    assert_eq!(err["errors"][0]["field"], "title");
}

#[tokio::test]
async fn a_saved_simulator_loads_into_a_new_one_at_its_own_address() {
    let first = GitHubSimulator::start().await.unwrap();
    first.add_repo(REPO);
    first.seed_issues(REPO, 3);
    let parent = first.open_issue(REPO, &json!({"title": "Parent"}));
    let dir = std::env::temp_dir().join(format!("devflow-sim-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("github.json");
    first.save(&path).unwrap();

    let second = GitHubSimulator::start().await.unwrap();
    assert!(!second.load(dir.join("missing.json")).unwrap());
    assert!(second.load(&path).unwrap());
    let issues = second.issues(REPO);
    assert_eq!(issues.len(), 4);
    let url = second.issue(REPO, parent).unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with(&second.url()), "{url}");
    // New issues continue the numbering.
    let next = second.open_issue(REPO, &json!({"title": "After"}));
    assert_eq!(next, parent + 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Comments (with the `issue_comment` webhook in the recorded delivery's shape), locking,
/// events and search with the qualifiers SDKs send.
#[tokio::test]
async fn comments_locks_events_and_search_answer_as_github_does() {
    let sim = GitHubSimulator::start().await.unwrap();
    sim.add_repo(REPO);
    sim.accept_token(TOKEN);
    let s = Session {
        http: Client::new(),
        base: sim.url(),
    };
    let (_, issue, _) = s
        .call(
            Method::POST,
            &format!("/repos/{REPO}/issues"),
            Some(
                json!({"title": "Crash on save", "body": "Steps to reproduce", "labels": ["bug"]}),
            ),
        )
        .await;
    let n = issue["number"].as_u64().unwrap();
    sim.take_webhooks();

    let (status, comment, _) = s
        .call(
            Method::POST,
            &format!("/repos/{REPO}/issues/{n}/comments"),
            Some(json!({"body": "Seen it too"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{comment}");
    let recorded: Value = serde_json::from_slice(
        &std::fs::read(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/fixtures/github/webhook-issue_comment-created.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for key in recorded["comment"].as_object().unwrap().keys() {
        assert!(
            comment.get(key).is_some(),
            "the comment has `{key}`: {comment}"
        );
    }
    let hooks = sim.take_webhooks();
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].0.get("X-GitHub-Event"), Some("issue_comment"));
    let delivery: Value = serde_json::from_slice(&hooks[0].1).unwrap();
    assert_eq!(delivery["action"], "created");
    assert_eq!(delivery["comment"]["body"], "Seen it too");
    assert_eq!(delivery["issue"]["comments"], 1);

    let id = comment["id"].as_u64().unwrap();
    let (status, edited, _) = s
        .call(
            Method::PATCH,
            &format!("/repos/{REPO}/issues/comments/{id}"),
            Some(json!({"body": "Seen it twice"})),
        )
        .await;
    assert_eq!(
        (status, &edited["body"]),
        (StatusCode::OK, &json!("Seen it twice"))
    );
    let (_, list, _) = s
        .call(
            Method::GET,
            &format!("/repos/{REPO}/issues/{n}/comments"),
            None,
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, empty, _) = s
        .call(
            Method::POST,
            &format!("/repos/{REPO}/issues/{n}/comments"),
            Some(json!({"body": " "})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{empty}");
    let (status, _, _) = s
        .call(
            Method::DELETE,
            &format!("/repos/{REPO}/issues/comments/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, issue, _) = s
        .call(Method::GET, &format!("/repos/{REPO}/issues/{n}"), None)
        .await;
    assert_eq!(issue["comments"], 0);

    // Locking.
    let (status, _, _) = s
        .call(
            Method::PUT,
            &format!("/repos/{REPO}/issues/{n}/lock"),
            Some(json!({"lock_reason": "resolved"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, issue, _) = s
        .call(Method::GET, &format!("/repos/{REPO}/issues/{n}"), None)
        .await;
    assert_eq!(
        (&issue["locked"], &issue["active_lock_reason"]),
        (&json!(true), &json!("resolved"))
    );
    let (status, _, _) = s
        .call(
            Method::PUT,
            &format!("/repos/{REPO}/issues/{n}/lock"),
            Some(json!({"lock_reason": "bored"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, events, _) = s
        .call(
            Method::GET,
            &format!("/repos/{REPO}/issues/{n}/events"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(events[0]["event"], "locked", "{events}");
    assert_eq!(events[0]["lock_reason"], "resolved");
    let (_, _, _) = s
        .call(
            Method::PATCH,
            &format!("/repos/{REPO}/issues/{n}"),
            Some(json!({"state": "closed", "state_reason": "completed"})),
        )
        .await;
    let (_, events, _) = s
        .call(
            Method::GET,
            &format!("/repos/{REPO}/issues/{n}/events"),
            None,
        )
        .await;
    let names: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert_eq!(names, ["locked", "closed"], "{events}");

    // Search with qualifiers and words.
    let path = |q: &str| {
        format!(
            "/search/issues?q={}",
            q.replace(' ', "+").replace('"', "%22")
        )
    };
    let (_, found, _) = s
        .call(
            Method::GET,
            &path(&format!("repo:{REPO} is:issue is:closed crash")),
            None,
        )
        .await;
    assert_eq!(found["total_count"], 1, "{found}");
    let (_, found, _) = s
        .call(
            Method::GET,
            &path(&format!("repo:{REPO} label:bug in:title \"on save\"")),
            None,
        )
        .await;
    assert_eq!(found["total_count"], 1, "{found}");
    let (_, found, _) = s
        .call(
            Method::GET,
            &path(&format!("repo:{REPO} is:open crash")),
            None,
        )
        .await;
    assert_eq!(found["total_count"], 0, "closed now: {found}");
    let (status, _, _) = s.call(Method::GET, &path("crash"), None).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a search needs a repository"
    );
}
