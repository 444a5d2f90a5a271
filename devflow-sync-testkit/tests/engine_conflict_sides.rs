//! A field edited differently in the host and two systems is one conflict listing every
//! side's value and time, the most recent recommended; its resolution reaches every
//! side, and it closes by itself only when every side agrees.

use std::sync::Arc;
use std::time::Duration;

use devflow_sync_core::clock::{Clock, ManualClock};
use devflow_sync_core::engine::{PullBudget, Resolution, SyncEngine};
use devflow_sync_core::memory_provider::MemoryProvider;
use devflow_sync_core::merge::Manual;
use devflow_sync_core::model::{
    ConnectionId, FieldChange, Fields, ItemId, ItemKind, ObjectType, Record,
};
use devflow_sync_core::store::{ConflictRecord, ConflictStatus, ItemUpdate};

struct Three {
    engine: SyncEngine,
    clock: Arc<ManualClock>,
    jira: Arc<MemoryProvider>,
    github: Arc<MemoryProvider>,
    item: ItemId,
}

fn object() -> ObjectType {
    ObjectType::new("issue")
}

async fn three() -> Three {
    let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
    let jira = Arc::new(MemoryProvider::new("jira", clock.clone()));
    let github = Arc::new(MemoryProvider::new("github", clock.clone()));
    let engine = SyncEngine::builder()
        .provider(jira.clone())
        .provider(github.clone())
        .bind("jira-1", "jira", "issue")
        .bind("gh-1", "github", "issue")
        .clock(clock.clone())
        .policy(Arc::new(Manual))
        .build()
        .unwrap();
    let record = Record::new("work_item", clock.now())
        .with_kind(ItemKind::Epic)
        .with_field("title", "Base");
    let item = engine.work_items().create(None, record).await.unwrap().id;
    engine.sync_item(&item, None, false).await.unwrap();
    Three {
        engine,
        clock,
        jira,
        github,
        item,
    }
}

impl Three {
    fn tick(&self) {
        self.clock.advance(Duration::from_secs(60));
    }

    async fn set_host(&self, value: &str) {
        let item = self
            .engine
            .work_items()
            .get(&self.item)
            .await
            .unwrap()
            .unwrap();
        let old = item.record.fields.get("title").clone();
        let update = ItemUpdate {
            changes: vec![FieldChange::new("title", old, value)],
            ..ItemUpdate::default()
        };
        self.engine
            .work_items()
            .update(&self.item, &update, None)
            .await
            .unwrap();
    }

    fn set_remote(&self, remote: &MemoryProvider, value: &str) {
        let id = remote.records(&object())[0].id.clone();
        remote
            .remote_edit(&object(), &id, Fields::new().with("title", value))
            .unwrap();
    }

    async fn pull_all(&self) -> usize {
        let mut conflicts = 0;
        for c in ["jira-1", "gh-1"] {
            let report = self
                .engine
                .pull(&ConnectionId::new(c), &object(), PullBudget::UNLIMITED)
                .await
                .unwrap();
            conflicts += report.conflicts;
        }
        conflicts
    }

    async fn conflicts(&self, status: Option<ConflictStatus>) -> Vec<ConflictRecord> {
        self.engine
            .journal()
            .item_conflicts(&self.item, status)
            .await
            .unwrap()
    }

