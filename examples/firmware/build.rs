//! Links the firmware image for bare-metal targets: puts `memory.x` on the linker search path
//! and passes cortex-m-rt's `link.x` to the binary only (the library and host builds are
//! untouched). Done here rather than in `.cargo/config.toml`, which cargo reads from the
//! current directory, so `--manifest-path` builds from the repository root link too.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");
    let target = env::var("TARGET").unwrap_or_default();
    if !target.starts_with("thumbv") {
        return Ok(());
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").ok_or("cargo sets OUT_DIR")?);
    fs::write(out.join("memory.x"), include_bytes!("memory.x"))?;
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    Ok(())
}
