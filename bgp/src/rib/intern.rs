//! Interning of attribute sets: equal [`PathAttributes`] received in different UPDATEs (or
//! from different peers, or made equal by the same filter rule) share one allocation.
//!
//! The table holds one reference per set; sets nobody else holds any more are dropped in a
//! sweep whenever the table has doubled since the last one, so the cost stays proportional
//! to the sets in use.

use foldhash::{HashSet, HashSetExt};
use std::sync::Arc;

use crate::packet::PathAttributes;

/// Sweep no more often than every this many new sets.
const MIN_SWEEP: usize = 1024;

/// The interned attribute sets.
#[derive(Debug)]
pub struct AttributeInterner {
    sets: HashSet<Arc<PathAttributes>>,
    sweep_at: usize,
}

impl Default for AttributeInterner {
    fn default() -> Self {
        Self {
            sets: HashSet::new(),
            sweep_at: MIN_SWEEP,
        }
    }
}

impl AttributeInterner {
    pub fn new() -> Self {
        Self::default()
    }

    /// The shared copy of `attributes`.
    pub fn intern(&mut self, attributes: PathAttributes) -> Arc<PathAttributes> {
        if let Some(existing) = self.sets.get(&attributes) {
            return existing.clone();
        }
        let shared = Arc::new(attributes);
        self.sets.insert(shared.clone());
        if self.sets.len() >= self.sweep_at {
            self.sweep();
        }
        shared
    }

    /// Drop the sets only the table holds.
    pub fn sweep(&mut self) {
        self.sets.retain(|set| Arc::strong_count(set) > 1);
        self.sweep_at = (self.sets.len() * 2).max(MIN_SWEEP);
    }

    /// Distinct sets held.
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Origin;

    #[test]
    fn equal_sets_share_one_allocation_and_unused_ones_are_swept() {
        let mut interner = AttributeInterner::new();
        let set = |med| PathAttributes {
            origin: Some(Origin::Igp),
            med: Some(med),
            ..PathAttributes::default()
        };
        let first = interner.intern(set(1));
        let again = interner.intern(set(1));
        assert!(Arc::ptr_eq(&first, &again));
        let other = interner.intern(set(2));
        assert!(!Arc::ptr_eq(&first, &other));
        drop(other);
        interner.sweep();
        assert_eq!(interner.len(), 1);
        drop((first, again));
        interner.sweep();
        assert!(interner.is_empty());
    }
}
