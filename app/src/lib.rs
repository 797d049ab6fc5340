//! The Kontor app as a library: the Slint UI (and the demo around it), so the binary and
//! the headless UI tests build the window the same way. The CLI stays in the binary.

#[cfg(feature = "demo")]
pub mod demo;
pub mod memory;
pub mod service;
pub mod ui;