    async fn titles(&self) -> [String; 3] {
        let host = self
            .engine
            .work_items()
            .get(&self.item)
            .await
            .unwrap()
            .unwrap();
        let of = |r: &MemoryProvider| {
            r.records(&object())[0]
                .record
                .fields
                .get("title")
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        [
            host.record
                .fields
                .get("title")
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            of(&self.jira),
            of(&self.github),
        ]
    }

    /// The title edited three ways: host first, then Jira, then GitHub (the newest).
    async fn three_ways(&self) -> ConflictRecord {
        self.tick();
        self.set_host("Host title").await;
        self.tick();
        self.set_remote(&self.jira, "Jira title");
        self.tick();
        self.set_remote(&self.github, "GitHub title");
        // The Jira pull finds it; GitHub's side is found by the pull that follows or
        // by the host's change going on to GitHub after the first.
        assert!(self.pull_all().await >= 1);
        let pending = self.conflicts(Some(ConflictStatus::Pending)).await;
        assert_eq!(
            pending.len(),
            1,
            "one conflict, not one per system: {pending:#?}"
        );
        pending[0].clone()
    }
}

#[tokio::test]
async fn three_values_make_one_conflict_with_every_side_and_the_newest_recommended() {
    let t = three().await;
    let c = t.three_ways().await;
    let sides: Vec<(&str, Option<&str>)> = c
        .sides
        .iter()
        .map(|s| (s.side.as_str(), s.value.as_str()))
        .collect();
    assert_eq!(
        sides,
        vec![
            ("host", Some("Host title")),
            ("jira-1", Some("Jira title")),
            ("gh-1", Some("GitHub title")),
        ],
        "{c:#?}"
    );
    let times: Vec<_> = c.sides.iter().map(|s| s.changed_at).collect();
    assert!(times[0] < times[1] && times[1] < times[2], "{times:?}");
    let recommended: Vec<&str> = c
        .sides
        .iter()
        .filter(|s| s.recommended)
        .map(|s| s.side.as_str())
        .collect();
    assert_eq!(recommended, vec!["gh-1"], "the most recent change");
    assert!(c.message.contains("host, jira-1, gh-1"), "{}", c.message);

    // Pulling again changes nothing and adds no second conflict.
    t.pull_all().await;
    assert_eq!(t.conflicts(Some(ConflictStatus::Pending)).await.len(), 1);
    assert_eq!(t.conflicts(None).await.len(), 1, "nothing recorded twice");
}

#[tokio::test]
async fn the_resolution_is_written_to_every_side() {
    let t = three().await;
    let c = t.three_ways().await;
    t.engine
        .resolve_conflict(
            &c.id,
            Resolution::UseSide {
                side: "jira-1".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(t.titles().await, ["Jira title", "Jira title", "Jira title"]);
    let settled = t.conflicts(None).await;
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].status, ConflictStatus::Resolved);
    assert_eq!(settled[0].resolution.as_deref(), Some("use_side"));
    // Quiet afterwards: another round finds nothing and writes nothing.
    let versions = |r: &MemoryProvider| r.records(&object())[0].record.version.clone();
    let before = (versions(&t.jira), versions(&t.github));
    assert_eq!(t.pull_all().await, 0);
    assert_eq!((versions(&t.jira), versions(&t.github)), before);

    // An unknown side is refused with the sides there are, and nothing changes.
    let t = three().await;
    let c = t.three_ways().await;
    let err = t
        .engine
        .resolve_conflict(
            &c.id,
            Resolution::UseSide {
                side: "wiki".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("host, jira-1, gh-1"), "{err}");
    assert_eq!(t.conflicts(Some(ConflictStatus::Pending)).await.len(), 1);
    // A host value goes everywhere too.
    t.engine
        .resolve_conflict(&c.id, Resolution::UseHost)
        .await
        .unwrap();
    assert_eq!(t.titles().await, ["Host title", "Host title", "Host title"]);
}

#[tokio::test]
async fn it_closes_by_itself_only_when_every_side_agrees() {
    let t = three().await;
    t.three_ways().await;
    // Someone makes Jira match the host: GitHub still differs, so it stays open.
    t.tick();
    t.set_remote(&t.jira, "Host title");
    t.pull_all().await;
    let pending = t.conflicts(Some(ConflictStatus::Pending)).await;
    assert_eq!(pending.len(), 1, "{pending:#?}");
    let jira_side = pending[0]
        .sides
        .iter()
        .find(|s| s.side == "jira-1")
        .unwrap();
    assert_eq!(jira_side.value.as_str(), Some("Host title"), "{pending:#?}");
    // Then GitHub too: nothing is left to decide.
    t.tick();
    t.set_remote(&t.github, "Host title");
    t.pull_all().await;
    assert!(t.conflicts(Some(ConflictStatus::Pending)).await.is_empty());
    let all = t.conflicts(None).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].resolution.as_deref(), Some("the sides agree"));
    assert_eq!(t.titles().await, ["Host title", "Host title", "Host title"]);
}
