mod bad_input;
mod config;
mod differential;
mod facts;
mod graph;
mod support;
mod walk;
