//! Changing tasks: every field round-trips, repeating tasks move on, bulk
//! changes are all or nothing, tag rows follow the tags.

use todo_domain::task::{
    self, NewTask, RawNewTask, RawPatch, TaskId, TaskIds, TaskPatch, TaskTarget,
};
use todo_domain::{Error, Store, UserId, Zone};
use todo_testkit::{Backend, both_backends};

use crate::helpers::{open, user};

async fn add(store: &Store, u: &UserId, raw: RawNewTask<'_>) -> task::Task {
    task::add(store, u, NewTask::parse(raw).expect("new task"))
        .await
        .expect("add")
}

fn id(task: &task::Task) -> TaskId {
    TaskId::parse(task.id).expect("id")
}

async fn every_field_round_trips(backend: Backend) {
    let (_db, store) = open(backend).await;
    let u = user("fields");
    let tags = vec!["Work".to_owned(), "urgent ".to_owned()];
    let added = add(
        &store,
        &u,
        RawNewTask {
            title: "Ship it",
            description: Some("before the break"),
            due: Some("2026-12-24T09:00:00+01:00"),
            priority: Some("high"),
            tags: Some(&tags),
            recurrence: Some("FREQ=WEEKLY;BYDAY=MO,TH"),
        },
    )
    .await;
    let read = task::get(&store, &u, id(&added)).await.expect("get");
    assert_eq!(read, added);
    assert_eq!(
        read.due.map(|d| d.to_text()).as_deref(),
        Some("2026-12-24T09:00:00+01:00")
    );
    assert_eq!(read.tags.names(), ["urgent", "work"]);
    assert_eq!(
        read.recurrence.as_ref().map(|r| r.as_str()),
        Some("FREQ=WEEKLY;BYDAY=MO,TH")
    );
    assert_eq!(
        store.task_tag_rows(&u, read.id).await.expect("rows"),
        ["urgent", "work"]
    );

    // Clear everything that can be cleared, reopen after completing.
    let patch = |raw| TaskPatch::parse(raw).expect("patch");
    let cleared = task::update(
        &store,
        &u,
        id(&added),
        patch(RawPatch {
            due: Some(None),
            recurrence: Some(None),
            tags: Some(&[]),
            priority: Some("none"),
            completed: Some(true),
            ..RawPatch::default()
        }),
    )
    .await
    .expect("clear");
    assert!(cleared.due.is_none() && cleared.recurrence.is_none() && cleared.tags.is_empty());
    assert!(cleared.completed && cleared.completed_at.is_some());
    assert!(
        store
            .task_tag_rows(&u, read.id)
            .await
            .expect("rows")
            .is_empty()
    );
    let reopened = task::update(
        &store,
        &u,
        id(&added),
        patch(RawPatch {
            completed: Some(false),
            ..RawPatch::default()
        }),
    )
    .await
    .expect("reopen");
    assert!(!reopened.completed && reopened.completed_at.is_none());
    assert_eq!(
        task::get(&store, &u, id(&added)).await.expect("get"),
        reopened
    );

    // A recurrence needs a due, also when the due is cleared later.
    let weekly = add(
        &store,
        &u,
        RawNewTask {
            title: "w",
            due: Some("2026-12-07"),
            recurrence: Some("FREQ=WEEKLY"),
            ..RawNewTask::default()
        },
    )
    .await;
    let refused = task::update(
        &store,
        &u,
        id(&weekly),
        patch(RawPatch {
            due: Some(None),
            ..RawPatch::default()
        }),
    )
    .await;
    assert!(
        matches!(refused, Err(Error::Invalid { field: "due", .. })),
        "{refused:?}"
    );
    assert_eq!(
        task::get(&store, &u, id(&weekly)).await.expect("get"),
        weekly,
        "nothing written"
    );
    store.close().await;
}

/// Complete `task` `times` times: the dues it moves through ("done" once
/// it completes for good).
async fn complete_times(store: &Store, u: &UserId, task: &task::Task, times: usize) -> Vec<String> {
    let mut dues = Vec::new();
    for _ in 0..times {
        let done = task::complete(
            store,
            u,
            id(task),
            Zone::parse("Europe/Paris").expect("zone"),
        )
        .await
        .expect("complete");
        assert_eq!(done.task.id, task.id, "the same task, never a copy");
        match (done.recurred, done.task.completed) {
            (true, false) => dues.push(done.task.due.map(|d| d.to_text()).unwrap_or_default()),
            (false, true) => dues.push("done".into()),
            other => panic!("recurred and completed: {other:?}"),
        }
    }
    dues
}

