//! A job queue that misbehaves on purpose, around the real SQS queue: every message sent twice,
//! or chosen sends failing (as when the worker dies between its commit and its send).

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex,
    },
    time::Duration,
};

use queue::{EnrichMessage, JobQueue, QueueError, SqsQueue, StepMessage};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chaos {
    /// Behave.
    None,
    /// Send every message twice.
    Duplicate,
    /// Fail these step sends (1-based, counting every step send).
    FailSends(Vec<usize>),
    /// Fail these enrichment sends (1-based, counting every enrichment send).
    FailEnrichmentSends(Vec<usize>),
}

pub struct ChaosQueue {
    pub inner: SqsQueue,
    pub chaos: Mutex<Chaos>,
    sends: AtomicUsize,
    enrichment_sends: AtomicUsize,
}

impl ChaosQueue {
    pub fn new(inner: SqsQueue, chaos: Chaos) -> Self {
        Self {
            inner,
            chaos: Mutex::new(chaos),
            sends: AtomicUsize::new(0),
            enrichment_sends: AtomicUsize::new(0),
        }
    }

    pub fn set(&self, chaos: Chaos) {
        *self.chaos.lock().unwrap() = chaos;
    }

    /// Enrichment sends attempted so far.
    pub fn enrichment_sends(&self) -> usize {
        self.enrichment_sends.load(Ordering::SeqCst)
    }

    /// Step sends attempted so far.
    pub fn sends(&self) -> usize {
        self.sends.load(Ordering::SeqCst)
    }
}

impl JobQueue for ChaosQueue {
    async fn send(&self, message: &StepMessage, delay: Duration) -> Result<String, QueueError> {
        let n = self.sends.fetch_add(1, Ordering::SeqCst) + 1;
        let chaos = self.chaos.lock().unwrap().clone();
        match chaos {
            Chaos::None => self.inner.send(message, delay).await,
            Chaos::Duplicate => {
                self.inner.send(message, delay).await?;
                self.inner.send(message, delay).await
            }
            Chaos::FailSends(failing) if failing.contains(&n) => {
                Err(QueueError(format!("send {n} failed on purpose")))
            }
            _ => self.inner.send(message, delay).await,
        }
    }

    async fn send_enrichment(&self, messages: &[EnrichMessage]) -> Result<(), QueueError> {
        let n = self.enrichment_sends.fetch_add(1, Ordering::SeqCst) + 1;
        let chaos = self.chaos.lock().unwrap().clone();
        match chaos {
            Chaos::Duplicate => {
                self.inner.send_enrichment(messages).await?;
                self.inner.send_enrichment(messages).await
            }
            Chaos::FailEnrichmentSends(failing) if failing.contains(&n) => {
                Err(QueueError(format!("enrichment send {n} failed on purpose")))
            }
            _ => self.inner.send_enrichment(messages).await,
        }
    }
}
