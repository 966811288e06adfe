//! Embeds the browser recorder (`ui/dist/recorder/sightline.js`, built by `npm run build` in
//! `ui/`) so the engine can serve it at `/sightline.js`. A build without it still works: the
//! route then says how to build it.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let recorder = manifest.join("../../../ui/dist/recorder/sightline.js");
    println!("cargo:rerun-if-changed={}", recorder.display());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("recorder.rs");
    let code = match recorder.canonicalize() {
        Ok(path) => format!(
            "pub const RECORDER_JS: Option<&[u8]> = Some(include_bytes!({:?}));\n",
            path.display().to_string()
        ),
        Err(_) => "pub const RECORDER_JS: Option<&[u8]> = None;\n".to_owned(),
    };
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}
