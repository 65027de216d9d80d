//! A conversation's lease: what storing messages does to it, as SQL, and
//! giving it back.

use crate::conversation::message::Message;
use crate::store::pool::Store;

/// Bind the parameters of [`LeaseChange::touch_sql`] after `$1` to `$3`.
macro_rules! bind_lease {
    ($query:expr, $lease:expr) => {
        match $lease {
            LeaseChange::Keep => $query,
            LeaseChange::Take {
                owner,
                now_ms,
                until_ms,
            } => $query.bind(owner).bind(until_ms).bind(now_ms),
            LeaseChange::Renew { owner, until_ms } => $query.bind(owner).bind(until_ms),
            LeaseChange::Release { owner } => $query.bind(owner),
        }
    };
}

impl Store {
    /// Give the lease back if `owner` still holds it.
    pub(crate) async fn release_lease(
        &self,
        conversation_id: i64,
        owner: &str,
    ) -> Result<(), sqlx::Error> {
        let sql = "update conversations set lease_owner = null, lease_until = null where id = $1 and lease_owner = $2";
        on_writer!(self, |pool| sqlx::query(sql)
            .bind(conversation_id)
            .bind(owner)
            .execute(pool)
            .await
            .map(drop))
    }
}

/// What an append does with the conversation's lease; times in Unix ms.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LeaseChange<'a> {
    Keep,
    /// Take it unless another owner holds one that ends after `now_ms`.
    Take {
        owner: &'a str,
        now_ms: i64,
        until_ms: i64,
    },
    /// Extend it; only while `owner` holds it (else nothing is stored).
    Renew {
        owner: &'a str,
        until_ms: i64,
    },
    /// Give it back; only while `owner` holds it (else nothing is stored).
    Release {
        owner: &'a str,
    },
}

/// The outcome of an append.
pub(crate) enum Appended {
    Stored(Vec<Message>),
    /// Another owner holds the lease: nothing was written.
    Busy,
    /// The user has no such conversation: nothing was written.
    Missing,
}

/// What deleting a conversation did.
pub(crate) enum Removal {
    Deleted,
    /// A running turn holds its lease: nothing was deleted.
    Busy,
    /// The user has no such conversation.
    Missing,
}

impl LeaseChange<'_> {
    /// The UPDATE that touches the conversation: `$1` is its id, `$2` the
    /// user, `$3` the time, then [`LeaseChange::parameters`] more. SET reads
    /// the old row, so every CASE tests the old owner.
    pub(super) fn touch_sql(self) -> &'static str {
        match self {
            Self::Keep => "update conversations set updated_at = $3 where id = $1 and user_id = $2",
            Self::Take { .. } => {
                "update conversations set updated_at = $3, lease_owner = $4, lease_until = $5 \
                 where id = $1 and user_id = $2 \
                 and (lease_owner is null or lease_owner = $4 or lease_until < $6)"
            }
            // A turn that lost its lease (it expired and another turn took
            // it) touches nothing, so stores nothing, and learns it.
            Self::Renew { .. } => {
                "update conversations set updated_at = $3, lease_until = $5 \
                 where id = $1 and user_id = $2 and lease_owner = $4"
            }
            Self::Release { .. } => {
                "update conversations set updated_at = $3, lease_owner = null, lease_until = null \
                 where id = $1 and user_id = $2 and lease_owner = $4"
            }
        }
    }

    pub(super) fn parameters(self) -> usize {
        match self {
            Self::Keep => 0,
            Self::Take { .. } => 3,
            Self::Renew { .. } => 2,
            Self::Release { .. } => 1,
        }
    }
}
