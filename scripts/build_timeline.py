#!/usr/bin/env python3
"""A timeline of one command (made for `mesa build`): every INTERVAL seconds it samples the
process's threads in /proc (user and system CPU per thread), the machine's dirty and
writeback memory, and stamps every line the command prints on stderr (the build's phases
without --quiet). It then prints, per slice of SLICE seconds, how many cores the command kept
busy (user + system), its threads, the dirty memory, and the phase; and a summary: the CPU per
phase and how much of it ran in slices where one thread did 80% of the work (what runs on
one core only, whatever the machine's load).

    scripts/build_timeline.py [--interval 0.05] [--slice 0.5] -- mesa --desk D build --out O

Nothing here needs root. CPU is read in clock ticks (1/100 s), so slices under 0.2 s are
noisy. The load average at the start and the end are printed, since other processes' load
makes a serial phase look parallel-starved and the reverse.
"""
import argparse
import os
import subprocess
import sys
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")


def threads(pid):
    """{tid: (name, utime, stime)} of the process's threads (ticks)."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                s = f.read()
        except OSError:
            continue
        name = s[s.index("(") + 1:s.rindex(")")]
        rest = s[s.rindex(")") + 2:].split()
        out[tid] = (name, int(rest[11]), int(rest[12]))
    return out


def meminfo():
    d = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":")
            if k in ("Dirty", "Writeback"):
                d[k] = int(v.split()[0]) // 1024
    return d.get("Dirty", 0), d.get("Writeback", 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--interval", type=float, default=0.05)
    ap.add_argument("--slice", type=float, default=0.5)
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()
    load0 = open("/proc/loadavg").read().split()[0]
    t0 = time.monotonic()
    p = subprocess.Popen(a.cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    lines = []

    def read_err():
        for line in p.stderr:
            lines.append((time.monotonic() - t0, line.rstrip()))

    th = threading.Thread(target=read_err, daemon=True)
    th.start()
    samples = []  # (t, {tid: (name, u, s)}, dirty, writeback)
    while p.poll() is None:
        samples.append((time.monotonic() - t0, threads(p.pid), *meminfo()))
        time.sleep(a.interval)
    end = time.monotonic() - t0
    th.join()
    load1 = open("/proc/loadavg").read().split()[0]
    # Per slice: CPU used by every thread seen in it (differences of cumulative ticks).
    last = {}
    slices = {}
    for t, ths, dirty, wb in samples:
        k = int(t / a.slice)
        sl = slices.setdefault(k, {"u": 0, "s": 0, "threads": 0, "dirty": 0, "wb": 0, "busy": {}})
        for tid, (name, u, s) in ths.items():
            pu, ps = last.get(tid, (0, 0))
            sl["u"] += u - pu
            sl["s"] += s - ps
            if (u - pu) + (s - ps) > 0:
                key = f"{name}/{tid}"
                sl["busy"][key] = sl["busy"].get(key, 0) + (u - pu) + (s - ps)
            last[tid] = (u, s)
        sl["threads"] = max(sl["threads"], len(ths))
        sl["dirty"] = max(sl["dirty"], dirty)
        sl["wb"] = max(sl["wb"], wb)
    phase_at = []
    for t, line in lines:
        phase_at.append((t, line))

    def phase(t):
        name = "(start)"
        for pt, line in phase_at:
            if pt <= t and not line[:1].isdigit():
                name = line[:40]
        return name

    print(f"# {' '.join(a.cmd)}")
    print(f"# wall {end:.2f} s; load {load0} at the start, {load1} at the end; slice {a.slice} s")
    print("#   t (s)  cores  user  sys  thr  dirty/wb MiB  phase; busiest threads")
    serial = {}
    phase_cpu = {}
    total_u = total_s = 0
    for k in sorted(slices):
        sl = slices[k]
        cores = (sl["u"] + sl["s"]) / TICK / a.slice
        total_u += sl["u"]
        total_s += sl["s"]
        ph = phase(k * a.slice)
        cpu = (sl["u"] + sl["s"]) / TICK
        top = sorted(sl["busy"].items(), key=lambda x: -x[1])[:3]
        # One thread doing (nearly) all the work of the slice: serial, whatever the load.
        one = top[0][1] / TICK if top else 0
        phase_cpu[ph] = phase_cpu.get(ph, 0) + cpu
        if cpu > 0 and one >= 0.8 * cpu:
            serial[ph] = serial.get(ph, 0) + cpu
        tops = " ".join(f"{n}:{v / TICK:.2f}" for n, v in top)
        print(f"{k * a.slice:8.2f}  {cores:5.2f}  {sl['u'] / TICK:4.2f}  {sl['s'] / TICK:4.2f}  "
              f"{sl['threads']:3d}  {sl['dirty']:5d}/{sl['wb']:<5d}  {ph}; {tops}")
    for t, line in lines:
        print(f"# stderr {t:8.2f} s: {line}")
    # The build's own marks (MESA_TRACE=1): per phase, the wall time, the CPU of each thread,
    # and the least wall time it could take on two idle cores (its busiest thread's CPU, or
    # half its CPU when that is more).
    marks = []
    for t, line in lines:
        if line.startswith("mesa-trace "):
            head, _, cpu = line.partition(" cpu")
            parts = head.split(" ", 2)
            th = {}
            for c in cpu.split():
                tid, _, v = c.partition(":")
                th[tid] = float(v)
            marks.append((float(parts[1]), parts[2], th))
    if marks:
        print("# phase (from the mark before to this one)   wall s   CPU s  busiest thread s  "
              "least wall on 2 idle cores s")
        floor = 0.0
        for (t0_, _, a0), (t1_, what, a1) in zip(marks, marks[1:]):
            d = {k: v - a0.get(k, 0.0) for k, v in a1.items()}
            cpu = sum(d.values())
            top = max(d.values()) if d else 0.0
            least = max(top, cpu / 2)
            floor += least
            print(f"#   {what:42s} {t1_ - t0_:6.2f}  {cpu:6.2f}  {top:6.2f}  {least:6.2f}")
        print(f"# from the first mark to the last: {marks[-1][0] - marks[0][0]:.2f} s wall; "
              f"least on 2 idle cores {floor:.2f} s")
    print(f"# CPU {total_u / TICK:.2f} s user + {total_s / TICK:.2f} s system (sampled); "
          f"wall {end:.2f} s; CPU/2 = {(total_u + total_s) / TICK / 2:.2f} s")
    print("# CPU by phase (of which in slices where one thread did 80% or more of the work):")
    for ph, v in phase_cpu.items():
        print(f"#   {ph:40s} {v:6.2f} s CPU, {serial.get(ph, 0):6.2f} s of it serial")
    ser = sum(serial.values())
    tot = (total_u + total_s) / TICK
    print(f"# serial CPU {ser:.2f} s, parallel {tot - ser:.2f} s: on 2 idle cores the wall "
          f"would be about {ser + (tot - ser) / 2:.2f} s")
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
