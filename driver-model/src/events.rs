//! The NIC's event queue as the golden models see it (`docs/tx-path.md`,
//! "Events"; `docs/rx-path.md` section 3): TX misses and RX learn events
//! go into one bounded FIFO that the host drains through the PF BAR.
//!
//! [`EventQueueModel::raise`] is the hardware's rule: an event equal to the
//! newest one still queued is merged into it (a burst raises one event),
//! and an event that finds the queue full is counted lost and discarded
//! (the datapath never waits for the host).

#![warn(missing_docs)]

use std::collections::VecDeque;

use crate::tx::NicEvent;

/// A bounded event queue with the hardware's merge and loss rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventQueueModel {
    events: VecDeque<NicEvent>,
    capacity: usize,
    lost: u32,
}

impl EventQueueModel {
    /// An empty queue holding at most `capacity` events (the build's depth,
    /// 16 by default).
    pub fn new(capacity: usize) -> EventQueueModel {
        EventQueueModel {
            events: VecDeque::new(),
            capacity,
            lost: 0,
        }
    }

    /// Queues `event`: merged into the newest queued event when identical
    /// (even when the queue is full), else counted lost when the queue is
    /// full.
    pub fn raise(&mut self, event: NicEvent) {
        if self.events.back() == Some(&event) {
            return;
        }
        if self.events.len() >= self.capacity {
            self.lost = self.lost.wrapping_add(1);
            return;
        }
        self.events.push_back(event);
    }

    /// Takes the oldest event off the queue (`EVENT_*` then `EVENT_POP`).
    pub fn pop(&mut self) -> Option<NicEvent> {
        self.events.pop_front()
    }

    /// The oldest event, left on the queue.
    pub fn peek(&self) -> Option<&NicEvent> {
        self.events.front()
    }

    /// Events waiting in the queue (`EVENT_STATUS`).
    pub fn pending(&self) -> usize {
        self.events.len()
    }

    /// Events discarded because the queue was full (`EVENT_LOST`, wraps).
    pub fn lost(&self) -> u32 {
        self.lost
    }

    /// The most events the queue holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}
