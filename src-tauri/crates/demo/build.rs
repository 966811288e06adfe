//! Embeds the storefront's browser bundle (`ui/dist/demo/storefront.js`, built by `npm run
//! build` in `ui/`: the page code with the OpenTelemetry web SDK). A build without it still
//! runs: the storefront then says how to build it.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let bundle = manifest.join("../../../ui/dist/demo/storefront.js");
    println!("cargo:rerun-if-changed={}", bundle.display());
    let code = match bundle.canonicalize() {
        Ok(path) => format!(
            "pub const STOREFRONT_JS: Option<&[u8]> = Some(include_bytes!({:?}));\n",
            path.display().to_string()
        ),
        Err(_) => "pub const STOREFRONT_JS: Option<&[u8]> = None;\n".to_owned(),
    };
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("bundle.rs");
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}
