//! Embeds the browser code built by `npm run build` in `ui/`: the recorder
//! (`ui/dist/recorder/sightline.js`, served at `/sightline.js`) and the UI (`ui/dist/app/`,
//! served at `/`). A build without them still works: those routes then say how to build them.

use std::path::{Path, PathBuf};

fn files(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, base, out);
        } else if let Ok(rel) = path.strip_prefix(base) {
            out.push((rel.to_string_lossy().replace('\\', "/"), path.clone()));
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let ui = manifest.join("../../../ui/dist");
    let recorder = ui.join("recorder/sightline.js");
    let app = ui.join("app");
    println!("cargo:rerun-if-changed={}", recorder.display());
    println!("cargo:rerun-if-changed={}", app.display());
    let mut code = match recorder.canonicalize() {
        Ok(path) => format!(
            "pub const RECORDER_JS: Option<&[u8]> = Some(include_bytes!({:?}));\n",
            path.display().to_string()
        ),
        Err(_) => "pub const RECORDER_JS: Option<&[u8]> = None;\n".to_owned(),
    };
    let mut found = Vec::new();
    if let Ok(app) = app.canonicalize() {
        files(&app, &app, &mut found);
    }
    found.sort();
    code.push_str("pub const UI_FILES: &[(&str, &[u8])] = &[\n");
    for (rel, path) in &found {
        println!("cargo:rerun-if-changed={}", path.display());
        code.push_str(&format!(
            "    ({rel:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("recorder.rs");
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}
