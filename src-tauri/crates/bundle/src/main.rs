//! `sightline-appimage DEB OUT`: makes an AppImage of the desktop app from its `.deb`.
//!
//! The image holds the package's files (`usr/bin`, the desktop entry, the icons) and an
//! `AppRun` that starts the app. It does not carry WebKitGTK and GTK: the host provides them
//! (`libwebkit2gtk-4.1-0`, `libayatana-appindicator3-1`), as with the `.deb`. Bundling them is
//! linuxdeploy's job, which the Tauri bundler downloads; this tool exists for machines that
//! cannot.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

const NAME: &str = "Sightline";
const BINARY: &str = "sightline-desktop";

const APPRUN: &str = r#"#!/bin/sh
# Starts Sightline from wherever the image is mounted or extracted.
here="$(dirname "$(readlink -f "$0")")"
exec "$here/usr/bin/sightline-desktop" "$@"
"#;

fn main() -> Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [deb, out] = args.as_slice() else {
        bail!("usage: sightline-appimage PATH/TO/Sightline.deb OUT.AppImage");
    };
    let work = out.parent().unwrap_or(Path::new(".")).join("appimage-work");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let image = appimage::AppImage::new(&work, NAME.to_owned())?;
    let appdir = image.appdir().to_owned();

    // The package's files, as dpkg would install them, under the AppDir.
    let status = Command::new("dpkg-deb")
        .arg("-x")
        .arg(deb)
        .arg(&appdir)
        .status()
        .context("dpkg-deb runs")?;
    ensure!(
        status.success(),
        "dpkg-deb could not unpack {}",
        deb.display()
    );
    ensure!(
        appdir.join("usr/bin").join(BINARY).exists(),
        "{} holds no usr/bin/{BINARY}",
        deb.display()
    );

    // What an AppImage needs at its root: AppRun, one desktop entry, its icon.
    let apprun = appdir.join("AppRun");
    std::fs::write(&apprun, APPRUN)?;
    executable(&apprun)?;
    let entry = std::fs::read_dir(appdir.join("usr/share/applications"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "desktop"))
        .context("the package has no desktop entry")?;
    std::fs::copy(&entry, appdir.join(format!("{NAME}.desktop")))?;
    let icon = appdir.join(format!("usr/share/icons/hicolor/128x128/apps/{BINARY}.png"));
    ensure!(icon.exists(), "no 128x128 icon at {}", icon.display());
    // The desktop entry names its icon `sightline-desktop`.
    image.add_icon(&icon)?;
    std::fs::rename(
        appdir.join(format!("{NAME}.png")),
        appdir.join(format!("{BINARY}.png")),
    )?;
    let _ = std::fs::remove_file(appdir.join(".DirIcon"));
    #[cfg(unix)]
    std::os::unix::fs::symlink(format!("{BINARY}.png"), appdir.join(".DirIcon"))?;

    image.build(out, None)?;
    let _ = std::fs::remove_dir_all(&work);
    let size = std::fs::metadata(out)?.len();
    println!("{} ({:.1} MiB)", out.display(), size as f64 / 1048576.0);
    Ok(())
}

fn executable(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}
