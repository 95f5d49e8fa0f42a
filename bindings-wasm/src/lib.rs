//! Skeleton; filled in by the binding work.
