mod config;
mod differential;
mod facts;
