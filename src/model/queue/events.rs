//! The queue's future events (month ends, activations, session ends,
//! deadlines) in a binary heap ordered by day, ties broken by insertion
//! order: the same replication pops its events in the same order on any
//! machine, which keeps the queue, and so the output, deterministic.
//!
//! Events pushed in order (`push_in_order`: the waiting limits, which come
//! in arrival order) wait in a plain first-in, first-out list beside the
//! heap, which keeps the heap small (at a busy program most pending events
//! are those limits); the two are merged by the same (day, insertion)
//! order, so events come out exactly as from one heap.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

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
    /// Events in (day, insertion) order, earliest first.
    in_order: VecDeque<Event>,
    sequence: u64,
}

impl EventHeap {
    /// An empty heap with room for `capacity` events (a replication knows
    /// about how many it will hold; growing the heap mid-run costs copies).
    pub fn with_capacity(capacity: usize) -> EventHeap {
        EventHeap {
            heap: BinaryHeap::with_capacity(capacity),
            in_order: VecDeque::with_capacity(capacity),
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

    /// Pushes an event expected no earlier than the last pushed so (one
    /// that is earlier goes to the heap: the order stays exact anyway).
    pub fn push_in_order(&mut self, day: f64, kind: EventKind) {
        if self.in_order.back().is_some_and(|last| last.day > day) {
            self.push(day, kind);
            return;
        }
        self.sequence += 1;
        self.in_order.push_back(Event {
            day,
            sequence: self.sequence,
            kind,
        });
    }

    /// Whether the next event comes from the ordered list (by the heap's
    /// own order: `Ord` is reversed, so the greater is the earlier).
    fn next_in_order(&self) -> bool {
        match (self.in_order.front(), self.heap.peek()) {
            (Some(first), Some(top)) => first > top,
            (first, _) => first.is_some(),
        }
    }

    /// The day of the earliest pending event.
    pub fn next_day(&self) -> Option<f64> {
        if self.next_in_order() {
            self.in_order.front().map(|e| e.day)
        } else {
            self.heap.peek().map(|e| e.day)
        }
    }

    pub fn pop(&mut self) -> Option<Event> {
        if self.next_in_order() {
            self.in_order.pop_front()
        } else {
            self.heap.pop()
        }
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

    #[test]
    fn events_in_order_merge_as_one_heap() {
        let mut merged = EventHeap::with_capacity(4);
        let mut one = EventHeap::with_capacity(4);
        let pushes = [
            (3.0, true),
            (1.0, false),
            (3.0, false),
            (4.0, true),
            (2.0, true),
            (4.0, false),
            (4.0, true),
            (0.5, false),
        ];
        for (i, &(day, in_order)) in pushes.iter().enumerate() {
            let kind = EventKind::Deadline(i as u32);
            if in_order {
                merged.push_in_order(day, kind);
            } else {
                merged.push(day, kind);
            }
            one.push(day, kind);
        }
        let pops = |heap: &mut EventHeap| -> Vec<(f64, EventKind)> {
            std::iter::from_fn(|| {
                let day = heap.next_day();
                heap.pop().map(|e| {
                    assert_eq!(day, Some(e.day));
                    (e.day, e.kind)
                })
            })
            .collect()
        };
        assert_eq!(pops(&mut merged), pops(&mut one));
    }
}
