//! The queues of the endpoint core: a bounded FIFO that drops its oldest entry when full (so
//! that a flooding peer costs a counter, not memory), and the deliveries an impairer delayed.

use crate::txn::Time;
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::net::SocketAddr;

/// A FIFO holding at most `cap` items; pushing onto a full queue drops the oldest item.
#[derive(Debug)]
pub(crate) struct BoundedQueue<T> {
    items: VecDeque<T>,
    cap: usize,
}

impl<T> BoundedQueue<T> {
    pub(crate) fn new(cap: usize) -> Self {
        BoundedQueue {
            items: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// Appends `item`; returns true when an older item had to be dropped to make room.
    pub(crate) fn push(&mut self, item: T) -> bool {
        let dropped = self.items.len() >= self.cap;
        if dropped {
            self.items.pop_front();
        }
        self.items.push_back(item);
        dropped
    }

    pub(crate) fn pop(&mut self) -> Option<T> {
        self.items.pop_front()
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
}

/// Which way a delayed delivery goes: out of the endpoint to the peer, or in from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Out,
    In,
}

/// A delivery an impairer scheduled for later. Ordered by time, then by the order it was
/// scheduled in (so equal times keep their order: a duplicate never overtakes its original).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) at: Time,
    pub(crate) seq: u64,
    pub(crate) dir: Direction,
    pub(crate) peer: SocketAddr,
    pub(crate) bytes: Vec<u8>,
}

impl Ord for Pending {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BinaryHeap;
    use std::time::Duration;

    #[test]
    fn bounded_queue_drops_the_oldest() {
        let mut q = BoundedQueue::new(2);
        assert!(!q.push(1));
        assert!(!q.push(2));
        assert!(q.push(3));
        assert_eq!(q.len(), 2);
        assert_eq!(q.pop(), Some(2));
        assert_eq!(q.pop(), Some(3));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn pending_pops_earliest_then_first_scheduled() {
        let from = "127.0.0.1:1".parse().unwrap();
        let p = |ms: u64, seq: u64| Pending {
            at: Duration::from_millis(ms),
            seq,
            dir: Direction::In,
            peer: from,
            bytes: Vec::new(),
        };
        let mut h = BinaryHeap::from(vec![p(5, 0), p(1, 2), p(1, 1)]);
        let order: Vec<u64> = std::iter::from_fn(|| h.pop().map(|p| p.seq)).collect();
        assert_eq!(order, [1, 2, 0]);
    }
}