async fn repeating_tasks_move_on_when_completed(backend: Backend) {
    let (_db, store) = open(backend).await;
    let u = user("repeater");
    let rent = add(
        &store,
        &u,
        RawNewTask {
            title: "rent",
            due: Some("2026-12-31"),
            recurrence: Some("FREQ=MONTHLY;BYMONTHDAY=31"),
            ..RawNewTask::default()
        },
    )
    .await;
    assert_eq!(
        complete_times(&store, &u, &rent, 3).await,
        ["2027-01-31", "2027-03-31", "2027-05-31"]
    );
    let gym = add(
        &store,
        &u,
        RawNewTask {
            title: "gym",
            due: Some("2027-03-25T18:30:00+01:00"),
            recurrence: Some("FREQ=WEEKLY;BYDAY=TU,TH"),
            ..RawNewTask::default()
        },
    )
    .await;
    assert_eq!(
        complete_times(&store, &u, &gym, 3).await,
        [
            "2027-03-30T18:30:00+02:00",
            "2027-04-01T18:30:00+02:00",
            "2027-04-06T18:30:00+02:00"
        ],
        "the same wall-clock time across the change to summer time"
    );
    let twice = add(
        &store,
        &u,
        RawNewTask {
            title: "twice",
            due: Some("2026-12-01"),
            recurrence: Some("FREQ=DAILY;COUNT=2"),
            ..RawNewTask::default()
        },
    )
    .await;
    assert_eq!(
        complete_times(&store, &u, &twice, 2).await,
        ["2026-12-02", "done"]
    );
    let again = task::complete(&store, &u, id(&twice), Zone::UTC)
        .await
        .expect("again");
    assert!(again.was_already_completed && !again.recurred);
    store.close().await;
}

async fn bulk_changes_are_all_or_nothing(backend: Backend) {
    let (_db, store) = open(backend).await;
    let (u, other) = (user("bulk"), user("bulk-other"));
    let mine: Vec<task::Task> = {
        let news = ["a", "b", "c"]
            .iter()
            .map(|t| {
                NewTask::parse(RawNewTask {
                    title: t,
                    due: Some("2026-12-04"),
                    ..RawNewTask::default()
                })
                .expect("new")
            })
            .collect();
        task::add_many(&store, &u, news).await.expect("add many")
    };
    let theirs = add(
        &store,
        &other,
        RawNewTask {
            title: "theirs",
            ..RawNewTask::default()
        },
    )
    .await;
    let with_theirs = TaskIds::parse(&[mine[0].id, theirs.id, mine[1].id]).expect("ids");
    let tomorrow = TaskPatch::parse(RawPatch {
        due: Some(Some("2026-12-05")),
        ..RawPatch::default()
    })
    .expect("patch");
    let refused = task::update_many(&store, &u, &with_theirs, &tomorrow).await;
    assert!(
        matches!(refused, Err(Error::NotFound { id, .. }) if id == theirs.id),
        "{refused:?}"
    );
    let refused = task::complete_many(&store, &u, &with_theirs, Zone::UTC).await;
    assert!(matches!(refused, Err(Error::NotFound { .. })));
    let refused = task::delete_many(&store, &u, &with_theirs).await;
    assert!(matches!(refused, Err(Error::NotFound { .. })));
    for task in &mine {
        assert_eq!(
            &task::get(&store, &u, id(task)).await.expect("unchanged"),
            task
        );
    }
    assert_eq!(store.count_tasks(&other).await.expect("count"), 1);

    let all = TaskIds::parse(&mine.iter().map(|t| t.id).collect::<Vec<_>>()).expect("ids");
    let moved = task::update_many(&store, &u, &all, &tomorrow)
        .await
        .expect("move all");
    assert!(
        moved
            .iter()
            .all(|t| t.due.map(|d| d.to_text()).as_deref() == Some("2026-12-05"))
    );
    let deleted = task::delete_many(&store, &u, &all)
        .await
        .expect("delete all");
    assert_eq!(deleted.len(), 3);
    assert_eq!(store.count_tasks(&u).await.expect("count"), 0);

    // Too many, or a bad item: nothing added.
    let bad = vec![
        NewTask::parse(RawNewTask {
            title: "fine",
            ..RawNewTask::default()
        })
        .expect("new");
        51
    ];
    assert!(matches!(
        task::add_many(&store, &u, bad).await,
        Err(Error::Invalid { field: "tasks", .. })
    ));
    assert!(TaskIds::parse(&[]).is_err() && TaskIds::parse(&[1; 101]).is_err());
    assert!(TaskTarget::parse(Some(1), Some(&[2])).is_err());
    assert_eq!(store.count_tasks(&u).await.expect("count"), 0);
    store.close().await;
}

async fn tags_edit_without_resending(backend: Backend) {
    let (_db, store) = open(backend).await;
    let u = user("tagger");
    let tags = vec!["a".to_owned(), "b".to_owned()];
    let t = add(
        &store,
        &u,
        RawNewTask {
            title: "t",
            tags: Some(&tags),
            ..RawNewTask::default()
        },
    )
    .await;
    let (add_tags, remove_tags) = (vec!["C".to_owned()], vec!["a".to_owned()]);
    let edited = task::update(
        &store,
        &u,
        id(&t),
        TaskPatch::parse(RawPatch {
            add_tags: Some(&add_tags),
            remove_tags: Some(&remove_tags),
            ..RawPatch::default()
        })
        .expect("patch"),
    )
    .await
    .expect("edit");
    assert_eq!(edited.tags.names(), ["b", "c"]);
    assert_eq!(
        store.task_tag_rows(&u, t.id).await.expect("rows"),
        ["b", "c"]
    );
    let both = TaskPatch::parse(RawPatch {
        tags: Some(&tags),
        add_tags: Some(&add_tags),
        ..RawPatch::default()
    });
    assert!(both.is_err());
    store.close().await;
}

both_backends!(
    every_field_round_trips,
    repeating_tasks_move_on_when_completed,
    bulk_changes_are_all_or_nothing,
    tags_edit_without_resending,
);
