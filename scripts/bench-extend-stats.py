#!/usr/bin/env python3
"""Numbers for scripts/bench-extend.sh, from the files SIPp and tcpdump leave.

  step STAT_CSV RTT_CSV CALLS RATE   one line of key=value: successful and failed calls,
                                     the rate SIPp achieved, and its setup times (the
                                     response time of the 200 to the INVITE, -trace_rtt:
                                     one value per call, whole milliseconds)
  pcap FILE UAC_PORT                 key=value: setup time per call from a capture of the
                                     UAC's traffic (first INVITE sent -> first 200 for that
                                     INVITE received, kernel timestamps, microseconds)
"""
import statistics
import struct
import sys


def pct(values, p):
    """The p-th percentile (nearest rank) of sorted values."""
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, int(round(p / 100.0 * len(values) + 0.5)) - 1))
    return values[k]


def step(stat_csv, rtt_csv, calls, rate):
    rows = [l.rstrip("\n").split(";") for l in open(stat_csv) if l.strip()]
    head, last = rows[0], rows[-1]
    col = dict(zip(head, last))
    ok = int(col["SuccessfulCall(C)"])
    failed = int(col["FailedCall(C)"])
    achieved = float(col["CallRate(C)"])
    retrans = sum(int(v) for k, v in col.items() if k.startswith("Retransmissions") and v.isdigit())
    rtts = []
    try:
        for line in open(rtt_csv):
            parts = line.strip().split(";")
            if len(parts) >= 2 and parts[1].replace(".", "", 1).isdigit():
                rtts.append(float(parts[1]))
    except FileNotFoundError:
        pass
    rtts.sort()
    placed = ok + failed
    out = {
        "calls": calls,
        "placed": placed,
        "ok": ok,
        "failed": failed,
        "failed_pct": (100.0 * failed / placed) if placed else 100.0,
        "achieved": achieved,
        "rtt_n": len(rtts),
        "rtt_median_ms": statistics.median(rtts) if rtts else float("nan"),
        "rtt_p99_ms": pct(rtts, 99),
        "rtt_mean_ms": statistics.fmean(rtts) if rtts else float("nan"),
        "rtt_max_ms": rtts[-1] if rtts else float("nan"),
    }
    print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in out.items()))


def sip_fields(payload):
    """(first line, Call-ID, CSeq method) of a SIP datagram, or None."""
    try:
        text = payload.decode("latin-1")
    except Exception:
        return None
    head = text.split("\r\n\r\n", 1)[0].split("\r\n")
    call_id = cseq = None
    for h in head[1:]:
        name, _, value = h.partition(":")
        n = name.strip().lower()
        if n in ("call-id", "i"):
            call_id = value.strip()
        elif n == "cseq":
            parts = value.split()
            cseq = parts[1].upper() if len(parts) > 1 else None
    return head[0], call_id, cseq


def pcap(path, uac_port):
    uac_port = int(uac_port)
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0xA1B2C3D4:
        endian, scale = "<", 1e-6
    elif magic == 0xA1B23C4D:
        endian, scale = "<", 1e-9
    else:
        raise SystemExit(f"{path}: not a little-endian pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    link_len = {1: 14, 113: 16, 0: 4, 276: 20}.get(linktype)
    if link_len is None:
        raise SystemExit(f"{path}: link type {linktype} not handled")
    off = 24
    sent, answered = {}, {}
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(endian + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ts = sec + frac * scale
        ip = pkt[link_len:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 0x0F) * 4
        udp = ip[ihl:]
        if len(udp) < 8:
            continue
        sport, dport = struct.unpack("!HH", udp[:4])
        fields = sip_fields(udp[8:])
        if not fields or not fields[1]:
            continue
        first, call_id, method = fields
        if sport == uac_port and first.startswith("INVITE "):
            sent.setdefault(call_id, ts)
        elif dport == uac_port and first.startswith("SIP/2.0 200") and method == "INVITE":
            answered.setdefault(call_id, ts)
    setups = sorted((answered[c] - sent[c]) * 1e6 for c in answered if c in sent)
    if not setups:
        raise SystemExit(f"{path}: no INVITE/200 pairs found")
    print(
        f"pairs={len(setups)} invites={len(sent)} "
        f"median_us={statistics.median(setups):.1f} p99_us={pct(setups, 99):.1f} "
        f"mean_us={statistics.fmean(setups):.1f} max_us={setups[-1]:.1f}"
    )


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "step":
        step(args[0], args[1], int(args[2]), int(args[3]))
    elif cmd == "pcap":
        pcap(args[0], args[1])
    else:
        raise SystemExit(__doc__)
