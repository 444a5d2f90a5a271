//! The Jira provider and the engine end to end against the in-process simulator.

use devflow_sync_core::Error;
use devflow_sync_core::engine::{PullBudget, Resolution};
use devflow_sync_core::model::{
    ConnectionId, FieldChange, FieldValue, Fields, ItemKind, ObjectType, ProviderKey,
};
use devflow_sync_core::store::{ConflictStatus, ConflictStore, ItemUpdate, WorkItemStore};
use devflow_sync_testkit::jira_sim::JiraSimulator;
use serde_json::json;
use support::{PROJECT, item, provider, remote_of, setup, setup_with};

mod support;

#[tokio::test]
async fn the_tree_goes_out_with_types_parents_and_properties() {
    for team_managed in [false, true] {
        let s = setup_with(team_managed).await;
        let prd = item(&s, ItemKind::Prd, None, "Checkout").await;
        let epic = item(&s, ItemKind::Epic, Some(&prd), "Saved cards").await;
        let story = item(&s, ItemKind::Story, Some(&epic), "Pay with a saved card").await;
        let task = item(&s, ItemKind::Task, Some(&story), "Card vault API").await;
        let sub = item(&s, ItemKind::Subtask, Some(&task), "Contract tests").await;
        let report = s.engine.push_tree(&s.conn, &s.object, &prd).await.unwrap();
        assert_eq!(report.created, 5, "{report:?}");
        let issue = |id: &devflow_sync_core::model::ExternalId| s.sim.issue(id.as_str()).unwrap();
        let (prd_id, epic_id, story_id, task_id, sub_id) = (
            remote_of(&s, &prd).await,
            remote_of(&s, &epic).await,
            remote_of(&s, &story).await,
            remote_of(&s, &task).await,
            remote_of(&s, &sub).await,
        );
        let ty = |id| {
            issue(id)["fields"]["issuetype"]["name"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(ty(&prd_id), "Epic");
        assert_eq!(ty(&epic_id), "Epic");
        assert_eq!(ty(&story_id), "Story");
        assert_eq!(ty(&task_id), "Task");
        assert_eq!(
            ty(&sub_id),
            if team_managed { "Subtask" } else { "Sub-task" }
        );
        // Jira's own parent where its hierarchy holds the link, the property elsewhere.
        assert_eq!(issue(&story_id)["fields"]["parent"]["id"], epic_id.as_str());
        assert_eq!(issue(&sub_id)["fields"]["parent"]["id"], task_id.as_str());
        let property = |id: &devflow_sync_core::model::ExternalId| {
            s.sim.property(id.as_str(), "devflow").unwrap()
        };
        assert_eq!(property(&epic_id)["parentIssueId"], prd_id.as_str());
        assert_eq!(property(&task_id)["parentIssueId"], story_id.as_str());
        assert_eq!(property(&story_id)["id"], story.as_str());
        assert_eq!(
            property(&story_id)["parentId"],
            epic.as_str(),
            "the host parent's id"
        );
        assert_eq!(property(&sub_id)["parentId"], task.as_str());
        assert_eq!(property(&prd_id)["type"], "prd");
        // Pulled back, the tree is the same tree: nothing new, no conflict.
        let pulled = s
            .engine
            .pull(&s.conn, &s.object, PullBudget::UNLIMITED)
            .await
            .unwrap();
        assert_eq!((pulled.created, pulled.conflicts), (0, 0), "{pulled:?}");
    }
}

#[tokio::test]
async fn an_orphan_story_made_in_jira_is_a_conflict_and_linking_it_sets_its_parent() {
    let s = setup().await;
    let prd = item(&s, ItemKind::Prd, None, "Checkout").await;
    let epic = item(&s, ItemKind::Epic, Some(&prd), "Saved cards").await;
    s.engine.push_tree(&s.conn, &s.object, &prd).await.unwrap();
    s.engine
        .pull(&s.conn, &s.object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    let key = s
        .sim
        .create_issue(
            PROJECT,
            &json!({"summary": "Orphan story", "issuetype": {"name": "Story"}}),
        )
        .unwrap();
    let report = s
        .engine
        .pull(&s.conn, &s.object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert_eq!(report.conflicts, 1, "{report:?}");
    let c = s
        .journal
        .conflicts(&s.conn, Some(ConflictStatus::Pending))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (c.message.as_str(), c.suggested_action.as_str()),
        ("Story requires a parent", "Link to an epic")
    );
    s.engine
        .resolve_conflict(
            &c.id,
            Resolution::LinkToParent {
                parent: epic.clone(),
            },
        )
        .await
        .unwrap();
    let epic_id = remote_of(&s, &epic).await;
    assert_eq!(
        s.sim.issue(&key).unwrap()["fields"]["parent"]["id"],
        epic_id.as_str()
    );
}

#[tokio::test]
async fn a_status_change_in_the_host_moves_the_issue_through_a_transition() {
    let s = setup().await;
    let prd = item(&s, ItemKind::Prd, None, "Checkout").await;
    s.engine.push(&s.conn, &s.object, &prd).await.unwrap();
    let current = s.items.get(&prd).await.unwrap().unwrap();
    let update = ItemUpdate {
        changes: vec![FieldChange::new(
            "status",
            current.record.fields.get("status").clone(),
            FieldValue::enumeration("in_progress"),
        )],
        ..Default::default()
    };
    s.items.update(&prd, &update, None).await.unwrap();
    let report = s.engine.push(&s.conn, &s.object, &prd).await.unwrap();
    assert_eq!(report.updated, 1, "{report:?}");
    let id = remote_of(&s, &prd).await;
    let issue = s.sim.issue(id.as_str()).unwrap();
    assert_eq!(issue["fields"]["status"]["name"], "In Progress");
    let changelog = s.sim.issue(id.as_str()).unwrap();
    assert!(changelog["fields"]["status"]["statusCategory"]["key"] == "indeterminate");

    // A status the workflow cannot reach from here names what it can reach.
    let err = s
        .provider
        .transition_to(&s.conn, id.as_str(), "Blocked")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, Error::InvalidInput { pointer: Some(p), .. } if p == "/fields/status")
            && text.contains("To Do")
            && text.contains("In Review"),
        "{text}"
    );
}

#[tokio::test]
async fn a_jira_edit_arrives_by_signed_webhook_and_is_merged() {
    let s = setup().await;
    let prd = item(&s, ItemKind::Prd, None, "Checkout").await;
    let epic = item(&s, ItemKind::Epic, Some(&prd), "Saved cards").await;
    let story = item(&s, ItemKind::Story, Some(&epic), "Pay with a saved card").await;
    s.engine.push_tree(&s.conn, &s.object, &prd).await.unwrap();
    let story_id = remote_of(&s, &story).await;
    // The echoes of our own writes change nothing.
    for (headers, body) in s.sim.take_webhooks() {
        s.engine
            .accept_webhook(&ProviderKey::new("jira"), &s.conn, &headers, &body)
            .await
            .unwrap();
    }
    let echo = s.engine.process_inbox(50).await.unwrap();
    assert_eq!(echo.updated, 0, "{echo:?}");

    s.sim
        .edit_issue(
            story_id.as_str(),
            &json!({"summary": "Pay with a stored card", "description": {"type": "doc", "version": 1,
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Cards are "}, {"type": "text", "text": "tokenised", "marks": [{"type": "strong"}]}]}]}}),
        )
        .unwrap();
    let hooks = s.sim.take_webhooks();
    assert_eq!(hooks.len(), 1);
    let (headers, body) = &hooks[0];
    assert!(
        headers
            .get("X-Hub-Signature")
            .unwrap()
            .starts_with("sha256=")
    );
    // A forged delivery is refused.
    let mut forged = body.clone();
    forged.extend_from_slice(b" ");
    let refused = s
        .engine
        .accept_webhook(&ProviderKey::new("jira"), &s.conn, headers, &forged)
        .await;
    assert!(
        matches!(refused, Err(Error::Unauthenticated(_))),
        "{refused:?}"
    );
    s.engine
        .accept_webhook(&ProviderKey::new("jira"), &s.conn, headers, body)
        .await
        .unwrap();
    let report = s.engine.process_inbox(10).await.unwrap();
    assert_eq!(report.updated, 1, "{report:?}");
    let host = s.items.get(&story).await.unwrap().unwrap();
    assert_eq!(
        host.record.fields.get("title").as_str(),
        Some("Pay with a stored card")
    );
    assert_eq!(
        host.record.fields.get("description").as_str(),
        Some("Cards are **tokenised**")
    );
}

#[tokio::test]
async fn a_reparent_in_jira_to_a_wrong_level_parent_is_a_conflict() {
    let s = setup().await;
    let prd = item(&s, ItemKind::Prd, None, "Checkout").await;
    let epic = item(&s, ItemKind::Epic, Some(&prd), "Saved cards").await;
    let story = item(&s, ItemKind::Story, Some(&epic), "Pay with a saved card").await;
    s.engine.push_tree(&s.conn, &s.object, &prd).await.unwrap();
    s.engine
        .pull(&s.conn, &s.object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    // Jira allows a story under any epic, the PRD's epic too; DevFlow does not.
    let (prd_id, story_id) = (remote_of(&s, &prd).await, remote_of(&s, &story).await);
    s.sim
        .edit_issue(
            story_id.as_str(),
            &json!({"parent": {"id": prd_id.as_str()}}),
        )
        .unwrap();
    let report = s
        .engine
        .pull(&s.conn, &s.object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert_eq!(report.conflicts, 1, "{report:?}");
    let c = s
        .journal
        .conflicts(&s.conn, Some(ConflictStatus::Pending))
        .await
        .unwrap()
        .remove(0);
    assert!(c.message.contains("Story"), "{c:?}");
    let host = s.items.get(&story).await.unwrap().unwrap();
    assert_eq!(
        host.record.parent.as_ref(),
        Some(&epic),
        "the host keeps the valid parent"
    );
}

#[tokio::test]
async fn the_provider_conformance_suite_passes_against_the_simulator() {
    for team_managed in [false, true] {
        let sim = JiraSimulator::start().await.unwrap();
        sim.add_project(PROJECT, "DevFlow", team_managed);
        sim.add_api_token(support::EMAIL, support::TOKEN, false, None);
        sim.seed_issues(PROJECT, 7);
        let provider = provider(&sim);
        let setup = devflow_sync_testkit::conformance::ProviderSetup {
            connection: ConnectionId::new("jira"),
            object: ObjectType::new("issue"),
            fields: Fields::new()
                .with("summary", "Conformance")
                .with("labels", FieldValue::set(["a", "b"])),
            edit: ("summary".into(), FieldValue::text("Edited")),
            tick: Box::new(|| std::thread::sleep(std::time::Duration::from_millis(2))),
        };
        devflow_sync_testkit::conformance::provider(&provider, &setup).await;
    }
}
