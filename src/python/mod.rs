//! Everything Python-specific: the lexer, the fact collector and the module resolver.

mod collect;
pub mod edit;
pub mod isort;
mod lexer;
pub mod resolve;

pub use collect::collect;
