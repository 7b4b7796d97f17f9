//! ssot-gardener: a single-source-of-truth linter and import codemod.
//!
//! See ARCHITECTURE.md for the bird's-eye view. The pipeline: [`walk`] reads the repository,
//! [`python::collect`] turns each file into [`facts::FileFacts`], [`python::resolve`] joins
//! them into a [`graph::Graph`]. Only the walker and the renderers touch disk or terminal.

pub mod audit;
pub mod baseline;
pub mod cache;
pub mod cli;
pub mod concept;
pub mod config;
pub mod facts;
pub mod fix;
pub mod graph;
pub mod import_time;
pub mod init;
pub mod picture;
pub mod python;
pub mod render;
pub mod rules;
pub mod rust;
pub mod server;
pub mod walk;
