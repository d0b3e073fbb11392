//! What a stage measures: counts, per-key order, and latency histograms.
//! The `Recorder` is shared by producers, the bus's delivery path and its
//! acknowledgement callbacks; its state is sharded by key so 256 workers
//! delivering at once rarely meet on a lock.

mod latency;
mod order;

pub use latency::{new_hist, record, summarize, Hist, Summary};
pub use order::{Arrival, KeyOrder};

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use parking_lot::Mutex;

use crate::message::{now_ns, Header};
use crate::probe::alloc::thread_number;

const SHARDS: usize = 64;
const STRIPES: usize = 8;

/// Keeps each lock on its own cache line, so two cores updating neighbours
/// do not slow each other down.
#[repr(align(128))]
struct Padded<T>(T);

/// Order state for the (topic, key) pairs that hash to one shard: many
/// small shards, so two threads rarely want the same one.
struct Shard {
    keys: Vec<KeyOrder>,
    received: u64,
    duplicated: u64,
    reordered: u64,
    bytes: u64,
}

/// Latency state, striped by thread: deliveries and acknowledgements arrive
/// on whatever thread the bus calls back on, and each thread keeps to its
/// own stripe (and its own histograms, which are large). The histograms
/// hold the current interval; `rotate` moves them into the totals.
struct Stripe {
    publish: Hist,
    e2e: Hist,
    acked: u64,
    /// Arrival time of the last counted message.
    last_rx_ns: u64,
}

/// What one producer sent; only that producer writes it.
struct Tally {
    slip: Hist,
    sent: u64,
    bytes: u64,
}

/// Everything one stage records. Built before the stage's baseline is read,
/// so its fixed allocations are part of the baseline, not of a leak.
pub struct Recorder {
    run: u64,
    stage: u16,
    keys: u32,
    shards: Vec<Padded<Mutex<Shard>>>,
    stripes: Vec<Padded<Mutex<Stripe>>>,
    tallies: Vec<Padded<Mutex<Tally>>>,
    /// End-to-end and publish latency of every interval rotated so far.
    totals: Mutex<(Hist, Hist)>,
    errors: AtomicU64,
    foreign: AtomicU64,
    first_error: Mutex<Option<String>>,
}

/// The counts of a finished stage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub sent: u64,
    pub acked: u64,
    pub received: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub errors: u64,
    pub foreign: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub first_error: Option<String>,
}

/// A stage's merged histograms.
pub struct Latencies {
    pub e2e: Hist,
    pub publish: Hist,
    pub slip: Hist,
    /// Arrival time of the last counted message (0 when none arrived).
    pub last_rx_ns: u64,
}

fn stripe() -> usize {
    thread_number() % STRIPES
}

impl Recorder {
    pub fn new(run: u64, stage: u16, topics: u32, keys: u32, producers: u32) -> Recorder {
        let pairs = topics as usize * keys as usize;
        let shards = (0..SHARDS)
            .map(|i| {
                Padded(Mutex::new(Shard {
                    keys: vec![KeyOrder::default(); pairs.saturating_sub(i).div_ceil(SHARDS)],
                    received: 0,
                    duplicated: 0,
                    reordered: 0,
                    bytes: 0,
                }))
            })
            .collect();
        let stripes = (0..STRIPES)
            .map(|_| {
                Padded(Mutex::new(Stripe {
                    publish: new_hist(),
                    e2e: new_hist(),
                    acked: 0,
                    last_rx_ns: 0,
                }))
            })
            .collect();
        let tallies = (0..producers.max(1))
            .map(|_| Padded(Mutex::new(Tally { slip: new_hist(), sent: 0, bytes: 0 })))
            .collect();
        Recorder {
            run,
            stage,
            keys,
            shards,
            stripes,
            tallies,
            totals: Mutex::new((new_hist(), new_hist())),
            errors: AtomicU64::new(0),
            foreign: AtomicU64::new(0),
            first_error: Mutex::new(None),
        }
    }

    pub fn run(&self) -> u64 {
        self.run
    }

    pub fn stage(&self) -> u16 {
        self.stage
    }

    fn slot(&self, topic: u16, key: u32) -> (usize, usize) {
        let pair = topic as usize * self.keys as usize + key as usize;
        (pair % SHARDS, pair / SHARDS)
    }

    /// Producer `producer` handed a message to the bus. `slip_ns` is how late
    /// it was against its intended send time (None when publishing flat out:
    /// every message is then sent the moment it is made).
    pub fn sent(&self, producer: usize, header: &Header, bytes: usize, slip_ns: Option<u64>) {
        let mut tally = self.tallies[producer % self.tallies.len()].0.lock();
        tally.sent += 1;
        tally.bytes += bytes as u64;
        if let (false, Some(slip)) = (header.warmup, slip_ns) {
            record(&mut tally.slip, slip);
        }
    }

    /// The bus acknowledged a message (delivery report, publish ack).
    pub fn acked(&self, header: &Header) {
        self.acked_all(std::slice::from_ref(header));
    }

    /// The bus acknowledged a group of messages at once (a client flush):
    /// one clock reading and one lock for all of them.
    pub fn acked_all(&self, headers: &[Header]) {
        let now = now_ns();
        let mut stripe = self.stripes[stripe()].0.lock();
        stripe.acked += headers.len() as u64;
        for header in headers.iter().filter(|h| !h.warmup) {
            record(&mut stripe.publish, now.saturating_sub(header.sent_ns));
        }
    }

