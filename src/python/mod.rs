//! Everything Python-specific: the lexer, the fact collector and the module resolver.

mod collect;
mod lexer;
pub mod resolve;

pub use collect::collect;
