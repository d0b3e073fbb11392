//! The one producer loop: which message comes next (topic, key, sequence),
//! when it should go (flat out, or on a fixed-rate schedule), and sending it
//! with cancellation. Open loop: with a rate, every message carries its
//! intended send time, so a producer that falls behind shows up as latency
//! and slip instead of quietly sending later.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio_util::sync::CancellationToken;

use crate::bus::{Offer, Outgoing, Publisher};
use crate::message::{now_ns, Header};
use crate::metrics::Recorder;

/// The part of the stage one producer is responsible for.
#[derive(Debug, Clone, Copy)]
pub struct Share {
    pub producer: u64,
    pub producers: u64,
    pub messages: u64,
    pub warmup: u64,
    pub topics: u32,
    pub keys: u32,
    pub message_size: usize,
    /// Messages per second for the whole stage; 0 = flat out.
    pub rate: u64,
}

impl Share {
    /// How many messages this producer sends: global numbers p, p+P, ...
    pub fn count(&self) -> u64 {
        if self.producer >= self.messages {
            return 0;
        }
        (self.messages - self.producer).div_ceil(self.producers)
    }

    fn pairs(&self) -> u64 {
        self.topics as u64 * self.keys as u64
    }

    /// The (topic, key, seq) of this producer's messages in order. Producer
    /// p owns the (topic, key) pairs p, p+P, ..., so each key has exactly
    /// one producer and its sequence numbers rise by one. Stepped without
    /// division, because it runs once per message.
    pub fn slots(&self) -> impl Iterator<Item = (u16, u32, u64)> {
        let (keys, step) = (self.keys as u64, self.producers);
        let owned = (self.pairs() - self.producer).div_ceil(step);
        let first = (self.producer / keys, self.producer % keys);
        let mut at = (first, 0u64, 0u64);
        std::iter::from_fn(move || {
            let ((topic, key), nth, seq) = at;
            let next = if nth + 1 == owned {
                (first, 0, seq + 1)
            } else {
                let key = key + step;
                ((topic + key / keys, key % keys), nth + 1, seq)
            };
            at = next;
            Some((topic as u16, key as u32, seq))
        })
    }
}

/// Why a producer stopped early.
pub enum Stopped {
    Done,
    Cancelled,
    Failed(String),
}

/// Consecutive failed sends after which a producer gives up.
const GIVE_UP_AFTER: u64 = 1000;

pub async fn produce(
    share: Share,
    mut publisher: Box<dyn Publisher>,
    recorder: Arc<Recorder>,
    start_ns: u64,
    stop: CancellationToken,
    flush_deadline: Duration,
) -> Stopped {
    let (run, stage) = (recorder.run(), recorder.stage());
    let mut failures = 0u64;
    let mut payloads = Payloads::new(share.message_size);
    for (i, (topic, key, seq)) in (0..share.count()).zip(share.slots()) {
        if stop.is_cancelled() {
            return Stopped::Cancelled;
        }
        let global = share.producer + i * share.producers;
        let intended = match share.rate {
            0 => None,
            rate => Some(start_ns + (global as u128 * 1_000_000_000 / rate as u128) as u64),
        };
        if let Some(at) = intended {
            if !wait_until(at, &stop).await {
                return Stopped::Cancelled;
            }
        }
        let now = now_ns();
        let sent_ns = intended.unwrap_or(now);
        let header = Header { warmup: global < share.warmup, run, stage, topic, key, seq, sent_ns };
        let mut payload = payloads.next();
        header.write(&mut payload);
        let msg = Outgoing { header, topic: topic as usize, payload: payload.freeze() };

        let sent = match publisher.offer(msg) {
            Offer::Taken => Ok(()),
            Offer::Failed(e) => Err(e),
            Offer::Busy(msg) => tokio::select! {
                biased;
                r = publisher.send(msg) => r,
                _ = stop.cancelled() => return Stopped::Cancelled,
            },
        };
        match sent {
            Ok(()) => {
                failures = 0;
                let slip = intended.map(|at| now.saturating_sub(at));
                recorder.sent(share.producer as usize, &header, share.message_size, slip);
            }
            Err(e) => {
                recorder.failed(&e.to_string());
                failures += 1;
                if failures >= GIVE_UP_AFTER {
                    return Stopped::Failed(format!("{failures} sends failed in a row: {e}"));
                }
            }
        }
    }
    tokio::select! {
        r = publisher.flush(flush_deadline) => match r {
            Ok(()) => Stopped::Done,
            Err(e) => Stopped::Failed(format!("flush: {e}")),
        },
        _ = stop.cancelled() => Stopped::Cancelled,
    }
}

/// Bytes allocated at once for payloads.
const BLOCK: usize = 16 * 1024;

/// Zeroed payloads cut from shared blocks: one allocation serves many
/// messages, and a block is freed when the bus has let go of its last one.
struct Payloads {
    block: BytesMut,
    size: usize,
}

impl Payloads {
    fn new(size: usize) -> Payloads {
        Payloads { block: BytesMut::new(), size }
    }

    fn next(&mut self) -> BytesMut {
        if self.block.len() < self.size {
            let per_block = (BLOCK / self.size.max(1)).max(1);
            self.block = BytesMut::zeroed(per_block * self.size);
        }
        self.block.split_to(self.size)
    }
}

/// Waits until the intended send time, never returning early: the timer
/// sleeps to within a millisecond (its resolution), then the task yields
/// until the moment comes. False when cancelled.
async fn wait_until(at_ns: u64, stop: &CancellationToken) -> bool {
    let wait = at_ns.saturating_sub(now_ns());
    if wait > 1_500_000 {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_nanos(wait - 1_000_000)) => {}
            _ = stop.cancelled() => return false,
        }
    }
    while now_ns() < at_ns {
        if stop.is_cancelled() {
            return false;
        }
        tokio::task::yield_now().await;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn payloads_are_zeroed_and_of_the_stage_size_across_blocks() {
        for size in [36, 256, 100_000] {
            let mut payloads = Payloads::new(size);
            for _ in 0..(3 * BLOCK / size + 2) {
                let mut p = payloads.next();
                assert_eq!(p.len(), size);
                assert!(p.iter().all(|&b| b == 0));
                p[0] = 0xff;
            }
        }
    }

    #[test]
    fn every_message_is_sent_once_with_rising_sequences_per_key() {
        let base = Share {
            producer: 0,
            producers: 3,
            messages: 1000,
            warmup: 0,
            topics: 2,
            keys: 7,
            message_size: 64,
            rate: 0,
        };
        let mut next: HashMap<(u16, u32), u64> = HashMap::new();
        let mut total = 0;
        for p in 0..3 {
            let share = Share { producer: p, ..base };
            total += share.count();
            for (i, (t, k, seq)) in share.slots().take(share.count() as usize).enumerate() {
                assert!(t < 2 && k < 7);
                let expect = next.entry((t, k)).or_insert(0);
                assert_eq!(seq, *expect, "producer {p} message {i}");
                *expect += 1;
            }
        }
        assert_eq!(total, 1000);
        assert_eq!(next.len(), 14);
    }
}
