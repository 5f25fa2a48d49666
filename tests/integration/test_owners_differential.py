"""Issue 16: netagent's sysctl.d boot winners against the real systemd-sysctl (Debian 12: 252).

Every tree runs through /lib/systemd/systemd-sysctl inside a throwaway network namespace, with
the tree's directories bind-mounted over the real ones in that process's own mount namespace
(tests/integration/sysctl_runner.py); only per-namespace net.* keys are written. For every
compared key, netagent's answer (through the real `read_owner_files` + `scan`) must equal what
systemd-sysctl left: the boot winner's value as the kernel keeps it, or the starting value when
netagent says sysctl.d leaves the key alone. Zero disagreements, on: one case per class of
issue 16, trees built from real distribution files (tests/data/owners-corpus), and 500
Hypothesis-generated trees.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.sysctl_diff import (
    BASELINE,
    DIRS,
    IFACE_KEYS,
    NETNS_KEYS,
    SysctlReference,
    Tree,
    all_keys,
    compare,
    disagreements,
    have_systemd_sysctl,
    predict,
)

pytestmark = pytest.mark.integration
CORPUS = Path(__file__).resolve().parents[1] / "data" / "owners-corpus"
EXAMPLES = 500


@pytest.fixture(scope="module")
def reference(netns_ok: None) -> Iterator[SysctlReference]:
    """One systemd-sysctl runner in one namespace for the whole module; deleted in teardown.

    Scope: module. Depends: netns_ok. In CI a missing systemd-sysctl fails, never skips.
    """
    if not have_systemd_sysctl():
        if os.environ.get("CI"):
            pytest.fail("CI must run the systemd-sysctl differential: /lib/systemd/systemd-sysctl is missing")
        pytest.skip("systemd-sysctl is not installed")
    ref = SysctlReference()
    try:
        yield ref
    finally:
        ref.close()


E = "etc/sysctl.d"
U = "usr/lib/sysctl.d"
R = "run/sysctl.d"
L = "usr/local/lib/sysctl.d"
# One tree per class of issue 16; (tree, key that the class is about, netagent's expected answer).
CASES = {
    "later -key cancels an earlier assignment": (
        Tree({f"{U}/10-a.conf": "net.ipv4.tcp_ecn = 0\n", f"{E}/20-b.conf": "-net.ipv4.tcp_ecn\n"}),
        "net/ipv4/tcp_ecn",
        None,
    ),
    "-key=value ignores failures and still assigns": (
        Tree({f"{E}/10-a.conf": "-net.ipv4.tcp_ecn = 2\n"}),
        "net/ipv4/tcp_ecn",
        "2",
    ),
    "-key keeps a glob off the key": (
        Tree({f"{E}/10-a.conf": "net.ipv4.conf.d[0-3].rp_filter = 0\n-net.ipv4.conf.d0.rp_filter\n"}),
        "net/ipv4/conf/d0/rp_filter",
        None,
    ),
    "a glob repeated with the same value keeps its first place": (
        Tree(
            {
                f"{E}/10-a.conf": "net.ipv4.conf.*.rp_filter = 2\n",
                f"{E}/20-b.conf": "net.ipv4.conf.d*.rp_filter = 0\n",
                f"{E}/30-c.conf": "net.ipv4.conf.*.rp_filter = 2\n",
            }
        ),
        "net/ipv4/conf/d0/rp_filter",
        "0",
    ),
    "an explicit key in an earlier file beats a later glob": (
        Tree(
            {
                f"{U}/10-a.conf": "net.ipv4.conf.d1.arp_ignore = 2\n",
                f"{E}/90-b.conf": "net.ipv4.conf.*.arp_ignore = 0\n",
            }
        ),
        "net/ipv4/conf/d1/arp_ignore",
        "2",
    ),
    "inline # comment: the kernel reads only the value": (
        Tree({f"{E}/10-a.conf": "net.ipv4.tcp_ecn = 0 # off\n"}),
        "net/ipv4/tcp_ecn",
        "0",
    ),
    "quoted value: the kernel refuses it and the earlier line is gone": (
        Tree({f"{U}/10-a.conf": "net.ipv4.tcp_ecn = 0\n", f"{E}/20-b.conf": 'net.ipv4.tcp_ecn = "2"\n'}),
        "net/ipv4/tcp_ecn",
        None,
    ),
    "slashes with empty components": (
        Tree({f"{E}/10-a.conf": "net/ipv4//tcp_ecn = 0\nnet..ipv4.tcp_syn_retries = 5\n"}),
        "net/ipv4/tcp_ecn",
        "0",
    ),
    "sysctl.conf without the 99-sysctl.conf link is not applied": (
        Tree({f"{E}/10-a.conf": "net.ipv4.tcp_syn_retries = 3\n"}, sysctl_conf="net.ipv4.tcp_ecn = 0\n"),
        "net/ipv4/tcp_ecn",
        None,
    ),
    "sysctl.conf through the 99-sysctl.conf link is applied in its place": (
        Tree(
            {f"{E}/99-sysctl.conf": {"link": "../sysctl.conf"}, f"{U}/99-zz.conf": "net.ipv4.tcp_ecn = 2\n"},
            sysctl_conf="net.ipv4.tcp_ecn = 0\n",
        ),
        "net/ipv4/tcp_ecn",
        "2",
    ),
    "a /dev/null link in /etc masks the same name in /usr/lib": (
        Tree({f"{E}/50-x.conf": None, f"{U}/50-x.conf": "net.ipv4.tcp_ecn = 0\n"}),
        "net/ipv4/tcp_ecn",
        None,
    ),
    "glob classes [!x] and [^x]": (
        Tree({f"{E}/10-a.conf": "net.ipv4.conf.d[!0].log_martians = 1\nnet.ipv4.conf.d[^0-2].rp_filter = 0\n"}),
        "net/ipv4/conf/d3/rp_filter",
        "0",
    ),
    "a later different value moves the key to the end of the table": (
        Tree(
            {
                f"{E}/10-a.conf": "net.ipv4.conf.d0.rp_filter = 2\nnet.ipv4.conf.*.rp_filter = 0\n",
                f"{E}/20-b.conf": "net.ipv4.conf.d*.rp_filter = 2\nnet.ipv4.conf.*.rp_filter = 1\n",
            }
        ),
        "net/ipv4/conf/d1/rp_filter",
        "1",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_issue16_class_agrees_with_systemd_sysctl(reference: SysctlReference, name: str) -> None:
    tree, key, expected = CASES[name]
    assert predict(tree, [key]) == {key: expected}, tree.describe()
    assert disagreements(reference, tree) == [], tree.describe()


def corpus_trees() -> dict[str, Tree]:
    """Trees built from the real files of tests/data/owners-corpus (SOURCES.md says where each is from)."""
    c = CORPUS / "sysctl"
    real = {p.name: p.read_text() for p in sorted(c.iterdir()) if p.is_file()}
    return {
        "systemd 50-default.conf alone": Tree({f"{U}/50-default.conf": real["systemd-50-default.conf"]}),
        "systemd defaults, Debian procps sysctl.conf linked, local override": Tree(
            {
                f"{U}/50-default.conf": real["systemd-50-default.conf"],
                f"{E}/99-sysctl.conf": {"link": "../sysctl.conf"},
                f"{E}/60-local.conf": real["local-rp-filter.conf"],
            },
            sysctl_conf=real["debian-procps-sysctl.conf"],
        ),
        "systemd main's all.* form with the v252 glob form in /etc": Tree(
            {
                f"{U}/50-default.conf": real["systemd-main-50-default.conf"],
                f"{E}/50-old.conf": real["systemd-50-default.conf"],
            }
        ),
        "systemd defaults masked from /etc": Tree(
            {
                f"{U}/50-default.conf": real["systemd-50-default.conf"],
                f"{E}/50-default.conf": None,
                f"{R}/60-local.conf": real["local-rp-filter.conf"],
            }
        ),
        "amazon-linux style net tuning over systemd defaults": Tree(
            {
                f"{U}/50-default.conf": real["systemd-50-default.conf"],
                f"{L}/70-net-tuning.conf": real["local-rp-filter.conf"],
                f"{R}/90-runtime.conf": "net.ipv4.conf.d0.rp_filter = 1\n",
            }
        ),
    }


@pytest.mark.parametrize("name", sorted(corpus_trees()))
def test_corpus_tree_agrees_with_systemd_sysctl(reference: SysctlReference, name: str) -> None:
    tree = corpus_trees()[name]
    assert disagreements(reference, tree) == [], tree.describe()
    claimed = {k: v for k, v in predict(tree, list(BASELINE)).items() if v is not None}
    assert claimed, "the corpus tree sets none of the compared keys: the comparison would mean nothing"


# ---------------------------------------------------------------- generated trees

KEYS = sorted(all_keys())
GLOBS = {
    "net.ipv4.conf.*.rp_filter": (0, 2),
    "net.ipv4.conf.d*.rp_filter": (0, 2),
    "net.ipv4.conf.d[!1].rp_filter": (0, 2),
    "net.ipv4.conf.d[^0-1].arp_ignore": (0, 2),
    "net.ipv4.conf.?0.arp_ignore": (0, 2),
    "net/ipv4/conf/*/log_martians": (0, 1),
    "net.ipv4.tcp_keepalive_*": (1, 9),
    "net.ipv4.tcp_syn*_retries": (1, 9),
}
NAMES = ("10-a.conf", "50-b.conf", "50-c.conf", "90-d.conf", "99-sysctl.conf")


def _spelling(key: str, draw: st.DrawFn) -> str:
    """A slash key written as people do: dotted, slashed, with empty components."""
    form = draw(st.sampled_from(("dotted", "slash", "double", "lead")))
    if form == "dotted":
        return key.replace("/", ".")
    if form == "double":
        return key.replace("/", "//", 1)
    if form == "lead":
        return key.replace("/", ".").replace(".", "..", 1)
    return key


@st.composite
def value_text(draw: st.DrawFn, bounds: tuple[int, int]) -> str:
    n = draw(st.integers(*bounds))
    return draw(
        st.sampled_from(
            (str(n), f" {n} ", f"{n} # note", f'"{n}"', f"{n} extra", f"0x{n:x}", "yes", "", f"0{n}", f"+{n}")
        )
    )


@st.composite
def sysctl_line(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(("key", "key", "key", "glob", "glob", "dash", "comment")))
    if kind == "comment":
        return draw(st.sampled_from(("# comment", "; comment", "", "not an assignment")))
    if kind == "glob":
        pattern = draw(st.sampled_from(sorted(GLOBS)))
        dash = draw(st.sampled_from(("", "", "-")))
        return f"{dash}{pattern} = {draw(value_text(GLOBS[pattern]))}"
    key = draw(st.sampled_from(KEYS))
    spelled = _spelling(key, draw)
    if kind == "dash":
        return f"-{spelled}"
    dash = draw(st.sampled_from(("", "", "", "-")))
    return f"{dash}{spelled} = {draw(value_text(all_keys()[key]))}"


@st.composite
def trees(draw: st.DrawFn) -> Tree:
    # A pool of lines that files share: the same line (or the same key with the same value) in
    # several files is where systemd-sysctl's table order matters most.
    pool = draw(st.lists(sysctl_line(), min_size=2, max_size=6))
    line = st.one_of(st.sampled_from(pool), st.sampled_from(pool), sysctl_line())
    files: dict[str, object] = {}
    for d in DIRS:
        for name in draw(st.lists(st.sampled_from(NAMES), max_size=3, unique=True)):
            if name == "99-sysctl.conf" and d == E and draw(st.booleans()):
                files[f"{d}/{name}"] = {"link": "../sysctl.conf"}
            elif draw(st.integers(0, 9)) == 0:
                files[f"{d}/{name}"] = None
            elif draw(st.integers(0, 9)) == 0:
                files[f"{d}/{name}"] = ""  # an empty file masks too
            else:
                files[f"{d}/{name}"] = "\n".join(draw(st.lists(line, min_size=1, max_size=6))) + "\n"
    conf = "\n".join(draw(st.lists(line, max_size=3)))
    return Tree(files, sysctl_conf=conf + "\n" if conf else "")  # type: ignore[arg-type]


def test_generated_trees_agree_with_systemd_sysctl(reference: SysctlReference) -> None:
    """500 random trees (files, masks, globs, `-` keys, same names across directories, the
    99-sysctl.conf link), each run through systemd-sysctl: zero disagreements."""
    seen: list[int] = []
    claimed: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(tree=trees())
    def check(tree: Tree) -> None:
        seen.append(1)
        problems, n = compare(reference, tree)
        assert problems == [], tree.describe()
        claimed.append(n)

    check()
    assert len(seen) >= EXAMPLES
    assert sum(claimed) > EXAMPLES, "the generated trees hardly set any compared key"


def test_generator_keys_are_per_namespace_and_in_range() -> None:
    """The generator writes only the keys it compares, all net.*, within each key's valid range."""
    assert all(k.startswith("net/") for k in KEYS)
    assert set(IFACE_KEYS) <= {k.rsplit("/", 1)[-1] for k in KEYS}
    assert set(NETNS_KEYS) <= set(KEYS)
