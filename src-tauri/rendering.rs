//! How WebKitGTK paints the window. Without a GPU to draw with (no DRM render node: a virtual
//! machine, a remote desktop, a computer without GPU drivers) WebKit's Skia still takes its
//! GPU path, on Mesa's software OpenGL (llvmpipe), and the shell's first paint takes about
//! 130 ms instead of about 55 ms with Skia's own CPU rasteriser (measured under Xvfb on the
//! 2-core test machine, 2026-11-30). So without a render node Värn asks WebKit for CPU
//! rendering; with one it leaves WebKit's choice. A value the person has set is kept.

/// WebKitGTK's switch to Skia's CPU rendering (2.46 and later; older versions ignore it).
pub const CPU_RENDERING: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";

/// Where Linux lists its DRM devices.
#[cfg(target_os = "linux")]
const DRI: &str = "/dev/dri";

/// Whether to ask for CPU rendering: not when the person has set the switch already, and only
/// when no device in `dri` (the names in `/dev/dri`) is a render node (`renderD128`, …).
pub fn wants_cpu_rendering<I, S>(already_set: bool, dri: I) -> bool
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    !already_set
        && !dri
            .into_iter()
            .any(|name| name.as_ref().starts_with("renderD"))
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
        if wants_cpu_rendering(std::env::var_os(CPU_RENDERING).is_some(), &names) {
            std::env::set_var(CPU_RENDERING, "1");
        }
    }
}

/// What [`choose`] left for WebKit, for the log.
pub fn chosen() -> &'static str {
    if std::env::var_os(CPU_RENDERING).is_some_and(|v| v == "1") {
        "CPU (no GPU render node, or set by the person)"
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
        assert!(wants_cpu_rendering(false, none));
        assert!(wants_cpu_rendering(false, ["card0", "by-path"]));
        assert!(!wants_cpu_rendering(false, ["card0", "renderD128"]));
        assert!(!wants_cpu_rendering(true, none));
    }
}
