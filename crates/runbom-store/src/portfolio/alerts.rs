//! Webhooks and their delivery log. A delivery is unique per (webhook, event), so an event
//! enqueued twice (two server processes, a recomputation) is sent once. Workers claim a due
//! delivery by moving its `next_attempt` forward (compare-and-set), so a worker that dies
//! mid-send leaves it to be retried, never stuck.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::error::QueryContext;
use crate::{Store, StoreError};

/// A configured webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    /// `json` (runbom's own payload) or `slack` (`{"text": …}`).
    pub format: String,
    pub created_at: i64,
}

/// One delivery of one event to one webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: String,
    pub event_key: String,
    pub payload: String,
    /// `pending`, `delivered` or `failed` (gave up).
    pub status: String,
    pub attempts: i64,
    pub next_attempt: i64,
    pub last_error: String,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

impl Delivery {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Delivery {
            id: row.try_get("id")?,
            webhook_id: row.try_get("webhook_id")?,
            event_key: row.try_get("event_key")?,
            payload: row.try_get("payload")?,
            status: row.try_get("status")?,
            attempts: row.try_get("attempts")?,
            next_attempt: row.try_get("next_attempt")?,
            last_error: row.try_get("last_error")?,
            created_at: row.try_get("created_at")?,
            delivered_at: row.try_get("delivered_at")?,
        })
    }
}

const DELIVERY_COLUMNS: &str = "id, webhook_id, event_key, payload, status, attempts, \
                                next_attempt, last_error, created_at, delivered_at";

impl Store {
    /// Adds a webhook, or changes the format of the one with this URL. Returns its id.
    pub async fn add_webhook(
        &self,
        id: &str,
        url: &str,
        format: &str,
        now: i64,
    ) -> Result<String, StoreError> {
        if let Some(existing) = self.webhooks().await?.into_iter().find(|w| w.url == url) {
            sqlx::query("UPDATE webhooks SET format = $1 WHERE id = $2")
                .bind(format)
                .bind(&existing.id)
                .execute(self.pool())
                .await
                .doing("updating a webhook")?;
            return Ok(existing.id);
        }
        sqlx::query("INSERT INTO webhooks (id, url, format, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(url)
            .bind(format)
            .bind(now)
            .execute(self.pool())
            .await
            .doing("adding a webhook")?;
        Ok(id.to_owned())
    }

    /// Removes a webhook; false when there is none with this id.
    pub async fn remove_webhook(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await
            .doing("removing a webhook")?;
        Ok(done.rows_affected() > 0)
    }

    /// Every webhook, oldest first.
    pub async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        sqlx::query("SELECT id, url, format, created_at FROM webhooks ORDER BY created_at, id")
            .fetch_all(self.pool())
            .await
            .doing("listing webhooks")?
            .iter()
            .map(|row| {
                Ok(Webhook {
                    id: row.try_get(0)?,
                    url: row.try_get(1)?,
                    format: row.try_get(2)?,
                    created_at: row.try_get(3)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .doing("reading a webhook")
    }

    /// Queues `payload` for `webhook_id` unless this event was queued for it before; true when
    /// queued now.
    pub async fn enqueue_delivery(
        &self,
        webhook_id: &str,
        event_key: &str,
        payload: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO webhook_deliveries (webhook_id, event_key, payload, status, attempts, \
             next_attempt, last_error, created_at) VALUES ($1, $2, $3, 'pending', 0, $4, '', $4) \
             ON CONFLICT (webhook_id, event_key) DO NOTHING",
        )
        .bind(webhook_id)
        .bind(event_key)
        .bind(payload)
        .bind(now)
        .execute(self.pool())
        .await
        .doing("queueing a webhook delivery")?;
        Ok(done.rows_affected() > 0)
    }

    /// Pending deliveries due at `now`, oldest first.
    pub async fn due_deliveries(&self, now: i64, limit: i64) -> Result<Vec<Delivery>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
             WHERE status = 'pending' AND next_attempt <= $1 ORDER BY next_attempt, id LIMIT $2"
        );
        self.deliveries_where(sql, now, limit).await
    }

    /// The delivery log, newest first.
    pub async fn deliveries(&self, limit: i64) -> Result<Vec<Delivery>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE $1 = $1 \
             ORDER BY id DESC LIMIT $2"
        );
        self.deliveries_where(sql, 0, limit).await
    }

    async fn deliveries_where(
        &self,
        sql: String,
        first: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        sqlx::query(AssertSqlSafe(sql))
            .bind(first)
            .bind(limit)
            .fetch_all(self.pool())
            .await
            .doing("listing webhook deliveries")?
            .iter()
            .map(Delivery::from_row)
            .collect::<Result<_, _>>()
            .doing("reading a webhook delivery")
    }

    /// Claims a due delivery for one attempt by moving its next attempt to `lease_until`;
    /// false when another worker claimed it first.
    pub async fn claim_delivery(
        &self,
        delivery: &Delivery,
        lease_until: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt = $1 \
             WHERE id = $2 AND status = 'pending' AND next_attempt = $3",
        )
        .bind(lease_until)
        .bind(delivery.id)
        .bind(delivery.next_attempt)
        .execute(self.pool())
        .await
        .doing("claiming a webhook delivery")?;
        Ok(done.rows_affected() > 0)
    }

    /// Records one attempt: delivered, retried at `retry_at`, or given up (`retry_at` `None`).
    pub async fn record_attempt(
        &self,
        id: i64,
        outcome: Result<(), &str>,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        let (status, error, next) = match (outcome, retry_at) {
            (Ok(()), _) => ("delivered", "", now),
            (Err(error), Some(at)) => ("pending", error, at),
            (Err(error), None) => ("failed", error, now),
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, \
             last_error = $2, next_attempt = $3, \
             delivered_at = CASE WHEN $1 = 'delivered' THEN $4 ELSE NULL END WHERE id = $5",
        )
        .bind(status)
        .bind(error)
        .bind(next)
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await
        .doing("recording a webhook attempt")?;
        Ok(())
    }
}
