//! Model tokens per user and UTC day, on both databases: added up per day
//! and user, and forgotten after the days kept.

use chrono::{Duration, Utc};
use todo_domain::usage;
use todo_testkit::{Backend, both_backends};

use crate::helpers::{open, user};

async fn tokens_add_up_per_user_and_day_and_old_days_go(backend: Backend) {
    let (_db, store) = open(backend).await;
    let (ann, ben) = (user("ann"), user("ben"));
    let now = Utc::now();
    let yesterday = now - Duration::days(1);
    let last_week = now - Duration::days(7);
    for (who, when, tokens) in [
        (&ann, now, 100),
        (&ann, now, 50),
        (&ann, yesterday, 1_000),
        (&ann, last_week, 5),
        (&ben, now, 7),
    ] {
        usage::record(&store, who, when, tokens)
            .await
            .expect("record");
    }
    assert_eq!(
        usage::used_today(&store, &ann, now).await.expect("ann"),
        150
    );
    assert_eq!(usage::used_today(&store, &ben, now).await.expect("ben"), 7);
    assert_eq!(
        usage::used_today(&store, &ann, yesterday)
            .await
            .expect("then"),
        1_000
    );
    assert_eq!(
        usage::purge(&store, now, 2).await.expect("purge"),
        1,
        "last week's row"
    );
    assert_eq!(
        usage::used_today(&store, &ann, last_week)
            .await
            .expect("gone"),
        0
    );
    assert_eq!(
        usage::used_today(&store, &ann, yesterday)
            .await
            .expect("kept"),
        1_000
    );
    store.close().await;
}

both_backends!(tokens_add_up_per_user_and_day_and_old_days_go);
