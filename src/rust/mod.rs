//! Everything Rust-specific: the fact collector (a hand-written fast path for most files,
//! `syn` over `proc-macro2` tokens with span locations for the rest, a token-level scan for
//! files `syn` rejects, a comment scanner for suppressions), the Cargo workspace reader, the
//! resolver and the `use` editor.

mod collect;
pub mod edit;
mod lexical;
pub mod order;
mod prepare;
pub mod resolve;
pub mod workspace;

pub use collect::{collect, collect_slow, collect_unskimmed, fast_bail, reads_fast};
