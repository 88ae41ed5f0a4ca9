//! Värn's desktop binary: parses the command line, then hands over to the app library.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    std::process::exit(varn_app::run());
}
