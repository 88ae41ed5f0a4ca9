#!/usr/bin/env python3
"""Start-up benchmark: release build, start -> first paint (via --smoke), and peak memory.

Runs the binary 10 times (after one warm-up) and prints median/min/max of the time it reports
("ready in N ms": Värn's shell with 112, LARM and the tabs painted; the hello app's page painted),
for Värn also "view in N ms" (its first view, the plan, painted), and two memory figures: the peak RSS of the app process alone, and the
peak of the summed RSS of the app and all its children (WebKit's web and network processes).

    scripts/bench_start.py                 # Värn only
    scripts/bench_start.py --compare       # also a hello-world Tauri 2 app built the same way,
                                           # and the ratio over paired runs (A B A B …)
    scripts/bench_start.py --incidents 1000   # also with 1 000 reports in the database
    scripts/bench_start.py --compare --hello-cpu-rendering
                                           # the hello app with Skia's CPU rendering too, which
                                           # Värn chooses itself without a GPU render node
                                           # (src-tauri/os/rendering.rs): like for like

Runs in a session bus of its own with an unlocked keychain (gnome-keyring), so the app opens
its encrypted database the normal way. Starts Xvfb if there is no display. Not a test: it
asserts nothing.
"""
import argparse, os, re, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_once(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak_main = peak_tree = 0
    while p.poll() is None:
        tree, stack = 0, [p.pid]
        while stack:
            pid = stack.pop()
            tree += rss_kib(pid)
            stack += children(pid)
        peak_main = max(peak_main, rss_kib(p.pid))
        peak_tree = max(peak_tree, tree)
        time.sleep(0.005)
    out = p.stdout.read()
    m = re.search(r"ready in (\d+) ms", out)
    if p.returncode != 0 or not m:
        sys.exit(f"run failed (exit {p.returncode}): {out!r}")
    view = re.search(r"view in (\d+) ms", out)
    return int(m.group(1)), peak_main / 1024, peak_tree / 1024, int(view.group(1)) if view else None


def bench(name, cmd, runs):
    run_once(cmd)  # warm-up: page cache, WebKit's first start
    results = [run_once(cmd) for _ in range(runs)]
    print(f"\n{name}  ({runs} runs after one warm-up)")
    for label, idx, unit in [("start -> ready (first paint)", 0, "ms"),
                             ("start -> first view", 3, "ms"), ("peak RSS, app process", 1, "MiB"),
                             ("peak RSS, app + WebKit children", 2, "MiB")]:
        vals = [r[idx] for r in results if r[idx] is not None]
        if not vals:
            continue
        print(f"  {label:34} median {statistics.median(vals):7.1f} {unit}   "
              f"min {min(vals):7.1f}   max {max(vals):7.1f}")
    return results


def build(manifest_dir, extra=()):
    subprocess.run(["cargo", "build", "--release", *extra], cwd=manifest_dir, check=True)


def in_keychain_session():
    """Re-runs this script inside dbus-run-session with an unlocked gnome-keyring."""
    if os.environ.get("VARN_BENCH_SESSION"):
        keyring = tempfile.mkdtemp(prefix="varn-bench-keyring-")
        os.makedirs(f"{keyring}/data"); os.makedirs(f"{keyring}/run", mode=0o700)
        env = dict(os.environ, XDG_DATA_HOME=f"{keyring}/data", XDG_RUNTIME_DIR=f"{keyring}/run")
        p = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        p.stdin.write(b"bench-keyring\n"); p.stdin.close()
        time.sleep(1)
        return p
    os.environ["VARN_BENCH_SESSION"] = "1"
    os.execvp("dbus-run-session", ["dbus-run-session", "--", sys.executable, *sys.argv])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--compare", action="store_true", help="also measure a hello-world Tauri app")
    ap.add_argument("--incidents", type=int, default=0, help="also measure with this many reports stored")
    ap.add_argument("--hello-cpu-rendering", action="store_true",
                    help="run the hello app with WEBKIT_SKIA_ENABLE_CPU_RENDERING=1 as well")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--pairs", type=int, default=11, help="paired runs for the ratio (with --compare)")
    args = ap.parse_args()
    keyring = in_keychain_session()

    xvfb = None
    if not os.environ.get("DISPLAY"):
        n = next(n for n in range(99, 400) if not Path(f"/tmp/.X{n}-lock").exists())
        xvfb = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.environ["DISPLAY"] = f":{n}"
        time.sleep(1)
    try:
        build(ROOT, ["-p", "varn", "--bin", "varn"])
        data = tempfile.mkdtemp(prefix="varn-bench-")
        varn = bench("Värn (release)", [str(TARGET / "release" / "varn"), "--smoke", "--data-dir", data], args.runs)
        shutil.rmtree(data, ignore_errors=True)
        if args.incidents:
            full = tempfile.mkdtemp(prefix="varn-bench-full-")
            subprocess.run(["cargo", "run", "--release", "--example", "populate", "--", full, str(args.incidents)],
                           cwd=ROOT, check=True)
            many = bench(f"Värn with {args.incidents} reports (release)",
                         [str(TARGET / "release" / "varn"), "--smoke", "--data-dir", full], args.runs)
            shutil.rmtree(full, ignore_errors=True)
            a = statistics.median(r[0] for r in many)
            b = statistics.median(r[0] for r in varn)
            print(f"  with {args.incidents} reports / empty, start: {a / b * 100 - 100:+.0f} %")
        if args.compare:
            hello_dir = ROOT / "bench" / "hello-tauri"
            env_target = os.environ.get("CARGO_TARGET_DIR")
            build(hello_dir)
            hello_bin = Path(env_target) / "release" / "hello-tauri" if env_target else hello_dir / "target" / "release" / "hello-tauri"
            hello_cmd = [str(hello_bin)]
            name = "hello-world Tauri 2 (release)"
            if args.hello_cpu_rendering:
                hello_cmd = ["env", "WEBKIT_SKIA_ENABLE_CPU_RENDERING=1", *hello_cmd]
                name += ", CPU rendering"
            hello = bench(name, hello_cmd, args.runs)
            for label, idx in [("start", 0), ("peak RSS app+children", 2)]:
                a = statistics.median(r[idx] for r in varn)
                b = statistics.median(r[idx] for r in hello)
                print(f"  Värn / hello, {label}: {a / b * 100 - 100:+.0f} %")
            # Paired: Värn and hello in turn, the ratio taken pair by pair, so that the
            # machine's drift during the runs does not move it.
            data = tempfile.mkdtemp(prefix="varn-bench-pair-")
            varn_cmd = [str(TARGET / "release" / "varn"), "--smoke", "--data-dir", data]
            run_once(varn_cmd)
            run_once(hello_cmd)
            ratios, view_ratios = [], []
            for _ in range(args.pairs):
                a = run_once(varn_cmd)
                b = run_once(hello_cmd)[0]
                ratios.append(a[0] / b)
                view_ratios.append(a[3] / b)
            shutil.rmtree(data, ignore_errors=True)
            print(f"\nPaired start -> ready, Värn / hello ({args.pairs} pairs, in turn): "
                  f"median {statistics.median(ratios):.2f} x   min {min(ratios):.2f}   max {max(ratios):.2f}")
            print(f"Paired Värn's first view / hello's paint ({args.pairs} pairs): "
                  f"median {statistics.median(view_ratios):.2f} x   min {min(view_ratios):.2f}   max {max(view_ratios):.2f}")
    finally:
        if xvfb:
            xvfb.terminate()
        if keyring:
            keyring.terminate()


if __name__ == "__main__":
    main()
