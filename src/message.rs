//! The envelope every message carries: which run and stage sent it, its
//! topic, key and per-key sequence number, and the send timestamp. Fixed
//! size and little-endian, so any client in any language can read it; the
//! rest of the payload is padding up to the stage's `message_size`.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

pub const MAGIC: [u8; 3] = *b"LRN";
/// magic 3, flags 1, run 8, stage 2, topic 2, key 4, seq 8, sent 8
pub const HEADER_LEN: usize = 36;
const WARMUP: u8 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// A warm-up message counts for loss and order but not for any figure.
    pub warmup: bool,
    pub run: u64,
    pub stage: u16,
    pub topic: u16,
    pub key: u32,
    pub seq: u64,
    /// Nanoseconds since the Unix epoch, from the runner's monotonic clock:
    /// the intended send time when the stage has a fixed rate.
    pub sent_ns: u64,
}

impl Header {
    pub fn write(&self, buf: &mut [u8]) {
        buf[0..3].copy_from_slice(&MAGIC);
        buf[3] = if self.warmup { WARMUP } else { 0 };
        buf[4..12].copy_from_slice(&self.run.to_le_bytes());
        buf[12..14].copy_from_slice(&self.stage.to_le_bytes());
        buf[14..16].copy_from_slice(&self.topic.to_le_bytes());
        buf[16..20].copy_from_slice(&self.key.to_le_bytes());
        buf[20..28].copy_from_slice(&self.seq.to_le_bytes());
        buf[28..36].copy_from_slice(&self.sent_ns.to_le_bytes());
    }

    /// None when the bytes are not a loadrun message (foreign traffic on a
    /// shared topic is ignored, not counted).
    pub fn read(buf: &[u8]) -> Option<Header> {
        if buf.len() < HEADER_LEN || buf[0..3] != MAGIC {
            return None;
        }
        let u64_at = |at: usize| u64::from_le_bytes(buf[at..at + 8].try_into().unwrap());
        let u16_at = |at: usize| u16::from_le_bytes(buf[at..at + 2].try_into().unwrap());
        Some(Header {
            warmup: buf[3] & WARMUP != 0,
            run: u64_at(4),
            stage: u16_at(12),
            topic: u16_at(14),
            key: u32::from_le_bytes(buf[16..20].try_into().unwrap()),
            seq: u64_at(20),
            sent_ns: u64_at(28),
        })
    }
}

/// Wall-clock nanoseconds that never go backwards: the epoch time at the
/// first call plus monotonic time since, so an NTP step mid-run cannot make
/// latencies negative. Read straight from the vDSO clock, because it is
/// called three times per message.
pub fn now_ns() -> u64 {
    static OFFSET: OnceLock<u64> = OnceLock::new();
    let offset = *OFFSET.get_or_init(|| {
        let epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        (epoch.as_nanos() as u64).saturating_sub(monotonic_ns())
    });
    offset + monotonic_ns()
}

fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid timespec to write into; CLOCK_MONOTONIC exists
    // on every Linux
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The Kafka/NATS message key for a key number.
pub fn key_name(key: u32) -> String {
    format!("k{key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_rejects_foreign_bytes() {
        let h = Header {
            warmup: true,
            run: 7,
            stage: 2,
            topic: 3,
            key: 999,
            seq: 12345,
            sent_ns: now_ns(),
        };
        let mut buf = vec![0u8; 64];
        h.write(&mut buf);
        assert_eq!(Header::read(&buf), Some(h));
        assert_eq!(Header::read(b"hello world, not a loadrun message at all"), None);
        assert_eq!(Header::read(&buf[..10]), None);
    }

    #[test]
    fn clock_never_goes_backwards() {
        let a = now_ns();
        let b = now_ns();
        assert!(b >= a);
        assert!(a > 1_600_000_000_000_000_000);
    }
}
