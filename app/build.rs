//! Compiles the Slint UI (`ui/app.slint`) into Rust, with the gettext catalogues from
//! `../i18n/<lang>/LC_MESSAGES/kontor.po` bundled into the binary, so the app needs no
//! locale files installed and can switch language at run time.

fn main() {
    // Element lookup in the headless UI tests needs the compiler's debug info; release
    // builds leave it out (smaller binary, nothing for the tests to find there).
    let debug_info = std::env::var("PROFILE").map_or(true, |p| p != "release");
    // The manifest dir of *this* build, read at run time: `env!` would bake in the path
    // where the build script was first compiled, and a build script reused from another
    // checkout (a shared or copied target/) would then bundle that checkout's catalogues.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations(format!("{manifest}/../i18n"))
        // msgids are matched without a context: one English string, one translation,
        // whichever component shows it.
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        .with_debug_info(debug_info);
    println!("cargo:rerun-if-changed=../i18n");
    if let Err(e) = slint_build::compile_with_config("ui/app.slint", config) {
        panic!("cannot compile the UI: {e}");
    }
}
