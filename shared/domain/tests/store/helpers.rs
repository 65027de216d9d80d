//! The set-up every area shares: a fresh database with its store, and users.

use todo_domain::{Store, UserId};
use todo_testkit::{Backend, TestDatabase};

/// A fresh, migrated database on `backend` and a store open on it (keep the
/// database alive as long as the store).
pub async fn open(backend: Backend) -> (TestDatabase, Store) {
    let db = TestDatabase::new(backend).await;
    let store = db.store().await;
    (db, store)
}

pub fn user(id: &str) -> UserId {
    UserId::parse(id).expect("user id")
}
