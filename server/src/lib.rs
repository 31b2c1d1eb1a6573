//! The `promgen` server: command line, HTTP wiring and the verbs. A library so tests can build
//! the same router the binary serves.

pub mod agent;
pub mod cli;
pub mod commands;
pub mod web;
