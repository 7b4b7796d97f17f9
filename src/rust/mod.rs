//! Everything Rust-specific: the fact collector (`syn` over `proc-macro2` tokens with span
//! locations, a token-level scan for files `syn` rejects, a comment scanner for
//! suppressions), the Cargo workspace reader, the resolver and the `use` editor.

mod collect;
pub mod edit;
mod lexical;
mod prepare;
pub mod resolve;
pub mod workspace;

pub use collect::{collect, collect_slow, collect_unskimmed, fast_bail, reads_fast};