    /// A send or an acknowledgement failed; the first reason is kept.
    pub fn failed(&self, reason: &str) {
        self.errors.fetch_add(1, Relaxed);
        let mut first = self.first_error.lock();
        if first.is_none() {
            *first = Some(reason.to_string());
        }
    }

    /// A message arrived at a subscriber. Bytes that are not this stage's
    /// messages are counted as foreign and otherwise ignored.
    pub fn delivered(&self, payload: &[u8]) {
        self.delivered_at(payload, now_ns());
    }

    /// `delivered`, for a message that had arrived by `now`: a subscriber
    /// taking a batch that was already waiting reads the clock once.
    pub fn delivered_at(&self, payload: &[u8], now: u64) {
        let header = match Header::read(payload) {
            Some(h) if h.run == self.run && h.stage == self.stage && h.key < self.keys => h,
            _ => {
                self.foreign.fetch_add(1, Relaxed);
                return;
            }
        };
        let (shard, index) = self.slot(header.topic, header.key);
        let mut shard = self.shards[shard].0.lock();
        let Some(key) = shard.keys.get_mut(index) else {
            drop(shard);
            self.foreign.fetch_add(1, Relaxed);
            return;
        };
        match key.arrive(header.seq) {
            Arrival::Duplicate => {
                shard.duplicated += 1;
                return;
            }
            Arrival::Late => shard.reordered += 1,
            Arrival::InOrder => {}
        }
        shard.received += 1;
        shard.bytes += payload.len() as u64;
        drop(shard);
        if !header.warmup {
            let mut stripe = self.stripes[stripe()].0.lock();
            record(&mut stripe.e2e, now.saturating_sub(header.sent_ns));
            stripe.last_rx_ns = stripe.last_rx_ns.max(now);
        }
    }

    /// Distinct messages received so far (duplicates not included).
    pub fn received_so_far(&self) -> u64 {
        self.shards.iter().map(|s| s.0.lock().received).sum()
    }

    pub fn sent_so_far(&self) -> u64 {
        self.tallies.iter().map(|t| t.0.lock().sent).sum()
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            errors: self.errors.load(Relaxed),
            foreign: self.foreign.load(Relaxed),
            first_error: self.first_error.lock().clone(),
            ..Counts::default()
        };
        for shard in &self.shards {
            let s = shard.0.lock();
            c.received += s.received;
            c.duplicated += s.duplicated;
            c.reordered += s.reordered;
            c.bytes_received += s.bytes;
        }
        for stripe in &self.stripes {
            c.acked += stripe.0.lock().acked;
        }
        for tally in &self.tallies {
            let t = tally.0.lock();
            c.sent += t.sent;
            c.bytes_sent += t.bytes;
        }
        c.lost = c.sent.saturating_sub(c.received);
        c
    }

    /// Ends the current interval: returns its end-to-end and publish
    /// histograms and adds them to the totals.
    pub fn rotate(&self) -> (Hist, Hist) {
        let (mut e2e, mut publish) = (new_hist(), new_hist());
        for stripe in &self.stripes {
            let mut s = stripe.0.lock();
            // same bounds everywhere, so adding cannot fail
            let _ = e2e.add(&s.e2e);
            let _ = publish.add(&s.publish);
            s.e2e.reset();
            s.publish.reset();
        }
        let mut totals = self.totals.lock();
        let _ = totals.0.add(&e2e);
        let _ = totals.1.add(&publish);
        (e2e, publish)
    }

    pub fn latencies(&self) -> Latencies {
        let mut out =
            Latencies { e2e: new_hist(), publish: new_hist(), slip: new_hist(), last_rx_ns: 0 };
        // same bounds everywhere, so adding cannot fail
        {
            let totals = self.totals.lock();
            let _ = out.e2e.add(&totals.0);
            let _ = out.publish.add(&totals.1);
        }
        for stripe in &self.stripes {
            let s = stripe.0.lock();
            let _ = out.publish.add(&s.publish);
            let _ = out.e2e.add(&s.e2e);
            out.last_rx_ns = out.last_rx_ns.max(s.last_rx_ns);
        }
        for tally in &self.tallies {
            let _ = out.slip.add(&tally.0.lock().slip);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(key: u32, seq: u64) -> Vec<u8> {
        let h = Header { warmup: false, run: 1, stage: 0, topic: 0, key, seq, sent_ns: now_ns() };
        let mut buf = vec![0; 64];
        h.write(&mut buf);
        buf
    }

    #[test]
    fn counts_loss_duplicates_and_reordering_per_key() {
        let r = Recorder::new(1, 0, 1, 4, 1);
        for (key, seq) in [(0, 0), (0, 1), (1, 0), (1, 2), (1, 1), (1, 1), (2, 0)] {
            let m = message(key, seq);
            r.sent(0, &Header::read(&m).unwrap(), m.len(), None);
            r.delivered(&m);
        }
        r.delivered(b"some other program's message");
        let c = r.counts();
        assert_eq!((c.sent, c.received, c.duplicated, c.reordered), (7, 6, 1, 1));
        assert_eq!((c.lost, c.foreign), (1, 1));
        assert_eq!(r.latencies().e2e.len(), 6);
        let (interval, _) = r.rotate();
        assert_eq!(interval.len(), 6);
        assert_eq!(r.rotate().0.len(), 0, "a rotation starts a new interval");
        assert_eq!(r.latencies().e2e.len(), 6, "rotated intervals stay in the totals");
    }

    #[test]
    fn messages_of_another_stage_are_foreign() {
        let r = Recorder::new(1, 3, 1, 4, 1);
        r.delivered(&message(0, 0));
        assert_eq!(r.counts().foreign, 1);
        assert_eq!(r.counts().received, 0);
    }
}
