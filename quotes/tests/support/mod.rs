//! Shared test data.

pub mod sample;
