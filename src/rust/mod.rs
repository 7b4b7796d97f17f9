//! Everything Rust-specific. For now the fact collector: `syn` over `proc-macro2` tokens
//! with span locations, a token-level scan for files `syn` rejects, and a comment scanner
//! for suppressions. The resolver and the `use` editor come later.

mod collect;
mod lexical;
mod prepare;

pub use collect::collect;
