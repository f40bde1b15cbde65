//! The queue's future events (month ends, activations, session ends,
//! deadlines) in a binary heap ordered by day, ties broken by insertion
//! order: the same replication pops its events in the same order on any
//! machine, which keeps the queue, and so the output, deterministic.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// What happens at an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EventKind {
    /// A month ends (index = the program month ending, 1-based).
    MonthEnd(u32),
    /// A trained mediator becomes active.
    Activation(u32),
    /// A case's session ends.
    SessionDone(u32),
    /// A case's waiting limit (or its youth's rearrest) comes.
    Deadline(u32),
}

/// An event at a program day; `sequence` (its insertion number) breaks
/// ties, so equal days never fall to the heap's arbitrary order.
#[derive(Debug, Clone, Copy)]
pub(super) struct Event {
    pub day: f64,
    sequence: u64,
    pub kind: EventKind,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    /// Reversed, so that the max-heap pops the earliest event first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .day
            .total_cmp(&self.day)
            .then(other.sequence.cmp(&self.sequence))
    }
}

/// The pending events, earliest first (first pushed first among equal
/// days).
#[derive(Debug)]
pub(super) struct EventHeap {
    heap: BinaryHeap<Event>,
    sequence: u64,
}

impl EventHeap {
    /// An empty heap with room for `capacity` events (a replication knows
    /// about how many it will hold; growing the heap mid-run costs copies).
    pub fn with_capacity(capacity: usize) -> EventHeap {
        EventHeap {
            heap: BinaryHeap::with_capacity(capacity),
            sequence: 0,
        }
    }

    pub fn push(&mut self, day: f64, kind: EventKind) {
        self.sequence += 1;
        self.heap.push(Event {
            day,
            sequence: self.sequence,
            kind,
        });
    }

    /// The day of the earliest pending event.
    pub fn next_day(&self) -> Option<f64> {
        self.heap.peek().map(|e| e.day)
    }

    pub fn pop(&mut self) -> Option<Event> {
        self.heap.pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_ties_in_insertion_order() {
        let mut heap = EventHeap::with_capacity(4);
        heap.push(2.0, EventKind::Deadline(0));
        heap.push(1.0, EventKind::MonthEnd(1));
        heap.push(2.0, EventKind::SessionDone(1));
        heap.push(1.0, EventKind::Activation(2));
        let order: Vec<EventKind> = std::iter::from_fn(|| heap.pop().map(|e| e.kind)).collect();
        assert_eq!(
            order,
            [
                EventKind::MonthEnd(1),
                EventKind::Activation(2),
                EventKind::Deadline(0),
                EventKind::SessionDone(1),
            ]
        );
    }
}
