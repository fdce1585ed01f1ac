"""Machine stall probe: sleeps 10 ms at a time and logs every wake-up later than LIMIT ms.

A process that does nothing but sleep is late only when the whole machine (the hypervisor, another
tenant, the kernel) did not run it; a benchmark's latency spike that coincides with a line here was
not the server's doing. Usage: stall-probe.py OUT [LIMIT_MS]. Runs until killed.

10 ms, not less: every wake-up preempts a thread of the servers under test (a 1 ms loop woke
1,000 times a second), and a stall worth logging is 50 ms or more.
"""
import sys
import time

out = open(sys.argv[1], "a", buffering=1)
limit_ms = float(sys.argv[2]) if len(sys.argv) > 2 else 50.0
last = time.monotonic()
while True:
    time.sleep(0.01)
    now = time.monotonic()
    late_ms = (now - last) * 1000
    if late_ms > limit_ms:
        out.write("%s late_ms=%.0f\n" % (time.strftime("%H:%M:%S", time.gmtime()), late_ms))
    last = now
