//! Hello-world Tauri app: prints "ready in N ms" once the page has rendered, then exits.
use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Instant> = OnceLock::new();

#[tauri::command]
fn ready(app: tauri::AppHandle) {
    println!("ready in {} ms", START.get().map(|s| s.elapsed().as_millis()).unwrap_or(0));
    app.exit(0);
}

fn main() {
    START.get_or_init(Instant::now);
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![ready])
        .run(tauri::generate_context!())
        .expect("hello-tauri");
}
