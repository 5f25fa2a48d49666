"""`netagent status` for people: the daemon's status document as text (pure)."""

from __future__ import annotations

from typing import Any


def render_status_text(doc: dict[str, Any], is_alive: bool) -> str:
    """Render a status document for people."""
    state = "running" if doc.get("running") and is_alive else "not running"
    profile = doc.get("profile") or {}
    lines = [
        f"daemon: {state} (pid {doc.get('pid')}, started {doc.get('started_at')})",
        f"profile in force: {profile.get('name', '?')} ({profile.get('path', '?')})",
        f"last resync: {doc.get('last_resync_at') or 'never'} ({doc.get('resyncs', 0)} resyncs,"
        f" {doc.get('netlink_overruns', 0)} netlink overruns)",
        f"heals: {doc.get('heals_total', 0)}",
    ]
    heals = doc.get("heals") or {}
    if heals:
        width = max(len(c) for c in heals)
        at_width = max(len("LAST HEAL"), *(len(str(rec["last_at"])) for rec in heals.values()))
        lines.append(f"  {'CHECK'.ljust(width)}  COUNT  {'LAST HEAL'.ljust(at_width)}  FOUND -> SET")
        for check_id, rec in heals.items():
            at = str(rec["last_at"]).ljust(at_width)
            lines.append(f"  {check_id.ljust(width)}  {rec['count']:>5}  {at}  {rec['found']} -> {rec['set']}")
    for check_id, n in (doc.get("failures") or {}).items():
        lines.append(f"failed heals: {check_id}: {n}")
    contested = doc.get("contested") or []
    lines.append(f"contested: {', '.join(contested) if contested else 'none'}")
    lines += _reload_lines(doc.get("last_reload"))
    return "\n".join(lines) + "\n"


def _reload_lines(reload: dict[str, Any] | None) -> list[str]:
    """Say how the last SIGHUP reload went; a failed one lists its problems, file:line: field (issue 15)."""
    if not reload:
        return ["last reload: none since start"]
    if reload.get("ok"):
        return [f"last reload: ok at {reload.get('at')} ({reload.get('path')})"]
    kept = f"; still in force: profile {reload.get('kept')!r}" if reload.get("kept") else ""
    lines = [f"last reload: FAILED at {reload.get('at')} ({reload.get('path')}){kept}"]
    return lines + [f"  {problem}" for problem in reload.get("problems") or ()]
