mod config;
mod differential;
