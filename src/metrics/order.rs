//! Per-key loss, duplicate and order tracking in fixed memory: for every
//! (topic, key) the next expected sequence number and a 128-wide window of
//! the numbers just below it. Nothing is kept per message, so a stage of a
//! billion messages needs no more memory than one of a thousand.

/// What one arrival was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// The next expected number, or a jump ahead of it (a gap opens).
    InOrder,
    /// A first arrival below the highest seen: it overtook nothing but was
    /// overtaken, so it counts as reordered.
    Late,
    /// Seen before.
    Duplicate,
}

const WINDOW: u64 = 128;

#[derive(Debug, Clone, Copy, Default)]
pub struct KeyOrder {
    next: u64,
    /// Bit i set: sequence `next - 1 - i` has arrived.
    seen: u128,
}

impl KeyOrder {
    pub fn arrive(&mut self, seq: u64) -> Arrival {
        if seq >= self.next {
            let shift = seq - self.next + 1;
            self.seen = if shift >= WINDOW { 0 } else { self.seen << shift };
            self.seen |= 1;
            self.next = seq + 1;
            return Arrival::InOrder;
        }
        let back = self.next - 1 - seq;
        if back >= WINDOW {
            // limit: an arrival more than 128 behind its key's newest is
            // taken as a duplicate, until the window grows with the need
            return Arrival::Duplicate;
        }
        let bit = 1u128 << back;
        if self.seen & bit != 0 {
            return Arrival::Duplicate;
        }
        self.seen |= bit;
        Arrival::Late
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seqs: &[u64]) -> Vec<Arrival> {
        let mut k = KeyOrder::default();
        seqs.iter().map(|s| k.arrive(*s)).collect()
    }

    #[test]
    fn in_order_stream_is_all_in_order() {
        assert!(run(&[0, 1, 2, 3]).iter().all(|a| *a == Arrival::InOrder));
    }

    #[test]
    fn a_repeat_is_a_duplicate_and_a_swap_is_late() {
        use Arrival::*;
        assert_eq!(run(&[0, 1, 1, 2]), vec![InOrder, InOrder, Duplicate, InOrder]);
        assert_eq!(run(&[0, 2, 1, 3]), vec![InOrder, InOrder, Late, InOrder]);
        assert_eq!(run(&[0, 2, 1, 1]), vec![InOrder, InOrder, Late, Duplicate]);
    }

    #[test]
    fn gaps_are_left_open_for_loss_to_count() {
        use Arrival::*;
        assert_eq!(run(&[0, 5, 6]), vec![InOrder, InOrder, InOrder]);
        assert_eq!(run(&[0, 500, 1]), vec![InOrder, InOrder, Duplicate]);
    }
}
