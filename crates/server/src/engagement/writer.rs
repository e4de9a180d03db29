//! The node's vote writer: one task that turns many concurrent votes into few
//! transactions.
//!
//! Handlers send each cast with a oneshot for its answer and wait. The task takes the
//! first cast that arrives, then everything else already queued (up to
//! [`MAX_BATCH`]), applies them with one `Store::cast` (one transaction, in arrival
//! order) and answers every waiter. Under load, casts queue while the previous batch
//! commits, so batches grow with the load and the cost of a commit (an fsync on SQLite)
//! is shared; with no load, a batch is one cast and waits for nothing.
//!
//! A handler answers only after its batch committed, so every acknowledged vote is
//! durable. A failed batch fails every cast in it, and none is retried: a batch whose
//! commit failed may still have been applied, and votes toggle, so applying it again
//! could undo it.

use std::sync::Arc;

use broadsheet_domain::{Cast, CastOutcome, Store};
use tokio::sync::{mpsc, oneshot};

use crate::error::AppError;

/// Most casts in one transaction: enough to absorb thousands of votes a second, small
/// enough that one transaction stays short.
pub const MAX_BATCH: usize = 512;

/// How many casts may wait for the writer before senders wait too (backpressure).
const QUEUE: usize = 8 * MAX_BATCH;

type Reply = oneshot::Sender<Result<CastOutcome, String>>;

#[derive(Clone)]
pub struct VoteWriter {
    queue: mpsc::Sender<(Cast, Reply)>,
}

impl VoteWriter {
    /// Starts the writer task; it ends once every `VoteWriter` clone is dropped and the
    /// queue is drained.
    pub fn start(store: Arc<dyn Store>, network_cap: u32) -> VoteWriter {
        let (queue, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, network_cap, receiver));
        VoteWriter { queue }
    }

    /// Applies one cast; returns once it is committed.
    pub async fn cast(&self, cast: Cast) -> Result<CastOutcome, AppError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((cast, reply))
            .await
            .map_err(|_| AppError::internal("the vote writer has stopped"))?;
        match answer.await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(cause)) => Err(AppError::internal(cause)),
            Err(_) => Err(AppError::internal("the vote writer dropped a vote")),
        }
    }
}

async fn run(store: Arc<dyn Store>, network_cap: u32, mut receiver: mpsc::Receiver<(Cast, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // `recv_many` waits for one cast, then takes whatever else is queued.
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (casts, replies): (Vec<Cast>, Vec<Reply>) = batch.drain(..).unzip();
        match store.cast(&casts, network_cap).await {
            Ok(outcomes) if outcomes.len() == casts.len() => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // A waiter that went away (client disconnected) still had its
                    // vote applied; nobody is left to tell.
                    let _ = reply.send(Ok(outcome));
                }
            }
            Ok(outcomes) => {
                let cause = format!(
                    "the store answered {} outcomes for {} casts",
                    outcomes.len(),
                    casts.len()
                );
                for reply in replies {
                    let _ = reply.send(Err(cause.clone()));
                }
            }
            Err(err) => {
                let cause = format!("a batch of {} votes failed: {err}", casts.len());
                for reply in replies {
                    let _ = reply.send(Err(cause.clone()));
                }
            }
        }
    }
}
