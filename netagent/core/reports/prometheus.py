"""Prometheus text exposition (format 0.0.4) for node_exporter's textfile collector (pure).

Metrics (README.md, "Monitoring"):
  netagent_check_drift{check,interface}        1 when the check drifted, else 0 (one per check)
  netagent_check_error{check,interface}        1 when the check could not be made, else 0
  netagent_check_required{check,interface}     1 when the check is required, 0 recommended (issue 14)
  netagent_checks{status}                      number of checks per status
  netagent_compliant{profile}                  1 compliant, 0 not
  netagent_ena_allowance_exceeded_total{interface,counter}   ENA counters (cumulative)
  netagent_ena_<counter>_total{interface}      the same, one typed counter per ENA counter (issue 14)
  netagent_ena_conntrack_allowance_available{interface}      ENA gauge
  netagent_ec2_up                              1 IMDS answered, 0 not (absent with --no-imds)
  netagent_ec2_info{instance_type,instance_id,region,availability_zone}  always 1
`interface` is the check's interface, or "" for a sysctl or profile-level check.
"""

from __future__ import annotations

from collections.abc import Iterable

from netagent.core import ec2, ena
from netagent.core.model import Check, Report, Severity, Status
from netagent.core.reports.names import escape_name

# One gauge family per failing status, each with a sample per check.
_PER_CHECK = (
    ("netagent_check_drift", "1 when the setting differs from the profile, else 0.", Status.DRIFT),
    ("netagent_check_error", "1 when the setting could not be checked, else 0.", Status.ERROR),
)


def escape_label(value: str) -> str:
    """Escape a label value: backslash, double quote and line feed, as the text format requires.

    A non-UTF-8 interface name holds lone surrogates (os.listdir's surrogateescape): each becomes
    `:xNN` (reports/names.py), so distinct names stay distinct series (issues 9, 16).
    """
    value = escape_name(value)
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(f'{k}="{escape_label(v)}"' for k, v in pairs)
    return "{" + inner + "}" if inner else ""


def _family(
    name: str, kind: str, help_text: str, samples: Iterable[tuple[str, Iterable[tuple[str, str]], int]]
) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{sample}{_labels(labels)} {value}" for sample, labels, value in samples]
    return lines


def _interface(c: Check) -> str:
    # Interface checks have the interface as their subject and an id `<ifname>/<setting>`; a rule
    # that matched nothing (`interfaces[N]/match`) has the rule as its subject.
    is_link = c.id == f"{c.subject}/{c.setting}" and not c.subject.startswith("interfaces[")
    return c.subject if is_link else ""


def render_ena_counters(report: Report) -> list[str]:
    """Return one counter family per ENA `*_allowance_exceeded` counter, a sample per interface.

    `netagent_ena_pps_allowance_exceeded_total{interface="eth0"}` is what an alert takes a rate()
    of; the older two-label family stays for the rules already written against it.
    """
    lines: list[str] = []
    for counter, meaning in ena.ALLOWANCE_EXCEEDED.items():
        samples = [(h.ifname, n) for h in report.ena for name, n in h.counters if name == counter]
        if samples:
            name = f"netagent_ena_{counter}_total"
            lines += _family(
                name,
                "counter",
                f"ENA {counter}: {meaning}; packets since the driver was last reset.",
                ((name, (("interface", ifn),), n) for ifn, n in samples),
            )
    return lines


def render(report: Report) -> str:
    """Render an audit report as Prometheus text exposition."""
    checks = [(c.id, _interface(c), c.status) for c in report.checks]
    lines: list[str] = []
    for name, help_text, status in _PER_CHECK:
        lines += _family(
            name,
            "gauge",
            help_text,
            ((name, (("check", cid), ("interface", ifn)), int(s is status)) for cid, ifn, s in checks),
        )
    lines += _family(
        "netagent_check_required",
        "gauge",
        "1 when the check's drift fails the audit (severity required), 0 when only recommended.",
        (
            (
                "netagent_check_required",
                (("check", c.id), ("interface", _interface(c))),
                int(c.severity is Severity.REQUIRED),
            )
            for c in report.checks
        ),
    )
    lines += _family(
        "netagent_checks",
        "gauge",
        "Number of checks per status.",
        (("netagent_checks", (("status", status),), n) for status, n in report.counts().items()),
    )
    lines += _family(
        "netagent_compliant",
        "gauge",
        "1 when the host matches the profile (no drift, no error), else 0.",
        [("netagent_compliant", (("profile", report.profile.name),), int(report.compliant))],
    )
    exceeded = [(h.ifname, name, n) for h in report.ena for name, n in h.counters if name in ena.ALLOWANCE_EXCEEDED]
    if exceeded:
        lines += _family(
            "netagent_ena_allowance_exceeded_total",
            "counter",
            "ENA packets queued or dropped over an allowance since the driver was last reset.",
            (
                ("netagent_ena_allowance_exceeded_total", (("interface", ifn), ("counter", name)), n)
                for ifn, name, n in exceeded
            ),
        )
    lines += render_ena_counters(report)
    available = [(h.ifname, n) for h in report.ena for name, n in h.counters if name == ena.CONNTRACK_AVAILABLE]
    if available:
        lines += _family(
            "netagent_ena_conntrack_allowance_available",
            "gauge",
            "ENA: connections that can still be tracked before conntrack_allowance_exceeded counts.",
            (("netagent_ena_conntrack_allowance_available", (("interface", ifn),), n) for ifn, n in available),
        )
    if report.ec2 is not None:
        lines += _family(
            "netagent_ec2_up",
            "gauge",
            "1 when the instance metadata service (IMDSv2) answered, else 0.",
            [("netagent_ec2_up", (), int(isinstance(report.ec2, ec2.InstanceFacts)))],
        )
    if isinstance(report.ec2, ec2.InstanceFacts):
        facts = report.ec2
        labels = (
            ("instance_type", facts.instance_type),
            ("instance_id", facts.instance_id),
            ("region", facts.region or ""),
            ("availability_zone", facts.availability_zone or ""),
        )
        lines += _family(
            "netagent_ec2_info", "gauge", "EC2 instance facts from IMDS; always 1.", [("netagent_ec2_info", labels, 1)]
        )
    return "\n".join(lines) + "\n"
