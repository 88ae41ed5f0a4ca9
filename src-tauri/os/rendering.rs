//! How WebKitGTK paints the window. Without a GPU to draw with (no DRM render node: a virtual
//! machine, a remote desktop, a computer without GPU drivers) WebKit's Skia still takes its
//! GPU path, on Mesa's software OpenGL (llvmpipe), and the shell's first paint takes about
//! 130 ms instead of about 55 ms with Skia's own CPU rasteriser (measured under Xvfb on the
//! 2-core test machine, 2026-11-30). So without a render node, or when OpenGL is told to run
//! in software (`LIBGL_ALWAYS_SOFTWARE`), Värn asks WebKit for CPU rendering; otherwise it
//! leaves WebKit's choice. A value the person has set is kept.

/// WebKitGTK's switch to Skia's CPU rendering (2.46 and later; older versions ignore it).
pub const CPU_RENDERING: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";

/// Where Linux lists its DRM devices.
#[cfg(target_os = "linux")]
const DRI: &str = "/dev/dri";

/// Mesa's switch to software OpenGL.
#[cfg(target_os = "linux")]
const SOFTWARE_GL: &str = "LIBGL_ALWAYS_SOFTWARE";

/// Whether to ask for CPU rendering: not when the person has set the switch already; else
/// when OpenGL runs in software (`software_gl`, Mesa's switch set to anything but `0` or
/// `false`) or no device in `dri` (the names in `/dev/dri`) is a render node (`renderD128`, …).
pub fn wants_cpu_rendering<I, S>(already_set: bool, software_gl: Option<&str>, dri: I) -> bool
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let software = software_gl.is_some_and(|v| !matches!(v.trim(), "" | "0" | "false"));
    let render_node = dri
        .into_iter()
        .any(|name| name.as_ref().starts_with("renderD"));
    !already_set && (software || !render_node)
}

/// Chooses before anything else runs: the variable is read by WebKit's processes, which
/// inherit this process's environment, and is set before any thread exists.
pub fn choose() {
    #[cfg(target_os = "linux")]
    {
        let names: Vec<String> = std::fs::read_dir(DRI)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let software_gl = std::env::var(SOFTWARE_GL).ok();
        if wants_cpu_rendering(
            std::env::var_os(CPU_RENDERING).is_some(),
            software_gl.as_deref(),
            &names,
        ) {
            std::env::set_var(CPU_RENDERING, "1");
        }
    }
}

/// What [`choose`] left for WebKit, for the log.
pub fn chosen() -> &'static str {
    if std::env::var_os(CPU_RENDERING).is_some_and(|v| v == "1") {
        "CPU (no GPU render node, software OpenGL, or set by the person)"
    } else {
        "WebKit's choice"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_rendering_only_without_a_render_node_and_never_over_the_persons_choice() {
        let none: [&str; 0] = [];
        let gpu = ["card0", "renderD128"];
        assert!(wants_cpu_rendering(false, None, none));
        assert!(wants_cpu_rendering(false, None, ["card0", "by-path"]));
        assert!(!wants_cpu_rendering(false, None, gpu));
        // A GPU, but OpenGL told to run in software.
        assert!(wants_cpu_rendering(false, Some("1"), gpu));
        assert!(wants_cpu_rendering(false, Some("true"), gpu));
        assert!(!wants_cpu_rendering(false, Some("0"), gpu));
        assert!(!wants_cpu_rendering(false, Some(""), gpu));
        // The person's own setting wins either way.
        assert!(!wants_cpu_rendering(true, None, none));
        assert!(!wants_cpu_rendering(true, Some("1"), none));
    }
}
