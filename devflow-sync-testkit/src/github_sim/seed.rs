//! Seeding a repository with many realistic issues at once (no `issues` webhooks), for
//! benchmarks, the standalone simulator and tests that need a populated repository.

use super::*;

/// The labels seeded issues carry, with colours and descriptions as GitHub's defaults.
const LABELS: [(&str, &str, &str); 5] = [
    ("bug", "d73a4a", "Something isn't working"),
    ("enhancement", "a2eeef", "New feature or request"),
    (
        "documentation",
        "0075ca",
        "Improvements or additions to documentation",
    ),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("priority: high", "b60205", "Needs attention this sprint"),
];

const PEOPLE: [&str; 3] = ["octocat", "hubot", "monalisa"];

/// A Markdown body of about a kilobyte, with the escapes real bodies have.
fn body(i: usize) -> String {
    format!(
        "## Summary\r\n\r\nWhen a user opens the \"settings\" page after signing in (case {i}), \
         the form shows stale values until the page is reloaded.\r\n\r\n### Steps to reproduce\r\n\r\n\
         1. Sign in as a user with a saved profile\r\n2. Open **Settings -> Profile**\r\n\
         3. Change the display name and save\r\n4. Navigate away and back\r\n\r\n\
         ### Expected\r\n\r\nThe new name is shown.\r\n\r\n### Actual\r\n\r\nThe old name is shown \
         until a full reload:\r\n\r\n```js\r\nconst profile = cache.get(`profile:${{id}}`);\r\n\
         render(profile ?? await fetchProfile(id));\r\n```\r\n\r\n> Seen on Firefox 133 and \
         Chrome 131; not on Safari.\r\n\r\n- [ ] add a cache-busting key\r\n- [ ] cover it with \
         an end-to-end test\r\n- [x] confirm it is not a server bug\r\n\r\n\
         Related to #{} and #{}. cc @hubot\r\n",
        i / 2 + 1,
        i / 3 + 1
    )
}

fn user(base: &str, login: &str, id: u64) -> Value {
    let mut u = super::resources::user_object(base);
    u["login"] = json!(login);
    u["id"] = json!(id);
    u["url"] = json!(format!("{base}/users/{login}"));
    u["html_url"] = json!(format!("https://github.com/{login}"));
    u
}

pub(super) fn seed(s: &mut State, repo: &str, count: usize) {
    let now = stamp(s.clock.now());
    let base = s.base_url.clone();
    if !s.repos.contains_key(repo) {
        return;
    }
    // The milestones are created as a person would (their `milestone` webhooks too).
    for title in ["v1.0", "v1.1", "v2.0"] {
        let exists = s.repos[repo]
            .milestones
            .values()
            .any(|m| m["title"] == title);
        if !exists {
            let _ = create_milestone(s, repo, &json!({ "title": title }));
        }
    }
    let Some(r) = s.repos.get_mut(repo) else {
        return;
    };
    for (name, color, description) in LABELS {
        r.labels
            .entry(name.to_owned())
            .or_insert_with(|| color.to_owned());
        r.label_descriptions
            .entry(name.to_owned())
            .or_insert_with(|| description.to_owned());
    }
    let milestones: Vec<Value> = r.milestones.values().take(3).cloned().collect();
    for i in 0..count {
        let number = r.next_number;
        r.next_number += 1;
        let mut issue = issue_object(&base, repo, 5_000_000 + number, number, &now);
        issue["title"] = json!(format!("Issue {i}: settings page shows stale values"));
        issue["body"] = json!(body(i));
        let labels: Vec<Value> = [i % LABELS.len(), (i + 2) % LABELS.len()]
            .iter()
            .map(|&k| super::resources::label_object(&base, repo, r, LABELS[k].0))
            .collect();
        issue["labels"] = Value::Array(labels);
        let login = PEOPLE[i % PEOPLE.len()];
        let assignee = user(&base, login, 1 + (i % PEOPLE.len()) as u64);
        issue["assignee"] = assignee.clone();
        issue["assignees"] = json!([assignee]);
        issue["comments"] = json!(i % 7);
        if i % 3 == 0 {
            if let Some(m) = milestones.get(i / 3 % milestones.len().max(1)) {
                issue["milestone"] = m.clone();
            }
        }
        if i % 4 == 3 {
            issue["state"] = json!("closed");
            issue["state_reason"] = json!("completed");
            issue["closed_at"] = json!(now);
            issue["closed_by"] = user(&base, "octocat", 1);
        }
        r.feed.insert((now.clone(), number));
        r.issues.insert(number, issue);
    }
}
