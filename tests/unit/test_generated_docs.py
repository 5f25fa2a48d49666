"""The man page and shell completion are generated from the parser and committed (issue 15).

Each committed file must equal what the generators make now, so a new option cannot be missing
from them; the bash completion is exercised in a real bash (COMP_WORDS set, _netagent called),
the zsh one by a real zsh's completion system in a pty (tests/data/zsh_capture.zsh), and man(1)
renders the page without a warning.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from netagent.app import completion, manpage
from netagent.cli import build_parser
from netagent.core.errors import ExitCode

REPO = Path(__file__).resolve().parents[2]
BASH = REPO / "share/completion/netagent.bash"
ZSH = REPO / "share/completion/_netagent"
MAN = REPO / "share/man/netagent.8"


def _need(tool: str) -> str:
    """Return the tool's path; in CI its absence fails the test, elsewhere it skips."""
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run this test: {tool} is missing")
        pytest.skip(f"{tool} is missing")
    return path


@pytest.mark.parametrize(
    ("path", "render"),
    [
        (MAN, lambda c: manpage.render_man(c)),
        (BASH, lambda c: completion.render_bash(c)),
        (ZSH, lambda c: completion.render_zsh(c)),
    ],
    ids=["man", "bash", "zsh"],
)
def test_committed_file_is_what_the_parser_generates(path: Path, render) -> None:  # type: ignore[no-untyped-def]
    assert path.read_text() == render(completion.describe(build_parser())), f"run scripts/generate-docs: {path}"


def test_every_exit_code_has_its_sentence_in_the_man_page() -> None:
    assert set(manpage.EXIT_CODES) == set(ExitCode)
    text = MAN.read_text()
    for code in ExitCode:
        assert f"\\fB{int(code)}\\fR" in text


def test_man_page_renders_without_warnings() -> None:
    man = _need("man")
    env = {**os.environ, "MANWIDTH": "80", "LC_ALL": "C.UTF-8"}
    out = subprocess.run([man, "--warnings", "-l", str(MAN)], capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    for word in ("validate", "audit", "persist", "--lock-timeout-s", "EXIT STATUS", "/etc/netagent/profile.yaml"):
        assert word in re.sub(".\b", "", out.stdout).replace("\u2010", "-")  # overstrike bold, hyphens


def test_man_page_lists_every_command_and_option() -> None:
    text = MAN.read_text().replace("\\-", "-")
    for cmd in completion.describe(build_parser()):
        assert f'.SS "{cmd.name}"' in text or cmd.name == ""
        for opt in cmd.options:
            assert all(flag in text for flag in opt.flags), opt.flags


def complete(words: list[str], cwd: Path) -> list[str]:
    """Run the bash completion for the command line `words` (the last is the word being completed)."""
    bash = _need("bash")
    array = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    script = (
        f"source {BASH}\n"
        f"COMP_WORDS=({array}); COMP_CWORD={len(words) - 1}; COMP_LINE='{' '.join(words)}'\n"
        '_netagent\nprintf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    out = subprocess.run([bash, "--norc", "--noprofile", "-c", script], cwd=cwd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    return sorted(line for line in out.stdout.splitlines() if line)


def test_bash_registers_the_completion_for_netagent() -> None:
    bash = _need("bash")
    out = subprocess.run(
        [bash, "--norc", "--noprofile", "-i", "-c", f"source {BASH}; complete -p netagent"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "complete -F _netagent netagent"


def test_bash_completes_subcommands(tmp_path: Path) -> None:
    names = sorted(c.name for c in completion.describe(build_parser())[1:])
    assert complete(["netagent", ""], tmp_path) == names
    assert complete(["netagent", "au"], tmp_path) == ["audit"]
    # A top-level option's value is not the command word.
    assert complete(["netagent", "--log-level", "debug", "st"], tmp_path) == ["status"]


def test_bash_completes_each_commands_format_values(tmp_path: Path) -> None:
    assert complete(["netagent", "audit", "--format", ""], tmp_path) == ["json", "junit", "prometheus", "text"]
    assert complete(["netagent", "plan", "--format", ""], tmp_path) == ["json", "text"]
    assert complete(["netagent", "audit", "--format", "=", "j"], tmp_path) == ["json", "junit"]
    assert complete(["netagent", "--log-format", "j"], tmp_path) == ["json"]


def test_bash_completes_every_option_of_every_command(tmp_path: Path) -> None:
    for cmd in completion.describe(build_parser())[1:]:
        flags = sorted(flag for opt in cmd.options for flag in opt.flags if flag.startswith("--"))
        assert complete(["netagent", cmd.name, "--"], tmp_path) == flags, cmd.name
    assert "--version" in complete(["netagent", "--v"], tmp_path)


def test_bash_completes_profile_paths_and_directories(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text("name: x\n")
    (tmp_path / "db.yml").write_text("name: x\n")
    (tmp_path / "notes.txt").write_text("x\n")
    (tmp_path / "profiles").mkdir()
    assert complete(["netagent", "validate", ""], tmp_path) == ["db.yml", "profiles", "web.yaml"]
    assert complete(["netagent", "audit", "--profile", "w"], tmp_path) == ["web.yaml"]
    assert complete(["netagent", "--state-dir", ""], tmp_path) == ["profiles"]
    assert complete(["netagent", "audit", "--output", "n"], tmp_path) == ["notes.txt"]


def test_zsh_loads_the_completion_through_compinit(tmp_path: Path) -> None:
    zsh = _need("zsh")
    assert subprocess.run([zsh, "-n", str(ZSH)], capture_output=True, text=True).returncode == 0
    script = (
        f"fpath=({ZSH.parent} $fpath); autoload -U compinit; compinit -u -d {tmp_path}/zcompdump;"
        " print -r -- $_comps[netagent]; autoload +X _netagent && whence -w _netagent"
    )
    out = subprocess.run([zsh, "-f", "-c", script], capture_output=True, text=True, env={"HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["_netagent", "_netagent:", "function"]


def zsh_complete(line: str, cwd: Path) -> list[str]:
    """Return what zsh's completion system offers at the end of `line` (Tab pressed there)."""
    zsh = _need("zsh")
    capture = REPO / "tests/data/zsh_capture.zsh"
    out = subprocess.run(
        [zsh, "-f", str(capture), str(ZSH.parent), line],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": str(cwd), "TMPDIR": str(cwd)},
    )
    assert out.returncode == 0, out.stderr
    return sorted(w.strip()[1:-1] for w in out.stdout.splitlines() if w.strip().startswith("<"))


def test_zsh_completes_commands_format_values_options_and_profiles(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text("name: x\n")
    (tmp_path / "notes.txt").write_text("x\n")
    names = sorted(c.name for c in completion.describe(build_parser())[1:])
    assert zsh_complete("netagent ", tmp_path) == names
    assert zsh_complete("netagent audit --format ", tmp_path) == ["json", "junit", "prometheus", "text"]
    assert zsh_complete("netagent plan --format=", tmp_path) == ["json", "text"]
    assert zsh_complete("netagent validate ", tmp_path) == ["web.yaml"]
    status = next(c for c in completion.describe(build_parser()) if c.name == "status")
    flags = sorted(flag for opt in status.options for flag in opt.flags if flag.startswith("--"))
    assert zsh_complete("netagent status --", tmp_path) == flags
