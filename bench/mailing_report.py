"""bench.mailing's figures: per channel from the fakes' stamped deliveries, per worker from
/proc, the outcome from the database; a markdown block and whether every goal was met."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from bench import mailing_setup as setup

GOAL_RATE, GOAL_RSS_MB = 0.9, 50.0


def channel_rows(fakes: Any, audience: setup.Audience4, email_rate: float) -> list[dict[str, Any]]:
    rows = []
    for kind in setup.KINDS:
        addresses, times = fakes.deliveries(kind)
        limit = setup.LIMITS.get(kind, email_rate)
        counts = Counter(addresses)
        wanted = set(audience.expected[kind].values())
        span = (times[-1] - times[0]) if len(times) > 1 else 0.0
        rate = (len(times) - 1) / span if span > 0 else 0.0
        rows.append(
            {
                "kind": kind,
                "expected": len(wanted),
                "delivered": len(counts.keys() & wanted),
                "duplicates": sum(c - 1 for c in counts.values() if c > 1),
                "strangers": len(counts.keys() - wanted),
                "missing": sorted(wanted - counts.keys()),
                "span": span,
                "rate": rate,
                "limit": limit,
                "refused": fakes.refused(kind),
            }
        )
    return rows


def report(
    args: argparse.Namespace,
    fakes: Any,
    audience: setup.Audience4,
    workers: list[Any],
    summary: dict[str, Any],
    *,
    killed: dict[str, Any],
    built: float,
    planned: float,
    took: float,
    own_cpu: float,
    machine: str,
    when: str,
    load: float,
) -> tuple[str, bool, dict[str, Any]]:
    """The markdown block, whether every goal was met, and the figures (for --json)."""
    rows = channel_rows(fakes, audience, args.email_rate)
    interrupted = summary["interrupted"]
    # a message dead-lettered as interrupted: did it reach the customer before the kill?
    uncertain_missing = {
        (kind, address)
        for kind, address in interrupted
        if address in {a for r in rows if r["kind"] == kind for a in r["missing"]}
    }
    lost = sum(len(r["missing"]) for r in rows) - len(uncertain_missing)
    pacing = "Redis" if args.redis else "PostgreSQL pace_slots"
    mode = " --kill" if args.kill else ""
    lines = [
        f"### bench.mailing{mode}, {args.recipients:,} recipients, {when}",
        "",
        f"- machine: {machine}; load average {load:.1f} at the end (shared with other sessions)",
        "- two `crmhub run --role worker` processes, the pace shared in "
        + pacing
        + f"; audience split {'evenly' if args.split == 'even' else 'by the limits'} in a"
        f" scratch database (set-based inserts, {built:.1f} s);"
        f" `service.start` (plan + recipient rows) {planned:.1f} s;"
        f" mailing {summary['status']} {took:.1f} s after the start",
        "- the fakes enforce: Telegram 30/s per bot and 1/s per chat, VK 20/s per community"
        f" token, Viber 20/s per bot, SMTP {args.email_rate:g}/s per mailbox (its send_rate)",
    ]
    if killed:
        lines.append(
            f"- worker 1 killed with SIGKILL at {killed['at']:,} delivered (its RSS had grown"
            f" {killed['growth']:.1f} MB) and started again; the leases it held (2 min) expired"
            " and were claimed again"
        )
    lines += [
        "",
        "| channel | recipients | delivered | time s | rate /s | of limit | refusals"
        " | duplicates |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        share = r["rate"] / r["limit"] if r["limit"] else 0.0
        lines.append(
            f"| {r['kind']} | {r['expected']:,} | {r['delivered']:,} | {r['span']:.1f} |"
            f" {r['rate']:.1f} | {share:.0%} of {r['limit']:g} | {r['refused']} |"
            f" {r['duplicates']} |"
        )
    lines += ["", "| worker | RSS at start MB | at end MB | growth MB | peak MB | CPU s |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for w in workers:
        start, end = w.rss_start.get("VmRSS", 0) / 1024, w.rss_end.get("VmRSS", 0) / 1024
        peak = w.rss_end.get("VmHWM", 0) / 1024
        lines.append(
            f"| {w.name} | {start:.1f} | {end:.1f} | {w.growth_mb:.1f} | {peak:.1f} | {w.cpu:.1f} |"
        )
    cpu = sum(w.cpu for w in workers) + (killed["cpu"] if killed else 0.0)
    sent = sum(r["delivered"] for r in rows)
    statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(summary["statuses"].items()))
    lines += [
        "",
        f"- messages: {statuses}; recipients skipped {summary['skipped']};"
        f" dead-lettered as interrupted {len(interrupted)}"
        + (
            f" ({len(interrupted) - len(uncertain_missing)} of them had reached the fake)"
            if interrupted
            else ""
        ),
        f"- the workers' CPU: {cpu * 1000 / max(1, sent):.1f} ms per message delivered"
        f" ({cpu / max(took, 1e-9):.2f} cores over the mailing); the fakes' process"
        f" {own_cpu / max(took, 1e-9):.2f} cores",
        f"- not reached: {lost} (besides the interrupted ones left for a person);"
        f" deliveries to unknown addresses {sum(r['strangers'] for r in rows)}",
    ]
    growths = [w.growth_mb for w in workers] + ([killed["growth"]] if killed else [])
    goals = {
        "rate >= 90% of each limit": all(r["rate"] >= GOAL_RATE * r["limit"] for r in rows),
        "no refusal": not any(r["refused"] for r in rows),
        "no duplicate": not any(r["duplicates"] for r in rows),
        "nothing lost": lost == 0 and summary["status"] == "done",
        "RSS growth < 50 MB": all(g < GOAL_RSS_MB for g in growths),
    }
    lines.append(
        "- goals: " + "; ".join(f"{k}: {'pass' if v else 'FAIL'}" for k, v in goals.items())
    )
    figures = {
        "channels": {
            r["kind"]: {
                **{k: v for k, v in r.items() if k != "missing"},
                "missing": len(r["missing"]),
            }
            for r in rows
        },
        "interrupted": len(interrupted),
        "interrupted_undelivered": len(uncertain_missing),
        "lost": lost,
        "status": summary["status"],
        "statuses": summary["statuses"],
        "killed": bool(killed),
        "goals": goals,
    }
    return "\n".join(lines), all(goals.values()), figures
