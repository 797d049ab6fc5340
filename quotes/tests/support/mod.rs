//! Shared test data and the poppler helpers.

#![allow(dead_code)] // each test binary uses its own part

pub mod poppler;
pub mod sample;
