//! Builds the Tauri context. The window embeds `ui/dist` when it is built;
//! otherwise it embeds a page that says how to build it, so that
//! `cargo build --workspace` works on a fresh checkout.

fn main() {
    println!("cargo:rustc-check-cfg=cfg(ui_built)");
    println!("cargo:rerun-if-changed=../ui/dist");
    if std::path::Path::new("../ui/dist/index.html").is_file() {
        println!("cargo:rustc-cfg=ui_built");
    } else {
        println!(
            "cargo:warning=ui/dist is not built: the desktop app will show how to build it (npm --prefix ui run build)"
        );
    }
    tauri_build::build();
}
